// SIGKILL a real `runbook run` at several points, then `runbook resume`: request counts on the
// loopback server prove what ran again and what did not.
//
// crash_flow: probe_one (http.check) → mutate (http.request POST) → probe_two (http.check);
// rollback: undo_mutate (http.request POST) → rollback_probe (http.check).
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("SIGKILL, then resume")
struct CrashResumeCLITests {
    static let paths = ["/probe1", "/mutate", "/probe2", "/undo/mutate", "/rollback-probe"]

    /// Every path answers 200 except `overrides`.
    static func routes(_ server: TestHTTPServer, _ overrides: [String: [TestHTTPResponse]] = [:]) {
        for path in paths {
            let responses = overrides[path] ?? [.text("ok")]
            switch responses.count {
            case 1: server.route(path, responses[0])
            case 2: server.route(path, responses[0], responses[1])
            default: server.route(path, responses[0], responses[1], responses[2])
            }
        }
    }

    /// Starts crash_flow, waits until `path` has been requested `times` times (the request is held
    /// open by the server), checks history shows the run as running and resume refuses it, SIGKILLs
    /// the process and checks it died of the signal and shows as interrupted.
    static func killWhileInFlight(_ w: RunWorld, at path: String, times: Int = 1) async throws -> String {
        let child = try await w.start("crash_flow")
        do {
            try await eventually("a request to \(path)") { w.count(path) >= times }
        } catch {
            child.kill9()
            _ = await child.wait()
            throw error
        }
        // While the process lives, history says so, and resume refuses to start a second writer.
        let live = try w.onlyRunID()
        let during = try await w.cli(["history"] + w.state)
        let liveRow = during.stdout.split(separator: "\n").first { $0.contains(live) }.map(String.init) ?? ""
        #expect(liveRow.contains("running"), "history shows a live run as running: \(during.stdout)")
        let early = try await w.resume(live, ["--allow-concurrent"])
        #expect(early.status == 2 && early.stderr.contains("still in progress"), "\(early.stdout)\(early.stderr)")
        child.kill9()
        let r = await child.wait()
        #expect(child.killedBySignal == SIGKILL, "status \(r.status): \(r.stdout)\(r.stderr)")
        let run = try w.onlyRunID()
        let list = try await w.cli(["history"] + w.state)
        let row = list.stdout.split(separator: "\n").first { $0.contains(run) }.map(String.init) ?? ""
        #expect(row.contains("interrupted"), "history shows the killed run as interrupted: \(list.stdout)")
        return run
    }

    func counts(_ w: RunWorld) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: Self.paths.map { ($0, w.count($0)) })
    }

    @Test func idempotentStepInFlightIsRerun() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server, ["/probe1": [heldForever, .text("ok")]])
            let run = try await Self.killWhileInFlight(w, at: "/probe1")
            #expect(counts(w) == ["/probe1": 1, "/mutate": 0, "/probe2": 0, "/undo/mutate": 0, "/rollback-probe": 0])

            let r = try await w.resume(run)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(counts(w) == ["/probe1": 2, "/mutate": 1, "/probe2": 1, "/undo/mutate": 0, "/rollback-probe": 0])
            let journal = try w.journal(run)
            #expect(journal.records("confirmation_asked").isEmpty, "an idempotent step is re-run without asking")
            #expect(journal.records("run_started").map { $0["resumed"] } == [.bool(false), .bool(true)])
        }
    }

    @Test(arguments: [true, false])
    func nonIdempotentStepInFlightAsks(approve: Bool) async throws {
        try await RunWorld.with { w in
            Self.routes(w.server, ["/mutate": [heldForever, .text("ok")]])
            let run = try await Self.killWhileInFlight(w, at: "/mutate")
            #expect(counts(w) == ["/probe1": 1, "/mutate": 1, "/probe2": 0, "/undo/mutate": 0, "/rollback-probe": 0])

            // No answer: resume pauses and asks.
            let asked = try await w.resume(run)
            #expect(asked.status == 3, "\(asked.stdout)\(asked.stderr)")
            #expect(asked.stdout.contains("was in flight when the run stopped"))
            #expect(asked.stdout.contains("runbook resume \(run) --approve mutate"), "\(asked.stdout)")
            #expect(counts(w) == ["/probe1": 1, "/mutate": 1, "/probe2": 0, "/undo/mutate": 0, "/rollback-probe": 0],
                    "a paused resume sends nothing")

            if approve {
                let r = try await w.resume(run, ["--approve", "mutate"])
                #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
                #expect(counts(w) == ["/probe1": 1, "/mutate": 2, "/probe2": 1, "/undo/mutate": 0, "/rollback-probe": 0],
                        "re-run exactly once more")
            } else {
                let r = try await w.resume(run, ["--decline", "mutate"])
                #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
                #expect(r.stdout.contains("not re-run after the run stopped mid-step"))
                #expect(counts(w) == ["/probe1": 1, "/mutate": 1, "/probe2": 0, "/undo/mutate": 1, "/rollback-probe": 1],
                        "declined: the step failed and the rollback ran")
            }
            // Finished now: nothing more to resume.
            let again = try await w.resume(run)
            #expect(again.status == 2)
            #expect(again.stderr.contains("already finished"))
        }
    }

    @Test func killedAfterAStepFinished() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server, ["/probe2": [heldForever, .text("ok")]])
            let run = try await Self.killWhileInFlight(w, at: "/probe2")
            #expect(counts(w)["/mutate"] == 1)
            let resumed = try await w.resume(run)
            #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
            #expect(counts(w) == ["/probe1": 1, "/mutate": 1, "/probe2": 2, "/undo/mutate": 0, "/rollback-probe": 0])
        }
        // The exact point between two steps (the journal ends with mutate's step_finished, before
        // probe_two's step_started) is too narrow to hit with a signal; cut the journal of a run
        // killed a moment later back to it, as a crash at that instant would have left it.
        try await RunWorld.with { w in
            Self.routes(w.server, ["/probe2": [heldForever, .text("ok")]])
            let run = try await Self.killWhileInFlight(w, at: "/probe2")
            let path = w.stateDir + "/runs/\(run)/journal.jsonl"
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            let cut = try #require(lines.firstIndex { $0.contains(#""type":"step_finished""#) && $0.contains(#""step":"mutate""#) })
            try (lines[...cut].joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)

            let resumed = try await w.resume(run)
            #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
            #expect(!resumed.stdout.contains("was in flight"))
            #expect(counts(w) == ["/probe1": 1, "/mutate": 1, "/probe2": 2, "/undo/mutate": 0, "/rollback-probe": 0],
                    "mutate is not repeated; probe_two (never started, per the journal) runs")
        }
    }

    @Test func killedDuringTheRollbackResumesTheRollback() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server, ["/probe2": [.text("broken", status: 500)],
                                   "/rollback-probe": [heldForever, .text("ok")]])
            let run = try await Self.killWhileInFlight(w, at: "/rollback-probe")
            #expect(counts(w) == ["/probe1": 1, "/mutate": 1, "/probe2": 1, "/undo/mutate": 1, "/rollback-probe": 1])

            let r = try await w.resume(run)
            #expect(r.status == 1, "a resumed rollback that succeeds ends the run failed: \(r.stdout)\(r.stderr)")
            #expect(counts(w) == ["/probe1": 1, "/mutate": 1, "/probe2": 1, "/undo/mutate": 1, "/rollback-probe": 2],
                    "finished rollback steps are skipped; the idempotent one in flight is re-run")
            let journal = try w.journal(run)
            #expect(journal.records("rollback_started").count == 1)
            #expect(journal.last?["status"] == .string("failed"))
            #expect(r.stdout.contains("rolled back: undo_mutate, rollback_probe"), "\(r.stdout)")
        }
    }

    @Test func nonIdempotentRollbackStepInFlightAsks() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server, ["/probe2": [.text("broken", status: 500)],
                                   "/undo/mutate": [heldForever, .text("ok")]])
            let run = try await Self.killWhileInFlight(w, at: "/undo/mutate")
            let asked = try await w.resume(run)
            #expect(asked.status == 3, "\(asked.stdout)\(asked.stderr)")
            #expect(asked.stdout.contains("--approve undo_mutate"))
            #expect(counts(w)["/undo/mutate"] == 1 && counts(w)["/rollback-probe"] == 0)

            let r = try await w.resume(run, ["--approve", "undo_mutate"])
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(counts(w) == ["/probe1": 1, "/mutate": 1, "/probe2": 1, "/undo/mutate": 2, "/rollback-probe": 1])
        }
    }
}

extension CrashResumeCLITests {
    /// Starts `runbook resume RUN extra…`, waits for the `times`-th request to `path`, SIGKILLs it.
    static func killResumeWhileInFlight(_ w: RunWorld, _ run: String, _ extra: [String] = [], at path: String,
                                        times: Int) async throws {
        let child = try await w.startResume(run, extra)
        defer { child.kill9() }
        try await eventually("request \(times) to \(path)") { w.count(path) >= times }
        child.kill9()
        _ = await child.wait()
        #expect(child.killedBySignal == SIGKILL)
    }

    @Test func killedAgainDuringTheResume() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server, ["/probe1": [heldForever, heldForever, .text("ok")]])
            let run = try await Self.killWhileInFlight(w, at: "/probe1")
            try await Self.killResumeWhileInFlight(w, run, at: "/probe1", times: 2)
            let r = try await w.resume(run)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(counts(w) == ["/probe1": 3, "/mutate": 1, "/probe2": 1, "/undo/mutate": 0, "/rollback-probe": 0])
            #expect(try w.journal(run).records("run_started").count == 3)
        }
    }

    @Test func anApprovedRerunKilledAgainIsAskedAgain() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server, ["/mutate": [heldForever, heldForever, .text("ok")]])
            let run = try await Self.killWhileInFlight(w, at: "/mutate")
            try await Self.killResumeWhileInFlight(w, run, ["--approve", "mutate"], at: "/mutate", times: 2)
            // The approval was for one more run, not for every run after it.
            let asked = try await w.resume(run)
            #expect(asked.status == 3, "\(asked.stdout)\(asked.stderr)")
            #expect(asked.stdout.contains("--approve mutate"))
            #expect(counts(w)["/mutate"] == 2)
            let r = try await w.resume(run, ["--approve", "mutate"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(counts(w) == ["/probe1": 1, "/mutate": 3, "/probe2": 1, "/undo/mutate": 0, "/rollback-probe": 0])
        }
    }

    @Test func aGatedStepKilledInFlightIsAskedAboutTheRerunOnly() async throws {
        try await RunWorld.with { w in
            let run = try await w.confirmFlowKilledDuringRestart()
            let asked = try await w.resume(run)
            #expect(asked.status == 3, "\(asked.stdout)\(asked.stderr)")
            #expect(asked.stdout.contains("was in flight"))
            let r = try await w.resume(run, ["--approve", "restart"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/restart") == 2 && w.count("/before") == 1 && w.count("/after") == 1)
            // The gate's own question was answered once, up front, and not asked again.
            let journal = try w.journal(run)
            #expect(journal.records("confirmation_asked", step: "restart").map { $0["kind"] }
                    == [.string("confirm"), .string("rerun"), .string("rerun")])
        }
    }
}

/// Crash points that a signal cannot hit reliably: the run is SIGKILLed a moment later and its
/// journal is cut back to the record after which the crash is simulated, as the crash at that
/// instant would have left it (every record is fsync'd before the run goes on).
@Suite("crash at a record boundary, then resume")
struct CrashAtRecordTests {
    /// Cuts `run`'s journal after the first record with `type` (and `step`).
    static func cutJournal(_ w: RunWorld, _ run: String, after type: String, step: String) throws {
        let path = w.stateDir + "/runs/\(run)/journal.jsonl"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let cut = try #require(lines.firstIndex { $0.contains(#""type":"\#(type)""#) && $0.contains(#""step":"\#(step)""#) })
        try (lines[...cut].joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func failedStepFinishedButRollbackNotStarted() async throws {
        try await RunWorld.with { w in
            CrashResumeCLITests.routes(w.server, ["/probe2": [.text("broken", status: 500)],
                                                  "/undo/mutate": [heldForever, .text("ok")]])
            let run = try await CrashResumeCLITests.killWhileInFlight(w, at: "/undo/mutate")
            // The crash came right after probe_two's failure was journaled, before rollback_started.
            try Self.cutJournal(w, run, after: "step_finished", step: "probe_two")

            let r = try await w.resume(run)
            #expect(r.status == 1, "the failure still causes the rollback: \(r.stdout)\(r.stderr)")
            #expect(w.count("/probe2") == 1, "the failed step is not re-run")
            #expect(w.count("/undo/mutate") == 2, "the rollback ran (the killed attempt + this one)")
            #expect(w.count("/rollback-probe") == 1)
            let journal = try w.journal(run)
            #expect(journal.records("rollback_started").count == 1)
            #expect(journal.last?["status"] == .string("failed"))
        }
    }

    @Test func abortingStepFinishedButRunNotFinished() async throws {
        try await RunWorld.with { w in
            w.server.route("/optional", .text("ok"))
            w.server.route("/change", .text("ok"))
            w.server.route("/critical", .text("nope", status: 500))
            w.server.route("/after", .text("ok"))
            let first = try await w.run("failure_modes")
            #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
            let run = try w.onlyRunID()
            // The crash came right after the aborting failure was journaled, before run_finished.
            try Self.cutJournal(w, run, after: "step_finished", step: "critical_probe")

            let r = try await w.resume(run)
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("aborted (no rollback)"), "\(r.stdout)")
            #expect(w.count("/critical") == 1 && w.count("/after") == 0 && w.count("/undo/change") == 0)
            #expect(try w.journal(run).last?["status"] == .string("aborted"))
        }
    }

    @Test func continuingStepFinishedThenCrash() async throws {
        try await RunWorld.with { w in
            w.server.route("/optional", .text("nope", status: 500))
            for path in ["/change", "/critical", "/after"] { w.server.route(path, .text("ok")) }
            #expect(try await w.run("failure_modes").status == 0)
            let run = try w.onlyRunID()
            try Self.cutJournal(w, run, after: "step_finished", step: "optional_probe")

            let r = try await w.resume(run)
            #expect(r.status == 0, "on_failure: continue still goes on: \(r.stdout)\(r.stderr)")
            #expect(w.count("/optional") == 1, "the failed step is not re-run")
            #expect(w.count("/after") == 2, "the rest ran (first run + resume)")
        }
    }
}

extension RunWorld {
    /// `confirm_flow` run with its `restart` gate approved (`--approve restart`) and SIGKILLed
    /// while the restart request hangs: the id of the run left in flight.
    func confirmFlowKilledDuringRestart() async throws -> String {
        ConfirmationCLITests.routes(server)
        server.route("/restart", heldForever, .text("ok"))
        let child = try await start("confirm_flow", ["--approve", "restart"])
        defer { child.kill9() }
        try await eventually("the restart request") { count("/restart") == 1 }
        child.kill9()
        _ = await child.wait()
        return try onlyRunID()
    }
}
