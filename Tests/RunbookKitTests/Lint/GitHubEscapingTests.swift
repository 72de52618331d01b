import Testing
@testable import RunbookKit

/// GitHub workflow commands: GitHub's own escaping, and no control character reaches the CI log raw.
@Suite("GitHub annotation escaping")
struct GitHubEscapingTests {
    @Test("messages: % CR LF percent-encoded, other controls as in --format text", arguments: [
        ("plain text", "plain text"),
        ("100%\r\nnext", "100%25%0D%0Anext"),
        ("a: b, c", "a: b, c"),
        ("esc \u{1B}[31mred", "esc \\u{1B}[31mred"),
        ("csi \u{9B}1m, nel \u{85}, del \u{7F}, bell \u{7}, nul \u{0}", "csi \\u{9B}1m, nel \\u{85}, del \\u{7F}, bell \\u{7}, nul \\u{0}"),
        ("tab\there", "tab\\there"),
        ("é ✓", "é ✓"),
    ])
    func message(_ text: String, _ expected: String) {
        #expect(DiagnosticRenderer.escapeData(text) == expected)
    }

    @Test("properties: also ':' and ','")
    func property() {
        #expect(DiagnosticRenderer.escapeProperty("c:\u{1B}x,%\n.yaml") == "c%3A\\u{1B}x%2C%25%0A.yaml")
    }

    @Test("a rendered annotation holds no control character but its final newline")
    func rendered() {
        let d = Diagnostic(.error, "invalid-id", "invalid step id 'a\u{1B}]0;pwned\u{7}'",
                           at: SourceLocation(file: "x\u{9B}.yaml", line: 3, column: 5))
        let out = DiagnosticRenderer(format: .github).render([LintedFile(path: "x\u{9B}.yaml", runbook: nil, diagnostics: [d], source: nil)])
        #expect(out == "::error file=x\\u{9B}.yaml,line=3,col=5,title=invalid-id::invalid step id 'a\\u{1B}]0;pwned\\u{7}' [invalid-id]\n")
    }
}
