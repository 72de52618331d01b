// Several operators approve the same paused run at the same moment, each with --allow-concurrent
// (which skips the per-runbook lock): exactly one of them resumes it. The others stop with exit 2
// before they read the journal, so the non-idempotent step runs once and the journal stays whole.
import Foundation
import RunbookKit
import Testing

@Suite("one resume at a time per run")
struct ResumeRaceCLITests {
    /// A gated `exec` that appends its pid to `marker` (how many lines there are is how often it
    /// ran), then sleeps `seconds`.
    static func runbook(marker: String, sleeping seconds: Int = 1) -> String {
        """
        version: 1
        id: dbl
        title: double resume
        severity: sev3
        automation: semi_automatic
        steps:
          - id: go
            action: exec
            with: {argv: [sh, -c, "echo $$ >> '\(marker)'; sleep \(seconds)"]}
            confirm: "run it?"
            rollback: none

        """
    }

    @Test func simultaneousResumesRunTheStepOnce() async throws {
        try await RunWorld.with { w in
            let marker = w.dir.path + "/marker"
            try w.dir.write("dbl.yaml", Self.runbook(marker: marker))
            // Several rounds: without the run's own lock the resumes collided in about one round in three.
            for round in 1...3 {
                let before = Set(w.runIDs)
                let paused = try await w.cli(["run", w.dir.path + "/dbl.yaml"] + w.state)
                #expect(paused.status == 3, "\(paused.stdout)\(paused.stderr)")
                let run = try #require(Set(w.runIDs).subtracting(before).first)

                // Started together, each on a thread of its own.
                let resumes = try await withThrowingTaskGroup(of: LaunchedCLI.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await w.startResume(run, ["--approve", "go", "--allow-concurrent"]) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                var results: [CLIResult] = []
                for r in resumes { results.append(await r.wait()) }

                let resumed = results.filter { $0.status == 0 }
                let statuses = results.map { "\($0.status): \($0.stderr)" }.joined(separator: " | ")
                #expect(resumed.count == 1, "round \(round): exactly one resume runs the run: \(statuses)")
                for r in results where r.status != 0 {
                    #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
                    // Refused while the winner holds the run, or after it finished.
                    #expect(r.stderr.contains("error: run '\(run)' is still in progress")
                            || r.stderr.contains("error: run '\(run)' already finished"), "\(r.stderr)")
                    #expect(!r.stdout.contains("▶ go"), "a refused resume starts nothing: \(r.stdout)")
                }
                let lines = (try? String(contentsOfFile: marker, encoding: .utf8))?.split(separator: "\n").count ?? 0
                #expect(lines == round, "the exec step ran once per run")

                let journal = try w.journal(run)
                let seqs = journal.compactMap { $0["seq"]?.numberValue.map { Int($0) } }
                #expect(seqs == Array(1...journal.count), "one writer: seq has no duplicates or gaps: \(seqs)")
                #expect(journal.records("run_started").count == 2)
                #expect(journal.records("step_finished", step: "go").count == 1)
                #expect(journal.records("run_finished").map { $0["status"]?.stringValue } == ["paused", "succeeded"])
            }
        }
    }

    @Test func aResumeKilledMidStepLeavesNoLockBehind() async throws {
        try await RunWorld.with { w in
            let marker = w.dir.path + "/marker"
            try w.dir.write("dbl.yaml", Self.runbook(marker: marker, sleeping: 600))
            let paused = try await w.cli(["run", w.dir.path + "/dbl.yaml"] + w.state)
            #expect(paused.status == 3, "\(paused.stdout)\(paused.stderr)")
            let run = try w.onlyRunID()

            let first = try await w.startResume(run, ["--approve", "go", "--allow-concurrent"])
            defer { first.kill9() }
            try await eventually("the step to start") {
                (try? String(contentsOfFile: marker, encoding: .utf8))?.hasSuffix("\n") == true
            }
            let second = try await w.resume(run, ["--approve", "go", "--allow-concurrent"])
            #expect(second.status == 2, "\(second.stdout)\(second.stderr)")
            #expect(second.stderr.contains("error: run '\(run)' is still in progress (pid \(first.pid) holds it)"), "\(second.stderr)")

            // SIGKILL: the kernel drops the lock; the next resume asks about the step in flight.
            // (The step's process group outlives the runner: stop it too.)
            first.kill9()
            let shell = try #require(Int32(String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            kill(-shell, SIGKILL)
            _ = await first.wait()
            let after = try await w.resume(run, ["--decline", "go"])
            #expect(after.status == 1, "the declined in-flight step failed the run: \(after.stdout)\(after.stderr)")
            #expect(after.stderr.contains("still in progress") == false, "\(after.stderr)")
            let lines = (try? String(contentsOfFile: marker, encoding: .utf8))?.split(separator: "\n").count ?? 0
            #expect(lines == 1)
        }
    }
}
