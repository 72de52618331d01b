import Foundation
import RunbookKit
import Testing

/// The rollback list and confirmations.
@Suite("Engine: rollback and confirmations")
struct EngineRollbackTests {
    static let undoOnlyWhatSucceeded = """
    steps:
      - id: open_breaker
        action: test.count
        with: {key: open}
      - id: scale_down
        action: test.count
        with: {key: scale}
      - id: verify
        action: test.fail
        with: {message: still broken}
      - id: notify
        action: test.count
        with: {key: notify}
    rollback:
      - id: restore_scale
        action: test.count
        with: {key: undo_scale}
        undoes: [scale_down]
        when: "${{ steps.scale_down.status == 'succeeded' }}"
      - id: undo_notify
        action: test.count
        with: {key: undo_notify}
        undoes: [notify]
        when: "${{ steps.notify.status == 'succeeded' }}"
      - id: close_breaker
        action: test.count
        with: {key: undo_open}
        undoes: [open_breaker]
        when: "${{ steps.open_breaker.status == 'succeeded' }}"
    """

    @Test("rollback runs in order and honours each step's when (undo only what succeeded)")
    func rollbackInOrderWithWhen() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.undoOnlyWhatSucceeded)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.executed == ["open_breaker", "scale_down"])
        #expect(outcome.failed == ["verify"])
        #expect(outcome.rolledBack == ["restore_scale", "close_breaker"])
        #expect(outcome.skipped == ["undo_notify"])
        #expect(await h.probe.count("undo_notify") == 0)
        #expect(await h.probe.count("notify") == 0)
        let order = reporter.events.compactMap { e -> String? in
            if case .stepStarted(let step, _, _, .rollback) = e { return step }
            return nil
        }
        #expect(order == ["restore_scale", "undo_notify", "close_breaker"])
    }

    @Test("a failing rollback step is reported, the rest still run, status rollback_failed (exit 4)")
    func rollbackStepFails() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: a
            action: test.count
            with: {key: a}
          - id: b
            action: test.fail
        rollback:
          - id: undo_first
            action: test.fail
            with: {message: cannot undo}
            undoes: [a]
          - id: undo_second
            action: test.count
            with: {key: undo_second}
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .rollbackFailed)
        #expect(outcome.status.exitCode == 4)
        #expect(outcome.failed == ["b"])
        #expect(outcome.rollbackFailed == ["undo_first"])
        #expect(outcome.rolledBack == ["undo_second"])
        #expect(await h.probe.count("undo_second") == 1)
        #expect(reporter.finished("undo_first")?.error == "cannot undo")
        #expect(RecordingReporter().output.isEmpty)
        #expect(TextRunReporter(color: false) { _ in }.summary(outcome).contains("rollback failed: undo_first"))
    }

    @Test("a rollback step with on_failure: continue may fail without failing the rollback (exit 1, not 4)")
    func rollbackStepMayFail() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: a
            action: test.count
            with: {key: a}
          - id: b
            action: test.fail
        rollback:
          - id: tell
            action: test.fail
            with: {message: chat is down}
            on_failure: continue
          - id: undo_a
            action: test.count
            with: {key: undo_a}
            undoes: [a]
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.status.exitCode == 1)
        #expect(outcome.rolledBack == ["undo_a"])
        #expect(reporter.finished("tell")?.error == "chat is down")
        let summary = TextRunReporter(color: false) { _ in }.summary(outcome)
        #expect(summary.contains("rollback steps failed (on_failure: continue): tell"), "\(summary)")
        #expect(!summary.contains("rollback failed:"))
    }

    @Test("the confirm action's outputs say who answered and when, approved or declined")
    func confirmActionOutputs() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: ask
            action: confirm
            with: {message: Go on?}
          - id: ask_again
            action: confirm
            with: {message: Really?}
        """)
        let reporter = RecordingReporter()
        _ = try await h.run(rb, options: engineOptions(confirmer: ConfirmationPolicy(approved: ["ask"], declined: ["ask_again"], operatorName: "erin")),
                            reporter: reporter)
        let approved = try #require(reporter.finished("ask"))
        #expect(approved.outputs["approved"] == .bool(true))
        #expect(approved.outputs["answered_by"] == .string("erin"))
        #expect(approved.outputs["answered_at"]?.stringValue?.hasSuffix("Z") == true)
        let declined = try #require(reporter.finished("ask_again"))
        #expect(declined.status == .failed)
        #expect(declined.outputs["approved"] == .bool(false))
        #expect(declined.outputs["answered_by"] == .string("erin"))
    }

    @Test("a confirmation approved by --approve STEP or --yes lets the step run",
          arguments: [ConfirmationPolicy(approved: ["gate"], operatorName: "alice"),
                      ConfirmationPolicy(approveAll: true, operatorName: "alice")])
    func confirmationApproved(policy: ConfirmationPolicy) async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: gate
            action: test.count
            with: {key: gate}
            confirm: "Really change it?"
            rollback: none
        """, automation: "semi_automatic")
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(confirmer: policy), journal: true, reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["gate"])
        #expect(await h.probe.count("gate") == 1)
        let records = try h.records()
        #expect(records.of("confirmation_asked", step: "gate").first?["message"] == .string("Really change it?"))
        let answered = try #require(records.of("confirmation_answered", step: "gate").first)
        #expect(answered["approved"] == .bool(true))
        #expect(answered["by"] == .string("alice"))
        #expect(answered["how"] == .string(policy.approveAll ? "--yes" : "--approve gate"))
    }

    @Test("a declined confirmation fails the step and rolls back")
    func confirmationDeclined() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: first
            action: test.count
            with: {key: first}
          - id: gate
            action: test.count
            with: {key: gate}
            confirm: {message: "Really?", timeout: 30m}
            rollback: none
        rollback:
          - id: undo_first
            action: test.count
            with: {key: undo}
            undoes: [first]
        """, automation: "semi_automatic")
        let confirmer = ScriptedConfirmer { _ in .declined(by: "bob", how: "terminal") }
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(confirmer: confirmer), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["gate"])
        #expect(outcome.rolledBack == ["undo_first"])
        #expect(await h.probe.count("gate") == 0)
        #expect(reporter.finished("gate")?.error == "confirmation declined by bob")
        #expect(confirmer.asked.first?.timeout == 1800)
    }

    @Test("an expired confirmation counts as declined, never as approved")
    func confirmationExpired() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: gate
            action: test.count
            with: {key: gate}
            confirm: {message: "Really?", timeout: 100ms}
            rollback: none
        rollback:
          - id: cleanup
            action: test.echo
        """, automation: "semi_automatic")
        let confirmer = ScriptedConfirmer { _ in .declined(by: "timeout", how: "expired") }
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(confirmer: confirmer), journal: true, reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["gate"])
        #expect(outcome.rolledBack == ["cleanup"])
        #expect(await h.probe.count("gate") == 0)
        let error = reporter.finished("gate")?.error ?? ""
        #expect(error.hasPrefix("the question expired at ") && error.hasSuffix(", counted as declined"), "\(error)")
        #expect(try h.records().of("confirmation_answered", step: "gate").first?["how"] == .string("expired"))
    }

    @Test("the confirm action: approved output true; declined fails with approved false")
    func confirmAction() async throws {
        let yaml = """
        steps:
          - id: ask
            action: confirm
            with: {message: "Go on?"}
          - id: after
            action: test.echo
            with: {flag: "${{ steps.ask.outputs.approved }}"}
        """
        for approve in [true, false] {
            let h = try EngineHarness(); defer { h.cleanUp() }
            let rb = try EngineHarness.runbook(yaml, automation: "semi_automatic")
            let confirmer = ScriptedConfirmer { _ in approve ? .approved(by: "a", how: "t") : .declined(by: "a", how: "t") }
            let reporter = RecordingReporter()
            let outcome = try await h.run(rb, options: engineOptions(confirmer: confirmer), reporter: reporter)
            #expect(confirmer.asked.first?.message == "Go on?")
            #expect(reporter.finished("ask")?.outputs["approved"] == .bool(approve))
            if approve {
                #expect(outcome.status == .succeeded)
                #expect(reporter.finished("after")?.outputs["flag"] == .bool(true))
            } else {
                #expect(outcome.status == .failed)
                #expect(outcome.failed == ["ask"])
            }
        }
    }

    @Test("read-only and rollback steps without confirm are never asked")
    func onlyGatesAreAsked() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.undoOnlyWhatSucceeded)
        let confirmer = ScriptedConfirmer { _ in .pending }
        _ = try await h.run(rb, options: engineOptions(confirmer: confirmer))
        #expect(confirmer.askedSteps.isEmpty)
    }
}
