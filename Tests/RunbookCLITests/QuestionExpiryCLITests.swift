// A run paused at a confirmation with a timeout says when the question expires (local time and how
// far away) in its summary, in `history` and in `history RUN`; resumed after that without an
// answer, the output says the question expired at that time and was counted as declined.
import Foundation
import RunbookKit
import Testing

@Suite("when a paused question expires")
struct QuestionExpiryCLITests {
    static let runbook = """
    version: 1
    id: asker
    title: Asker
    severity: sev4
    automation: semi_automatic
    steps:
      - id: ask
        action: log
        with: {message: "approved, going on"}
        confirm: {message: "Restart the service?", timeout: 4m}
    rollback:
      - id: cleanup
        action: log
        with: {message: "rolled back"}

    """

    /// UTC+3, named XYZ: no time zone database needed, and never the machine's own zone.
    static let zone = ["TZ": "XYZ-3"]

    /// `date` as XYZ-3 shows it: `2026-11-27 03:06:05 XYZ`.
    static func inZone(_ date: Date) -> String {
        let utc = Journal.timestamp(date.addingTimeInterval(3 * 3600))
        return String(utc.prefix(10)) + " " + String(utc.dropFirst(11).prefix(8)) + " XYZ"
    }

    /// Rewrites a journal: every record through `change`.
    static func rewrite(_ path: String, _ change: (inout [String: Value]) -> Void) throws {
        var records = try Journal.read(path: path)
        for i in records.indices { change(&records[i]) }
        try (records.map { Value.map($0).jsonText() }.joined(separator: "\n") + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func pauseSummaryAndHistorySayWhenTheQuestionExpires() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("asker.yaml", Self.runbook)
        let state = ["--state-dir", dir.path + "/state"]
        let r = try await CLI.run(["run", "asker.yaml"] + state, in: dir.path, env: Self.zone)
        #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/runs").first)
        let journalPath = dir.path + "/state/runs/\(run)/journal.jsonl"
        let paused = try #require(try Journal.read(path: journalPath).last { $0["type"] == .string("run_paused") })
        let expiresAt = try #require(paused["expires_at"]?.stringValue)
        let expiry = try #require(Journal.parseTimestamp(expiresAt))
        let asked = try #require(try Journal.read(path: journalPath).first { $0["type"] == .string("confirmation_asked") })
        let askedAt = try #require(asked["time"]?.stringValue.flatMap(Journal.parseTimestamp))
        #expect(abs(expiry.timeIntervalSince(askedAt) - 240) < 0.01, "4m after the question was asked")
        #expect(r.stdout.contains("  waiting at 'ask': runbook resume \(run) --approve ask   (or --decline ask)\n"
                                  + "  the question expires at \(Self.inZone(expiry)) (in "), "\(r.stdout)")
        #expect(r.stdout.contains(/\(in (4m|3m\d+s)\)/), "in 4m, or a little less on a busy machine: \(r.stdout)")
        #expect(r.stdout.contains("resumed later without an answer, it counts as declined"))

        let json = try await CLI.run(["history", "--format", "json"] + state, in: dir.path)
        guard case .list(let items)? = Value.parseJSON(json.stdout) else {
            Issue.record("not a JSON list: \(json.stdout)")
            return
        }
        #expect(items.first?.mapValue["status"] == .string("paused"))
        #expect(items.first?.mapValue["expires_at"] == .string(expiresAt))

        let list = try await CLI.run(["history"] + state, in: dir.path)
        let row = list.stdout.split(separator: "\n").first { $0.hasPrefix(run) }.map(String.init) ?? ""
        #expect(row.contains("paused (expires in "), "\(list.stdout)")

        let timeline = try await CLI.run(["history", run] + state, in: dir.path, env: Self.zone)
        #expect(timeline.stdout.contains("run_paused ask: waiting for confirmation of step 'ask': resume with --approve ask "
                                         + "or --decline ask (the question expires at \(Self.inZone(expiry)) (in "),
                "\(timeline.stdout)")

        // A resume with no answer before it expires pauses again, expiring at the same time.
        let again = try await CLI.run(["resume", run] + state, in: dir.path, env: Self.zone)
        #expect(again.status == 3, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("the question expires at \(Self.inZone(expiry))"), "\(again.stdout)")
    }

    @Test func aBareResumeAfterExpirySaysTheQuestionExpiredAndWasCountedAsDeclined() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("asker.yaml", Self.runbook)
        let state = ["--state-dir", dir.path + "/state"]
        #expect(try await CLI.run(["run", "asker.yaml"] + state, in: dir.path).status == 3)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/runs").first)
        let journalPath = dir.path + "/state/runs/\(run)/journal.jsonl"
        // The question was asked an hour ago, as if nobody had resumed the run since.
        let hourAgo = Date().addingTimeInterval(-3600)
        try Self.rewrite(journalPath) { record in
            record["time"] = .string(Journal.timestamp(hourAgo))
            if record["type"] == .string("run_paused") {
                record["expires_at"] = .string(Journal.timestamp(hourAgo.addingTimeInterval(240)))
            }
        }
        let expired = try #require(Journal.parseTimestamp(Journal.timestamp(hourAgo.addingTimeInterval(240))))

        let list = try await CLI.run(["history"] + state, in: dir.path)
        #expect(list.stdout.contains("paused (question expired)"), "\(list.stdout)")
        let timeline = try await CLI.run(["history", run] + state, in: dir.path, env: Self.zone)
        #expect(timeline.stdout.contains("(the question expired at \(Self.inZone(expired)) (56m"), "\(timeline.stdout)")

        let r = try await CLI.run(["resume", run] + state, in: dir.path, env: Self.zone)
        #expect(r.status == 1, "the documented behaviour: declined, rolled back: \(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("declined by timeout (expired)"), "\(r.stdout)")
        #expect(r.stdout.contains("failed in"))
        #expect(r.stdout.contains("the question expired at \(Self.inZone(expired)), counted as declined"), "\(r.stdout)")
        #expect(r.stdout.contains("rolled back: cleanup"), "\(r.stdout)")
        #expect(!r.stdout.contains("approved, going on"))
    }
}
