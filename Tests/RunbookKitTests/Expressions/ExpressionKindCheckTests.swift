import RunbookActions
import Testing
@testable import RunbookKit

@Suite("Expression kinds")
struct ExpressionKindCheckTests {
    static let paramTypes: [String: ParamType] = ["n": .int, "x": .number, "s": .string, "flag": .bool, "pause": .duration, "api": .url]
    static let steps: [String: ExpressionScope.StepInfo] = [
        "probe": .init(outputs: ["status", "json", "body", "latency_ms", "timed_out"], hasRun: true,
                       outputTypes: ["status": .int, "json": .any, "body": .string, "latency_ms": .number, "timed_out": .bool]),
        "breaker": .init(outputs: ["state"], hasRun: true, outputTypes: ["state": .enumeration(["closed", "open"])]),
        "custom": .init(outputs: nil, hasRun: true),
    ]

    /// The values the run reads for `paramTypes` (what `ExprTestSupport.evalError` evaluates against).
    static let context = EvaluationContext(root: [
        "params": .map(["n": .int(5), "x": .double(0.5), "s": .string("abc"), "flag": .bool(true),
                        "pause": .string("5m"), "api": .string("http://localhost")]),
    ])

    private static func typing(paramTypes: [String: ParamType]? = paramTypes, knowsAllSteps: Bool = true) -> ExpressionTyping {
        var typing = ExpressionTyping(paramTypes: paramTypes)
        typing.steps = steps
        typing.knowsAllSteps = knowsAllSteps
        typing.typesEnvironment = false
        return typing
    }

    private func issues(_ source: String) throws -> [String] {
        let (template, parseIssues) = Template.parse(source)
        #expect(parseIssues.isEmpty, "\(parseIssues)")
        var typing = Self.typing()
        return try #require(template).checkKinds(&typing).map(\.description)
    }

    @Test("kinds that fit, and values lint cannot know the kind of, are never reported", arguments: [
        "${{ steps.probe.status == 'succeeded' || steps.probe.status != 'skipped' || 'failed' == steps.probe.status }}",
        "${{ params.n > 3 }} ${{ params.x <= params.n }} ${{ params.s > 'a' }} ${{ params.pause > '1m' }} ${{ params.api < params.s }}",
        "${{ len(params.s) > 2 }} ${{ params.n == 5.0 }} ${{ params.api + '/health' }} ${{ -params.x * params.n / 2 }}",
        "${{ steps.breaker.outputs.state == 'open' }} ${{ steps.probe.outputs.status == 200 }} ${{ steps.probe.outputs.timed_out == false }}",
        "${{ steps.probe.outputs.json > 'a' }} ${{ steps.probe.outputs.json == '200' }} ${{ steps.probe.outputs.json.a[0] < 1 }}",
        "${{ steps.custom.outputs.anything == 'x' }} ${{ steps.custom.outputs.anything > 1 }}",
        "${{ env.PORT > 1000 }} ${{ env.X == 5 }} ${{ secrets.token < 1 }} ${{ trigger.labels.n > 1 }} ${{ trigger.labels.x.y }}",
        "${{ from_json(params.s) > 3 }} ${{ default(params.s, 1) < 2 }} ${{ keys(from_json(params.s))[0] }}",
        "${{ steps.probe.outputs.body.x }} ${{ steps.probe.status.x }} ${{ steps.probe.outputs.status[0] }}",
        "${{ format('{0} {1}', params.s, params.n) }} ${{ format('{{literal}} {0}', params.n) }} ${{ format(params.s, 1) }}",
        "${{ false && 1 / 0 > 1 }} ${{ null == 'a' }} ${{ 10 / 4 * 2 }} ${{ '{0}' }}",
        "${{ params.flag && params.n > 1 || !params.s }} ${{ steps.probe.status == null }}",
    ])
    func silent(source: String) throws {
        #expect(try issues(source) == [])
    }

    @Test("each problem at the part at fault", arguments: [
        ("${{ steps.probe.status == 'success' }}", "26: 'steps.probe.status' is never 'success', so '==' is always false; a step's status is one of 'succeeded', 'failed', 'skipped'; did you mean 'succeeded'? [expression-type]"),
        ("${{ 'opened' != steps.breaker.outputs.state }}", "4: 'steps.breaker.outputs.state' is never 'opened', so '!=' is always true; output 'state' of step 'breaker' is one of 'closed', 'open'; did you mean 'open'? [expression-type]"),
        ("${{ params.flag > 1 }}", "4: cannot compare bool with number ('params.flag' is always true or false) [expression-type]"),
        ("${{ 1 < params.s }}", "4: cannot compare number with string ('params.s' is always a string) [expression-type]"),
        ("${{ steps.probe.outputs.timed_out >= 0 }}", "4: cannot compare bool with number ('steps.probe.outputs.timed_out' is always true or false) [expression-type]"),
        ("${{ 0 < params.x < 10 }}", "4: cannot compare bool with number ('0 < params.x' is always true or false); to test a range, write '0 < params.x && params.x < 10' [expression-type]"),
        ("${{ params.n + params.flag }}", "4: cannot add number and bool [expression-type]"),
        ("${{ -params.api }}", "4: cannot negate string [expression-type]"),
        ("${{ params.n.x }}", "4: 'params.n' is always a number, which has no field 'x' [expression-type]"),
        ("${{ run.dry_run[0] }}", "4: 'run.dry_run' is always a bool and cannot be indexed [expression-type]"),
        ("${{ format('{1}', params.s) }}", "11: 'format' pattern uses {1} but only 1 value was given [expression-type]"),
        ("${{ format('a}', params.s) }}", "11: 'format' pattern has a lone '}' (write '}}' for a literal brace) [expression-type]"),
        ("${{ params.n == '5' }}", "16: 'params.n' is an integer, never the string '5': '==' is always false; write 5 without quotes [comparison-always-false]"),
        ("${{ 'yes' != params.flag }}", "4: 'params.flag' is true or false, never the string 'yes': '!=' is always true [comparison-always-false]"),
        ("${{ params.s == params.n }}", "4: 'params.s' is a string, never equal to 'params.n', which is an integer: '==' is always false [comparison-always-false]"),
        ("${{ steps.probe.status == 1 }}", "26: 'steps.probe.status' is a string, never the number 1: '==' is always false [comparison-always-false]"),
    ])
    func reported(source: String, expected: String) throws {
        #expect(try issues(source) == [expected])
    }

    @Test("a comparison always false is a warning, the rest errors")
    func severities() throws {
        let template = try #require(Template.parse("${{ params.n == 'a' }} ${{ params.n < 'a' }}").template)
        var typing = Self.typing()
        #expect(template.checkKinds(&typing).map(\.severity) == [.warning, .error])
    }

    @Test("lint words and places an error as the run does: a part that reads nothing, a literal format pattern", arguments: [
        "5 / 0", "9223372036854775807 + 1", "1e308 * 10", "-(-9223372036854775807 - 1)", "true.x", "'abc'.x", "(1+2)[0]",
        "len(5)", "from_json('{')", "format('{0} {1}', 'a')", "round(1.5, 99)", "1 < 'a'", "'a' - 'b'",
        "format('{0} {2}', params.s, params.n)", "format('{x}', params.s)", "format('{', params.s)", "format('}', params.s)",
        "format('{1234567}', params.s)", "format('{0', params.n)",
    ])
    func sameAsTheRun(source: String) throws {
        let runError = try #require(ExprTestSupport.evalError(source, in: Self.context))
        let expression = try #require(RunbookKit.Expression.parse(source).expression)
        var typing = Self.typing()
        let found = expression.checkKinds(&typing)
        #expect(found.map(\.message) == [runError.message])
        #expect(found.map(\.offset) == [runError.offset])
    }

    @Test("what a run would do is undecided while a param's type or a step read is not known yet")
    func undecided() throws {
        let expression = try #require(RunbookKit.Expression.parse("params.n > 'a' || steps.later.outputs.x > 1").expression)
        var noParams = Self.typing(paramTypes: nil)
        #expect(expression.checkKinds(&noParams).isEmpty)
        #expect(noParams.undecided)
        var stepsSoFar = Self.typing(knowsAllSteps: false)
        _ = expression.checkKinds(&stepsSoFar)
        #expect(stepsSoFar.undecided)
        var whole = Self.typing()
        _ = expression.checkKinds(&whole)
        #expect(!whole.undecided)
    }

    @Test("steps checked while the file is read and with the whole runbook give the same findings, and a comment silences them")
    func streamedAndWhole() {
        let text = """
            version: 1
            id: rb
            title: t
            severity: sev3
            automation: automatic
            steps:
              - id: a
                action: log
                with: {message: "${{ params.n > 'a' }} ${{ steps.b.outputs.empty > 1 }}"}
              - id: b
                action: prometheus.query
                with: {query: up}
              - id: c
                action: log
                with: {message: "${{ steps.b.outputs.empty > 1 }}"}  # runbook-lint: ignore expression-type
                when: "${{ steps.b.status == 'ok' }}"
            params:
              n: {type: int, default: 1}

            """
        func findings(summarizing: Bool) -> [String] {
            var linter = Linter(catalog: BuiltinActions.catalog)
            linter.summarizesSteps = summarizing
            return linter.lint(bytes: Array(text.utf8), file: "rb.yaml").diagnostics
                .filter { $0.ruleID == "expression-type" }.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        }
        let whole = findings(summarizing: false)
        #expect(whole == [
            "9:26: cannot compare number with string ('params.n' is always an integer)",
            "9:48: cannot compare bool with number ('steps.b.outputs.empty' is always true or false)",
            "16:34: 'steps.b.status' is never 'ok', so '==' is always false; a step's status is one of 'succeeded', 'failed', 'skipped'",
        ])
        #expect(findings(summarizing: true) == whole)
    }
}
