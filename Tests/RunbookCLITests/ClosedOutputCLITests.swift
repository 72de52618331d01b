import Foundation
import RunbookKit
import Testing

/// A reader of the run's output that goes away (`| head`, quitting `| less`) must not stop the
/// remediation halfway: the run goes on, fails its step and runs its rollback, as without a reader.
@Suite("runbook run with its output closed")
struct ClosedOutputCLITests {
    @Test("run | head -n 1: the run still finishes, rollback included, with its own exit code")
    func closedStdoutDoesNotKillTheRun() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("pipe.yaml", """
            version: 1
            id: pipe
            title: A run whose reader leaves early
            severity: sev4
            automation: automatic
            steps:
              - id: first
                action: log
                with: {message: one}
              - id: pause
                action: wait
                with: {duration: 1s}
              - id: flag_on
                action: feature_flag.set
                with: {name: pipeflag, value: true}
              - id: boom
                action: assert
                with: {that: "${{ false }}"}
            rollback:
              - id: flag_back
                action: feature_flag.restore
                with: {name: pipeflag}
                undoes: [flag_on]
            """)
        // The exit status of `runbook` itself goes to stderr; stdout is head's one line.
        let script = #"( "$0" run pipe.yaml --state-dir st; echo "rc=$?" >&2 ) | head -n 1"#
        let r = try await CLI.runProgram("/bin/sh", ["-c", script, CLI.executable], in: dir.path)
        #expect(r.stderr.contains("rc=1"), "runbook's own exit code (failed, rollback ran): \(r.stderr)")
        #expect(r.stdout.hasPrefix("running pipe"), "\(r.stdout)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/st/runs")
        let records = try Journal.read(path: dir.path + "/st/runs/\(try #require(runs.first))/journal.jsonl")
        let finished = records.filter { $0["type"] == .string("step_finished") }
        #expect(finished.map { $0["step"]?.stringValue ?? "" } == ["first", "pause", "flag_on", "boom", "flag_back"])
        #expect(finished.last?["status"] == .string("succeeded"), "the rollback ran: \(finished)")
        #expect(records.last?["type"] == .string("run_finished"))
        #expect(records.last?["status"] == .string("failed"))
    }
}
