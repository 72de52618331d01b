// Output formats (JSON lines, no escape codes unless a terminal wants them), `runbook drill`
// and `runbook test` through the built binary.
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("output formats")
struct OutputCLITests {
    static func routes(_ server: TestHTTPServer) {
        for path in ["/health", "/enable", "/verify"] { server.route(path, .text("ok")) }
    }

    /// Every line of `text` parsed as a JSON object.
    static func jsonLines(_ text: String) throws -> [[String: Value]] {
        try text.split(separator: "\n").map { line in
            guard case .map(let m)? = Value.parseJSON(String(line)) else {
                Issue.record("not a JSON object: \(line)")
                throw CancellationError()
            }
            return m
        }
    }

    @Test func jsonIsOneObjectPerLineEndingWithTheSummary() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            let r = try await w.run("http_flow", ["--format", "json"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let lines = try Self.jsonLines(r.stdout)
            #expect(lines.first?["type"] == .string("run_started"))
            #expect(lines.dropLast().last?["type"] == .string("run_finished"))
            let summary = try #require(lines.last)
            #expect(summary["type"] == .string("summary"))
            #expect(summary["status"] == .string("succeeded"))
            #expect(summary["exit_code"] == .int(0))
            #expect(summary["executed"] == .list(["check_health", "enable_thing", "verify"].map(Value.string)))
            #expect(summary["run_id"] == .string(try w.onlyRunID()))
            #expect(lines.allSatisfy { $0["seq"] == nil && $0["time"] == nil })
            // The events are the journal's, in order.
            let journalTypes = try w.journal(try w.onlyRunID()).compactMap { $0["type"]?.stringValue }
            #expect(lines.dropLast().compactMap { $0["type"]?.stringValue } == journalTypes)
        }
    }

    @Test func jsonForPausedFailedAndDryRuns() async throws {
        try await RunWorld.with { w in
            ConfirmationCLITests.routes(w.server)
            let paused = try await w.run("confirm_flow", ["--format", "json"])
            #expect(paused.status == 3)
            let summary = try #require(try Self.jsonLines(paused.stdout).last)
            #expect(summary["status"] == .string("paused"))
            #expect(summary["paused_at"] == .string("restart"))
            #expect(summary["exit_code"] == .int(3))
            let declined = try await w.resume(try w.onlyRunID(), ["--decline", "restart", "--format", "json"])
            #expect(declined.status == 1)
            #expect(try Self.jsonLines(declined.stdout).last?["rolled_back"] == .list([.string("rollback_marker")]))
            let dry = try await w.run("confirm_flow", ["--format", "json", "--dry-run"])
            #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
            let planned = try Self.jsonLines(dry.stdout).records("step_planned")
            #expect(planned.count == 3)
            #expect(planned.first { $0["step"] == .string("restart") }?["note"]
                    == .string("would change the system (not run in dry-run)"))
        }
    }

    @Test func noEscapeCodesWithoutATerminalOrWithNoColor() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            for env in [["NO_COLOR": "1"], [:]] {
                // NO_COLOR unset: stdout is a file, not a terminal.
                let child = try await LaunchedCLI.start(["run", Fixture.runbook("http_flow")] + w.state + w.base,
                                                        in: w.dir.path, env: w.env.merging(env) { $1 },
                                                        unset: env.isEmpty ? ["NO_COLOR"] : [])
                let r = await child.wait()
                #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
                #expect(r.stdout.contains("succeeded"))
                #expect(!r.stdout.contains("\u{1B}") && !r.stderr.contains("\u{1B}"), "\(env): \(r.stdout.debugDescription)")
            }
        }
    }

    static let script = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: script != nil, "script(1) is not installed"))
    func aTerminalGetsColorUnlessNoColor() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            let command = ([CLI.executable, "run", Fixture.runbook("http_flow")] + w.state + w.base)
                .map { "'\($0)'" }.joined(separator: " ")
            var seen: [Bool] = []
            for noColor in [false, true] {
                // script(1) runs the command with a pseudo-terminal as its standard output.
                let child = try await LaunchedCLI.start(["-qec", command, "/dev/null"], in: w.dir.path,
                                                        env: noColor ? w.env.merging(["NO_COLOR": "1"]) { $1 } : w.env,
                                                        executable: try #require(Self.script),
                                                        unset: noColor ? [] : ["NO_COLOR"])
                let r = await child.wait()
                #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
                #expect(r.stdout.contains("succeeded"), "\(r.stdout)")
                seen.append(r.stdout.contains("\u{1B}["))
            }
            #expect(seen == [true, false], "colored on a terminal, plain with NO_COLOR")
        }
    }
}

@Suite("runbook drill and runbook test")
struct DrillTestCLITests {
    @Test func drillOfTheRepositoryRunbooksPasses() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let r = try await CLI.run(["drill", Repo.path("runbooks.d")], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("5 passed, 0 failed"), "\(r.stdout)")
        for id in ["api_high_latency_scaleup", "cache_service_failure", "database_connection_failure",
                   "qwen_failure_downshift", "rl_reward_runaway_rollback"] {
            #expect(r.stdout.contains(id))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/.runbook"), "a drill writes nothing")
        let json = try await CLI.run(["drill", Repo.path("runbooks.d"), "--format", "json"], in: dir.path)
        #expect(json.status == 0)
        let rows = try #require(Value.parseJSON(json.stdout)?.listValue)
        #expect(rows.count == 5)
        #expect(rows.allSatisfy { $0.mapValue["result"] == .string("ok") })
    }

    @Test("the scenario tests of runbooks.d pass, at least two per Artisan runbook, from any directory")
    func repositoryScenariosPass() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let r = try await CLI.run(["test", Repo.path("runbooks.d")], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.contains("FAIL"), "\(r.stdout)")
        for id in ["api_high_latency_scaleup", "cache_service_failure", "database_connection_failure",
                   "qwen_failure_downshift", "rl_reward_runaway_rollback"] {
            #expect(r.stdout.components(separatedBy: "PASS \(Repo.path("runbooks.d"))/tests/\(id)_").count >= 3, "\(id): \(r.stdout)")
        }
    }

    @Test func drillFailsOnABrokenRunbook() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("rb/clean.yaml", cleanRunbook)
        try dir.write("rb/broken.yaml", brokenRunbook)
        let r = try await CLI.run(["drill", "rb"], in: dir.path)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("1 passed, 1 failed"))
        #expect(r.stdout.contains("lint error"))
        let missing = try await CLI.run(["drill", "nope"], in: dir.path)
        #expect(missing.status == 2)
    }

    @Test("a drill row that passed says which step failed under on_failure: continue")
    func drillNamesAContinuedFailure() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("rb/goes_on.yaml", """
            version: 1
            id: goes_on
            title: Goes on
            severity: sev4
            automation: automatic
            params:
              s: {type: string, default: "{"}
            steps:
              - id: off
                action: log
                with: {message: "${{ from_json(params.s) }}"}
                on_failure: continue
              - id: after
                action: log
                with: {message: after}
            """)
        let r = try await CLI.run(["drill", "rb"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("1 step(s) failed and the run went on (on_failure: continue): step 'off' failed: parameter 'message': 'params.s' is not valid JSON"),
                "\(r.stdout)")
    }

    @Test("a drill row says how many steps 'when' skipped on simulated outputs, and points to scenario tests")
    func drillCountsStepsSkippedOnSimulatedOutputs() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("rb/probed.yaml", """
            version: 1
            id: probed
            title: Probe, then fix what the probe found
            severity: sev4
            automation: automatic
            params:
              force: {type: bool, default: false}
            steps:
              - id: probe
                action: http.check
                with: {url: "http://127.0.0.1:9/health"}
                on_failure: continue
              - id: fix_one
                action: log
                with: {message: fixing}
                when: "${{ steps.probe.status == 'failed' }}"
              - id: fix_two
                action: log
                with: {message: still fixing}
                when: "${{ steps.probe.status == 'failed' }}"
              - id: forced
                action: log
                with: {message: forced}
                when: "${{ params.force }}"
              - id: done
                action: log
                with: {message: done}
            """)
        try dir.write("rb/plain.yaml", cleanRunbook)
        let r = try await CLI.run(["drill", "rb"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let row = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("probed ") })
        #expect(row.contains("ok"), "still ok: nothing failed")
        #expect(row.contains("2 ran, 3 skipped"), "\(row)")
        #expect(row.hasSuffix("2 steps skipped by 'when' on simulated outputs, 1 step skipped by 'when' on params: "
                              + "cover them with scenario tests (runbook test)"), "\(row)")
        let plain = try #require(r.stdout.split(separator: "\n").first { !$0.hasPrefix("probed ") && $0.contains(" ok ") })
        #expect(!plain.contains("skipped by"), "nothing skipped, nothing said: \(plain)")

        let json = try await CLI.run(["drill", "rb", "--format", "json"], in: dir.path)
        #expect(json.status == 0)
        let rows = try #require(Value.parseJSON(json.stdout)?.listValue).map(\.mapValue)
        let probed = try #require(rows.first { $0["runbook"] == .string("probed") })
        #expect(probed["skipped_on_simulated_outputs"] == .int(2))
        #expect(probed["detail"]?.stringValue?.contains("2 steps skipped by 'when' on simulated outputs") == true, "\(probed)")
        #expect(rows.first { $0["runbook"] != .string("probed") }?["skipped_on_simulated_outputs"] == .int(0))
    }

    @Test func scenarioTestsReportPassedAndFailed() async throws {
        let r = try await CLI.run(["test", Fixture.scenarios("mixed")])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("1 passed, 1 failed"), "\(r.stdout)")
        #expect(r.stdout.contains("PASS \(Fixture.scenarios("mixed"))/passes.test.yaml"))
        #expect(r.stdout.contains("FAIL \(Fixture.scenarios("mixed"))/fails.test.yaml"))
        #expect(r.stdout.contains("expected status succeeded, got failed (step 'check_health' failed)"), "\(r.stdout)")
        #expect(!r.stdout.contains("not-a-test"))

        let one = try await CLI.run(["test", Fixture.scenarios("mixed") + "/passes.test.yaml"])
        #expect(one.status == 0, "\(one.stdout)")
        #expect(one.stdout.contains("1 passed, 0 failed"))

        // Named twice (as a file and inside its directory): run once.
        let twice = try await CLI.run(["test", Fixture.scenarios("mixed") + "/passes.test.yaml", Fixture.scenarios("mixed")])
        #expect(twice.stdout.contains("1 passed, 1 failed"), "\(twice.stdout)")
    }

    /// A gated change, a check after it, and the change's undo.
    static let gatedRunbook = """
        version: 1
        id: gated
        title: A gated change
        severity: sev4
        automation: semi_automatic
        steps:
          - id: change
            action: feature_flag.set
            with: {name: f, value: true}
            confirm: "Flip f?"
          - id: after
            action: http.check
            with: {url: "http://127.0.0.1:9/health"}
        rollback:
          - id: unflip
            action: feature_flag.restore
            with: {name: f}
            undoes: [change]
        """

    @Test("a failed scenario names the step that stopped the run, not an earlier one that failed under on_failure: continue")
    func scenarioNamesTheStepThatStoppedTheRun() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("book/probed.yaml", """
            version: 1
            id: probed
            title: Probed
            severity: sev3
            automation: semi_automatic
            steps:
              - id: probe
                action: http.check
                with: {url: "http://127.0.0.1:9/health", expect_status: 200}
                on_failure: continue
              - id: restart
                action: log
                with: {message: restarting}
                confirm: Restart the API?
            """)
        try dir.write("book/tests/no_expect.test.yaml", """
            runbook: probed
            steps:
              probe: {outputs: {status: 500}}
              restart: {confirm: decline}
            """)
        try dir.write("book/tests/expects_success.test.yaml", """
            runbook: probed
            steps:
              probe: {outputs: {status: 500}}
              restart: {confirm: decline}
            expect: {status: succeeded}
            """)
        let r = try await CLI.run(["test", "book/tests"], in: dir.path)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("run failed (step 'restart' failed: confirmation declined"), "\(r.stdout)")
        #expect(r.stdout.contains("expected status succeeded, got failed (step 'restart' failed)"), "\(r.stdout)")
        #expect(!r.stdout.contains("step 'probe' failed"), "\(r.stdout)")

        // Expected to fail, but nothing stopped the run: the continued failure is not named as a cause.
        try dir.write("book/tests/expects_failure.test.yaml", """
            runbook: probed
            steps:
              probe: {outputs: {status: 500}}
              restart: {confirm: approve}
            expect: {status: failed}
            """)
        let wrong = try await CLI.run(["test", "book/tests/expects_failure.test.yaml"], in: dir.path)
        #expect(wrong.stdout.contains("expected status failed, got succeeded (step 'probe' failed under on_failure: continue)"),
                "\(wrong.stdout)")
    }

    @Test("confirm: pause leaves a question unanswered, so the run pauses; a runbook id is found beside the scenario")
    func scenarioPausesAndFindsItsRunbook() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("book/gated.yaml", Self.gatedRunbook)
        try dir.write("book/tests/gated_paused.test.yaml", """
            runbook: gated
            steps:
              change: {confirm: pause}
            expect: {status: paused, executed: []}
            """)
        // Run from elsewhere: the id is found one directory up from the scenario.
        let r = try await CLI.run(["test", dir.path + "/book/tests", "--verbose"], in: "/")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("1 passed, 0 failed"), "\(r.stdout)")
        #expect(r.stdout.contains("paused"), "\(r.stdout)")
    }

    @Test("a scenario's outputs are judged as the action judges real ones: a 200 where 503 is expected fails the check")
    func simulatedOutputsAreJudged() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/probe.yaml", """
            version: 1
            id: probe
            title: Is the service down?
            severity: sev4
            automation: automatic
            steps:
              - id: down
                action: http.check
                with: {url: "http://127.0.0.1:9/health", expect_status: 503, max_latency: 2s}
              - id: pool
                action: postgres.check
                with: {dsn: "${{ secrets.dsn }}", max_usage: 0.9}
                on_failure: continue
              - id: after
                action: log
                with: {message: done}
            """)
        try dir.write("tests/up.test.yaml", """
            runbook: probe
            steps:
              down: {outputs: {status: 200}}
            expect: {status: failed, executed: []}
            """)
        try dir.write("tests/slow.test.yaml", """
            runbook: probe
            steps:
              down: {outputs: {status: 503, latency_ms: 2500}}
            expect: {status: failed, executed: []}
            """)
        try dir.write("tests/busy.test.yaml", """
            runbook: probe
            steps:
              down: {outputs: {status: 503, latency_ms: 20}}
              pool: {outputs: {usage: 0.97}}
            expect: {status: succeeded, executed: [down, after]}
            """)
        // Usage from the connection counts when `usage` itself is not given.
        try dir.write("tests/busy_counts.test.yaml", """
            runbook: probe
            steps:
              down: {outputs: {status: 503}}
              pool: {outputs: {connections: 95, max_connections: 100}}
            expect: {status: succeeded, executed: [down, after]}
            """)
        let r = try await CLI.run(["test", "tests", "--verbose"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("4 passed, 0 failed"), "\(r.stdout)")
        #expect(r.stdout.contains("connection usage 95%, above max_usage 90% (scenario outputs)"), "\(r.stdout)")
        #expect(r.stdout.contains("expected status 503, got 200 (scenario outputs)"), "\(r.stdout)")
        #expect(r.stdout.contains("took 2500 ms, over max_latency 2s (scenario outputs)"), "\(r.stdout)")
        #expect(r.stdout.contains("connection usage 97%, above max_usage 90% (scenario outputs)"), "\(r.stdout)")
    }

    @Test("a paused dry run that followed a scenario follows it on resume")
    func resumedDryRunKeepsItsScenario() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("gated.yaml", Self.gatedRunbook)
        try dir.write("gated_fails.test.yaml", """
            runbook: gated.yaml
            steps:
              change: {confirm: pause}
              after: {outputs: {status: 500}}
            """)
        let state = ["--state-dir", dir.path + "/st"]
        let first = try await CLI.run(["run", "gated.yaml", "--dry-run", "--scenario", "gated_fails.test.yaml"] + state, in: dir.path)
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        let runID = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/st/runs").first)
        let resumed = try await CLI.run(["resume", runID, "--approve", "change"] + state, in: dir.path)
        #expect(resumed.status == 1, "the scenario's failing check, then the rollback: \(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("expected status 200–299, got 500 (scenario outputs)"), "\(resumed.stdout)")
        #expect(resumed.stdout.contains("rolled back: unflip"), "\(resumed.stdout)")
    }

    @Test("runbook test with nothing to run is exit 2, not a green gate")
    func noScenariosIsAnError() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let none = try await CLI.run(["test"], in: dir.path)
        #expect(none.status == 2, "\(none.stdout)\(none.stderr)")
        #expect(none.stderr.contains("no scenario files: neither runbooks.d nor tests exists"), "\(none.stderr)")
        try dir.write("tests/a_test.yaml", "runbook: x\n")
        let misnamed = try await CLI.run(["test"], in: dir.path)
        #expect(misnamed.status == 2, "\(misnamed.stdout)\(misnamed.stderr)")
        #expect(misnamed.stderr.contains("tests: no scenario files (*.test.yaml, *.test.yml) found"), "\(misnamed.stderr)")
        #expect(misnamed.stdout.isEmpty)
        // A runbook given where a scenario goes: said so, not six unknown keys.
        try dir.write("book.yaml", cleanRunbook)
        let book = try await CLI.run(["test", "book.yaml"], in: dir.path)
        #expect(book.status == 1)
        #expect(book.stdout.contains("book.yaml looks like a runbook, not a scenario"), "\(book.stdout)")
    }

    @Test("a scenario that cannot apply (an undeclared output, an answer for a step that asks nothing) fails with the reason; run --scenario refuses it")
    func scenarioMismatchesAreReported() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("bad.test.yaml", """
            runbook: \(Fixture.runbook("http_flow"))
            params: {base_url: "http://127.0.0.1:9"}
            steps:
              verify: {outputs: {stauts: 200}}
              check_health: {confirm: approve}
            expect: {status: succeeded}
            """)
        let r = try await CLI.run(["test", "bad.test.yaml"], in: dir.path)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("step 'verify' ('http.check') has no output 'stauts'; did you mean 'status'?"), "\(r.stdout)")
        #expect(r.stdout.contains("scenario answers step 'check_health', which asks no confirmation"), "\(r.stdout)")
        let run = try await CLI.run(["run", Fixture.runbook("http_flow"), "--dry-run", "--scenario", "bad.test.yaml",
                                     "--state-dir", dir.path + "/st"], in: dir.path)
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("has no output 'stauts'"), "\(run.stderr)")
    }
}
