// `--param NAME=…` given twice is a usage error wherever `--param` is parsed (run, run --dry-run,
// drill): the last value winning silently ran with a value the operator may not have meant.
// `resume` takes no `--param` (the journal has the run's params): any is refused.
import Foundation
import RunbookKit
import Testing

@Suite("repeated --param")
struct RepeatedParamCLITests {
    static let runbook = """
    version: 1
    id: scaler
    title: Scaler
    severity: sev4
    automation: automatic
    params:
      replicas: {type: int, default: 3}
    steps:
      - id: say
        action: log
        with: {message: "scaling to ${{ params.replicas }}"}

    """

    @Test func runAndDryRunRefuseARepeatedParam() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("scaler.yaml", Self.runbook)
        let state = ["--state-dir", dir.path + "/state"]
        for extra in [[], ["--dry-run"]] {
            let r = try await CLI.run(["run", "scaler.yaml", "--param", "replicas=8", "--param", "replicas=80"] + extra + state,
                                      in: dir.path)
            #expect(r.status == 2, "\(extra): \(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("error: --param 'replicas' is given more than once; give each param once"), "\(r.stderr)")
            #expect(!r.stdout.contains("scaling to"), "nothing ran")
            #expect(!r.stderr.contains("80"), "the values are not echoed")
        }
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/runs")) ?? []
        #expect(runs.isEmpty, "no run was started")
        // Given once, it is used.
        let once = try await CLI.run(["run", "scaler.yaml", "--param", "replicas=8"] + state, in: dir.path)
        #expect(once.status == 0, "\(once.stdout)\(once.stderr)")
        #expect(once.stdout.contains("scaling to 8"))
    }

    @Test func drillRefusesARepeatedParam() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/scaler.yaml", Self.runbook)
        let r = try await CLI.run(["drill", "--param", "replicas=8", "--param", "replicas=8"], in: dir.path)
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("--param 'replicas' is given more than once"), "\(r.stderr)")
        #expect(!r.stdout.contains("passed"), "no drill ran")
    }

    @Test func resumeTakesNoParam() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let r = try await CLI.run(["resume", "scaler-20261127-000000-abcd", "--param", "replicas=8",
                                   "--state-dir", dir.path + "/state"], in: dir.path)
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("--param"), "\(r.stderr)")
    }
}
