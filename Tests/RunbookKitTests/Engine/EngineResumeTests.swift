import Foundation
import RunbookKit
import Testing

/// Pausing at a confirmation, resuming from the journal, and resuming after a crash mid-step.
@Suite("Engine: pause, resume, crash-resume")
struct EngineResumeTests {
    static let gated = """
    steps:
      - id: prepare
        action: test.count
        with: {key: prepare}
      - id: gate
        action: test.count
        with: {key: gate, value: "${{ steps.prepare.outputs.count }}"}
        confirm: "Apply the change?"
        rollback: none
      - id: finish
        action: test.count
        with: {key: finish, value: "${{ steps.gate.outputs.value }}"}
        rollback: none
    rollback:
      - id: undo_prepare
        action: test.count
        with: {key: undo_prepare}
        undoes: [prepare]
        when: "${{ steps.prepare.status == 'succeeded' }}"
    """

    /// Runs `gated` without an answer: it pauses at `gate`.
    static func pause(_ h: EngineHarness) async throws -> RunOutcome {
        let rb = try EngineHarness.runbook(gated, automation: "semi_automatic")
        return try await h.run(rb, options: engineOptions(params: [:]), journal: true)
    }

    @Test("no answer and not interactive → paused (exit 3); the journal holds confirmation_asked and run_paused")
    func pausesWithoutAnswer() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let outcome = try await Self.pause(h)
        #expect(outcome.status == .paused)
        #expect(outcome.status.exitCode == 3)
        #expect(outcome.pausedAt == "gate")
        #expect(outcome.executed == ["prepare"])
        #expect(outcome.pauseReason?.contains("--approve gate") == true)
        #expect(await h.probe.count("gate") == 0)
        let records = try h.records()
        #expect(records.types == ["run_started", "step_started", "step_finished", "step_started",
                                  "confirmation_asked", "run_paused", "run_finished"])
        #expect(records.of("confirmation_asked", step: "gate").first?["kind"] == .string("confirm"))
        #expect(records.of("run_paused").first?["step"] == .string("gate"))
        #expect(records.of("run_finished").first?["status"] == .string("paused"))
        let point = try ResumePoint.from(records: records)
        #expect(point.endedWith == nil)
        #expect(point.runID == "run-1")
        #expect(point.finished.keys.sorted() == ["prepare"])
    }

    @Test("after resume, a step that reads an output the journal kept masked fails with the reason instead of sending ***")
    func maskedOutputsAreNotSentOnAfterResume() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let body = """
        steps:
          - id: login
            action: test.echo
            with: {text: "${{ secrets.token }}"}
          - id: other
            action: test.echo
            with: {text: plain}
          - id: gate
            action: test.echo
            with: {text: g}
            confirm: "Go on?"
          - id: use
            action: test.echo
            with: {text: "Bearer ${{ steps.login.outputs.text }}"}
            on_failure: continue
          - id: fine
            action: test.echo
            with: {text: "${{ steps.other.outputs.text }}"}
        """
        let rb = try EngineHarness.runbook(body, automation: "semi_automatic")
        let secrets = SecretStore(values: ["token": "s3cr3t-t0ken"])
        let paused = try await h.run(rb, options: engineOptions(secrets: secrets), journal: true)
        #expect(paused.status == .paused)
        #expect(try h.records().of("step_finished", step: "login").first?["masked_outputs"] == .list([.string("text")]))
        let point = try ResumePoint.from(records: try h.records())
        #expect(point.finished["login"]?.maskedOutputs == ["text"])
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(confirmer: ConfirmationPolicy(approved: ["gate"], operatorName: "carol"),
                                                                 secrets: secrets),
                                      journal: true, resume: point, reporter: reporter)
        #expect(reporter.finished("use")?.status == .failed)
        #expect(reporter.finished("use")?.error?.contains("reads steps.login.outputs.text, which held a secret") == true,
                "\(reporter.output)")
        #expect(reporter.finished("fine")?.outputs["text"] == .string("plain"))
        #expect(!reporter.output.contains("Bearer ***"))
        _ = outcome
    }

    @Test("resume with --approve: finished steps are not run again; the run continues at the paused step")
    func resumeApproved() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        _ = try await Self.pause(h)
        let point = try ResumePoint.from(records: try h.records())
        let rb = try EngineHarness.runbook(Self.gated, automation: "semi_automatic")
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(confirmer: ConfirmationPolicy(approved: ["gate"], operatorName: "carol"),
                                                                 params: point.params),
                                      journal: true, resume: point, reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["prepare", "gate", "finish"])
        #expect(await h.probe.count("prepare") == 1, "a finished step must not run again")
        #expect(await h.probe.count("gate") == 1)
        #expect(await h.probe.count("finish") == 1)
        // Outputs of the first session flow into the resumed steps.
        #expect(reporter.finished("finish")?.outputs["value"] == .int(1))
        // The resumed session starts exactly at the paused step and asks only its own question.
        let started = reporter.events.compactMap { e -> String? in
            if case .stepStarted(let s, _, _, _) = e { return s }
            return nil
        }
        #expect(started == ["gate", "finish"])
        let records = try h.records()
        let resumed = Array(records.drop { !($0["type"] == .string("run_started") && $0["resumed"] == .bool(true)) })
        #expect(resumed.of("confirmation_asked").map { $0["kind"] } == [.string("confirm")],
                "resuming a paused confirmation must not ask whether to re-run a step that never started")
        #expect(resumed.of("confirmation_answered", step: "gate").first?["by"] == .string("carol"))
        // seq keeps increasing across both sessions of the same journal.
        let seqs = records.compactMap { $0["seq"]?.numberValue }
        #expect(seqs == (1...records.count).map(Double.init))
        #expect(try ResumePoint.from(records: records).endedWith == .succeeded)
    }

    @Test("resume without an answer pauses again at the same step, still as a confirmation")
    func resumeStillPending() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        _ = try await Self.pause(h)
        let point = try ResumePoint.from(records: try h.records())
        let rb = try EngineHarness.runbook(Self.gated, automation: "semi_automatic")
        let outcome = try await h.run(rb, options: engineOptions(), journal: true, resume: point)
        #expect(outcome.status == .paused)
        #expect(outcome.pausedAt == "gate")
        #expect(outcome.pauseReason == "waiting for confirmation of step 'gate': resume with --approve gate or --decline gate")
        #expect(await h.probe.count("prepare") == 1)
    }

    @Test("decline on resume → the step fails as declined and the rollback runs")
    func resumeDeclined() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        _ = try await Self.pause(h)
        let point = try ResumePoint.from(records: try h.records())
        let rb = try EngineHarness.runbook(Self.gated, automation: "semi_automatic")
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(confirmer: ConfirmationPolicy(declined: ["gate"], operatorName: "dave")),
                                      journal: true, resume: point, reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["gate"])
        #expect(outcome.rolledBack == ["undo_prepare"])
        #expect(await h.probe.count("gate") == 0)
        #expect(await h.probe.count("undo_prepare") == 1)
        #expect(await h.probe.count("prepare") == 1)
        #expect(reporter.finished("gate")?.error == "confirmation declined by dave")
    }

    // MARK: crash-resume

    static let crashy = """
    steps:
      - id: first
        action: test.count
        with: {key: first}
      - id: idem
        action: test.count_idempotent
        with: {key: idem}
      - id: risky
        action: test.count
        with: {key: risky}
    rollback:
      - id: undo_first
        action: test.count
        with: {key: undo_first}
        undoes: [first]
      - id: undo_idem
        action: test.count
        with: {key: undo_idem}
        undoes: [idem]
      - id: undo_risky
        action: test.count
        with: {key: undo_risky}
        undoes: [risky]
        when: "${{ steps.risky.status == 'succeeded' }}"
    """

    /// A journal as a crash leaves it: `first` finished (and `idem` if the crash is in `risky`), then
    /// `step_started` for `crashedIn` and nothing after it (plus a torn half record).
    static func writeCrashedJournal(_ h: EngineHarness, crashedIn: String) throws {
        let journal = try Journal(path: h.journalPath)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                   params: [:], resumed: false))
        journal.append(.stepStarted(step: "first", title: "first", action: "test.count", phase: .main))
        journal.append(.stepFinished(step: "first", status: .succeeded, outputs: ["count": .int(1)], error: nil,
                                     durationMS: 3, reason: nil))
        if crashedIn == "risky" {
            journal.append(.stepStarted(step: "idem", title: "idem", action: "test.count_idempotent", phase: .main))
            journal.append(.stepFinished(step: "idem", status: .succeeded, outputs: ["count": .int(1)], error: nil,
                                         durationMS: 3, reason: nil))
        }
        journal.append(.stepStarted(step: crashedIn, title: crashedIn, action: "test.count", phase: .main))
        let handle = try #require(FileHandle(forWritingAtPath: h.journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"seq":99,"type":"log","mess"#.utf8))
        try handle.close()
    }

    @Test("crash in an idempotent step: resume re-runs it without asking")
    func crashResumeIdempotent() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        try Self.writeCrashedJournal(h, crashedIn: "idem")
        let point = try ResumePoint.from(records: try h.records())
        #expect(point.inFlight == "idem")
        #expect(point.finished.keys.sorted() == ["first"])
        let rb = try EngineHarness.runbook(Self.crashy)
        let confirmer = ScriptedConfirmer { _ in .pending }
        let outcome = try await h.run(rb, options: engineOptions(confirmer: confirmer), journal: true, resume: point)
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["first", "idem", "risky"])
        #expect(confirmer.askedSteps.isEmpty)
        #expect(await h.probe.count("first") == 0, "the finished step is not run again")
        #expect(await h.probe.count("idem") == 1)
        #expect(await h.probe.count("risky") == 1)
        // The records appended after the torn line are readable.
        let records = try h.records()
        #expect(records.of("run_started").count == 2)
        #expect(records.of("run_finished").first?["status"] == .string("succeeded"))
    }

    @Test("crash in a non-idempotent step: resume pauses asking to re-run (kind rerun)")
    func crashResumeNonIdempotentPauses() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        try Self.writeCrashedJournal(h, crashedIn: "risky")
        let point = try ResumePoint.from(records: try h.records())
        let rb = try EngineHarness.runbook(Self.crashy)
        let outcome = try await h.run(rb, options: engineOptions(), journal: true, resume: point)
        #expect(outcome.status == .paused)
        #expect(outcome.pausedAt == "risky")
        #expect(await h.probe.count("risky") == 0)
        let records = try h.records()
        #expect(records.of("confirmation_asked", step: "risky").last?["kind"] == .string("rerun"))
        #expect(records.of("run_paused").last?["step"] == .string("risky"))

        // Resuming that pause with --approve re-runs it (once, asked once more).
        let point2 = try ResumePoint.from(records: records)
        #expect(point2.inFlight == "risky")
        let confirmer = ScriptedConfirmer { _ in .approved(by: "erin", how: "--approve risky") }
        let outcome2 = try await h.run(rb, options: engineOptions(confirmer: confirmer), journal: true, resume: point2)
        #expect(outcome2.status == .succeeded)
        #expect(confirmer.askedSteps == ["risky"])
        #expect(await h.probe.count("risky") == 1)
        #expect(await h.probe.count("first") == 0)
        #expect(await h.probe.count("idem") == 0)
    }

    @Test("crash in a non-idempotent step, approved: re-run; declined: failed and rolled back")
    func crashResumeAnswered() async throws {
        for approve in [true, false] {
            let h = try EngineHarness(); defer { h.cleanUp() }
            try Self.writeCrashedJournal(h, crashedIn: "risky")
            let point = try ResumePoint.from(records: try h.records())
            let rb = try EngineHarness.runbook(Self.crashy)
            let policy = approve ? ConfirmationPolicy(approved: ["risky"], operatorName: "o")
                                 : ConfirmationPolicy(declined: ["risky"], operatorName: "o")
            let reporter = RecordingReporter()
            let outcome = try await h.run(rb, options: engineOptions(confirmer: policy), journal: true, resume: point,
                                          reporter: reporter)
            if approve {
                #expect(outcome.status == .succeeded)
                #expect(await h.probe.count("risky") == 1)
            } else {
                #expect(outcome.status == .failed)
                #expect(outcome.failed == ["risky"])
                #expect(await h.probe.count("risky") == 0)
                #expect(reporter.finished("risky")?.error == "not re-run after the run stopped mid-step (declined by o)")
                // The undo of risky is skipped (it did not succeed); the others are undone.
                #expect(outcome.rolledBack == ["undo_first", "undo_idem"])
                #expect(outcome.skipped == ["undo_risky"])
            }
        }
    }

    @Test("resume when the rollback had started continues the rollback only")
    func resumeDuringRollback() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let yaml = """
        steps:
          - id: change
            action: test.count
            with: {key: change}
          - id: broken
            action: test.fail
        rollback:
          - id: undo_change
            action: test.count
            with: {key: undo}
            undoes: [change]
            confirm: "Undo the change?"
          - id: tidy
            action: test.echo
        """
        let rb = try EngineHarness.runbook(yaml)
        let first = try await h.run(rb, options: engineOptions(), journal: true)
        #expect(first.status == .paused)
        #expect(first.pausedAt == "undo_change")
        let point = try ResumePoint.from(records: try h.records())
        #expect(point.rollbackReason == "step 'broken' failed: boom")
        let outcome = try await h.run(rb, options: engineOptions(confirmer: ConfirmationPolicy(approved: ["undo_change"])),
                                      journal: true, resume: point)
        #expect(outcome.status == .failed)
        #expect(outcome.rolledBack == ["undo_change", "tidy"])
        #expect(outcome.executed == ["change"])
        #expect(outcome.failed == ["broken"])
        #expect(await h.probe.count("change") == 1)
        #expect(await h.probe.count("fail") == 1)
        #expect(await h.probe.count("undo") == 1)
        #expect(try h.records().of("rollback_started").count == 1)
    }

    @Test("a rollback step with on_failure: continue that failed before a pause does not fail the rollback after resume")
    func continueRollbackStepAcrossResume() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: change
            action: test.count
            with: {key: change}
          - id: broken
            action: test.fail
        rollback:
          - id: tell
            action: test.fail
            with: {message: chat is down}
            on_failure: continue
          - id: undo_change
            action: test.count
            with: {key: undo}
            undoes: [change]
            confirm: "Undo the change?"
        """)
        let first = try await h.run(rb, options: engineOptions(), journal: true)
        #expect(first.status == .paused)
        let point = try ResumePoint.from(records: try h.records())
        let outcome = try await h.run(rb, options: engineOptions(confirmer: ConfirmationPolicy(approved: ["undo_change"])),
                                      journal: true, resume: point)
        #expect(outcome.status == .failed)
        #expect(outcome.status.exitCode == 1)
        #expect(outcome.rolledBack == ["undo_change"])
    }
}

extension EngineResumeTests {
    static let gatedRisky = """
    steps:
      - id: risky
        action: test.count
        with: {key: risky}
        confirm: "Do the risky thing?"
        rollback: none
      - id: gated_idem
        action: test.count_idempotent
        with: {key: gated_idem}
        confirm: "Do the safe thing?"
        rollback: none
    """

    /// A crash after the gate was approved, while the action ran.
    static func writeCrashAfterApproval(_ h: EngineHarness, step: String, action: String, finishedBefore: [String]) throws {
        let journal = try Journal(path: h.journalPath)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                   params: [:], resumed: false))
        for done in finishedBefore {
            journal.append(.stepStarted(step: done, title: done, action: "test.count", phase: .main))
            journal.append(.stepFinished(step: done, status: .succeeded, outputs: [:], error: nil, durationMS: 1, reason: nil))
        }
        journal.append(.stepStarted(step: step, title: step, action: action, phase: .main))
        journal.append(.confirmationAsked(step: step, message: "?", kind: "confirm"))
        journal.append(.confirmationAnswered(step: step, approved: true, by: "alice", how: "--approve \(step)"))
    }

    @Test("crash after a gate was approved: a non-idempotent step is not re-run on the strength of that approval")
    func crashAfterApprovalNonIdempotent() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        try Self.writeCrashAfterApproval(h, step: "risky", action: "test.count", finishedBefore: [])
        let point = try ResumePoint.from(records: try h.records())
        #expect(point.inFlight == "risky")
        let rb = try EngineHarness.runbook(Self.gatedRisky, automation: "semi_automatic")
        let outcome = try await h.run(rb, options: engineOptions(), journal: true, resume: point)
        #expect(outcome.status == .paused)
        #expect(outcome.pausedAt == "risky")
        #expect(await h.probe.count("risky") == 0, "approving the change once is not approving it twice")
        #expect(try h.records().of("confirmation_asked", step: "risky").last?["kind"] == .string("rerun"))
    }

    @Test("crash after a gate was approved: resume --decline wins over the journal's approval; the step is not re-run")
    func declineOnResumeWinsOverEarlierApproval() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        try Self.writeCrashAfterApproval(h, step: "gated_idem", action: "test.count_idempotent", finishedBefore: ["risky"])
        let point = try ResumePoint.from(records: try h.records())
        let rb = try EngineHarness.runbook(Self.gatedRisky, automation: "semi_automatic")
        let policy = ConfirmationPolicy(declined: ["gated_idem"], operatorName: "erin")
        let outcome = try await h.run(rb, options: engineOptions(confirmer: policy), journal: true, resume: point)
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["gated_idem"])
        #expect(await h.probe.count("gated_idem") == 0, "the operator said no: the change is not made again")
        let answer = try h.records().of("confirmation_answered", step: "gated_idem").last
        #expect(answer?["approved"] == .bool(false))
        #expect(answer?["how"] == .string("--decline gated_idem"))
    }

    @Test("killed while the gate's question was on screen: resume asks that question again, not the re-run question")
    func killedAtTheQuestion() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let journal = try Journal(path: h.journalPath)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                   params: [:], resumed: false))
        journal.append(.stepStarted(step: "risky", title: "risky", action: "test.count", phase: .main))
        journal.append(.confirmationAsked(step: "risky", message: "Do the risky thing?", kind: "confirm"))
        let point = try ResumePoint.from(records: try h.records())
        #expect(point.inFlight == nil, "the action never started")
        let rb = try EngineHarness.runbook(Self.gatedRisky, automation: "semi_automatic")
        let outcome = try await h.run(rb, options: engineOptions(), journal: true, resume: point)
        #expect(outcome.status == .paused)
        #expect(outcome.pausedAt == "risky")
        let asked = try h.records().of("confirmation_asked", step: "risky")
        #expect(asked.last?["kind"] == .string("confirm"))
        #expect(asked.last?["message"] == .string("Do the risky thing?"))
        #expect(await h.probe.count("risky") == 0)
    }

    @Test("a question that expired while the run was paused: declined without an answer, approved by a fresh --approve")
    func expiryAfterPause() async throws {
        for approveNow in [false, true] {
            let h = try EngineHarness(); defer { h.cleanUp() }
            let journal = try Journal(path: h.journalPath)
            journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                       params: [:], resumed: false))
            journal.append(.stepStarted(step: "gate", title: "gate", action: "test.count", phase: .main))
            journal.append(.confirmationAsked(step: "gate", message: "Go?", kind: "confirm"))
            journal.append(.runPaused(step: "gate", reason: "waiting for confirmation of step 'gate'"))
            // The question was asked an hour ago; its timeout is 1s.
            var records = try h.records()
            for i in records.indices where records[i]["type"] == .string("confirmation_asked") {
                records[i]["time"] = .string(Journal.timestamp(Date().addingTimeInterval(-3600)))
            }
            let point = try ResumePoint.from(records: records)
            let rb = try EngineHarness.runbook("""
            steps:
              - id: gate
                action: test.count
                with: {key: gate}
                confirm: {message: "Go?", timeout: 1s}
                rollback: none
            """, automation: "semi_automatic")
            let policy = ConfirmationPolicy(approved: approveNow ? ["gate"] : [], operatorName: "erin")
            let outcome = try await h.run(rb, options: engineOptions(confirmer: policy), journal: true, resume: point)
            #expect(outcome.status == (approveNow ? .succeeded : .failed), "approve now: \(approveNow)")
            #expect(await h.probe.count("gate") == (approveNow ? 1 : 0))
            let how = try h.records().of("confirmation_answered", step: "gate").last?["how"]
            #expect(how == .string(approveNow ? "--approve gate" : "expired"))
        }
    }

    @Test("crash after a gate was approved: an idempotent step re-runs without asking again")
    func crashAfterApprovalIdempotent() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        try Self.writeCrashAfterApproval(h, step: "gated_idem", action: "test.count_idempotent", finishedBefore: ["risky"])
        let point = try ResumePoint.from(records: try h.records())
        let rb = try EngineHarness.runbook(Self.gatedRisky, automation: "semi_automatic")
        let confirmer = ScriptedConfirmer { _ in .pending }
        let outcome = try await h.run(rb, options: engineOptions(confirmer: confirmer), journal: true, resume: point)
        #expect(outcome.status == .succeeded)
        #expect(confirmer.askedSteps.isEmpty)
        #expect(await h.probe.count("gated_idem") == 1)
        #expect(await h.probe.count("risky") == 0)
    }
}
