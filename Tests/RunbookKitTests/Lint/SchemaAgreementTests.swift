import Foundation
import RunbookActions
@testable import RunbookKit
import Testing

/// `runbook schema` and lint agree on the values they accept (docs/format.md says which).
@Suite struct SchemaAgreementTests {
    static let schema = SchemaGenerator(catalog: BuiltinActions.catalog).generate()

    /// `$defs.<name>`.
    static func def(_ name: String) -> Value? {
        guard case .map(let root) = schema, case .map(let defs)? = root["$defs"] else { return nil }
        return defs[name]
    }

    /// Whether `text` matches the regular expression `pattern` (ECMA-262 subset shared with NSRegularExpression).
    static func matches(_ pattern: String, _ text: String) throws -> Bool {
        let regex = try NSRegularExpression(pattern: pattern)
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// A string against the string branches of `$defs.condition`: each branch's `minLength`,
    /// `pattern` (must match) and `not.pattern` (must not match).
    static func conditionAccepts(_ text: String) throws -> Bool {
        guard case .map(let condition)? = def("condition"), case .list(let branches)? = condition["anyOf"] else {
            Issue.record("no $defs.condition.anyOf")
            return false
        }
        branches: for case .map(let branch) in branches where branch["type"] == .string("string") {
            if case .int(let n)? = branch["minLength"], text.unicodeScalars.count < n { continue }
            if case .string(let pattern)? = branch["pattern"], try !matches(pattern, text) { continue }
            if case .map(let not)? = branch["not"] {
                if case .string(let pattern)? = not["pattern"], try matches(pattern, text) { continue branches }
                if not["pattern"] == nil { Issue.record("unexpected 'not' in a condition branch: \(not)") }
            }
            return true
        }
        return false
    }

    /// Whether lint accepts `when: <yaml>` without an error or warning on it.
    static func lintAcceptsCondition(_ yaml: String) -> Bool {
        let text = """
            version: 1
            id: c
            title: T
            severity: sev3
            automation: automatic
            steps:
              - id: s
                action: log
                with: {message: hi}
                when: \(yaml)

            """
        let linted = Linter(catalog: BuiltinActions.catalog).lint(bytes: Array(text.utf8), file: "c.yaml")
        return linted.diagnostics.isEmpty
    }

    @Test("conditions: schema and lint accept the same strings", arguments: [
        ("${{ true }}", true),
        (" ${{ run.dry_run }} ", true),
        ("run.dry_run && true", true),
        ("x ${{ true }}", false),
        ("${{ true }} ${{ false }}", false),
        ("yes", false),
        ("Off", false),
        ("n", false),
        ("", false),
        // Only text that starts with `${{` is a `${{ }}`; a bare expression may hold `${{` in a string.
        ("contains(run.id, '${{')", true),
        ("contains(run.id, '}}') || run.id == 'it''s'", true),
        ("${{ contains(run.id, '${{') }}", true),
        ("${{ contains(run.id, '}}') }}", true),
        ("run.dry_run && ${{ true }}", false),
        ("contains(run.id, '${{') ${{ true }}", false),
        ("${{ run.dry_run }} }}", false),
        ("run.id == 'x'}", false),
        ("contains(run.id, 'x)", false),
    ])
    func conditionForms(_ text: String, _ accepted: Bool) throws {
        let quoted = "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
        #expect(Self.lintAcceptsCondition(quoted) == accepted, "lint of when: \(quoted)")
        #expect(try Self.conditionAccepts(text) == accepted, "schema of when: \(quoted)")
    }

    @Test("durations: RunbookDuration.parse and the schema's pattern accept the same text", arguments: [
        ("500ms", true), ("90s", true), ("5m", true), ("1h30m", true), ("1m30s", true), ("2d", true), ("1.5m", true),
        ("1m5ms", true), ("0s", true),
        ("", false), (" 5m", false), ("5m ", false), ("1h 30m", false), (".5s", false), ("1.s", false),
        ("30", false), ("30s1m", false), ("5M", false), ("1m1m", false), ("s", false), ("1.2.3s", false),
    ])
    func durationGrammar(_ text: String, _ valid: Bool) throws {
        guard case .map(let duration)? = Self.def("duration"), case .string(let pattern)? = duration["pattern"] else {
            Issue.record("no $defs.duration.pattern")
            return
        }
        #expect((RunbookDuration.parse(text) != nil) == valid, "parse '\(text)'")
        #expect(try Self.matches(pattern, text) == valid, "schema '\(text)'")
    }

    @Test("durations parse to seconds")
    func durationValues() {
        #expect(RunbookDuration.parse("1h30m")?.seconds == 5400)
        #expect(RunbookDuration.parse("1.5m")?.seconds == 90)
        #expect(RunbookDuration.parse("250ms")?.seconds == 0.25)
        #expect(RunbookDuration.parse("1d2h3m4s5ms")?.seconds == 86400 + 7200 + 180 + 4 + 0.005)
    }

    /// The property schema of step key `key`.
    static func stepProperty(_ key: String) -> Value? {
        guard case .map(let step)? = def("step"), case .map(let properties)? = step["properties"] else { return nil }
        return properties[key]
    }

    @Test("undoes takes one id or a list, as lint does")
    func undoesForms() throws {
        let undoes = try #require(Self.stepProperty("undoes")).jsonText()
        #expect(undoes.contains(#"{"type":"string"}"#))
        #expect(undoes.contains(#""type":"array""#))
    }

    @Test("an action's duration parameter takes a bare number of seconds; a string parameter a number")
    func actionParameterNumbers() {
        let generator = SchemaGenerator(catalog: BuiltinActions.catalog)
        #expect(generator.schema(for: .duration).jsonText().contains(#"{"minimum":0,"type":"number"}"#))
        #expect(generator.schema(for: .string).jsonText() == #"{"type":["string","number"]}"#)
    }

    @Test("a parameter's range is in its schema: on the number, each list item, the number of 'a name or a number'")
    func parameterRanges() throws {
        let generator = SchemaGenerator(catalog: BuiltinActions.catalog)
        func schema(_ action: String, _ name: String) throws -> String {
            generator.schema(for: try #require(BuiltinActions.catalog[action]?.parameter(named: name))).jsonText()
        }
        #expect(try schema("tcp.check", "port").contains(#"{"maximum":65535,"minimum":1,"type":"integer"}"#))
        #expect(try schema("kubernetes.scale", "replicas").contains(#"{"minimum":0,"type":"integer"}"#))
        #expect(try schema("postgres.check", "max_usage").contains(#"{"maximum":1,"minimum":0,"type":"number"}"#))
        let status = try schema("http.check", "expect_status")
        #expect(status.components(separatedBy: #"{"maximum":599,"minimum":100,"type":"integer"}"#).count == 3, "\(status)")
        #expect(try schema("process.stop", "signal").contains(#"{"maximum":64,"minimum":1,"type":"integer"}"#))
        // Parameters without a range, and expressions, are as before.
        #expect(try !schema("checkpoint.find_stable", "kl_max").contains("minimum"))
        #expect(try schema("tcp.check", "port").contains(##"{"$ref":"#/$defs/wholeExpression"}"##))
    }

    @Test("a quoted number fits an int or number parameter in the schema exactly when the run converts it",
          arguments: ["6379", " 42 ", "-3", "+7", "4.5", "1e3", ".5", "abc", "", "1 2"])
    func quotedNumbers(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        #expect(try Self.matches(SchemaGenerator.quotedInteger, text) == (Int(trimmed) != nil), "int: '\(text)'")
        let number = Double(trimmed).map(\.isFinite) ?? false
        #expect(try Self.matches(SchemaGenerator.quotedNumber, text) == number, "number: '\(text)'")
    }

    @Test("param names, a param's enum, NUL in text for the OS, and zero timeouts are in the schema")
    func structuralChecks() throws {
        let text = Self.schema.jsonText()
        #expect(text.contains(#""propertyNames":{"pattern":"^[a-z][a-z0-9_]*$"}"#))
        #expect(text.contains(#""enum":{"description":"allowed values","minItems":1,"type":"array"}"#))
        #expect(text.contains(#""propertyNames":{"pattern":"^[^=\\u0000]+$"}"#))
        #expect(text.contains(#"must be longer than 0s"#))
        #expect(text.contains(#""format":"regex""#))
    }
}
