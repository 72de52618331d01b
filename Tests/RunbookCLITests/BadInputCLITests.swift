// Bad input to `run` and `resume` is a usage error (exit 2) that says what is wrong, and nothing runs.
import Foundation
import RunbookTestSupport
import Testing

@Suite("bad input to run and resume")
struct BadInputCLITests {
    struct BadParam: CustomTestStringConvertible, Sendable {
        var params: [String]
        var message: String
        var testDescription: String { params.joined(separator: " ") }
    }

    static let badParams: [BadParam] = [
        .init(params: ["name=x", "cout=3"], message: "unknown param 'cout' for runbook 'typed_params'; did you mean 'count'?"),
        .init(params: ["name=x", "count=three"], message: "param 'count' (int): expected an integer, got 'three'"),
        .init(params: ["name=x", "count=1.5"], message: "param 'count' (int)"),
        .init(params: ["name=x", "ratio=half"], message: "param 'ratio' (number): expected a number, got 'half'"),
        .init(params: ["name=x", "ratio=0x1p3"], message: "param 'ratio' (number): expected a number, got '0x1p3'"),
        .init(params: ["name=x", "ratio=nan"], message: "param 'ratio' (number): expected a number, got 'nan'"),
        .init(params: ["name=x", "enabled=yes"], message: "param 'enabled' (bool): expected 'true' or 'false', got 'yes'"),
        .init(params: ["name=x", "endpoint=not a url"], message: "param 'endpoint' (url)"),
        .init(params: ["name=x", "endpoint=ftp://example.com"], message: "param 'endpoint' (url)"),
        .init(params: ["name=x", "pause=5 minutes"], message: "param 'pause' (duration)"),
        .init(params: ["name=x", "level=medium"], message: "param 'level' must be one of low, high, got 'medium'"),
        .init(params: [], message: "param 'name' is required: pass --param name=<string>"),
        .init(params: ["name"], message: "--param 'name': expected name=value"),
    ]

    @Test(arguments: badParams)
    func badParamExitsTwoNamingIt(_ bad: BadParam) async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let r = try await CLI.run(["run", Fixture.runbook("typed_params"), "--state-dir", dir.path + "/state"]
                                  + bad.params.flatMap { ["--param", $0] }, in: dir.path)
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains(bad.message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/state/runs"), "nothing ran")
    }

    @Test func goodParamsRun() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let r = try await CLI.run(["run", Fixture.runbook("typed_params"), "--state-dir", dir.path + "/state",
                                   "--param", "name=x", "--param", "count=7", "--param", "level=high",
                                   "--param", "ratio=2", "--param", "enabled=false", "--param", "pause=1m30s",
                                   "--param", "endpoint=https://example.com/x"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("x 7 high"))
    }

    @Test func unknownRunbookID() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/clean.yaml", cleanRunbook)
        let r = try await CLI.run(["run", "nope", "--state-dir", dir.path + "/state"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("no runbook with id 'nope' in runbooks.d"), "\(r.stderr)")
        let missing = try await CLI.run(["run", "missing/file.yaml"], in: dir.path)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("missing/file.yaml: no such file"))
    }

    @Test func aRunbookWithLintErrorsNeverRuns() async throws {
        try await RunWorld.with { w in
            w.server.route("/change", .text("ok"))
            // A valid step that would send a request, and one lint error further down.
            try w.dir.write("bad.yaml", """
            version: 1
            id: bad
            title: Bad
            severity: sev4
            automation: automatic
            params:
              base_url: {type: url}
            steps:
              - id: change
                action: http.request
                with: {method: POST, url: "${{ params.base_url }}/change"}
                rollback: none
              - id: oops
                action: http.check
                with: {url: "${{ params.base_url }}/x", expect_staus: 200}

            """)
            for extra in [[], ["--dry-run"]] {
                let r = try await w.cli(["run", "bad.yaml"] + w.state + w.base + extra)
                #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
                // The findings go to standard error: nothing on stdout looks like a run's output.
                #expect(r.stdout.isEmpty, "\(r.stdout)")
                #expect(r.stderr.contains("bad.yaml:15:"), "\(r.stderr)")
                #expect(r.stderr.contains("expect_staus"))
                #expect(r.stderr.contains("did you mean 'expect_status'"))
            }
            #expect(w.server.requestCount == 0)
            #expect(w.runIDs.isEmpty)
        }
    }

    @Test func resumeOfAnUnknownRun() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let r = try await CLI.run(["resume", "nope-20260101-000000-abcd", "--state-dir", dir.path + "/state"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("error: no run 'nope-20260101-000000-abcd' in \(dir.path)/state"), "\(r.stderr)")
        let history = try await CLI.run(["history", "nope", "--state-dir", dir.path + "/state"], in: dir.path)
        #expect(history.status == 2)
        #expect(history.stderr.contains("no run 'nope'"))
    }

    @Test func resumeOfAFinishedRun() async throws {
        try await RunWorld.with { w in
            for path in ["/health", "/enable", "/verify"] { w.server.route(path, .text("ok")) }
            #expect(try await w.run("http_flow").status == 0)
            let run = try w.onlyRunID()
            let r = try await w.resume(run)
            #expect(r.status == 2)
            #expect(r.stderr.contains("error: run '\(run)' already finished (succeeded); nothing to resume"), "\(r.stderr)")
            #expect(w.count("/enable") == 1, "nothing ran again")
        }
    }

    @Test func scenarioWithoutDryRunIsAUsageError() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("s.yaml", "steps: {}\n")
        let r = try await CLI.run(["run", Fixture.runbook("typed_params"), "--param", "name=x", "--scenario", "s.yaml"],
                                  in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("--scenario"))
    }

    @Test("run --dry-run --scenario uses the scenario's params, as runbook test does; --param wins")
    func scenarioParamsApplyToTheDryRun() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("s.yaml", "params: {name: from-scenario, level: high}\nsteps: {}\n")
        let r = try await CLI.run(["run", Fixture.runbook("typed_params"), "--dry-run", "--scenario", "s.yaml"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("from-scenario 3 high"), "\(r.stdout)")
        let given = try await CLI.run(["run", Fixture.runbook("typed_params"), "--dry-run", "--scenario", "s.yaml",
                                       "--param", "level=low"], in: dir.path)
        #expect(given.stdout.contains("from-scenario 3 low"), "\(given.stdout)")
    }
}
