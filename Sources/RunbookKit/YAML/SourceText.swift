/// The text of a source file split into lines, for renderers that print the offending
/// line under a diagnostic.
///
/// Lines are split like libyaml splits them (CR LF, CR, LF, NEL, LS, PS), so line N here is
/// the line N of every `SourceLocation` the YAML front end reports. A UTF-8 byte order mark
/// is not part of line 1, as it is not counted in columns either.
public struct SourceText: Sendable {
    private let bytes: [UInt8]
    /// The file's bytes, as read.
    public var contents: [UInt8] { bytes }
    /// Where each line's content ends (the offset of its line break, or the end of the
    /// text): line n runs from the end of line n-1's break to `lineEnds[n-1]`. 32-bit
    /// offsets (the text is at most 4 GiB, see `init`) take a quarter of the memory of ranges,
    /// which for a 50 MB file with a million lines is tens of megabytes.
    private let lineEnds: [UInt32]
    /// The length of the line break after each line (0 for the last line).
    private let breakLengths: [UInt8]
    /// The first byte of line 1 (3 after a UTF-8 byte order mark).
    private let firstLineStart: Int

    /// Splits `bytes` into lines. Text over 4 GiB is cut at 4 GiB for display.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
        let count = min(bytes.count, Int(UInt32.max))
        var lineEnds: [UInt32] = []
        var breakLengths: [UInt8] = []
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var i = start
        while i < count {
            let breakLength = LineBreaks.length(in: bytes, at: i)
            if breakLength > 0 {
                lineEnds.append(UInt32(i))
                breakLengths.append(UInt8(breakLength))
                i += breakLength
            } else {
                i += 1
            }
        }
        lineEnds.append(UInt32(count))
        breakLengths.append(0)
        self.lineEnds = lineEnds
        self.breakLengths = breakLengths
        firstLineStart = min(start, count)
    }

    /// The byte range of line `n` (1-based) without its line break.
    private func range(ofLine n: Int) -> Range<Int>? {
        guard n >= 1, n <= lineEnds.count else { return nil }
        let start = n == 1 ? firstLineStart : Int(lineEnds[n - 2]) + Int(breakLengths[n - 2])
        return start..<Int(lineEnds[n - 1])
    }

    /// Line `n` (1-based) without its line break, or nil when the file has no such line.
    /// Invalid UTF-8 is shown as U+FFFD.
    public func line(_ n: Int) -> String? {
        guard let range = range(ofLine: n) else { return nil }
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// Whether line `n` (1-based) contains the byte `byte`, without making a String of it.
    func line(_ n: Int, contains byte: UInt8) -> Bool {
        guard let range = range(ofLine: n) else { return false }
        return bytes[range].contains(byte)
    }

    /// The number of lines (a file ending in a line break has an empty last line).
    public var lineCount: Int { lineEnds.count }
}
