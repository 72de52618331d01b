import Foundation
import RunbookKit
import Testing

/// `--param` binding.
@Suite("Engine: param binding")
struct EngineParamBindingTests {
    static func runbook() throws -> Runbook {
        try EngineHarness.runbook("""
        params:
          replicas: {type: int, default: 8}
          ratio: {type: number, default: 1}
          enabled: {type: bool, default: true}
          api_url: {type: url, default: "http://localhost:8000"}
          grace: {type: duration, default: 30s}
          mode: {type: string, default: balanced, enum: [balanced, fast]}
          level: {type: int, default: 1, enum: [1, 2, 3]}
          service: {type: string}
        steps:
          - id: show
            action: test.echo
            with: {value: "${{ params.replicas }}"}
        """)
    }

    @Test("defaults are applied, typed; given values are converted")
    func defaultsApplied() throws {
        let values = try ParamBinding.bind(try Self.runbook(), ["service": "api", "replicas": " 3 "])
        #expect(values["replicas"] == .int(3))
        #expect(values["ratio"] == .double(1))
        #expect(values["enabled"] == .bool(true))
        #expect(values["api_url"] == .string("http://localhost:8000"))
        #expect(values["grace"] == .string("30s"))
        #expect(values["mode"] == .string("balanced"))
        #expect(values["level"] == .int(1))
        #expect(values["service"] == .string("api"))
    }

    @Test("an unknown param is refused with a did-you-mean hint")
    func unknownParam() throws {
        #expect {
            try ParamBinding.bind(try Self.runbook(), ["service": "api", "replica": "3"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("unknown param 'replica'") && text.contains("replicas")
        }
    }

    @Test("a bad value is a usage error naming the param", arguments: [
        ("replicas", "eight"), ("replicas", "1.5"), ("ratio", "fast"), ("ratio", "nan"),
        ("enabled", "yes"), ("enabled", "TRUE"), ("api_url", "localhost:8000"), ("api_url", "ftp://host/x"),
        ("grace", "5 minutes"), ("grace", "m5"),
    ])
    func badValue(name: String, value: String) throws {
        let rb = try Self.runbook()
        #expect {
            try ParamBinding.bind(rb, ["service": "api", name: value])
        } throws: { error in
            "\(error)".hasPrefix("param '\(name)' ") && "\(error)".contains(value)
        }
    }

    @Test("a missing required param names it and shows how to pass it")
    func missingRequired() throws {
        #expect {
            try ParamBinding.bind(try Self.runbook(), [:])
        } throws: { error in
            "\(error)" == "param 'service' is required: pass --param service=<string>"
        }
    }

    @Test("enum violations are refused, for strings and ints", arguments: [("mode", "slow"), ("level", "4")])
    func enumViolation(name: String, value: String) throws {
        #expect {
            try ParamBinding.bind(try Self.runbook(), ["service": "api", name: value])
        } throws: { error in
            "\(error)".hasPrefix("param '\(name)' must be one of ") && "\(error)".hasSuffix("got '\(value)'")
        }
    }

    @Test("enum values pass", arguments: [("mode", "fast"), ("level", "3")])
    func enumAccepted(name: String, value: String) throws {
        let values = try ParamBinding.bind(try Self.runbook(), ["service": "api", name: value])
        #expect(values[name]?.interpolationText == value)
    }

    @Test("name=value parsing: the first '=' splits; a missing name or '=' is refused")
    func assignments() throws {
        #expect(try ParamBinding.parseAssignments(["a=b=c", "empty="]) == ["a": "b=c", "empty": ""])
        #expect(throws: ParamBinding.Problem.self) { try ParamBinding.parseAssignments(["=x"]) }
        #expect(throws: ParamBinding.Problem.self) { try ParamBinding.parseAssignments(["novalue"]) }
    }

    @Test("a name given twice is refused, naming the param and not its values, even with the same value twice")
    func repeatedName() throws {
        for items in [["replicas=8", "replicas=80"], ["replicas=8", "other=1", "replicas=8"]] {
            do {
                _ = try ParamBinding.parseAssignments(items)
                Issue.record("\(items) was accepted")
            } catch {
                #expect(error.description == "--param 'replicas' is given more than once; give each param once")
            }
        }
        // The same name in another case is another param.
        #expect(try ParamBinding.parseAssignments(["a=1", "A=2"]) == ["a": "1", "A": "2"])
    }

    @Test("bound params are what the run sees")
    func boundParamsReachTheRun() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try Self.runbook()
        let reporter = RecordingReporter()
        let params = try ParamBinding.bind(rb, ["service": "api", "replicas": "5"])
        _ = try await h.run(rb, options: engineOptions(params: params), reporter: reporter)
        #expect(reporter.finished("show")?.outputs["value"] == .int(5))
    }
}

/// `--dry-run` with and without a scenario.
@Suite("Engine: dry-run")
struct EngineDryRunTests {
    @Test("a when that fails on a param fails the dry-run step as the real run; one that reads simulated outputs is assumed true")
    func whenFailingWithoutSimulationFails() async throws {
        let rb = try EngineHarness.runbook("""
        params:
          cfg: {type: string, default: "not json"}
        steps:
          - id: probe
            action: test.echo
            with: {text: x}
          - id: on_outputs
            action: test.echo
            with: {text: y}
            when: "${{ steps.probe.outputs.value > 5 }}"
            on_failure: continue
          - id: on_param
            action: test.echo
            with: {text: z}
            when: "${{ from_json(params.cfg) > 5 }}"
            on_failure: continue
        """)
        for dryRun in [true, false] {
            let h = try EngineHarness(); defer { h.cleanUp() }
            let reporter = RecordingReporter()
            _ = try await h.run(rb, options: engineOptions(dryRun: dryRun, params: ["cfg": .string("not json")]), reporter: reporter)
            #expect(reporter.finished("on_param")?.status == .failed, "dry run \(dryRun): \(reporter.output)")
            #expect(reporter.finished("on_param")?.error?.hasPrefix("when: ") == true)
            if dryRun {
                #expect(reporter.finished("on_outputs")?.status == .succeeded, "\(reporter.output)")
                #expect(reporter.output.contains("(simulated outputs; assuming true)"))
            }
        }
    }

    static let yaml = """
    steps:
      - id: probe
        action: test.read
        with: {value: real}
      - id: change
        action: test.count
        with: {key: change}
        when: "${{ steps.probe.outputs.status == 503 }}"
      - id: gate
        action: test.count
        with: {key: gate}
        confirm: "Go?"
        rollback: none
      - id: verify
        action: test.read
    rollback:
      - id: undo_change
        action: test.count
        with: {key: undo}
        undoes: [change]
        when: "${{ steps.change.status == 'succeeded' }}"
    """

    @Test("mutating actions are never called; read-only ones are simulated from the scenario")
    func scenarioDrivesPlan() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.yaml, automation: "semi_automatic")
        let scenario = Scenario(steps: [
            "probe": .init(outputs: ["status": .int(503), "value": .string("simulated")], failure: nil, confirm: nil),
        ])
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(dryRun: true, scenario: scenario), reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["probe", "change", "gate", "verify"])
        #expect(await h.probe.count("change") == 0)
        #expect(await h.probe.count("gate") == 0)
        #expect(await h.probe.count("read") == 0, "read-only actions are simulated, not called")
        #expect(reporter.finished("probe")?.outputs["value"] == .string("simulated"))
        // Without scenario outputs a read-only step returns its declared outputs as null.
        #expect(reporter.finished("verify")?.outputs == ["value": .null, "status": .null])
        #expect(reporter.output.contains("would change the system (not run in dry-run)"))
        #expect(reporter.output.contains("simulated from scenario"))
    }

    @Test("scenario fail: drives the rollback branch without running anything")
    func scenarioFailureRollsBack() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.yaml, automation: "semi_automatic")
        let scenario = Scenario(steps: [
            "probe": .init(outputs: ["status": .int(503)], failure: nil, confirm: nil),
            "verify": .init(outputs: [:], failure: "still unhealthy", confirm: nil),
        ])
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(dryRun: true, scenario: scenario), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["verify"])
        #expect(outcome.rolledBack == ["undo_change"])
        #expect(reporter.finished("verify")?.error == "still unhealthy")
        #expect(await h.probe.count("undo") == 0)
        #expect(await h.probe.count("change") == 0)
    }

    @Test("confirmations are answered from the scenario; a scenario decline fails and rolls back")
    func scenarioConfirmations() async throws {
        for approve in [true, false] {
            let h = try EngineHarness(); defer { h.cleanUp() }
            let rb = try EngineHarness.runbook(Self.yaml, automation: "semi_automatic")
            let scenario = Scenario(steps: [
                "probe": .init(outputs: ["status": .int(503)], failure: nil, confirm: nil),
                "gate": .init(outputs: [:], failure: nil, confirm: approve),
            ])
            // As the CLI builds it.
            let policy = ConfirmationPolicy(scenarioAnswers: scenario.steps.compactMapValues(\.confirm), operatorName: "drill")
            let reporter = RecordingReporter()
            let outcome = try await h.run(rb, options: engineOptions(confirmer: policy, dryRun: true, scenario: scenario),
                                          reporter: reporter)
            #expect(outcome.status == (approve ? .succeeded : .failed))
            if !approve {
                #expect(outcome.failed == ["gate"])
                #expect(outcome.rolledBack == ["undo_change"])
                #expect(reporter.finished("gate")?.error == "confirmation declined by scenario")
            }
            #expect(await h.probe.count("gate") == 0)
        }
    }

    @Test("a scenario file loaded with Scenario.load drives the same run")
    func scenarioFromFile() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let path = h.directory + "/probe.test.yaml"
        try """
        runbook: enginetest
        steps:
          probe:
            outputs: {status: 200}
          gate:
            confirm: approve
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let (loaded, diagnostics) = Scenario.load(path: path)
        let scenario = try #require(loaded, "\(diagnostics.map(\.message))")
        let rb = try EngineHarness.runbook(Self.yaml, automation: "semi_automatic")
        let policy = ConfirmationPolicy(scenarioAnswers: scenario.steps.compactMapValues(\.confirm), operatorName: "drill")
        let outcome = try await h.run(rb, options: engineOptions(confirmer: policy, dryRun: true, scenario: scenario))
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["probe", "gate", "verify"])
        #expect(outcome.skipped == ["change"])
    }

    @Test("a scenario's confirm takes unquoted true/false as approve/decline; a plain no is refused with a hint")
    func scenarioConfirmBooleans() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let path = h.directory + "/answers.test.yaml"
        try """
        runbook: enginetest
        steps:
          a: {confirm: true}
          b: {confirm: false}
          c: {confirm: 'true'}
          d: {confirm: declined}
          e: {confirm: pause}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let (loaded, diagnostics) = Scenario.load(path: path)
        let scenario = try #require(loaded, "\(diagnostics.map(\.message))")
        #expect(diagnostics.isEmpty)
        #expect(scenario.steps["a"]?.confirm == true && scenario.steps["b"]?.confirm == false)
        #expect(scenario.steps["c"]?.confirm == true && scenario.steps["d"]?.confirm == false)
        #expect(scenario.steps["e"]?.pauses == true)

        try "runbook: enginetest\nsteps:\n  a: {confirm: no}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (_, refused) = Scenario.load(path: path)
        #expect(refused.map(\.ruleID) == ["invalid-enum"])
        #expect(refused.first?.message == "'confirm' must be 'approve' (or true), 'decline' (or false) or 'pause' "
                + "('no' is a string in YAML 1.2: write true or false, or approve or decline)")
        #expect(refused.first?.location.line == 3)
    }

    @Test("dry-run without an answer assumes approval for the plan, and never writes anything")
    func dryRunNoAnswer() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.yaml, automation: "semi_automatic")
        let outcome = try await h.run(rb, options: engineOptions(dryRun: true))
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["probe", "gate", "verify"])
        #expect(outcome.skipped == ["change"])
        #expect(await h.probe.count("gate") == 0)
    }

    @Test("dry-run waits are instant and retries do not sleep")
    func dryRunInstant() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: nap
            action: test.sleep
            with: {duration: 1h}
          - id: poll
            action: test.read
            retry: {attempts: 3, delay: 1h}
            until: "${{ steps.poll.outputs.status == 200 }}"
        """)
        let scenario = Scenario(steps: ["poll": .init(outputs: ["status": .int(500)], failure: nil, confirm: nil)])
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(dryRun: true, scenario: scenario), reporter: reporter)
        #expect(await h.probe.count("sleep") == 0)
        #expect(outcome.failed == ["poll"])
        #expect(reporter.finished("poll")?.error?.hasSuffix("did not hold (steps.poll.outputs.status = 500) (after 3 attempts)") == true)
    }
}
