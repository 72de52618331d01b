import Foundation
import RunbookActions
import RunbookKit
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

    /// A string against the string branches of `$defs.condition`: a pattern to match, or
    /// patterns under `not` that must not match.
    static func conditionAccepts(_ text: String) throws -> Bool {
        guard case .map(let condition)? = def("condition"), case .list(let branches)? = condition["anyOf"] else {
            Issue.record("no $defs.condition.anyOf")
            return false
        }
        for case .map(let branch) in branches where branch["type"] == .string("string") {
            if case .string(let pattern)? = branch["pattern"], try matches(pattern, text) { return true }
            if case .map(let not)? = branch["not"], case .list(let excluded)? = not["anyOf"] {
                var hit = text.isEmpty
                for case .map(let e) in excluded {
                    if case .string(let pattern)? = e["pattern"], try matches(pattern, text) { hit = true }
                }
                if !hit { return true }
            }
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
    ])
    func conditionForms(_ text: String, _ accepted: Bool) throws {
        let quoted = "'" + text + "'"
        #expect(Self.lintAcceptsCondition(quoted) == accepted, "lint of when: \(quoted)")
        #expect(try Self.conditionAccepts(text) == accepted, "schema of when: \(quoted)")
    }
}
