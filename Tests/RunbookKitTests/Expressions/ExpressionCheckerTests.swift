import Testing
@testable import RunbookKit

@Suite("Expression checker")
struct ExpressionCheckerTests {
    /// A runbook with steps `verify` (ran), `scale` (current), `later` (not yet), `custom` (unknown action)
    /// and rollback steps `undo_scale`, `undo_more`.
    static let scope = ExpressionScope(
        params: ["api_url", "replicas", "checkpoint_dir"],
        steps: [
            "verify": .init(outputs: ["status", "json", "body", "latency_ms"], hasRun: true),
            "scale": .init(outputs: ["previous_replicas", "replicas"], hasRun: false),
            "later": .init(outputs: ["value", "series"], hasRun: false),
            "quiet": .init(outputs: [], hasRun: true),
            "custom": .init(outputs: nil, hasRun: true),
            "undo_scale": .init(outputs: [], hasRun: false, isRollbackStep: true),
            "undo_more": .init(outputs: [], hasRun: false, isRollbackStep: true),
        ],
        currentStep: "scale")

    private func issues(_ source: String, in scope: ExpressionScope = scope) throws -> [String] {
        let (template, parseIssues) = Template.parse(source)
        #expect(parseIssues.isEmpty, "\(parseIssues)")
        return try #require(template).check(in: scope).map(\.description)
    }

    @Test("valid references pass", arguments: [
        "${{ params.api_url }}/x",
        "${{ params['replicas'] * 2 }}",
        "${{ steps.verify.status == 'succeeded' && steps.verify.error == null }}",
        "${{ steps.verify.outputs.json.reward_mean.deeper[0] > 100 }}",
        "${{ steps.verify.outputs['latency_ms'] }}",
        "${{ steps.custom.outputs.anything_at_all }}",
        "${{ steps.verify.outputs }}",
        "${{ steps[params.api_url].outputs.whatever }}",
        "${{ env.HOME }} ${{ secrets.ANYTHING }} ${{ run.id }} ${{ run.dry_run }} ${{ run.started_at }} ${{ run.runbook }}",
        "${{ trigger.labels.alertname }} ${{ trigger.annotations['summary-text'] }} ${{ trigger }}",
        "${{ contains('abc', 'b') }} ${{ round(1.5) }} ${{ round(1.25, 1) }} ${{ format('{0}{1}{2}', 1, 2, 3) }}",
        "${{ min(1) }} ${{ max(1, 2, 3, 4) }} ${{ join(steps.verify.outputs.json.tags) }} ${{ default(null, 1) }}",
        "${{ from_json(steps.verify.outputs.body).a.b[1] }}",
        "${{ 1 + 2 }}",
    ])
    func valid(source: String) throws {
        #expect(try issues(source) == [])
    }

    @Test("each rule at the offending name", arguments: [
        ("${{ parms.api_url }}", "4: unknown context 'parms' (did you mean 'params'?) [unknown-context]"),
        ("${{ succeeded }}", "4: unknown context 'succeeded' (a string is written in single quotes: 'succeeded') [unknown-context]"),
        ("${{ inputs.x }}", "4: unknown context 'inputs'; expected 'params', 'steps', 'env', 'secrets', 'run', 'trigger' [unknown-context]"),
        ("${{ params.api_ur }}", "11: unknown param 'api_ur' (did you mean 'api_url'?) [unknown-param]"),
        ("${{ params['nope'] }}", "11: unknown param 'nope' [unknown-param]"),
        ("${{ steps.verfy.status }}", "10: unknown step 'verfy' (did you mean 'verify'?) [unknown-step]"),
        ("${{ steps.later.outputs.value }}", "10: step 'later' has not run yet at this point [step-not-run-yet]"),
        ("${{ steps.undo_scale.status }}", "10: 'undo_scale' is a rollback step: it runs only after a failure, so a main step cannot read it [step-not-run-yet]"),
        ("${{ steps.scale.outputs.replicas }}", "10: step 'scale' cannot read itself here (only its 'until' can read its own outputs) [step-not-run-yet]"),
        ("${{ steps.scale.status }}", "16: step 'scale' cannot read its own 'status' [step-not-run-yet]"),
        ("${{ steps.verify.outputs.stats }}", "25: step 'verify' has no output 'stats' (did you mean 'status'?) [unknown-output]"),
        ("${{ steps.verify.outputs.xyz }}", "25: step 'verify' has no output 'xyz'; its action declares 'body', 'json', 'latency_ms', 'status' [unknown-output]"),
        ("${{ steps.quiet.outputs.x }}", "24: step 'quiet' has no output 'x'; its action has no outputs [unknown-output]"),
        ("${{ steps.verify.output.json }}", "17: step 'verify' has no field 'output' (did you mean 'outputs'?); it has 'status', 'outputs' and 'error' [unknown-field]"),
        ("${{ run.started }}", "8: 'run' has no field 'started'; it has 'id', 'runbook', 'dry_run', 'started_at' [unknown-field]"),
        ("${{ run.dryrun }}", "8: 'run' has no field 'dryrun' (did you mean 'dry_run'?); it has 'id', 'runbook', 'dry_run', 'started_at' [unknown-field]"),
        ("${{ trigger.label.x }}", "12: 'trigger' has no field 'label' (did you mean 'labels'?); it has 'labels', 'annotations' [unknown-field]"),
        ("${{ lenn(params.api_url) }}", "4: unknown function 'lenn' (did you mean 'len'?) [unknown-function]"),
        ("${{ frobnicate(1) }}", "4: unknown function 'frobnicate' [unknown-function]"),
        ("${{ len(1, 2) }}", "4: 'len' takes 1 argument, got 2 [wrong-arity]"),
        ("${{ contains('a') }}", "4: 'contains' takes 2 arguments, got 1 [wrong-arity]"),
        ("${{ round() }}", "4: 'round' takes 1 or 2 arguments, got 0 [wrong-arity]"),
        ("${{ format() }}", "4: 'format' takes at least 1 argument, got 0 [wrong-arity]"),
    ])
    func rules(source: String, expected: String) throws {
        #expect(try issues(source) == [expected])
    }

    @Test("every problem is reported, inside calls and computed indexes too")
    func several() throws {
        #expect(try issues("${{ len(parms.x) + steps.nope.outputs[params.bad] }} ${{ nope(1) }}") == [
            "8: unknown context 'parms' (did you mean 'params'?) [unknown-context]",
            "25: unknown step 'nope' [unknown-step]",
            "45: unknown param 'bad' [unknown-param]",
            "57: unknown function 'nope' [unknown-function]",
        ])
    }

    @Test("'until' may read the step's own outputs, never its status")
    func until() throws {
        var scope = Self.scope
        scope.allowOwnOutputs = true
        #expect(try issues("${{ steps.scale.outputs.replicas == 4 }}", in: scope) == [])
        #expect(try issues("${{ steps.scale.error }}", in: scope) == [])
        #expect(try issues("${{ steps.scale.status }}", in: scope) == ["16: step 'scale' cannot read its own 'status' [step-not-run-yet]"])
        #expect(try issues("${{ steps.scale.outputs.nope }}", in: scope) ==
            ["24: step 'scale' has no output 'nope'; its action declares 'previous_replicas', 'replicas' [unknown-output]"])
    }

    @Test("in rollback every main step is readable, later rollback steps are not")
    func rollback() throws {
        var scope = Self.scope
        scope.inRollback = true
        scope.currentStep = "undo_scale"
        #expect(try issues("${{ steps.later.status == 'skipped' }} ${{ steps.scale.outputs.previous_replicas }}", in: scope) == [])
        #expect(try issues("${{ steps.undo_more.status }}", in: scope) == ["10: step 'undo_more' has not run yet at this point [step-not-run-yet]"])
    }

    @Test("a scope with no current step")
    func noCurrentStep() throws {
        var scope = Self.scope
        scope.currentStep = nil
        #expect(try issues("${{ steps.scale.status }}", in: scope) == ["10: step 'scale' has not run yet at this point [step-not-run-yet]"])
    }

    @Test("a trigger reads no step, known or not: triggers are evaluated before any step runs")
    func trigger() throws {
        let scope = ExpressionScope(params: ["api_url"], inTrigger: true)
        let why = "steps are not available in triggers (triggers are evaluated before any step runs)"
        #expect(try issues("${{ params.api_url }}/x?${{ steps.verify.outputs.status }}", in: scope)
                == ["34: \(why); 'steps.verify' cannot be read here [step-not-run-yet]"])
        #expect(try issues("${{ steps.nope.status }}", in: scope) == ["10: \(why); 'steps.nope' cannot be read here [step-not-run-yet]"])
        #expect(try issues("${{ len(steps) }}", in: scope) == ["8: \(why); 'steps' cannot be read here [step-not-run-yet]"])
        #expect(try issues("${{ env.HOME }} ${{ params.api_url }}", in: scope) == [])
    }

    @Test("bare expressions are checked with offsets in their own text")
    func bare() throws {
        let expression = try #require(RunbookKit.Expression.parse("steps.verify.outputs.x > 1").expression)
        #expect(expression.check(in: Self.scope).map(\.offset) == [21])
    }

    @Test func ruleIDsAreListed() {
        #expect(ExpressionIssue.Rule.all.count == Set(ExpressionIssue.Rule.all).count)
        #expect(ExpressionIssue.Rule.all.contains("step-not-run-yet"))
    }
}
