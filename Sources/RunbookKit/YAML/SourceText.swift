/// The text of a source file split into lines, for renderers that print the offending
/// line under a diagnostic.
///
/// Lines are split like libyaml splits them (CR LF, CR, LF, NEL, LS, PS), so line N here is
/// the line N of every `SourceLocation` the YAML front end reports. A UTF-8 byte order mark
/// is not part of line 1, as it is not counted in columns either.
public struct SourceText: Sendable {
    private let bytes: [UInt8]
    /// Byte ranges of each line's content, without its line break.
    private let lines: [Range<Int>]

    /// Splits `bytes` into lines.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
        var lines: [Range<Int>] = []
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var i = start
        while i < bytes.count {
            let breakLength = LineBreaks.length(in: bytes, at: i)
            if breakLength > 0 {
                lines.append(start..<i)
                i += breakLength
                start = i
            } else {
                i += 1
            }
        }
        lines.append(start..<bytes.count)
        self.lines = lines
    }

    /// Line `n` (1-based) without its line break, or nil when the file has no such line.
    /// Invalid UTF-8 is shown as U+FFFD.
    public func line(_ n: Int) -> String? {
        guard n >= 1, n <= lines.count else { return nil }
        return String(decoding: bytes[lines[n - 1]], as: UTF8.self)
    }

    /// Whether line `n` (1-based) contains the byte `byte`, without making a String of it.
    func line(_ n: Int, contains byte: UInt8) -> Bool {
        guard n >= 1, n <= lines.count else { return false }
        return bytes[lines[n - 1]].contains(byte)
    }

    /// The number of lines (a file ending in a line break has an empty last line).
    public var lineCount: Int { lines.count }
}
