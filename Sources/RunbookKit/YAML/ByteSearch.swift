#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finding a fixed byte string in text without making Strings: `memchr` to each candidate first
/// byte, `memcmp` for the rest. Lint asks this of every template (`Template.mentions`) and of
/// every comment line (suppressions).
enum ByteSearch {
    /// The offset of the first `needle` in `bytes` at or after `start`, or nil.
    static func firstOffset(of needle: StaticString, in bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard count > 0 else { return start <= bytes.count ? start : nil }
        guard let base = bytes.baseAddress, start >= 0, bytes.count - start >= count else { return nil }
        let pattern = UnsafeRawPointer(needle.utf8Start)
        let first = Int32(needle.utf8Start.pointee)
        var from = UnsafeRawPointer(base) + start
        // The last position where the whole needle still fits, plus one.
        let end = UnsafeRawPointer(base) + (bytes.count - count + 1)
        while from < end, let hit = memchr(from, first, end - from) {
            let candidate = UnsafeRawPointer(hit)
            if memcmp(candidate, pattern, count) == 0 { return candidate - UnsafeRawPointer(base) }
            from = candidate + 1
        }
        return nil
    }
}
