import Foundation
import RunbookKit
import Testing

/// A paused run says when the question it waits for expires; a question that expired says when.
@Suite("Engine: when a question expires")
struct QuestionExpiryTests {
    static let gatedWithTimeout = """
    steps:
      - id: gate
        action: test.count
        with: {key: gate}
        confirm: {message: "Go?", timeout: 4m}
        rollback: none
    rollback:
      - id: cleanup
        action: test.echo
        with: {text: cleaned}
    """

    @Test("relative times and the local-time format")
    func formatting() {
        let now = Date(timeIntervalSince1970: 1_795_746_246)
        #expect(QuestionExpiry.relative(now.addingTimeInterval(240), now: now) == "in 4m")
        #expect(QuestionExpiry.relative(now.addingTimeInterval(239.7), now: now) == "in 4m")
        #expect(QuestionExpiry.relative(now.addingTimeInterval(59), now: now) == "in 59s")
        #expect(QuestionExpiry.relative(now.addingTimeInterval(-180), now: now) == "3m ago")
        #expect(QuestionExpiry.relative(now.addingTimeInterval(0.2), now: now) == "now")
        let local = QuestionExpiry.localTime(now)
        #expect(local.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+/) != nil, "\(local)")
        #expect(QuestionExpiry.describe(now.addingTimeInterval(240), now: now)
                == "expires at \(QuestionExpiry.localTime(now.addingTimeInterval(240))) (in 4m)")
        #expect(QuestionExpiry.describe(now.addingTimeInterval(-60), now: now)
                == "expired at \(QuestionExpiry.localTime(now.addingTimeInterval(-60))) (1m ago)")
    }

    @Test("a pause at a question with a timeout: the outcome, the journal and the summary say when it expires")
    func pauseSaysWhen() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.gatedWithTimeout, automation: "semi_automatic")
        let before = Date()
        let outcome = try await h.run(rb, options: engineOptions(), journal: true)
        #expect(outcome.status == .paused)
        let expiry = try #require(outcome.pauseExpiresAt)
        #expect(expiry.timeIntervalSince(before) >= 240 && expiry.timeIntervalSince(before) < 250)
        let paused = try #require(try h.records().of("run_paused").last)
        #expect(paused["expires_at"] == .string(Journal.timestamp(expiry)))
        let summary = TextRunReporter(color: false) { _ in }.summary(outcome)
        // "in 4m", or a little less on a busy machine.
        #expect(summary.contains(#/\n  the question expires at .+ \(in (4m|3m\d+s)\); resumed later without an answer, it counts as declined\n/#),
                "\(summary)")
        #expect(summary.contains("  the question expires at \(QuestionExpiry.localTime(expiry)) (in "), "\(summary)")
        let json = try #require(Value.parseJSON(JSONRunReporter { _ in }.summary(outcome))?.mapValue)
        #expect(json["expires_at"] == .string(Journal.timestamp(expiry)))
    }

    @Test("a question without a timeout, and a dry run, say no expiry")
    func noExpiry() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(EngineResumeTests.gated, automation: "semi_automatic")
        let outcome = try await h.run(rb, options: engineOptions(), journal: true)
        #expect(outcome.status == .paused && outcome.pauseExpiresAt == nil)
        #expect(try h.records().of("run_paused").last?["expires_at"] == nil)
        #expect(!TextRunReporter(color: false) { _ in }.summary(outcome).contains("expires"))
    }

    /// A journal paused at `gate`, whose question was asked `ago` seconds before now.
    static func pausedJournal(_ h: EngineHarness, askedAgo ago: Double) throws -> ResumePoint {
        let journal = try Journal(path: h.journalPath)
        let asked = Date().addingTimeInterval(-ago)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                   params: [:], resumed: false), at: asked)
        journal.append(.stepStarted(step: "gate", title: "gate", action: "test.count", phase: .main), at: asked)
        journal.append(.confirmationAsked(step: "gate", message: "Go?", kind: "confirm"), at: asked)
        journal.append(.runPaused(step: "gate", reason: "waiting", expiresAt: asked.addingTimeInterval(240)), at: asked)
        journal.append(.runFinished(status: .paused, durationMS: 1), at: asked)
        return try ResumePoint.from(records: try h.records())
    }

    @Test("resumed before it expires without an answer: paused again, expiring when it was always going to, not 4m later")
    func expiryCountsFromTheFirstAsk() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let point = try Self.pausedJournal(h, askedAgo: 60)
        let askedAt = try #require(point.askedAt["gate"])
        let rb = try EngineHarness.runbook(Self.gatedWithTimeout, automation: "semi_automatic")
        let confirmer = ScriptedConfirmer { _ in .pending }
        let outcome = try await h.run(rb, options: engineOptions(confirmer: confirmer), journal: true, resume: point)
        #expect(outcome.status == .paused)
        let expiry = try #require(outcome.pauseExpiresAt)
        #expect(abs(expiry.timeIntervalSince(askedAt.addingTimeInterval(240))) < 0.01)
        // A prompt (on a terminal) would get what is left of the timeout.
        let timeout = try #require(confirmer.asked.first?.timeout)
        #expect(timeout > 170 && timeout <= 180.5, "\(timeout)")
        #expect(TextRunReporter(color: false) { _ in }.summary(outcome).contains(/\(in [23]m(\d+s)?\)/))
    }

    @Test("resumed after it expired, with no answer: declined, and the failure says when it expired")
    func expiredSaysWhen() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let point = try Self.pausedJournal(h, askedAgo: 3600)
        let askedAt = try #require(point.askedAt["gate"])
        let rb = try EngineHarness.runbook(Self.gatedWithTimeout, automation: "semi_automatic")
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), journal: true, resume: point, reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.rolledBack == ["cleanup"])
        let when = QuestionExpiry.localTime(askedAt.addingTimeInterval(240))
        #expect(reporter.finished("gate")?.error == "the question expired at \(when), counted as declined")
        #expect(reporter.output.contains("the question expired at \(when), counted as declined"), "\(reporter.output)")
        #expect(try h.records().of("confirmation_answered", step: "gate").last?["how"] == .string("expired"))
    }

    @Test("the confirm action's outputs after an expired question: approved false, nobody answered (nulls), as actions.md says")
    func expiredConfirmActionOutputs() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let point = try Self.pausedJournal(h, askedAgo: 3600)
        let rb = try EngineHarness.runbook("""
        steps:
          - id: gate
            action: confirm
            with: {message: "Go?", timeout: 4m}
        """, automation: "semi_automatic")
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), journal: true, resume: point, reporter: reporter)
        #expect(outcome.status == .failed)
        let gate = try #require(reporter.finished("gate"))
        #expect(gate.outputs["approved"] == .bool(false))
        #expect(gate.outputs["answered_by"] == .null && gate.outputs["answered_at"] == .null, "\(gate.outputs)")
    }
}
