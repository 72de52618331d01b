import Testing
@testable import RunbookKit

/// Durations of any size a runbook can spell are shown and slept on without trapping.
@Suite("Duration limits")
struct DurationLimitTests {
    @Test("description", arguments: [(Double, String)]([
        (Double(0), "0s"), (0.25, "250ms"), (90, "1m30s"), (5400, "1h30m"), (86400 * 3, "3d"),
        (RunbookDuration.longest, "36500d"), (1e12, "more than 36500d"), (1e30, "more than 36500d"),
        (Double.infinity, "an unbounded time"), (-5, "0s"),
        // Milliseconds are kept: 1.5s is not 2s, and the text parses back to the same value.
        (1.5, "1s500ms"), (90.5, "1m30s500ms"), (60.4, "1m400ms"),
    ]))
    func description(seconds: Double, text: String) {
        #expect(RunbookDuration(seconds: seconds).description == text)
    }

    @Test("sleeps and deadlines clamp to a hundred years instead of trapping")
    func clamps() {
        #expect(RunbookDuration.nanoseconds(1.5) == 1_500_000_000)
        #expect(RunbookDuration.milliseconds(1.5) == 1500)
        #expect(RunbookDuration.nanoseconds(-1) == 0)
        #expect(RunbookDuration.nanoseconds(.nan) == 0)
        let longest = UInt64(RunbookDuration.longest * 1_000_000_000)
        #expect(RunbookDuration.nanoseconds(1e30) == longest)
        #expect(RunbookDuration.nanoseconds(.infinity) == longest)
        #expect(RunbookDuration.milliseconds(8.64e18) == Int64(RunbookDuration.longest * 1000))
        // Twenty-nine delays growing tenfold: far past Int64 nanoseconds.
        let retry = Retry(attempts: Located(30, at: SourceLocation(file: "f", line: 1, column: 1)),
                          delay: Located(RunbookDuration(seconds: 1), at: SourceLocation(file: "f", line: 1, column: 1)),
                          backoff: Located(10, at: SourceLocation(file: "f", line: 1, column: 1)),
                          location: SourceLocation(file: "f", line: 1, column: 1))
        #expect(retry.totalDelay > 1e28)
        #expect(RunbookDuration.nanoseconds(retry.delay(beforeAttempt: 30)) == longest)
    }
}
