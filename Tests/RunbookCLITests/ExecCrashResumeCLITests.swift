// SIGKILL a real `runbook run` while its `exec` step runs: the program goes on (reparented), and
// `runbook resume` finds it from the pid and start time the journal recorded, says so, and does not
// start a second copy on `--yes`; a pid that now names another process is not taken for it.
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("SIGKILL during exec, then resume")
struct ExecCrashResumeCLITests {
    /// Starts exec_flow, waits until its program is `sleep` (past the shell's exec), SIGKILLs the
    /// runner and checks the program outlived it. Returns the run id and the program's pid.
    static func killDuringExec(_ w: RunWorld) async throws -> (run: String, pid: Int32) {
        let child = try await w.start("exec_flow", ["--param", "flag=\(w.dir.path)/flag"])
        defer { child.kill9() }
        var pid: Int32 = 0
        try await eventually("the exec step's process_started record, its program running sleep") {
            guard let run = w.runIDs.first,
                  let record = (try? w.journal(run))?.records("process_started", step: "long_job").first,
                  let n = record["pid"]?.numberValue else { return false }
            pid = Int32(n)
            return ProcessProbe.stat(pid)?.comm == "sleep"
        }
        child.kill9()
        _ = await child.wait()
        #expect(child.killedBySignal == SIGKILL)
        let alive = ProcessProbe.stat(pid)
        #expect(alive != nil && alive?.state != "Z", "the exec child outlives the runner")
        return (try w.onlyRunID(), pid)
    }

    /// Live processes in the group.
    static func groupSize(_ pgid: Int32) -> Int {
        ProcessProbe.all().filter { $0.pgrp == pgid && $0.state != "Z" }.count
    }

    static func rewriteStartTime(_ w: RunWorld, _ run: String, _ change: (Int) -> Int) throws {
        let path = w.stateDir + "/runs/\(run)/journal.jsonl"
        var records = try Journal.read(path: path)
        for i in records.indices where records[i]["type"] == .string("process_started") {
            if let t = records[i]["start_time"]?.numberValue { records[i]["start_time"] = .int(change(Int(t))) }
        }
        try (records.map { Value.map($0).jsonText() }.joined(separator: "\n") + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func resumeNamesTheProgramStillRunningAndYesDoesNotStartASecondCopy() async throws {
        try await RunWorld.with { w in
            w.server.route("/after", .text("ok"))
            let (run, pid) = try await Self.killDuringExec(w)
            defer { kill(-pid, SIGKILL) }
            let note = "process group \(pid) started by this step is still running (pid \(pid): sleep)"

            let timeline = try await w.cli(["history", run] + w.state)
            #expect(timeline.stdout.contains("process_started long_job: pid \(pid) (process group \(pid))"), "\(timeline.stdout)")

            let asked = try await w.resume(run)
            #expect(asked.status == 3, "\(asked.stdout)\(asked.stderr)")
            #expect(asked.stdout.contains("was in flight when the run stopped and is not idempotent: it may or may not have "
                                          + "taken effect, and \(note). Run it again?"), "\(asked.stdout)")
            #expect(asked.stdout.contains("paused: step 'long_job' was in flight when the run stopped, and \(note): check on it first"),
                    "\(asked.stdout)")
            #expect(asked.stdout.contains("waiting at 'long_job': runbook resume \(run) --approve long_job"))

            // --yes approves confirmations, not a second copy of a program that still runs.
            let yes = try await w.resume(run, ["--yes"])
            #expect(yes.status == 3, "\(yes.stdout)\(yes.stderr)")
            #expect(yes.stdout.contains(note))
            #expect(Self.groupSize(pid) == 1 && w.count("/after") == 0)
            #expect(try w.journal(run).records("process_started").count == 1, "nothing was started again")

            // A journal whose pid now names a process that started at another time: pid reuse, not the
            // program; nothing is claimed about it.
            try Self.rewriteStartTime(w, run) { $0 + 1 }
            let reused = try await w.resume(run)
            #expect(reused.status == 3, "\(reused.stdout)\(reused.stderr)")
            #expect(!reused.stdout.contains("still running"), "\(reused.stdout)")
            #expect(reused.stdout.contains("(process group \(pid) it started is no longer running)"), "\(reused.stdout)")
            try Self.rewriteStartTime(w, run) { $0 - 1 }

            // An answer that names the step re-runs it beside the first, and says so.
            let approved = try await w.resume(run, ["--approve", "long_job"])
            #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
            #expect(approved.stdout.contains("warning: re-run while \(note): the two copies run side by side"), "\(approved.stdout)")
            #expect(w.count("/after") == 1)
            #expect(try w.journal(run).records("process_started").count == 2)
            #expect(ProcessProbe.stat(pid)?.comm == "sleep", "the first copy is left to the operator")
        }
    }

    @Test func aProgramThatEndedIsSaidToHaveEnded() async throws {
        try await RunWorld.with { w in
            w.server.route("/after", .text("ok"))
            let (run, pid) = try await Self.killDuringExec(w)
            defer { kill(-pid, SIGKILL) }
            kill(-pid, SIGTERM)
            try await eventually("the program to end") { Self.groupSize(pid) == 0 }

            let asked = try await w.resume(run)
            #expect(asked.status == 3, "\(asked.stdout)\(asked.stderr)")
            #expect(asked.stdout.contains("it may or may not have taken effect (process group \(pid) it started is no longer running)"),
                    "\(asked.stdout)")
            #expect(asked.stdout.contains("paused: step 'long_job' was in flight when the run stopped; re-run it with --approve long_job"))

            // --approve and --decline answer the re-run question of the step in flight, which has
            // no confirmation of its own; a step that asks nothing is still refused.
            let refused = try await w.resume(run, ["--approve", "after"])
            #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains("step 'after' of runbook 'exec_flow' has no confirmation to answer"), "\(refused.stderr)")
            #expect(refused.stderr.contains("steps that ask: long_job"), "\(refused.stderr)")

            let r = try await w.resume(run, ["--yes"])
            #expect(r.status == 0, "--yes re-runs it as before when nothing of it runs: \(r.stdout)\(r.stderr)")
            #expect(w.count("/after") == 1)
        }
    }

    @Test func anOldJournalWithoutProcessRecordsResumesAsBefore() async throws {
        try await RunWorld.with { w in
            w.server.route("/after", .text("ok"))
            let (run, pid) = try await Self.killDuringExec(w)
            defer { kill(-pid, SIGKILL) }
            let path = w.stateDir + "/runs/\(run)/journal.jsonl"
            let old = try Journal.read(path: path).filter { $0["type"] != .string("process_started") }
            try (old.map { Value.map($0).jsonText() }.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)

            let asked = try await w.resume(run)
            #expect(asked.status == 3, "\(asked.stdout)\(asked.stderr)")
            #expect(asked.stdout.contains("is not idempotent: it may or may not have taken effect. Run it again?"), "\(asked.stdout)")
            let history = try await w.cli(["history", run] + w.state)
            #expect(history.status == 0 && history.stderr.isEmpty, "\(history.stderr)")
        }
    }
}
