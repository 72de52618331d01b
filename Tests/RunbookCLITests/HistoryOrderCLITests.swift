// `runbook history` lists runs oldest first by the start their journals record: not by file times,
// which a copied or restored state directory (`cp -rp`, `cp -r`, a backup) changes, nor by run id.
import Foundation
import RunbookKit
import Testing

@Suite("runbook history order")
struct HistoryOrderCLITests {
    /// Writes a finished run of `logger` whose `run_started` says `started`.
    static func writeRun(_ state: String, _ id: String, started: String) throws {
        let dir = state + "/runs/" + id
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let at = try #require(Journal.parseTimestamp(started))
        let journal = try Journal(path: dir + "/journal.jsonl")
        journal.append(.runStarted(runID: id, runbook: "logger", file: "logger.yaml", dryRun: false, params: [:], resumed: false),
                       at: at)
        journal.append(.runFinished(status: .succeeded, durationMS: 5), at: at.addingTimeInterval(0.005))
    }

    /// Gives a run's files and directory this modification time (as a copy made at that time would).
    static func touch(_ state: String, _ id: String, _ date: Date) throws {
        for path in [state + "/runs/" + id + "/journal.jsonl", state + "/runs/" + id] {
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
        }
    }

    /// The run ids of `history`'s text rows, in order.
    static func listed(_ stdout: String) -> [String] {
        stdout.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    @Test("oldest first by recorded start time, ties by run id; file times and id order do not matter")
    func ordersByRecordedStart() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let state = dir.path + "/state"
        // Ids whose time part disagrees with the recorded start (as after a clock fix, or a
        // journal restored under another id), and file times in the opposite order.
        let runs = [("logger-20261127-000100-000a", "2026-11-27T00:03:00.000Z"),
                    ("logger-20261127-000200-000b", "2026-11-27T00:01:00.000Z"),
                    ("logger-20261127-000400-000d", "2026-11-27T00:02:00.000Z"),
                    ("logger-20261127-000300-000c", "2026-11-27T00:02:00.000Z")]
        for (id, started) in runs { try Self.writeRun(state, id, started: started) }
        // A journal without a readable run_started: placed by the time its id carries (00:02:30).
        let corrupt = "logger-20261127-000230-000e"
        try FileManager.default.createDirectory(atPath: state + "/runs/" + corrupt, withIntermediateDirectories: true)
        try "garbage\n".write(toFile: state + "/runs/\(corrupt)/journal.jsonl", atomically: true, encoding: .utf8)
        let base = Date()
        for (i, id) in ["logger-20261127-000300-000c", "logger-20261127-000400-000d", corrupt,
                        "logger-20261127-000200-000b", "logger-20261127-000100-000a"].enumerated() {
            try Self.touch(state, id, base.addingTimeInterval(Double(-i) * 3600))
        }
        let expected = ["logger-20261127-000200-000b", "logger-20261127-000300-000c", "logger-20261127-000400-000d",
                        corrupt, "logger-20261127-000100-000a"]

        let r = try await CLI.run(["history", "--state-dir", state], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(Self.listed(r.stdout) == expected, "\(r.stdout)")

        let json = try await CLI.run(["history", "--state-dir", state, "--format", "json"], in: dir.path)
        guard case .list(let items)? = Value.parseJSON(json.stdout) else {
            Issue.record("not a JSON list: \(json.stdout)")
            return
        }
        #expect(items.compactMap { $0.mapValue["run_id"]?.stringValue } == expected)
    }

    @Test("a state directory copied with cp -rp, then with cp -r, lists the runs in the same order as the original")
    func copiedStateDirectory() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("logger.yaml", logRunbook)
        let state = dir.path + "/state"
        for _ in 0..<3 {
            let r = try await CLI.run(["run", "logger.yaml", "--state-dir", state], in: dir.path)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        }
        let original = try await CLI.run(["history", "--state-dir", state], in: dir.path)
        let order = Self.listed(original.stdout)
        #expect(order.count == 3)
        // The journals' own record of the order, whatever history prints.
        let starts = try order.map { id in
            try #require(Journal.read(path: state + "/runs/\(id)/journal.jsonl").first?["time"]?.stringValue)
        }
        #expect(starts == starts.sorted(), "\(order) \(starts)")
        // A copy whose file times say the opposite: the newest run's files are the oldest.
        for (i, id) in order.enumerated() { try Self.touch(state, id, Date().addingTimeInterval(Double(i) * -7200)) }
        for flags in [["-rp"], ["-r"]] {
            let copy = dir.path + "/copy\(flags[0])"
            let cp = try await CLI.runProgram("/bin/cp", flags + [state, copy])
            #expect(cp.status == 0, "\(cp.stderr)")
            let listed = try await CLI.run(["history", "--state-dir", copy], in: dir.path)
            #expect(Self.listed(listed.stdout) == order, "\(flags): \(listed.stdout)")
        }
    }
}
