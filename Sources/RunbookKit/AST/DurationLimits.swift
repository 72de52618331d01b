/// Conversions of a duration in seconds to the integer units that sleeps and deadlines take.
///
/// A runbook can spell a duration of any size (`99999999999999999999d`, or retry delays that
/// grow by `backoff` over thousands of attempts), and a plain `Int64(seconds * 1e9)` traps past
/// about 292 years. These clamp instead: anything longer than `longest` waits `longest`, which
/// for an incident is forever.
extension RunbookDuration {
    /// A hundred years, in seconds.
    public static let longest: Double = 100 * 365 * 86400

    /// `seconds` (negative and NaN read as zero, more than `longest` as `longest`).
    public static func clamped(_ seconds: Double) -> Double {
        guard seconds > 0 else { return 0 }
        return min(seconds, longest)
    }

    /// Whole nanoseconds of `clamped(seconds)`, for `Task.sleep(nanoseconds:)`.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        UInt64((clamped(seconds) * 1_000_000_000).rounded())
    }

    /// Whole milliseconds of `clamped(seconds)`, for `.milliseconds(_:)`.
    public static func milliseconds(_ seconds: Double) -> Int64 {
        Int64((clamped(seconds) * 1000).rounded())
    }
}
