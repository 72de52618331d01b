import RunbookKit
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
