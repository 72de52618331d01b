#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
        bytes.withUnsafeBufferPointer { buffer in
            var i = start
            while i < count {
                // Only LF, CR, 0xC2 (NEL) and 0xE2 (LS, PS) can start a line break.
                i = LineBreaks.endOfPlainASCII(in: buffer, from: i, to: count)
                guard i < count else { break }
                let b = buffer[i]
                if b != 0x0A, b != 0x0D, b != 0xC2, b != 0xE2 {
                    i += 1
                    continue
                }
                let breakLength = LineBreaks.length(in: buffer, at: i)
                if breakLength > 0 {
                    lineEnds.append(UInt32(i))
                    breakLengths.append(UInt8(breakLength))
                    i += breakLength
                } else {
                    i += 1
                }
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

    /// The byte offset in the file where line `n` (1-based) starts, or nil when there is no such line.
    func startOffset(ofLine n: Int) -> Int? { range(ofLine: n)?.lowerBound }

    /// Line `n` (1-based) without its line break, or nil when the file has no such line.
    /// Invalid UTF-8 is shown as U+FFFD.
    public func line(_ n: Int) -> String? {
        guard let range = range(ofLine: n) else { return nil }
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// The numbers (1-based, ascending) of the lines that contain `byte`, which must not be a
    /// line break byte: one memchr pass over the text instead of a look at every line.
    func lines(containing byte: UInt8) -> [Int] {
        var result: [Int] = []
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let end = Int(lineEnds[lineEnds.count - 1])
            var offset = firstLineStart
            var index = 0
            while offset < end, let hit = memchr(base + offset, Int32(byte), end - offset) {
                let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                while Int(lineEnds[index]) < at { index += 1 }
                result.append(index + 1)
                offset = Int(lineEnds[index])  // the rest of this line is already counted
            }
        }
        return result
    }

    /// The number of lines (a file ending in a line break has an empty last line).
    public var lineCount: Int { lineEnds.count }
}
