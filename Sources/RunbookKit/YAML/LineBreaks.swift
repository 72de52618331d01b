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

    /// The first index at or after `i` (at most `end`) whose byte is a CR, an LF or not ASCII:
    /// the end of a run of text where every byte is one column and none starts a line break.
    /// Eight bytes at a time: scanning the text for line breaks runs over every byte of every
    /// file, and most bytes are in such runs.
    @inline(__always)
    static func endOfPlainASCII(in bytes: UnsafeBufferPointer<UInt8>, from i: Int, to end: Int) -> Int {
        guard let base = bytes.baseAddress else { return i }
        let raw = UnsafeRawPointer(base)
        var j = i
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while end - j >= 8 {
            let word = raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            // A byte of `word ^ 0x0A…` is zero where the byte is LF (likewise CR); the classic
            // has-zero-byte test marks such bytes, and the high bit marks non-ASCII ones.
            let lf = word ^ (ones &* 0x0A), cr = word ^ (ones &* 0x0D)
            let marks = (word | ((lf &- ones) & ~lf) | ((cr &- ones) & ~cr)) & highs
            if marks != 0 { break }
            j += 8
        }
        while j < end {
            let b = bytes[j]
            if b >= 0x80 || b == 0x0A || b == 0x0D { return j }
            j += 1
        }
        return j
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
