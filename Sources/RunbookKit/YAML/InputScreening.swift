// Checks made on the raw bytes before libyaml sees them: size, byte order marks, NUL
// bytes, UTF-8 validity and tabs in indentation. Doing them here gives exact positions
// and clear messages where libyaml would report a reader error without a line, or a
// confusing scanner error.

/// A tab in the leading whitespace of a line. Whether it is an error depends on the parse:
/// inside a multi-line scalar (block scalar, quoted string, plain continuation) it is
/// content, not indentation. Blank and comment-only lines count too: libyaml rejects a tab
/// there as well (after a plain scalar), so the rule is simply "no tabs in indentation".
struct TabSite: Sendable {
    var location: SourceLocation
}

/// The outcome of screening: where the YAML text starts, what was found, and whether
/// parsing can go on.
struct ScreenedInput: Sendable {
    /// The first byte handed to libyaml (3 after a UTF-8 byte order mark, else 0).
    var bodyStart = 0
    var diagnostics: [Diagnostic] = []
    /// Set when the bytes cannot be parsed at all.
    var fatal: Diagnostic?
    var tabSites: [TabSite] = []
    /// The position just past the last byte (line and column as libyaml counts them), once
    /// the whole text was scanned.
    var endOfInput: SourceLocation?
}

enum InputScreening {
    static func screen(_ bytes: [UInt8], file: String, limits: YAMLLimits) -> ScreenedInput {
        var result = ScreenedInput()
        let start = SourceLocation(file: file, line: 1, column: 1, offset: 0)

        if bytes.count > limits.maxFileBytes {
            result.fatal = .error("file-too-large",
                                  "file is \(bytes.count) bytes, over the limit of \(limits.maxFileBytes) bytes",
                                  at: start)
            return result
        }

        if bytes.starts(with: [0xFF, 0xFE, 0x00, 0x00]) || bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) {
            result.fatal = .error("invalid-utf8",
                                  "file starts with a utf-32 byte order mark; runbook files must be utf-8 encoded",
                                  at: start)
            return result
        }
        if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
            result.fatal = .error("invalid-utf8",
                                  "file starts with a utf-16 byte order mark; runbook files must be utf-8 encoded",
                                  at: start)
            return result
        }
        // A UTF-8 byte order mark is harmless: libyaml would skip it too. It is a warning
        // (not an error) so the file still lints clean of errors, and we parse on after it.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            result.bodyStart = 3
            result.diagnostics.append(.warning("byte-order-mark",
                                               "file starts with a utf-8 byte order mark; remove it",
                                               at: start))
        }

        if let nul = firstNUL(bytes) {
            result.fatal = .error("binary-file",
                                  "file contains a NUL byte; it looks like a binary file, not YAML",
                                  at: LineBreaks.location(ofByte: nul, in: bytes, from: result.bodyStart, file: file))
            return result
        }

        bytes.withUnsafeBufferPointer { scanLines($0, file: file, into: &result) }
        return result
    }

    /// The offset of the first NUL byte (memchr: this runs over every file's every byte).
    private static func firstNUL(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { ByteSearch.firstOffset(of: "\0", in: $0) }
    }

    /// One pass over the text: validates UTF-8 and collects tab sites, counting lines and
    /// columns as it goes.
    private static func scanLines(_ buffer: UnsafeBufferPointer<UInt8>, file: String, into result: inout ScreenedInput) {
        var line = 1
        var column = 1
        var i = result.bodyStart
        var inLeadingWhitespace = true
        var firstTab: SourceLocation?
        let count = buffer.count

        while i < count {
            let b = buffer[i]
            // Fast path: past the indentation, a run of ASCII other than CR and LF is one
            // column per byte with nothing to check (most of every runbook).
            if !inLeadingWhitespace, b < 0x80, b != 0x0A, b != 0x0D {
                let j = LineBreaks.endOfPlainASCII(in: buffer, from: i + 1, to: count)
                column += j - i
                i = j
                continue
            }
            if b >= 0x80, let name = unicodeLineBreak(buffer, at: i) {
                // libyaml ends a line here, editors, grep, git and GitHub do not: every position
                // after it would be a line off (and a comment could end early). Refused, at the
                // line every tool agrees on.
                result.fatal = .error("unicode-line-break",
                                      "\(name) is a line break to YAML 1.1 parsers such as libyaml, but not to editors or "
                                        + "YAML 1.2; remove it, or write it as an escape in a double-quoted string",
                                      at: SourceLocation(file: file, line: line, column: column, offset: i))
                return
            }
            let breakLength = LineBreaks.length(in: buffer, at: i)
            if breakLength > 0 {
                if inLeadingWhitespace, let tab = firstTab {
                    result.tabSites.append(TabSite(location: tab))
                }
                line += 1
                column = 1
                i += breakLength
                inLeadingWhitespace = true
                firstTab = nil
                continue
            }
            let width = utf8SequenceLength(buffer, at: i)
            if width == 0 {
                let hex = String(b, radix: 16)
                let message = b >= 0xC2 && b <= 0xF4
                    ? "invalid utf-8 sequence starting with byte 0x\(hex); runbook files must be utf-8 encoded"
                    : "invalid utf-8 byte 0x\(hex); runbook files must be utf-8 encoded"
                result.fatal = .error("invalid-utf8", message,
                                      at: SourceLocation(file: file, line: line, column: column, offset: i))
                return
            }
            if inLeadingWhitespace {
                if b == 0x09 {
                    if firstTab == nil {
                        firstTab = SourceLocation(file: file, line: line, column: column, offset: i)
                    }
                } else if b != 0x20 {
                    inLeadingWhitespace = false
                    if let tab = firstTab {
                        result.tabSites.append(TabSite(location: tab))
                    }
                }
            }
            i += width
            column += 1
        }
        if inLeadingWhitespace, let tab = firstTab {
            result.tabSites.append(TabSite(location: tab))
        }
        result.endOfInput = SourceLocation(file: file, line: line, column: column, offset: count)
    }

    /// `U+2028 (line separator)` when one of NEL, LS or PS starts at `i`: the line breaks of
    /// `LineBreaks` that are not ASCII.
    @inline(__always)
    private static func unicodeLineBreak(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> String? {
        switch LineBreaks.length(in: bytes, at: i) {
        case 2 where bytes[i] == 0xC2: return "U+0085 (next line)"
        case 3: return bytes[i + 2] == 0xA8 ? "U+2028 (line separator)" : "U+2029 (paragraph separator)"
        default: return nil
        }
    }

    /// The length of the well-formed UTF-8 sequence at `i`, or 0 when it is malformed
    /// (overlong forms, surrogates and code points past U+10FFFF included).
    @inline(__always)
    private static func utf8SequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let b0 = bytes[i]
        if b0 < 0x80 { return 1 }
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + k < bytes.count && range.contains(bytes[i + k])
        }
        switch b0 {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : 0
        case 0xE0:
            return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : 0
        case 0xED:
            return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0:
            return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4:
            return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }
}
