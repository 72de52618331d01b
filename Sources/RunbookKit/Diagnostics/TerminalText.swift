/// Text from a runbook (titles, step names, messages, arguments, error texts) made safe to print
/// on a terminal: a carriage return, an escape sequence or a bidirectional override in a value
/// could otherwise overwrite or reorder what the on-call reads (`name: "\r 1. wipe [log]"`
/// hiding a step's real action). Control characters (C0, DEL, C1) are shown as `\r`, `\t`,
/// `\u{1B}`, as lint's text output shows them; so are the Unicode bidi controls
/// (U+202A–U+202E, U+2066–U+2069).
public enum TerminalText {
    /// `text` with every control character escaped; with `keepingNewlines`, `\n` stays a line
    /// break (for multi-line messages the caller indents); with `keepingTabs`, a tab stays one
    /// (Markdown code blocks).
    public static func escaped(_ text: String, keepingNewlines: Bool = false, keepingTabs: Bool = false) -> String {
        func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
            !(keepingTabs && scalar == "\t") && Self.needsEscape(scalar, keepingNewlines)
        }
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                out += DiagnosticRenderer.escape(scalar) ?? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar, _ keepingNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x0A: return !keepingNewlines
        case 0x00..<0x20, 0x7F..<0xA0, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
