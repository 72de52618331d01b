@testable import RunbookKit
import RunbookActions
import Testing

@Suite("unused-param")
struct UnusedParamTests {
    static func findings(_ steps: String) -> [String] {
        let text = """
            version: 1
            id: u
            title: U
            severity: sev4
            automation: automatic
            params:
              a: {type: string, default: x}
              b: {type: string, default: y}
            steps:
            \(steps)
            """
        var linter = Linter(catalog: BuiltinActions.catalog)
        linter.summarizesSteps = true
        return linter.lint(bytes: Array(text.utf8), file: "u.yaml").diagnostics
            .filter { $0.ruleID == "unused-param" }.map(\.message)
    }

    @Test("reading the whole params context, or an index computed at run time, reads every param")
    func wholeContextReadsAll() {
        #expect(Self.findings("  - {id: s, action: log, with: {message: \"${{ to_json(params) }}\"}}").isEmpty)
        #expect(Self.findings("  - {id: s, action: log, with: {message: \"${{ params[env.WHICH] }}\"}}").isEmpty)
        #expect(Self.findings("  - {id: s, action: log, with: {message: \"${{ params['a'] }}\"}}")
                == ["param 'b' is declared but no step or trigger reads it; read it as '${{ params.b }}' or remove it"])
        #expect(Self.findings("  - {id: s, action: log, with: {message: \"no params\"}}").count == 2)
    }
}
