// One run per runbook at a time: a second run fails with exit 2, --allow-concurrent skips the lock,
// and a SIGKILLed holder releases it.
import Foundation
import RunbookTestSupport
import Testing

@Suite("the per-runbook lock")
struct LockCLITests {
    @Test func secondRunIsRefusedUntilTheHolderDies() async throws {
        try await RunWorld.with { w in
            CrashResumeCLITests.routes(w.server, ["/probe1": [heldForever, .text("ok")]])
            let holder = try await w.start("crash_flow")
            defer { holder.kill9() }
            try await eventually("the first run's request") { w.count("/probe1") == 1 }

            let second = try await w.run("crash_flow")
            #expect(second.status == 2, "\(second.stdout)\(second.stderr)")
            #expect(second.stderr.contains("another run of 'crash_flow' is in progress (pid \(holder.pid))"), "\(second.stderr)")
            #expect(second.stderr.contains("--allow-concurrent"))
            #expect(w.count("/probe1") == 1, "the refused run sent nothing")
            #expect(w.runIDs.count == 1, "the refused run left no journal")

            // Dry-runs take no lock.
            let dry = try await w.run("crash_flow", ["--dry-run"])
            #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")

            let concurrent = try await w.run("crash_flow", ["--allow-concurrent"])
            #expect(concurrent.status == 0, "\(concurrent.stdout)\(concurrent.stderr)")
            #expect(w.count("/probe1") == 2 && w.count("/mutate") == 1)

            holder.kill9()
            _ = await holder.wait()
            #expect(holder.killedBySignal == SIGKILL)
            let after = try await w.run("crash_flow")
            #expect(after.status == 0, "the lock died with its holder: \(after.stdout)\(after.stderr)")
            #expect(w.count("/mutate") == 2)
        }
    }

    @Test func resumeTakesTheLockToo() async throws {
        try await RunWorld.with { w in
            CrashResumeCLITests.routes(w.server, ["/mutate": [heldForever, .text("ok")]])
            let run = try await CrashResumeCLITests.killWhileInFlight(w, at: "/mutate")
            w.server.route("/probe1", heldForever)
            let holder = try await w.start("crash_flow")
            defer { holder.kill9() }
            try await eventually("the second run's request") { w.count("/probe1") == 2 }
            let r = try await w.resume(run, ["--approve", "mutate"])
            #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("another run of 'crash_flow' is in progress"))
            #expect(w.count("/mutate") == 1)
            holder.kill9()
            _ = await holder.wait()
        }
    }
}
