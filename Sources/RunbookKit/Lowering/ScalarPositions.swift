// Where each character of a scalar's value was written, for scalars whose value is not a plain
// copy of one source line: quoted scalars with escapes (`\t`, `\u00e9`, `''`), scalars that
// span lines (folded into spaces and line breaks), and block scalars (indentation removed,
// `>` folding, indentation indicators).

/// Builds `TemplatePositions` by walking a scalar's source text beside its value.
///
/// The walk pairs each character of the value with the source character it came from; a new
/// segment starts wherever that pairing jumps (after an escape, at a folded line break, at a
/// block scalar's next line). Characters that an escape produces map to the escape's `\`.
/// If the two ever disagree (a case the walk does not model), it gives up and the caller keeps
/// the scalar's start: never a wrong line past the scalar.
enum ScalarPositions {
    private struct Raw {
        var scalar: Unicode.Scalar
        var line: Int
        var column: Int
        /// A line break between two source lines (its `scalar` is "\n").
        var isBreak = false
    }

    /// Positions for `text`, the value of a scalar of `style` written from `start` to `end`
    /// (exclusive) in `source`; nil when the simple mapping (content start + offset) is exact
    /// or when the walk cannot follow the scalar.
    static func positions(text: String, style: YAMLNode.ScalarStyle, start: SourceLocation, end: SourceLocation,
                          source: SourceText) -> TemplatePositions? {
        switch style {
        case .plain, .singleQuoted, .doubleQuoted:
            let quote = style == .plain ? 0 : 1
            if start.line == end.line {
                // One line: exact unless an escape or `''` made the value shorter than the source.
                if style == .plain { return nil }
                // Only a `\` (double quotes) or a `'` (single quotes, always doubled inside)
                // changes the value's length: one memchr over the source decides most scalars.
                let bytes = source.contents
                if start.offset >= 0, end.offset > start.offset, end.offset <= bytes.count {
                    let escaped = bytes.withUnsafeBufferPointer { buffer in
                        let inner = UnsafeBufferPointer(rebasing: buffer[(start.offset + 1)..<max(start.offset + 1, end.offset - 1)])
                        return ByteSearch.firstOffset(of: style == .doubleQuoted ? "\\" : "'", in: inner) != nil
                    }
                    if !escaped { return nil }
                } else if end.column - start.column - 2 == text.unicodeScalars.count {
                    return nil
                }
            }
            return flow(text: text, style: style, start: start, end: end, quote: quote, source: source)
        case .literal, .folded:
            return block(text: text, folded: style == .folded, start: start, end: end, source: source)
        }
    }

    /// Where a scalar's own text starts when `start` (libyaml's start of the node) is at its
    /// properties, `&anchor` or `!tag`: past them and the spaces after them on the same line.
    /// nil when there are none, or when the scalar starts on a later line.
    static func startAfterProperties(_ start: SourceLocation, source: SourceText) -> SourceLocation? {
        let bytes = source.contents
        var o = start.offset
        guard o >= 0, o < bytes.count, bytes[o] == UInt8(ascii: "&") || bytes[o] == UInt8(ascii: "!") else { return nil }
        var column = start.column
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        func isBreak(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D }
        while o < bytes.count, bytes[o] == UInt8(ascii: "&") || bytes[o] == UInt8(ascii: "!") {
            while o < bytes.count, !isBlank(bytes[o]), !isBreak(bytes[o]) {
                if bytes[o] & 0xC0 != 0x80 { column += 1 }  // one column per character
                o += 1
            }
            while o < bytes.count, isBlank(bytes[o]) {
                column += 1
                o += 1
            }
        }
        guard o < bytes.count, !isBreak(bytes[o]) else { return nil }
        return start.moved(toLine: start.line, column: column, offset: o)
    }

    // MARK: flow scalars (plain, single- and double-quoted)

    private static func flow(text: String, style: YAMLNode.ScalarStyle, start: SourceLocation, end: SourceLocation,
                             quote: Int, source: SourceText) -> TemplatePositions? {
        var raw: [Raw] = []
        for line in start.line...end.line {
            guard let scalars = source.line(line).map({ Array($0.unicodeScalars) }) else { return nil }
            let from = line == start.line ? start.column - 1 + quote : 0
            let to = line == end.line ? min(scalars.count, end.column - 1 - quote) : scalars.count
            if line > start.line { raw.append(Raw(scalar: "\n", line: line - 1, column: 0, isBreak: true)) }
            guard from <= to else { continue }
            for i in from..<to { raw.append(Raw(scalar: scalars[i], line: line, column: i + 1)) }
        }
        let value = Array(text.unicodeScalars)
        var builder = SegmentBuilder(start: start)
        var r = 0, c = 0
        while c < value.count, r < raw.count {
            let here = raw[r]
            if style == .doubleQuoted, here.scalar == "\\", r + 1 < raw.count {
                if raw[r + 1].isBreak {
                    // An escaped line break joins the lines with nothing; the next line's indentation goes.
                    r += 2
                    while r < raw.count, !raw[r].isBreak, raw[r].scalar == " " || raw[r].scalar == "\t" { r += 1 }
                    continue
                }
                builder.map(c, to: here)
                c += 1
                switch raw[r + 1].scalar {
                case "x": r += 4
                case "u": r += 6
                case "U": r += 10
                default: r += 2
                }
                continue
            }
            if style == .singleQuoted, here.scalar == "'", r + 1 < raw.count, raw[r + 1].scalar == "'" {
                builder.map(c, to: here)
                c += 1
                r += 2
                continue
            }
            if here.isBreak || here.scalar == " " || here.scalar == "\t" {
                // Whitespace around line breaks folds: one break is a space, n breaks are n-1 line breaks.
                var k = r, breaks = 0
                while k < raw.count, raw[k].isBreak || raw[k].scalar == " " || raw[k].scalar == "\t" {
                    if raw[k].isBreak { breaks += 1 }
                    k += 1
                }
                if breaks > 0 {
                    c += breaks == 1 ? 1 : breaks - 1
                    r = k
                    continue
                }
            }
            guard value[c] == here.scalar else { return nil }
            builder.map(c, to: here)
            c += 1
            r += 1
        }
        return builder.positions
    }

    // MARK: block scalars (| and >)

    private static func block(text: String, folded: Bool, start: SourceLocation, end: SourceLocation,
                              source: SourceText) -> TemplatePositions? {
        // Content lines follow the header line (`|`, `>-`, `|2`...) and end before `end`'s line,
        // or on it when the scalar ends mid-line (the end of the file).
        let lastLine = end.column > 1 ? end.line : end.line - 1
        guard lastLine > start.line else { return nil }
        var lines: [[Unicode.Scalar]] = []
        for n in (start.line + 1)...lastLine {
            guard let line = source.line(n) else { break }
            lines.append(Array(line.unicodeScalars))
        }
        let value = Array(text.unicodeScalars)
        // The block's indentation is not in the value: an indentation indicator (`|2`, `>1-`)
        // sets it below the first line's. Try the first non-blank line's indentation and less
        // until the lines line up with the value.
        guard let first = lines.first(where: { $0.contains { $0 != " " } }) else { return nil }
        for indent in stride(from: first.prefix(while: { $0 == " " }).count, through: 0, by: -1) {
            if let positions = block(value: value, lines: lines, indent: indent, folded: folded, start: start) {
                return positions
            }
        }
        return nil
    }

    /// `block` with a given indentation; nil when the lines do not line up with the value.
    private static func block(value: [Unicode.Scalar], lines: [[Unicode.Scalar]], indent: Int, folded: Bool,
                              start: SourceLocation) -> TemplatePositions? {
        var builder = SegmentBuilder(start: start)
        var c = 0
        var previousMoreIndented = false
        var pendingBreaks = 0
        var sawContent = false
        for (n, line) in lines.enumerated() {
            let lineNumber = start.line + 1 + n
            let content = line.count > indent ? Array(line[indent...]) : []
            if content.isEmpty {
                pendingBreaks += 1
                continue
            }
            let moreIndented = content.first == " " || content.first == "\t"
            if sawContent {
                let breaks = pendingBreaks + 1
                if folded && !moreIndented && !previousMoreIndented {
                    c += breaks == 1 ? 1 : breaks - 1
                } else {
                    c += breaks
                }
            } else {
                c += pendingBreaks
            }
            pendingBreaks = 0
            sawContent = true
            previousMoreIndented = moreIndented
            guard c + content.count <= value.count, Array(value[c..<(c + content.count)]) == content else { return nil }
            builder.map(c, to: Raw(scalar: content[0], line: lineNumber, column: indent + 1))
            c += content.count
        }
        return builder.positions
    }

    /// Collects the points where the value-to-source mapping jumps.
    private struct SegmentBuilder {
        let start: SourceLocation
        var offsets: [Int] = []
        var locations: [SourceLocation] = []
        private var last: (offset: Int, line: Int, column: Int)?

        init(start: SourceLocation) { self.start = start }

        mutating func map(_ offset: Int, to raw: Raw) {
            if let last, last.line == raw.line, last.column + (offset - last.offset) == raw.column { return }
            last = (offset, raw.line, raw.column)
            offsets.append(offset)
            locations.append(start.moved(toLine: raw.line, column: raw.column))
        }

        var positions: TemplatePositions? {
            guard let first = locations.first else { return nil }
            return TemplatePositions(contentStart: first, lineStarts: locations, lineOffsets: offsets)
        }
    }
}
