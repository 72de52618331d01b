import Testing
@testable import RunbookKit

@Suite("Expression parser")
struct ExpressionParserTests {
    @Test("precedence and associativity", arguments: [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 * 2 + 3", "((1 * 2) + 3)"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 / 2", "((8 / 4) / 2)"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("a || b && c", "(a || (b && c))"),
        ("a && b || c", "((a && b) || c)"),
        ("a == b && c != d", "((a == b) && (c != d))"),
        ("a < b == c >= d", "((a < b) == (c >= d))"),
        ("a + 1 < b * 2", "((a + 1) < (b * 2))"),
        ("a <= b", "(a <= b)"),
        ("a > b", "(a > b)"),
        ("!a && b", "((!a) && b)"),
        ("!a == b", "((!a) == b)"),
        ("-a * b", "((-a) * b)"),
        ("- - 1", "(-(-1))"),
        ("!!a", "(!(!a))"),
        ("-a.b", "(-a.b)"),
        ("!steps.x.outputs['k'][0]", "(!steps.x.outputs['k'][0])"),
        ("a.b.c", "a.b.c"),
        ("a[b + 1].c", "a[(b + 1)].c"),
        ("len(a) + 1", "(len(a) + 1)"),
        ("format('{0}', a, b.c)", "format('{0}', a, b.c)"),
        ("f()", "f()"),
        ("from_json(x).a[0]", "from_json(x).a[0]"),
        ("a.null.true", "a.null.true"),
        ("1 + 2 == 3 || false", "(((1 + 2) == 3) || false)"),
    ])
    func precedence(source: String, expected: String) {
        #expect(ExprTestSupport.parse(source) == expected)
    }

    @Test("literals", arguments: [
        ("null", Value.null), ("true", .bool(true)), ("false", .bool(false)),
        ("42", .int(42)), ("0", .int(0)), ("1.5", .double(1.5)), ("1e-3", .double(0.001)), ("2E+2", .double(200)),
        ("9223372036854775807", .int(.max)),
        ("'it''s'", .string("it's")), ("''", .string("")), ("'}} ${{'", .string("}} ${{")),
        ("'héllo ✓'", .string("héllo ✓")),
    ])
    func literals(source: String, expected: Value) throws {
        let expression = try #require(RunbookKit.Expression.parse(source).expression)
        #expect(expression.root.kind == .literal(expected))
        #expect(expression.root.range == 0..<source.unicodeScalars.count)
    }

    @Test("node ranges are scalar offsets within the text")
    func ranges() throws {
        let expression = try #require(RunbookKit.Expression.parse("'✓' == ( steps.a.b )").expression)
        guard case .binary(.equal, let lhs, let rhs) = expression.root.kind else {
            Issue.record("not a binary node")
            return
        }
        #expect(lhs.range == 0..<3)
        #expect(rhs.range == 7..<20)
        guard case .member(_, "b", let nameRange) = rhs.kind else {
            Issue.record("not a member node")
            return
        }
        #expect(nameRange == 17..<18)
        #expect(expression.root.range == 0..<20)
    }

    @Test("syntax errors name the problem at its offset", arguments: [
        ("", "0: empty expression [expression-syntax]"),
        ("   ", "0: empty expression [expression-syntax]"),
        ("1 +", "3: expected an expression, found end of expression [expression-syntax]"),
        ("a b", "2: expected the end of the expression, found 'b' [expression-syntax]"),
        ("(a", "2: expected ')' to close '(', found end of expression [expression-syntax]"),
        ("a)", "1: expected the end of the expression, found ')' [expression-syntax]"),
        ("a[1", "3: expected ']' to close '[', found end of expression [expression-syntax]"),
        ("a[]", "2: expected an index between '[' and ']' [expression-syntax]"),
        ("a.", "2: expected a field name after '.', found end of expression [expression-syntax]"),
        ("a.1", "2: expected a field name after '.', found '1' [expression-syntax]"),
        ("a = b", "2: unexpected '='; use '==' to compare [expression-syntax]"),
        ("a & b", "2: unexpected '&'; use '&&' for and [expression-syntax]"),
        ("a | b", "2: unexpected '|'; use '||' for or [expression-syntax]"),
        ("a ? b", "2: unexpected character '?' [expression-syntax]"),
        ("'abc", "0: unterminated string: missing closing ' [expression-syntax]"),
        ("x == \"a\"", "5: strings are written in single quotes: 'text' (a quote inside is doubled: '') [expression-syntax]"),
        ("1.", "0: malformed number '1.': expected digits after '.' [expression-syntax]"),
        ("1.x", "0: malformed number '1.': expected digits after '.' [expression-syntax]"),
        ("1e", "0: malformed number '1e': expected digits in the exponent [expression-syntax]"),
        ("12abc", "0: malformed number '12abc' [expression-syntax]"),
        ("99999999999999999999", "0: integer '99999999999999999999' is too large (the limit is 9223372036854775807) [expression-syntax]"),
        ("1e999", "0: number '1e999' is out of range [expression-syntax]"),
        ("f(a b)", "4: expected ',' or ')' in the arguments of 'f', found 'b' [expression-syntax]"),
        ("f(a,)", "4: expected an expression, found ')' [expression-syntax]"),
        ("a.b(1)", "3: only functions can be called, e.g. 'len(x)' [expression-syntax]"),
        ("* 2", "0: expected an expression, found '*' [expression-syntax]"),
        ("✓", "0: unexpected character '✓' [expression-syntax]"),
        ("'✓' ✓", "4: unexpected character '✓' [expression-syntax]"),
    ])
    func syntaxErrors(source: String, expected: String) {
        let (expression, issues) = RunbookKit.Expression.parse(source)
        #expect(expression == nil)
        #expect(issues.map(\.description) == [expected])
        #expect(issues.allSatisfy { $0.severity == .error })
    }

    @Test("deep nesting is a syntax error, not a stack overflow", arguments: [
        String(repeating: "(", count: 2000) + "1" + String(repeating: ")", count: 2000),
        String(repeating: "!", count: 4000) + "a",
        String(repeating: "-", count: 4000) + "1",
        String(repeating: "a[", count: 1000) + "1" + String(repeating: "]", count: 1000),
        String(repeating: "f(", count: 1300) + String(repeating: ")", count: 1300),
        "a" + String(repeating: ".b", count: 2000),
        (1...900).map(String.init).joined(separator: "+"),
        (1...900).map(String.init).joined(separator: "*"),
    ])
    func deepNesting(source: String) throws {
        let (expression, issues) = RunbookKit.Expression.parse(source)
        #expect(expression == nil)
        let issue = try #require(issues.first)
        #expect(issue.ruleID == "expression-syntax")
        #expect(issue.message == "expression is nested too deeply (the limit is 64 levels)")
    }

    @Test("nesting up to the limit parses")
    func nestingWithinLimit() throws {
        let source = String(repeating: "(", count: 60) + "1 + 2" + String(repeating: ")", count: 60)
        let expression = try #require(RunbookKit.Expression.parse(source).expression)
        #expect(try expression.evaluate(in: EvaluationContext(root: [:])) == .int(3))
        let chain = (1...60).map(String.init).joined(separator: " + ")
        #expect(try ExprTestSupport.eval(chain) == .int(1830))
    }

    @Test("overlong expressions are rejected before parsing")
    func tooLong() {
        let source = String(repeating: "1 + ", count: 1100) + "1"
        let (expression, issues) = RunbookKit.Expression.parse(source)
        #expect(expression == nil)
        #expect(issues.map(\.ruleID) == ["expression-too-long"])
        #expect(issues.first?.offset == 0)
        #expect(issues.first?.message == "expression is 4401 characters long; the limit is 4096")
    }

    @Test("'RunbookExpression' names the same type, for files that also import Foundation")
    func alias() {
        #expect(RunbookExpression.parse("1 + 1").expression?.root.range == 0..<5)
    }

    @Test("garbage never crashes the parser", arguments: [
        "((((", "))))", "[[[", "]]]", "''''", "'", "!", "-", ".", ",", "a..b", "a[[1]]", "f(,)", "f((", "1 2 3",
        "\u{0}", "\t\n", "a.b.c.", "a[1][", "== ==", "!(", "-(-(-(", "'a' 'b'", "${{", "}}",
    ])
    func garbage(source: String) {
        let (expression, issues) = RunbookKit.Expression.parse(source)
        #expect((expression == nil) == !issues.isEmpty)
        for issue in issues {
            #expect((0...source.unicodeScalars.count).contains(issue.offset))
        }
    }
}
