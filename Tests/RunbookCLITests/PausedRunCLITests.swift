// A new run of a runbook while an earlier run of it waits at a question: said, not refused.
import Foundation
import RunbookKit
import Testing

@Suite("runbook run beside a paused run")
struct PausedRunCLITests {
    static let gate = """
        version: 1
        id: gate
        title: A gate
        severity: sev4
        automation: semi_automatic
        steps:
          - id: ask
            action: log
            with: {message: go}
            confirm: Go ahead?
        """

    @Test("a new run warns about a paused run of the same runbook and names how to answer it; dry runs and answered runs do not count")
    func warnsAboutAPausedRun() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("gate.yaml", Self.gate)
        try dir.write("other.yaml", Self.gate.replacingOccurrences(of: "id: gate", with: "id: other"))
        let state = ["--state-dir", dir.path + "/st"]
        let first = try await CLI.run(["run", "gate.yaml"] + state, in: dir.path)
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        #expect(!first.stderr.contains("paused at step"), "\(first.stderr)")
        let firstID = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/st/runs").first)

        let second = try await CLI.run(["run", "gate.yaml"] + state, in: dir.path)
        #expect(second.status == 3, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("warning: run \(firstID) of this runbook is paused at step 'ask' since "), "\(second.stderr)")
        #expect(second.stderr.contains("(runbook resume \(firstID) --approve ask, or --decline)"), "\(second.stderr)")

        // Another runbook, or a dry run: nothing to say.
        let other = try await CLI.run(["run", "other.yaml"] + state, in: dir.path)
        #expect(!other.stderr.contains("is paused"), "\(other.stderr)")
        let dry = try await CLI.run(["run", "gate.yaml", "--dry-run"] + state, in: dir.path)
        #expect(!dry.stderr.contains("is paused"), "\(dry.stderr)")

        // Once both are answered, a new run starts without a word.
        for id in try FileManager.default.contentsOfDirectory(atPath: dir.path + "/st/runs") where id.hasPrefix("gate-") {
            _ = try await CLI.run(["resume", id, "--decline", "ask"] + state, in: dir.path)
        }
        let third = try await CLI.run(["run", "gate.yaml", "--yes"] + state, in: dir.path)
        #expect(third.status == 0, "\(third.stdout)\(third.stderr)")
        #expect(!third.stderr.contains("is paused"), "\(third.stderr)")
    }
}
