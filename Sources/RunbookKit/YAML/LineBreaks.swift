// The line model shared by every position the YAML front end computes itself.
//
// libyaml (a YAML 1.1 parser) counts CR LF, CR, LF, NEL (U+0085), LS (U+2028) and
// PS (U+2029) as line breaks. Positions we compute ourselves (bad bytes, tabs, reader
// errors) and `SourceText` use the same model, so every line number in a diagnostic
// refers to the same line a renderer prints.

enum LineBreaks {
    /// The length in bytes of the line break starting at `i`, or 0 when there is none.
    @inline(__always)
    static func length<C: RandomAccessCollection>(in bytes: C, at i: C.Index) -> Int
        where C.Element == UInt8, C.Index == Int {
        let b = bytes[i]
        switch b {
        case 0x0A: return 1
        case 0x0D:
            return i + 1 < bytes.endIndex && bytes[i + 1] == 0x0A ? 2 : 1
        case 0xC2:
            return i + 1 < bytes.endIndex && bytes[i + 1] == 0x85 ? 2 : 0
        case 0xE2:
            if i + 2 < bytes.endIndex, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 {
                return 3
            }
            return 0
        default: return 0
        }
    }

    /// Whether `b` starts a new column: anything but a UTF-8 continuation byte. Invalid
    /// bytes count as one column each, so positions stay sensible in broken files.
    @inline(__always)
    static func startsColumn(_ b: UInt8) -> Bool { b & 0xC0 != 0x80 }

    /// The 1-based line and column of byte `offset`, counting from `start` (the first byte
    /// after a byte order mark, which is not a column).
    static func location(ofByte offset: Int, in bytes: [UInt8], from start: Int, file: String) -> SourceLocation {
        var line = 1
        var column = 1
        var i = min(start, offset)
        let end = min(offset, bytes.count)
        while i < end {
            let breakLength = length(in: bytes, at: i)
            if breakLength > 0 {
                line += 1
                column = 1
                i += breakLength
                continue
            }
            i += 1
            while i < end, !startsColumn(bytes[i]) { i += 1 }
            column += 1
        }
        return SourceLocation(file: file, line: line, column: column, offset: offset)
    }
}
