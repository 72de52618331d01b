import Foundation
import RunbookKit
import Testing

/// An answer given before a crash and restated on resume keeps naming who gave it and how; every
/// `confirmation_answered` record says which question it answers (`kind`), and journals written
/// before that field existed read as before.
@Suite("Engine: earlier answers and answer kinds")
struct EarlierAnswerTests {
    /// A crash after `root` approved `gated_idem` with `--yes`, while its (idempotent) action ran.
    static func writeCrashAfterYes(_ h: EngineHarness) throws {
        let journal = try Journal(path: h.journalPath)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                   params: [:], resumed: false))
        journal.append(.stepStarted(step: "risky", title: "risky", action: "test.count", phase: .main))
        journal.append(.stepFinished(step: "risky", status: .succeeded, outputs: [:], error: nil, durationMS: 1, reason: nil))
        journal.append(.stepStarted(step: "gated_idem", title: "gated_idem", action: "test.count_idempotent", phase: .main))
        journal.append(.confirmationAsked(step: "gated_idem", message: "Do the safe thing?", kind: "confirm"))
        journal.append(.confirmationAnswered(step: "gated_idem", approved: true, by: "root", how: "--yes"))
    }

    @Test("resumed after a crash, the earlier approval is journaled under the original approver, how, and its record's seq")
    func restatedUnderTheOriginalApprover() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        try Self.writeCrashAfterYes(h)
        let point = try ResumePoint.from(records: try h.records())
        #expect(point.earlierAnswers["gated_idem"] == EarlierAnswer(approved: true, by: "root", how: "--yes", seq: 6))
        #expect(point.answers == ["gated_idem": true])

        let rb = try EngineHarness.runbook(EngineResumeTests.gatedRisky, automation: "semi_automatic")
        let reporter = RecordingReporter()
        let confirmer = ScriptedConfirmer { _ in .pending }
        let outcome = try await h.run(rb, options: engineOptions(confirmer: confirmer), journal: true, resume: point,
                                      reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(confirmer.askedSteps.isEmpty, "answered before the crash: not asked again")
        let restated = try #require(try h.records().of("confirmation_answered", step: "gated_idem").last)
        #expect(restated["by"] == .string("root"))
        #expect(restated["how"] == .string("earlier answer"))
        #expect(restated["earlier_how"] == .string("--yes"))
        #expect(restated["earlier_seq"] == .int(6))
        #expect(restated["kind"] == .string("confirm"))
        #expect(reporter.output.contains("approved by root via --yes, earlier answer (seq 6)"), "\(reporter.output)")
        // The confirm gate's output names the approver too, not "journal".
        #expect(!reporter.output.contains("by journal"))
    }

    @Test("restated twice (crashed again after the resume), it still names the first record")
    func restatedAgainPointsAtTheOriginal() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        try Self.writeCrashAfterYes(h)
        let journal = try Journal(path: h.journalPath)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                   params: [:], resumed: true))
        journal.append(.stepStarted(step: "gated_idem", title: "gated_idem", action: "test.count_idempotent", phase: .main))
        journal.append(.confirmationAnswered(step: "gated_idem", approved: true, by: "root", how: "earlier answer",
                                             earlier: EarlierAnswer(approved: true, by: "root", how: "--yes", seq: 6)))
        let point = try ResumePoint.from(records: try h.records())
        #expect(point.earlierAnswers["gated_idem"] == EarlierAnswer(approved: true, by: "root", how: "--yes", seq: 6))
    }

    @Test("an old journal (no kind, restated 'by journal') still reads: the original record names the approver")
    func oldJournalsRead() throws {
        let lines = [
            #"{"seq":1,"time":"2026-11-27T00:00:00.000Z","type":"run_started","run_id":"run-1","runbook":"enginetest","file":"e.yaml","dry_run":false,"params":{},"resumed":false}"#,
            #"{"seq":2,"time":"2026-11-27T00:00:00.010Z","type":"step_started","step":"gated_idem","title":"gated_idem","action":"test.count_idempotent","phase":"main"}"#,
            #"{"seq":3,"time":"2026-11-27T00:00:00.020Z","type":"confirmation_asked","step":"gated_idem","message":"?","kind":"confirm"}"#,
            #"{"seq":4,"time":"2026-11-27T00:00:00.030Z","type":"confirmation_answered","step":"gated_idem","approved":true,"by":"alice","how":"terminal"}"#,
            #"{"seq":5,"time":"2026-11-27T00:01:00.000Z","type":"run_started","run_id":"run-1","runbook":"enginetest","file":"e.yaml","dry_run":false,"params":{},"resumed":true}"#,
            #"{"seq":6,"time":"2026-11-27T00:01:00.010Z","type":"step_started","step":"gated_idem","title":"gated_idem","action":"test.count_idempotent","phase":"main"}"#,
            #"{"seq":7,"time":"2026-11-27T00:01:00.020Z","type":"confirmation_answered","step":"gated_idem","approved":true,"by":"journal","how":"earlier answer"}"#,
            // An old journal's answer to the re-run question of another step: no kind, read by the question asked last.
            #"{"seq":8,"time":"2026-11-27T00:01:00.030Z","type":"confirmation_asked","step":"risky","message":"Run it again?","kind":"rerun"}"#,
            #"{"seq":9,"time":"2026-11-27T00:01:00.040Z","type":"confirmation_answered","step":"risky","approved":true,"by":"bob","how":"--approve risky"}"#,
        ]
        let records = lines.compactMap { Value.parseJSON($0)?.mapValue }
        #expect(records.count == lines.count)
        let point = try ResumePoint.from(records: records)
        #expect(point.earlierAnswers["gated_idem"] == EarlierAnswer(approved: true, by: "alice", how: "terminal", seq: 4))
        #expect(point.earlierAnswers["risky"] == nil, "an answer to the re-run question is not an answer to the step's gate")
    }

    @Test("kind on the record wins: an answer to the re-run question never counts as the gate's answer")
    func kindDecides() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let journal = try Journal(path: h.journalPath)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                   params: [:], resumed: false))
        journal.append(.stepStarted(step: "risky", title: "risky", action: "test.count", phase: .main))
        journal.append(.confirmationAsked(step: "risky", message: "?", kind: "confirm"))
        journal.append(.confirmationAnswered(step: "risky", approved: false, by: "bob", how: "--decline risky", kind: "rerun"))
        let point = try ResumePoint.from(records: try h.records())
        #expect(point.earlierAnswers["risky"] == nil)
    }

    @Test("a crash-resume journals the re-run answer as kind rerun and the gate's restated answer as kind confirm")
    func answerKindsInTheJournal() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        try EngineResumeTests.writeCrashAfterApproval(h, step: "risky", action: "test.count", finishedBefore: [])
        let point = try ResumePoint.from(records: try h.records())
        let rb = try EngineHarness.runbook(EngineResumeTests.gatedRisky, automation: "semi_automatic")
        let policy = ConfirmationPolicy(approved: ["risky", "gated_idem"], operatorName: "erin")
        let outcome = try await h.run(rb, options: engineOptions(confirmer: policy), journal: true, resume: point)
        #expect(outcome.status == .succeeded)
        let answers = try h.records().of("confirmation_answered", step: "risky")
        #expect(answers.map { $0["kind"] } == [.string("confirm"), .string("rerun"), .string("confirm")])
        #expect(answers.map { $0["by"] } == [.string("alice"), .string("erin"), .string("alice")])
        #expect(answers.last?["earlier_how"] == .string("--approve risky"))
        #expect(answers.last?["earlier_seq"] == answers.first?["seq"])
    }
}
