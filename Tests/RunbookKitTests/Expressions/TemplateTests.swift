import Testing
@testable import RunbookKit

@Suite("Templates")
struct TemplateTests {
    private func parse(_ text: String) throws -> Template {
        let (template, issues) = Template.parse(text)
        #expect(issues.isEmpty, "\(issues)")
        return try #require(template)
    }

    @Test func plainText() throws {
        let template = try parse("hello } {{ $ {")
        #expect(template.segments == [.text("hello } {{ $ {")])
        #expect(!template.hasExpressions)
        #expect(!template.isSingleExpression)
        #expect(try template.evaluate(in: ExprTestSupport.context) == .string("hello } {{ $ {"))
        #expect(try Template.parse("").template?.evaluate(in: ExprTestSupport.context) == .string(""))
    }

    @Test("observed values: what a condition read, secrets left out, at most four, long values cut")
    func observedValues() throws {
        let context = EvaluationContext(root: [
            "params": .map(["max_depth": .int(1000), "long": .string(String(repeating: "x", count: 80))]),
            "steps": .map(["drain": .map(["outputs": .map(["json": .map(["depth": .int(5000)])])])]),
            "secrets": .map(["tok": .string("hunter2")]),
        ])
        let t = try parse("${{ steps.drain.outputs.json.depth < params.max_depth && secrets.tok != '' && params.missing == null }}")
        #expect(t.observedValues(in: context)
                == "steps.drain.outputs.json.depth = 5000, params.max_depth = 1000, params.missing = null")
        let long = try parse("${{ params.long == 'y' }}")
        #expect(long.observedValues(in: context) == "params.long = \"" + String(repeating: "x", count: 59) + "…")
        let many = try parse("${{ params.a || params.b || params.c || params.d || params.e }}")
        #expect(many.observedValues(in: context).hasSuffix("params.d = null, …"))
        #expect(try parse("${{ 1 > 2 }}").observedValues(in: context) == "")
    }

    @Test func segmentsAndOffsets() throws {
        let template = try parse("a ${{ params.x }}b${{1}}")
        #expect(template.segments.count == 4)
        #expect(template.expressions.map(\.text) == [" params.x ", "1"])
        #expect(template.expressions.map(\.offset) == [5, 21])
        guard case .text("a ") = template.segments[0], case .text("b") = template.segments[2] else {
            Issue.record("unexpected segments \(template.segments)")
            return
        }
        #expect(template.hasExpressions)
        #expect(!template.isSingleExpression)
    }

    @Test("single expression keeps its type", arguments: [
        ("${{ params.replicas }}", Value.int(8)),
        ("  ${{ params.replicas }}\n", .int(8)),
        ("${{ params.enabled }}", .bool(true)),
        ("${{ steps.verify.outputs.json.tags }}", .list([.string("a"), .string("b")])),
        ("${{ steps.verify.outputs.json.missing_ok }}", .null),
        ("${{ params.ratio * 2 }}", .double(1)),
    ])
    func singleExpression(source: String, expected: Value) throws {
        let template = try parse(source)
        #expect(template.isSingleExpression)
        #expect(try template.evaluate(in: ExprTestSupport.context) == expected)
    }

    @Test("anything else interpolates into text", arguments: [
        ("${{ params.api_url }}/health", "http://localhost:8000/health"),
        ("n=${{ params.replicas }}", "n=8"),
        ("${{ params.replicas }}${{ params.replicas }}", "88"),
        ("${{ params.ratio }} ${{ params.enabled }} ${{ steps.verify.error }}", "0.5 true null"),
        ("x${{ steps.verify.outputs.json.tags }}", "x[\"a\",\"b\"]"),
        ("${{ 1.0 }}!", "1!"),
        ("${{ trigger.labels }}.", "{\"alertname\":\"QwenDown\"}."),
    ])
    func interpolation(source: String, expected: String) throws {
        let template = try parse(source)
        #expect(!template.isSingleExpression)
        #expect(try template.evaluate(in: ExprTestSupport.context) == .string(expected))
    }

    @Test("'}}' inside a quoted string does not close the expression")
    func closingBracesInString() throws {
        let template = try parse("${{ 'a }} b' }} and ${{ 'it''s }}' }}")
        #expect(template.expressions.map(\.text) == [" 'a }} b' ", " 'it''s }}' "])
        #expect(try template.evaluate(in: ExprTestSupport.context) == .string("a }} b and it's }}"))
        #expect(try parse("${{ format('{{0}} {0}', 1) }}").evaluate(in: ExprTestSupport.context) == .string("{0} 1"))
    }

    @Test("syntax errors point into the template source", arguments: [
        ("abc ${{ params.x", "4: '${{' is not closed by '}}' [expression-syntax]"),
        ("${{ 'abc }}", "0: '${{' is not closed by '}}' (a quoted string is not closed) [expression-syntax]"),
        ("ok ${{ }}", "6: empty expression [expression-syntax]"),
        ("é ${{ 1 + }}", "10: expected an expression, found end of expression [expression-syntax]"),
        ("${{ a }} ${{ b c }}", "15: expected the end of the expression, found 'c' [expression-syntax]"),
        ("${{ = }} ${{ ? }}", "4: unexpected '='; use '==' to compare [expression-syntax]; 13: unexpected character '?' [expression-syntax]"),
        ("x ${{ ${{ }}", "6: unexpected '${{' inside an expression: expressions do not nest; read a value directly ('params.x', not '${{ params.x }}') [expression-syntax]"),
        ("${{ a && ${{ b }} }}", "9: unexpected '${{' inside an expression: expressions do not nest; read a value directly ('params.x', not '${{ params.x }}') [expression-syntax]"),
        ("${{ a $ b }}", "6: unexpected character '$' [expression-syntax]"),
    ])
    func syntaxErrors(source: String, expected: String) {
        let (template, issues) = Template.parse(source)
        #expect(template == nil)
        #expect(issues.map(\.description).joined(separator: "; ") == expected)
    }

    @Test func tooLongIsReportedAtTheOpeningBraces() {
        let source = "abc ${{ " + String(repeating: "a + ", count: 1100) + "a }}"
        let (template, issues) = Template.parse(source)
        #expect(template == nil)
        #expect(issues.map(\.ruleID) == ["expression-too-long"])
        #expect(issues.first?.offset == 4)
    }

    @Test("a value holds at most 100 expressions: the 101st is one finding, at its opening braces")
    func tooManyExpressions() {
        let hundred = String(repeating: "${{ x }}", count: 100)
        #expect(Template.parse(hundred).issues.isEmpty)
        let (template, issues) = Template.parse(hundred + " ${{ x }}" + String(repeating: "${{ (", count: 10_000))
        #expect(template == nil)
        #expect(issues.map(\.ruleID) == ["expression-too-long"])
        #expect(issues.first?.offset == 801)
        #expect(issues.first?.message == "a value holds more than 100 expressions; the limit is 100 ('${{ }}') per value")
    }

    @Test("deeply nested template gives a syntax error, not a crash")
    func deepTemplate() {
        let source = "${{ " + String(repeating: "(", count: 2000) + "1" + String(repeating: ")", count: 2000) + " }}"
        let (template, issues) = Template.parse(source)
        #expect(template == nil)
        #expect(issues.map(\.ruleID) == ["expression-syntax"])
    }

    @Test("references list static context paths", arguments: [
        ("${{ secrets.slack_webhook }}", [["secrets", "slack_webhook"]]),
        ("${{ steps.verify.outputs.json.reward_mean > 100 }}", [["steps", "verify", "outputs", "json", "reward_mean"]]),
        ("${{ steps['verify'].outputs['json'] }}", [["steps", "verify", "outputs", "json"]]),
        ("${{ steps.verify.outputs.series[0].value }}", [["steps", "verify", "outputs", "series"]]),
        ("${{ steps.x.outputs[params.key].y }}", [["steps", "x", "outputs"], ["params", "key"]]),
        ("${{ params.a }}-${{ params.a }}-${{ env.B }}", [["params", "a"], ["env", "B"]]),
        ("${{ len(run.id) + 1 }} ${{ format('{0}', trigger.labels.alertname) }}", [["run", "id"], ["trigger", "labels", "alertname"]]),
        ("${{ from_json(steps.a.outputs.body).x }}", [["steps", "a", "outputs", "body"]]),
        ("${{ params }}", [["params"]]),
        ("${{ 1 + 2 }} text", []),
    ])
    func references(source: String, expected: [[String]]) throws {
        #expect(try parse(source).references == expected)
    }

    @Test func plainTextTemplate() throws {
        let template = Template(text: "${{ not parsed }}")
        #expect(!template.hasExpressions)
        #expect(try template.evaluate(in: ExprTestSupport.context) == .string("${{ not parsed }}"))
    }

    @Test("evaluation errors point into the template source")
    func evaluationErrorOffset() throws {
        let template = try parse("value: ${{ steps.verify.outputs.json.nope + 1 }}")
        #expect(throws: ExpressionError(message: "'steps.verify.outputs.json.nope' is null", offset: 11)) {
            try template.evaluate(in: ExprTestSupport.context)
        }
    }
}

/// `Value.decimalNumber`: the one reading of text where a number goes.
@Suite("decimal numbers in text")
struct DecimalNumberTests {
    @Test("decimal text is a number; hex floats, nan, inf and the like are not")
    func decimalOnly() {
        #expect(Value.decimalNumber("42") == 42)
        #expect(Value.decimalNumber(" -1.5 ") == -1.5)
        #expect(Value.decimalNumber("+2e3") == 2000)
        #expect(Value.decimalNumber(".5") == 0.5)
        #expect(Value.decimalNumber("5.") == 5)
        for text in ["0x1p3", "0x10", "nan", "inf", "-infinity", "1e400", "", ".", "1e", "e5", "1.2.3", "1 2"] {
            #expect(Value.decimalNumber(text) == nil, "\(text)")
        }
    }
}

/// "Did you mean": a hint only when one candidate is the closest.
@Suite("did-you-mean hints")
struct SuggestionTests {
    @Test func tiesGiveNoHint() {
        #expect(Suggestions.closest(to: "sev9", in: ["sev1", "sev2", "sev3", "sev4"]) == nil)
        #expect(Suggestions.closest(to: "sevv1", in: ["sev1", "sev2", "sev3", "sev4"]) == "sev1")
        #expect(Suggestions.closest(to: "titel", in: ["title", "steps", "severity"]) == "title")
        // One or two characters: only a name one edit away (`x` is not a misspelt `id`).
        #expect(Suggestions.closest(to: "x", in: ["id", "title"]) == nil)
        #expect(Suggestions.closest(to: "~", in: ["id", "title"]) == nil)
        #expect(Suggestions.closest(to: "i", in: ["id", "title"]) == "id")
    }
}
