import Foundation

/// When an unanswered question expires, for people: the local time (with its zone) and how far
/// away it is. Formatted with strftime, not a DateFormatter, which would load ICU for one line.
public enum QuestionExpiry {
    /// `2026-11-27 01:06:05 CET`: local time per `TZ` (or the system's zone), seconds included.
    public static func localTime(_ date: Date) -> String {
        tzset()
        var seconds = time_t(Int64(date.timeIntervalSince1970.rounded(.down)))
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { return Journal.timestamp(date) }
        var buffer = [CChar](repeating: 0, count: 80)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S %Z", &parts)
        guard count > 0 else { return Journal.timestamp(date) }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `in 4m`, `in 59s`, `3m ago`, to the second.
    public static func relative(_ date: Date, now: Date = Date()) -> String {
        let seconds = date.timeIntervalSince(now).rounded()
        if seconds >= 1 { return "in \(RunbookDuration(seconds: seconds))" }
        if seconds <= -1 { return "\(RunbookDuration(seconds: -seconds)) ago" }
        return "now"
    }

    /// Whether the question has expired at `now`.
    public static func hasExpired(_ date: Date, now: Date = Date()) -> Bool { now >= date }

    /// `expires at 2026-11-27 01:06:05 CET (in 4m)`, or once past, `expired at … (3m ago)`.
    public static func describe(_ date: Date, now: Date = Date()) -> String {
        "\(hasExpired(date, now: now) ? "expired" : "expires") at \(localTime(date)) (\(relative(date, now: now)))"
    }
}
