// Confirmations without a terminal: the run pauses (exit 3) and says how to resume; resume with
// --approve continues without re-running finished steps, --decline rolls back, --yes approves;
// history lists the run and shows who answered.
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("confirmations without a terminal")
struct ConfirmationCLITests {
    static func routes(_ server: TestHTTPServer) {
        for path in ["/before", "/restart", "/after", "/undo/restart", "/rollback-marker"] {
            server.route(path, .text("ok"))
        }
    }

    @Test func pausesThenApproveContinuesWithoutRerunningFinishedSteps() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            let paused = try await w.run("confirm_flow")
            #expect(paused.status == 3, "\(paused.stdout)\(paused.stderr)")
            let run = try w.onlyRunID()
            #expect(paused.stdout.contains("runbook resume \(run) --approve restart"), "\(paused.stdout)")
            #expect(paused.stdout.contains("Restart the demo service?"))
            #expect(w.count("/before") == 1)
            #expect(w.count("/restart") == 0, "nothing assumed: the gated step did not run")

            var list = try await w.cli(["history"] + w.state)
            #expect(list.status == 0)
            let row = try #require(list.stdout.split(separator: "\n").first { $0.contains(run) })
            #expect(row.contains("confirm_flow") && row.contains("paused"), "\(row)")

            let resumed = try await w.resume(run, ["--approve", "restart"])
            #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
            #expect(w.count("/before") == 1, "finished steps are not run again")
            #expect(w.server.requests(path: "/restart").map(\.method) == ["POST"])
            #expect(w.count("/after") == 1)
            #expect(w.count("/undo/restart") == 0 && w.count("/rollback-marker") == 0)

            list = try await w.cli(["history"] + w.state)
            let done = try #require(list.stdout.split(separator: "\n").first { $0.contains(run) })
            #expect(done.contains("succeeded"), "\(done)")

            let timeline = try await w.cli(["history", run] + w.state)
            #expect(timeline.status == 0, "\(timeline.stderr)")
            #expect(timeline.stdout.contains("confirmation_asked restart: Restart the demo service?"))
            #expect(timeline.stdout.contains("confirmation_answered restart: approved by \(RunWorld.user) (--approve restart)"),
                    "\(timeline.stdout)")
            #expect(timeline.stdout.contains("run_started confirm_flow (resumed)"))
            #expect(timeline.stdout.contains("run_finished: paused"))
            #expect(timeline.stdout.contains("run_finished: succeeded"))

            let json = try await w.cli(["history", run, "--format", "json"] + w.state)
            let answers = json.stdout.split(separator: "\n").compactMap { Value.parseJSON(String($0))?.mapValue }
                .records("confirmation_answered", step: "restart")
            #expect(answers.count == 1)
            #expect(answers.first?["by"] == .string(RunWorld.user))
            #expect(answers.first?["approved"] == .bool(true))
        }
    }

    @Test func declineRollsBack() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            #expect(try await w.run("confirm_flow").status == 3)
            let run = try w.onlyRunID()
            let r = try await w.resume(run, ["--decline", "restart"])
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("confirmation declined by \(RunWorld.user)"))
            #expect(w.count("/before") == 1)
            #expect(w.count("/restart") == 0)
            #expect(w.count("/after") == 0)
            #expect(w.count("/rollback-marker") == 1, "the rollback ran")
            #expect(w.count("/undo/restart") == 0, "nothing to undo: the restart never ran")
            let list = try await w.cli(["history"] + w.state)
            #expect(list.stdout.contains("failed"))
            let timeline = try await w.cli(["history", run] + w.state)
            #expect(timeline.stdout.contains("declined by \(RunWorld.user) (--decline restart)"))
        }
    }

    @Test func yesAndApproveUpFrontDoNotPause() async throws {
        for flags in [["--yes"], ["--approve", "restart"]] {
            try await RunWorld.with { w in
                Self.routes(w.server)
                let r = try await w.run("confirm_flow", flags)
                #expect(r.status == 0, "\(flags): \(r.stdout)\(r.stderr)")
                #expect(w.count("/restart") == 1)
                #expect(w.count("/after") == 1)
                #expect(r.stdout.contains("approved by \(RunWorld.user) (\(flags.joined(separator: " ")))"))
            }
        }
    }

    @Test("--approve or --decline naming a step without a confirmation is a usage error: it would answer nothing")
    func approvingAStepWithoutAConfirmationIsRefused() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            for flag in ["--approve", "--decline"] {
                let r = try await w.run("confirm_flow", [flag, "after"])
                #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
                #expect(r.stderr.contains("error: \(flag) after: step 'after' of runbook 'confirm_flow' has no confirmation to answer"
                                          + " (no 'confirm:', not a 'confirm' step); steps that ask: restart"), "\(r.stderr)")
                #expect(w.runIDs.isEmpty, "no run was started")
            }
            // Rollback steps are steps too; naming one of them without a confirmation is refused the same way.
            let rollback = try await w.run("confirm_flow", ["--yes", "--decline", "rollback_marker"])
            #expect(rollback.status == 2 && rollback.stderr.contains("step 'rollback_marker'"), "\(rollback.stderr)")
            #expect(w.count("/before") == 0 && w.count("/restart") == 0, "nothing ran")

            // On resume too, for a paused run.
            #expect(try await w.run("confirm_flow").status == 3)
            let run = try w.onlyRunID()
            let resumed = try await w.resume(run, ["--approve", "before"])
            #expect(resumed.status == 2, "\(resumed.stdout)\(resumed.stderr)")
            #expect(resumed.stderr.contains("step 'before' of runbook 'confirm_flow' has no confirmation"), "\(resumed.stderr)")
            #expect(w.count("/restart") == 0)
            #expect(try w.journal(run).records("run_started").count == 1, "the refused resume wrote nothing")
        }
    }

    @Test("--approve or --decline naming no step of the runbook is a usage error: a misspelt --decline with --yes approved the step")
    func unknownStepIDsAreRefused() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            let r = try await w.run("confirm_flow", ["--yes", "--decline", "restrat"])
            #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("--decline restrat: runbook 'confirm_flow' has no step 'restrat'; did you mean 'restart'?"), "\(r.stderr)")
            #expect(w.count("/before") == 0 && w.count("/restart") == 0, "nothing ran")
            // The hint only names steps that ask: 'before' asks nothing and would be refused next.
            let near = try await w.run("confirm_flow", ["--decline", "befor"])
            #expect(near.status == 2)
            #expect(near.stderr.contains("has no step 'befor'") && !near.stderr.contains("did you mean 'before'"), "\(near.stderr)")
            let paused = try await w.run("confirm_flow")
            #expect(paused.status == 3)
            let resumed = try await w.resume(try w.onlyRunID(), ["--approve", "nope"])
            #expect(resumed.status == 2, "\(resumed.stdout)\(resumed.stderr)")
            #expect(w.count("/restart") == 0)
        }
    }
}
