@testable import RunbookKit
import RunbookActions
import Testing

@Suite struct TerminalTextTests {
    @Test(arguments: [
        ("plain text, émoji 🚨 and 日本語", "plain text, émoji 🚨 and 日本語"),
        ("a\rb", #"a\rb"#),
        ("tab\there", #"tab\there"#),
        ("esc \u{1B}[2J", #"esc \u{1B}[2J"#),
        ("bell\u{7} del\u{7F} c1\u{9B}", #"bell\u{7} del\u{7F} c1\u{9B}"#),
        ("rlo\u{202E}txt lri\u{2066}", #"rlo\u{202E}txt lri\u{2066}"#),
        ("two\nlines", #"two\nlines"#),
    ])
    func escapesControls(input: String, expected: String) {
        #expect(TerminalText.escaped(input) == expected)
    }

    @Test func keepsLineBreaksWhenAsked() {
        #expect(TerminalText.escaped("one\ntwo\r\n", keepingNewlines: true) == "one\ntwo\\r\n")
    }
}

@Suite struct CaretWidthTests {
    @Test func caretLandsUnderTheColumnPastWideCharacters() throws {
        let text = """
        version: 1
        id: wide
        title: t
        severity: sev4
        automation: automatic
        steps:
          - id: s
            action: log
            with: {message: "🔥😀 é 日本 ${{ params.nope }}"}

        """
        let linted = Linter(catalog: BuiltinActions.catalog).lint(bytes: Array(text.utf8), file: "wide.yaml")
        let out = DiagnosticRenderer(format: .text).render([linted])
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let source = try #require(lines.firstIndex { $0.contains("params.nope") })
        // Two cells for each emoji and CJK character, none for the combining accent: the caret
        // sits under the 'n' of 'nope' on a terminal.
        let caretCells = lines[source + 1].firstIndex(of: "^").map { lines[source + 1].distance(from: lines[source + 1].startIndex, to: $0) }
        let nopeStart = try #require(lines[source].range(of: "nope"))
        let cellsBefore = lines[source][..<nopeStart.lowerBound].unicodeScalars.reduce(0) { $0 + DiagnosticRenderer.cells($1) }
        #expect(caretCells == cellsBefore)
        #expect(DiagnosticRenderer.cells("日") == 2 && DiagnosticRenderer.cells("🔥") == 2)
        #expect(DiagnosticRenderer.cells("\u{301}") == 0 && DiagnosticRenderer.cells("a") == 1)
    }
}
