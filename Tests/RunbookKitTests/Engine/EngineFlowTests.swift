import Foundation
import RunbookKit
import Testing

/// Step order, `when`, outputs flowing into later steps, `on_failure`.
@Suite("Engine: executor flow")
struct EngineFlowTests {
    @Test("all steps succeed: executed in order, status succeeded, exit 0")
    func successPath() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: one
            action: test.count
            with: {key: a}
            rollback: none
          - id: two
            action: test.count
            with: {key: b}
            rollback: none
          - id: three
            action: test.echo
            with: {text: done}
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(outcome.status.exitCode == 0)
        #expect(outcome.executed == ["one", "two", "three"])
        #expect(outcome.skipped.isEmpty && outcome.failed.isEmpty && outcome.rolledBack.isEmpty)
        #expect(await h.probe.count("a") == 1)
        #expect(await h.probe.count("b") == 1)
        #expect(reporter.types.first == "run_started")
        #expect(reporter.types.last == "run_finished")
        #expect(reporter.finished("three")?.outputs["text"] == .string("done"))
    }

    @Test("a step name with ${{ }} is shown evaluated when the step starts; as written when it cannot be")
    func nameIsEvaluated() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        params:
          deployment: {type: string, default: api}
        steps:
          - id: first
            name: Echo for ${{ params.deployment }}
            action: test.echo
            with: {text: "8"}
          - id: second
            name: Scale ${{ params.deployment }} to ${{ steps.first.outputs.text }}
            action: test.echo
            with: {text: done}
          - id: third
            name: "Reads ${{ from_json(steps.first.outputs.text + '[') }}"
            action: test.echo
            with: {text: x}
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(params: ["deployment": .string("api")]), reporter: reporter)
        #expect(outcome.status == .succeeded)
        let titles = reporter.events.compactMap { event -> String? in
            if case .stepStarted(_, let title, _, _) = event { return title }
            return nil
        }
        // The third cannot be evaluated (from_json of bad JSON): shown as written, and it still runs.
        #expect(titles == ["Echo for api", "Scale api to 8", "Reads ${{ from_json(steps.first.outputs.text + '[') }}"])
        #expect(reporter.output.contains("Scale api to 8"))
    }

    @Test("when false → skipped with the condition as reason; the action is not called")
    func whenFalseSkips() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        params:
          enabled: {type: bool, default: false}
        steps:
          - id: maybe
            action: test.count
            with: {key: maybe}
            when: "${{ params.enabled }}"
            rollback: none
          - id: after
            action: test.echo
            with: {text: "${{ steps.maybe.status }}"}
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(params: ["enabled": .bool(false)]), reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(outcome.skipped == ["maybe"])
        #expect(outcome.executed == ["after"])
        #expect(await h.probe.count("maybe") == 0)
        let skipped = try #require(reporter.finished("maybe"))
        #expect(skipped.status == .skipped)
        #expect(skipped.reason == "when ${{ params.enabled }} is false")
        #expect(reporter.finished("after")?.outputs["text"] == .string("skipped"))
        #expect(reporter.output.contains("skipped: when ${{ params.enabled }} is false"))
    }

    @Test("when: no / Off / yes (YAML 1.1 booleans, strings in YAML 1.2): lint warns, a run takes them as YAML 1.1 does")
    func yaml11BoolConditionsKeepTheirYAML11Meaning() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        for (text, runs) in [("no", false), ("Off", false), ("n", false), ("yes", true), ("ON", true)] {
            let yaml = """
            steps:
              - id: wipe
                action: test.count
                with: {key: wipe-\(text)}
                when: \(text)
                rollback: none
              - id: after
                action: test.echo
                with: {text: x}
            """
            let linted = Linter(catalog: EngineHarness.catalog).lint(bytes: Array(EngineHarness.wrap(yaml).utf8), file: "enginetest.yaml")
            #expect(linted.diagnostics.map(\.ruleID) == ["yaml11-bool"], "\(linted.diagnostics)")
            #expect(linted.diagnostics.first?.message.contains("takes it as \(runs)") == true)
            let rb = try EngineHarness.runbook(yaml)
            for dryRun in [false, true] {
                let outcome = try await h.run(rb, options: engineOptions(dryRun: dryRun), reporter: RecordingReporter())
                #expect(outcome.status == .succeeded, "when: \(text), dry run \(dryRun)")
                #expect(outcome.skipped == (runs ? [] : ["wipe"]), "when: \(text)")
            }
            #expect(await h.probe.count("wipe-\(text)") == (runs ? 1 : 0), "when: \(text)")
        }
        // Quoted, it is a string: as a bare expression, `no` is an unknown context (an error).
        let quoted = Linter(catalog: EngineHarness.catalog).lint(bytes: Array(EngineHarness.wrap("""
            steps:
              - id: a
                action: test.echo
                with: {text: x}
                when: "no"
            """).utf8), file: "enginetest.yaml")
        #expect(quoted.hasErrors, "\(quoted.diagnostics)")
    }

    @Test("outputs flow into later steps; a lone ${{ }} keeps int, bool and list; interpolation gives text")
    func outputsFlowTyped() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: first
            action: test.echo
            with:
              value: [1, 2, 3]
              flag: true
          - id: counted
            action: test.count
            with: {key: c, value: 41}
            rollback: none
          - id: second
            action: test.echo
            with:
              value: "${{ steps.counted.outputs.value + 1 }}"
              flag: "${{ steps.first.outputs.flag }}"
              text: "n=${{ steps.counted.outputs.count }} list=${{ steps.first.outputs.value }}"
          - id: third
            action: test.echo
            with:
              value: "${{ steps.first.outputs.value }}"
              text: "${{ steps.second.status }}"
          - id: typed
            action: test.count
            with: {key: t, n: "${{ steps.counted.outputs.count }}"}
            when: "${{ steps.second.outputs.value == 42 && steps.second.outputs.flag }}"
            rollback: none
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["first", "counted", "second", "third", "typed"])
        let second = try #require(reporter.finished("second"))
        #expect(second.outputs["value"] == .int(42))
        #expect(second.outputs["flag"] == .bool(true))
        #expect(second.outputs["text"] == .string("n=1 list=[1,2,3]"))
        let third = try #require(reporter.finished("third"))
        #expect(third.outputs["value"] == .list([.int(1), .int(2), .int(3)]))
        #expect(third.outputs["text"] == .string("succeeded"))
    }

    @Test("on_failure rollback (default): stops, runs the rollback list, status failed, exit 1")
    func failureRollsBack() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: change
            action: test.count
            with: {key: change}
          - id: broken
            action: test.fail
            with: {message: "disk on fire"}
          - id: never
            action: test.count
            with: {key: never}
            rollback: none
        rollback:
          - id: undo_change
            action: test.count
            with: {key: undo}
            undoes: [change]
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.status.exitCode == 1)
        #expect(outcome.executed == ["change"])
        #expect(outcome.failed == ["broken"])
        #expect(outcome.rolledBack == ["undo_change"])
        #expect(await h.probe.count("never") == 0)
        #expect(await h.probe.count("undo") == 1)
        #expect(reporter.finished("broken")?.error == "disk on fire")
        #expect(reporter.events.contains {
            if case .rollbackStarted(let reason) = $0 { return reason == "step 'broken' failed: disk on fire" }
            return false
        })
    }

    @Test("on_failure abort: stops without rollback, status aborted, exit 1")
    func failureAborts() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: change
            action: test.count
            with: {key: change}
          - id: broken
            action: test.fail
            on_failure: abort
          - id: never
            action: test.echo
        rollback:
          - id: undo_change
            action: test.count
            with: {key: undo}
            undoes: [change]
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .aborted)
        #expect(outcome.status.exitCode == 1)
        #expect(outcome.executed == ["change"])
        #expect(outcome.failed == ["broken"])
        #expect(outcome.rolledBack.isEmpty)
        #expect(await h.probe.count("undo") == 0)
        #expect(!reporter.types.contains("rollback_started"))
    }

    @Test("on_failure continue: goes on, and a later when sees status 'failed'")
    func failureContinues() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: flaky
            action: test.fail
            on_failure: continue
          - id: on_failed
            action: test.echo
            with: {text: "${{ steps.flaky.error }}"}
            when: "${{ steps.flaky.status == 'failed' }}"
          - id: on_succeeded
            action: test.echo
            when: "${{ steps.flaky.status == 'succeeded' }}"
        rollback:
          - id: undo
            action: test.echo
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(outcome.failed == ["flaky"])
        #expect(outcome.executed == ["on_failed"])
        #expect(outcome.skipped == ["on_succeeded"])
        #expect(outcome.rolledBack.isEmpty)
        #expect(reporter.finished("on_failed")?.outputs["text"] == .string("boom"))
    }

    @Test("a runtime expression error fails the step with a message naming the problem")
    func expressionRuntimeError() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: probe
            action: test.read
          - id: compare
            action: test.echo
            when: "${{ steps.probe.outputs.value > 2 }}"
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["compare"])
        let error = try #require(reporter.finished("compare")?.error)
        #expect(error.hasPrefix("when: "))
        #expect(error.contains("'steps.probe.outputs.value' is null"), "\(error)")
    }

    @Test("a runtime expression error in with: names the parameter")
    func expressionErrorInArgument() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: probe
            action: test.read
          - id: use
            action: test.echo
            with: {value: "${{ steps.probe.outputs.value * 2 }}"}
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.failed == ["use"])
        let error = try #require(reporter.finished("use")?.error)
        #expect(error.hasPrefix("parameter 'value': "), "\(error)")
        #expect(error.contains("is null"), "\(error)")
    }

    @Test("a bare condition may hold '${{' and '}}' in a string: only a condition that starts with '${{' is one")
    func bareConditionWithOpenerInString() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        params:
          msg: {type: string}
        steps:
          - id: has_opener
            action: test.echo
            when: contains(params.msg, '${{')
          - id: has_closer
            action: test.echo
            when: contains(params.msg, '}}')
          - id: template
            action: test.echo
            when: " ${{ contains(params.msg, '${{') }} "
        """)
        let outcome = try await h.run(rb, options: engineOptions(params: ["msg": .string("left ${{ as text")]))
        #expect(outcome.executed == ["has_opener", "template"])
        #expect(outcome.skipped == ["has_closer"])
    }

    @Test("an argument of the wrong type after evaluation fails the step naming the parameter")
    func argumentConversionError() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: first
            action: test.echo
            with: {text: "eight"}
          - id: use
            action: test.count
            with: {n: "${{ steps.first.outputs.text }}"}
            rollback: none
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.failed == ["use"])
        #expect(reporter.finished("use")?.error == "parameter 'n' of 'test.count' must be int, got string 'eight'")
        #expect(await h.probe.count("default") == 0)
    }
}
