// Splits expression text into tokens. Works on Unicode scalars so offsets match `SourceLocation` columns.

/// One token of expression text.
struct ExpressionToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        case integer(Int)
        case decimal(Double)
        case string(String)
        /// Punctuation and operators: `( ) [ ] , . ! != == < <= > >= + - * / && ||`.
        case symbol(String)
        case end
    }

    var kind: Kind
    var range: Range<Int>

    /// How the token is named in messages.
    func describe(in scalars: [Unicode.Scalar]) -> String {
        switch kind {
        case .end: return "end of expression"
        case .string: return "a string"
        default:
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return "'\(String(view))'"
        }
    }
}

/// Turns expression text into tokens; the first lexical error stops it.
enum ExpressionLexer {
    static func tokenize(_ s: [Unicode.Scalar]) -> Result<[ExpressionToken], ExpressionParser.Failure> {
        var tokens: [ExpressionToken] = []
        // Room for a token every few characters (names, dots, operators): one allocation for a
        // typical expression instead of growing through 1, 2, 4, 8, 16.
        tokens.reserveCapacity(s.count / 3 + 2)
        var i = 0
        func fail(_ message: String, _ offset: Int) -> Result<[ExpressionToken], ExpressionParser.Failure> {
            .failure(ExpressionParser.Failure(message, at: offset))
        }
        while i < s.count {
            let c = s[i]
            if c.value < 0x80 ? (c == " " || (c.value >= 0x09 && c.value <= 0x0D)) : c.properties.isWhitespace {
                i += 1
                continue
            }
            let start = i
            if isIdentifierStart(c) {
                while i < s.count, isIdentifierPart(s[i]) { i += 1 }
                tokens.append(ExpressionToken(kind: .identifier(text(s, start..<i)), range: start..<i))
                continue
            }
            if isDigit(c) {
                while i < s.count, isDigit(s[i]) { i += 1 }
                var isDecimal = false
                if i < s.count, s[i] == "." {
                    // `1.foo` is not a number with a member: numbers have no fields, so it is malformed.
                    i += 1
                    guard i < s.count, isDigit(s[i]) else {
                        return fail("malformed number '\(text(s, start..<i))': expected digits after '.'", start)
                    }
                    while i < s.count, isDigit(s[i]) { i += 1 }
                    isDecimal = true
                }
                if i < s.count, s[i] == "e" || s[i] == "E" {
                    i += 1
                    if i < s.count, s[i] == "+" || s[i] == "-" { i += 1 }
                    guard i < s.count, isDigit(s[i]) else {
                        return fail("malformed number '\(text(s, start..<i))': expected digits in the exponent", start)
                    }
                    while i < s.count, isDigit(s[i]) { i += 1 }
                    isDecimal = true
                }
                if i < s.count, isIdentifierStart(s[i]) {
                    while i < s.count, isIdentifierPart(s[i]) { i += 1 }
                    return fail("malformed number '\(text(s, start..<i))'", start)
                }
                let literal = text(s, start..<i)
                if isDecimal {
                    guard let d = Double(literal), d.isFinite else {
                        return fail("number '\(literal)' is out of range", start)
                    }
                    tokens.append(ExpressionToken(kind: .decimal(d), range: start..<i))
                } else {
                    guard let n = Int(literal) else {
                        return fail("integer '\(literal)' is too large (the limit is \(Int.max))", start)
                    }
                    tokens.append(ExpressionToken(kind: .integer(n), range: start..<i))
                }
                continue
            }
            if c == "'" {
                var value = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < s.count {
                    if s[i] == "'" {
                        // '' inside a string is one quote, as in YAML single-quoted scalars.
                        if i + 1 < s.count, s[i + 1] == "'" {
                            value.append("'")
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    value.append(s[i])
                    i += 1
                }
                guard closed else { return fail("unterminated string: missing closing '", start) }
                tokens.append(ExpressionToken(kind: .string(String(value)), range: start..<i))
                continue
            }
            if c == "\"" {
                return fail("strings are written in single quotes: 'text' (a quote inside is doubled: '')", start)
            }
            if i + 1 < s.count, let two = twoScalarSymbol(c, s[i + 1]) {
                tokens.append(ExpressionToken(kind: .symbol(two), range: start..<start + 2))
                i += 2
                continue
            }
            switch c {
            case "(", ")", "[", "]", ",", ".", "!", "<", ">", "+", "-", "*", "/":
                tokens.append(ExpressionToken(kind: .symbol(String(c)), range: start..<start + 1))
                i += 1
            case "=":
                return fail("unexpected '='; use '==' to compare", start)
            case "&":
                return fail("unexpected '&'; use '&&' for and", start)
            case "|":
                return fail("unexpected '|'; use '||' for or", start)
            case "$" where i + 2 < s.count && s[i + 1] == "{" && s[i + 2] == "{":
                return fail(nestedOpenerMessage, start)
            default:
                let shown = c.properties.isWhitespace || c.value < 0x20 ? "U+\(String(c.value, radix: 16, uppercase: true))"
                    : String(Character(c))
                return fail("unexpected character '\(shown)'", start)
            }
        }
        tokens.append(ExpressionToken(kind: .end, range: s.count..<s.count))
        return .success(tokens)
    }

    /// A `${{` inside an expression (outside a string literal).
    static let nestedOpenerMessage = "unexpected '${{' inside an expression: expressions do not nest; "
        + "read a value directly ('params.x', not '${{ params.x }}')"

    /// `==`, `!=`, `<=`, `>=`, `&&` or `||` when `first` and `second` spell one, else nil.
    static func twoScalarSymbol(_ first: Unicode.Scalar, _ second: Unicode.Scalar) -> String? {
        switch (first, second) {
        case ("=", "="): "=="
        case ("!", "="): "!="
        case ("<", "="): "<="
        case (">", "="): ">="
        case ("&", "&"): "&&"
        case ("|", "|"): "||"
        default: nil
        }
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }
    static func isIdentifierPart(_ c: Unicode.Scalar) -> Bool { isIdentifierStart(c) || isDigit(c) }

    /// `Array(text.unicodeScalars)`, without decoding when the text is ASCII (nearly every
    /// template): one pass to check, one to widen the bytes.
    static func scalars(of text: String) -> [Unicode.Scalar] {
        var text = text
        let ascii: [Unicode.Scalar]? = text.withUTF8 { bytes in
            for byte in bytes where byte >= 0x80 { return nil }
            return [Unicode.Scalar](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                for (n, byte) in bytes.enumerated() { buffer[n] = Unicode.Scalar(byte) }
                count = bytes.count
            }
        }
        return ascii ?? Array(text.unicodeScalars)
    }

    static func text(_ s: [Unicode.Scalar], _ range: Range<Int>) -> String {
        // Encoded to UTF-8 by hand: `UnicodeScalarView.append(contentsOf:)` runs unspecialized
        // generic code per scalar, which made this a tenth of lint's time.
        // Into a stack buffer (at most 4 bytes a scalar), not a heap array: this runs for every
        // name and text piece of every template.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: range.count * 4) { buffer in
            var n = 0
            for c in s[range] {
                if c.value < 0x80 {
                    buffer[n] = UInt8(truncatingIfNeeded: c.value)
                    n += 1
                } else {
                    for byte in UTF8.encode(c)! {
                        buffer[n] = byte
                        n += 1
                    }
                }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<n]), as: UTF8.self)
        }
    }
}
