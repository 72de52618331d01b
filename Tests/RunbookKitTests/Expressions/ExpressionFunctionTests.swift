import Testing
@testable import RunbookKit

@Suite("Expression functions")
struct ExpressionFunctionTests {
    @Test("results", arguments: [
        ("contains('hello world', 'o w')", Value.bool(true)), ("contains('hello', 'H')", .bool(false)),
        ("contains('hello', '')", .bool(true)), ("contains('v200', 200)", .bool(true)),
        ("contains(steps.verify.outputs.json.tags, 'b')", .bool(true)), ("contains(steps.verify.outputs.json.tags, 'z')", .bool(false)),
        ("contains(from_json('[1, 2]'), 2.0)", .bool(true)), ("contains(trigger.labels, 'alertname')", .bool(true)),
        ("contains(trigger.labels, 1)", .bool(false)), ("contains(steps.nope.outputs.body, 'x')", .bool(false)),
        ("contains('abc', null)", .bool(false)),
        ("starts_with(params.api_url, 'http://')", .bool(true)), ("starts_with('abc', 'b')", .bool(false)),
        ("ends_with('abc', 'bc')", .bool(true)), ("ends_with(steps.nope.outputs.x, 'bc')", .bool(false)),
        ("len('héllo')", .int(5)), ("len('')", .int(0)), ("len(steps.verify.outputs.json.tags)", .int(2)),
        ("len(trigger.labels)", .int(1)), ("len(from_json('[]'))", .int(0)),
        ("format('{0} and {1}', 'a', 2)", .string("a and 2")), ("format('{1}{0}{1}', 'a', 'b')", .string("bab")),
        ("format('{{literal}} {0}', null)", .string("{literal} null")), ("format('plain')", .string("plain")),
        ("format('{0}', steps.verify.outputs.json.tags)", .string("[\"a\",\"b\"]")),
        ("to_json(trigger.labels)", .string("{\"alertname\":\"QwenDown\"}")), ("to_json('a\"b')", .string("\"a\\\"b\"")),
        ("to_json(null)", .string("null")), ("to_json(1.5)", .string("1.5")),
        // A whole double keeps its ".0", so from_json (and a journal read back on resume) gives a double again.
        ("to_json(2.0)", .string("2.0")), ("to_json(-3.0)", .string("-3.0")), ("to_json(1e20)", .string("1e+20")),
        ("to_json(from_json('[1, 1.0]'))", .string("[1,1.0]")), ("from_json(to_json(4.0))", .double(4)),
        ("from_json(to_json(4))", .int(4)), ("format('{0}', 2.0)", .string("2")),
        ("from_json('{\"a\": [1, 2.5, \"x\", null, true, {\"b\": {}}]}')",
         .map(["a": .list([.int(1), .double(2.5), .string("x"), .null, .bool(true), .map(["b": .map([:])])])])),
        ("from_json('42')", .int(42)), ("from_json('\"s\"')", .string("s")), ("from_json('null')", .null),
        ("from_json('true')", .bool(true)), ("from_json('2.5e-1')", .double(0.25)),
        // A number keeps how it was written: a fraction or an exponent makes a double.
        ("from_json('1.0') == 1.0", .bool(true)), ("from_json('1.0')", .double(1)), ("from_json('1e3')", .double(1000)),
        ("from_json('[1, 1.0, -0, 0.5]')", .list([.int(1), .double(1), .int(0), .double(0.5)])),
        ("from_json('12345678901234567890')", .double(Double("12345678901234567890")!)),
        ("from_json('[true, false, 1, 0]')", .list([.bool(true), .bool(false), .int(1), .int(0)])),
        ("from_json(to_json(steps.verify.outputs.json))", .map(["reward_mean": .double(120.5), "missing_ok": .null,
                                                               "tags": .list([.string("a"), .string("b")])])),
        ("lower('AbC')", .string("abc")), ("upper('AbC')", .string("ABC")),
        ("join(steps.verify.outputs.json.tags, ', ')", .string("a, b")), ("join(steps.verify.outputs.json.tags)", .string("a,b")),
        ("join(from_json('[1, null, true]'), '-')", .string("1-null-true")), ("join(from_json('[]'), '-')", .string("")),
        ("keys(from_json('{\"b\": 1, \"a\": 2}'))", .list([.string("a"), .string("b")])),
        ("default(steps.nope.outputs.x, 'fallback')", .string("fallback")), ("default(0, 5)", .int(0)),
        ("default('', 5)", .string("")), ("default(null, null)", .null),
        ("abs(-3)", .int(3)), ("abs(-2.5)", .double(2.5)), ("abs(4)", .int(4)),
        ("min(3, 1, 2)", .int(1)), ("max(3, 1.5, 2)", .int(3)), ("min(2, 1.5)", .double(1.5)), ("max(-1)", .int(-1)),
        ("min(from_json('[4, 2, 8]'))", .int(2)), ("max(from_json('[4, 2.5, 8.5]'))", .double(8.5)),
        ("round(2.5)", .int(3)), ("round(-2.5)", .int(-3)), ("round(2.4)", .int(2)), ("round(7)", .int(7)),
        ("round(3.14159, 2)", .double(3.14)), ("round(2.675, 0)", .double(3)), ("round(1e300)", .double(1e300)),
        ("round(1.23456789, 15)", .double(1.23456789)), ("round(5, 2)", .int(5)),
    ])
    func results(source: String, expected: Value) throws {
        #expect(try ExprTestSupport.eval(source) == expected)
    }

    @Test("errors", arguments: [
        ("contains(1, 1)", "'contains' expects a string, list or map, got number 1", 9),
        ("starts_with('a', 1)", "'starts_with' expects a string, got number 1", 17),
        ("ends_with(1, 'a')", "'ends_with' expects a string, got number 1", 10),
        ("len(steps.nope.outputs.x)", "'steps.nope.outputs.x' is null", 4),
        ("len(5)", "'len' expects a string, list or map, got number 5", 4),
        ("format('{0} {1}', 'a')", "'format' pattern uses {1} but only 1 value was given", 7),
        ("format('{x}')", "'format' pattern has a '{' that is not '{N}' (write '{{' for a literal brace)", 7),
        ("format('{0')", "'format' pattern has a '{' that is not '{N}' (write '{{' for a literal brace)", 7),
        ("format('a } b')", "'format' pattern has a lone '}' (write '}}' for a literal brace)", 7),
        ("format(1)", "'format' expects a string, got number 1", 7),
        ("from_json('{nope')", "'{nope' is not valid JSON", 10),
        ("from_json(steps.verify.outputs.empty)", "'steps.verify.outputs.empty' is not valid JSON", 10),
        ("from_json(null)", "'null' is null", 10),
        ("lower(secrets.token.x)", "'secrets.token' is a secret string, which has no field 'x'", 6),
        ("upper(1)", "'upper' expects a string, got number 1", 6),
        ("join('a', ',')", "'join' expects a list, got string 'a'", 5),
        ("join(from_json('[1]'), 1)", "'join' expects a string, got number 1", 23),
        ("keys(from_json('[1]'))", "'keys' expects a map, got list of 1 item", 5),
        ("abs('x')", "'abs' expects a number, got string 'x'", 4),
        ("abs(-9223372036854775807 - 1)", "integer overflow in 'abs(-9223372036854775807 - 1)'", 0),
        ("min(1, 'a')", "'min' expects numbers, got string 'a'", 7),
        ("max(1, null)", "'null' is null", 7),
        ("min(from_json('[]'))", "'min' of an empty list", 4),
        ("round('1')", "'round' expects a number, got string '1'", 6),
        ("round(1.5, 16)", "'round' expects a number of digits from 0 to 15, got number 16", 11),
        ("round(1.5, -1)", "'round' expects a number of digits from 0 to 15, got number -1", 11),
        ("nope(1)", "unknown function 'nope'", 0),
        ("len(1, 2)", "'len' takes 1 argument, got 2", 0),
    ])
    func errors(source: String, message: String, offset: Int) throws {
        let error = try #require(ExprTestSupport.evalError(source))
        #expect(error.message == message)
        #expect(error.offset == offset)
    }

    @Test("every function has an arity and is documented by name in the spec list")
    func signatures() {
        let required = ["contains", "starts_with", "ends_with", "len", "format", "to_json", "from_json"]
        for name in required { #expect(ExpressionFunctions.signatures[name] != nil, "\(name)") }
        #expect(ExpressionFunctions.signatures.count == 16)
    }
}
