import Foundation
import RunbookKit
import Testing

/// retry / until / timeout.
@Suite("Engine: retry, until, timeout")
struct EngineRetryTests {
    @Test("retry: fails twice then succeeds on the third of five tries", arguments: [1.0, 2.0])
    func retrySucceedsEventually(backoff: Double) async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: flaky
            action: test.count
            with: {key: flaky, fail_times: 2}
            retry: {attempts: 5, delay: 10ms, backoff: \(backoff)}
            rollback: none
        """)
        let reporter = RecordingReporter()
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        let elapsed = clock.now - start
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["flaky"])
        #expect(await h.probe.count("flaky") == 3)
        #expect(reporter.finished("flaky")?.outputs["count"] == .int(3))
        let failedTries = reporter.events.compactMap { e -> Int? in
            if case .attemptFailed(_, let n, _) = e { return n }
            return nil
        }
        #expect(failedTries == [1, 2])
        // Two delays happened: 10ms + 10ms·backoff at least (a lower bound only).
        #expect(elapsed >= .milliseconds(Int(10 + 10 * backoff)))
    }

    @Test("retry exhausted: failed with '(after N attempts)' and the last error")
    func retryExhausted() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: flaky
            action: test.count
            with: {key: flaky, fail_times: 10}
            retry: {attempts: 3, delay: 10ms}
            rollback: none
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["flaky"])
        #expect(await h.probe.count("flaky") == 3)
        #expect(reporter.finished("flaky")?.error == "try 3 of 'flaky' failed (after 3 attempts)")
        // The failed try's outputs are still recorded.
        #expect(reporter.finished("flaky")?.outputs["count"] == .int(3))
    }

    @Test("until holds on the third try: succeeded, no further tries")
    func untilHoldsOnThird() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: poll
            action: test.count_idempotent
            with: {key: poll}
            retry: {attempts: 5, delay: 10ms}
            until: "${{ steps.poll.outputs.count >= 3 }}"
            rollback: none
          - id: after
            action: test.echo
            with: {value: "${{ steps.poll.outputs.count }}"}
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == ["poll", "after"])
        #expect(await h.probe.count("poll") == 3)
        #expect(reporter.finished("after")?.outputs["value"] == .int(3))
    }

    @Test("until never holds: failed '(after N attempts)'")
    func untilNeverHolds() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: poll
            action: test.count_idempotent
            with: {key: poll}
            retry: {attempts: 4, delay: 10ms, backoff: 1.5}
            until: "${{ steps.poll.outputs.count > 100 }}"
            rollback: none
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["poll"])
        #expect(await h.probe.count("poll") == 4)
        // With the value it read on the last try.
        #expect(reporter.finished("poll")?.error
                == "until ${{ steps.poll.outputs.count > 100 }} did not hold (steps.poll.outputs.count = 4) (after 4 attempts)")
    }

    @Test("until that errors on a try is reported as an until error (after N attempts)")
    func untilErrors() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: poll
            action: test.read
            retry: {attempts: 2, delay: 10ms}
            until: "${{ steps.poll.outputs.value > 1 }}"
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.failed == ["poll"])
        let error = try #require(reporter.finished("poll")?.error)
        #expect(error.hasPrefix("until: "), "\(error)")
        #expect(error.contains("is null") && error.hasSuffix("(after 2 attempts)"), "\(error)")
    }

    @Test("the final until message is about the last try, not an error from an earlier one")
    func untilMessageIsFromLastTry() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        // Try 1: count == 1, so `value > 0` reads null → error. Try 2: short-circuits to false.
        let rb = try EngineHarness.runbook("""
        steps:
          - id: poll
            action: test.count_idempotent
            with: {key: poll}
            retry: {attempts: 2, delay: 10ms}
            until: "${{ (steps.poll.outputs.count == 1 && steps.poll.outputs.value > 0) || false }}"
            rollback: none
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.failed == ["poll"])
        let messages = reporter.events.compactMap { e -> String? in
            if case .attemptFailed(_, _, let m) = e { return m }
            return nil
        }
        #expect(messages.count == 2)
        #expect(messages.first?.hasPrefix("until: ") == true)
        #expect(messages.last?.hasSuffix("did not hold (steps.poll.outputs.count = 2, steps.poll.outputs.value = null)") == true,
                "\(messages)")
        #expect(reporter.finished("poll")?.error?.hasSuffix("(after 2 attempts)") == true)
    }

    @Test("a step timeout of 100ms on a 120s sleep fails 'timed out after 100ms' without hanging")
    func stepTimeout() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: slow
            action: test.sleep
            with: {duration: 120s}
            timeout: 100ms
        rollback:
          - id: after_timeout
            action: test.echo
        """)
        let reporter = RecordingReporter()
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(clock.now - start < .seconds(60), "the timeout must cancel the sleep")
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["slow"])
        #expect(outcome.rolledBack == ["after_timeout"])
        #expect(reporter.finished("slow")?.error == "timed out after 100ms")
    }

    @Test("timeouts apply per try: every try times out, then '(after N attempts)'")
    func timeoutPerTry() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: slow
            action: test.sleep
            with: {duration: 120s, key: slow}
            timeout: 50ms
            retry: {attempts: 2, delay: 10ms}
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(), reporter: reporter)
        #expect(outcome.failed == ["slow"])
        #expect(await h.probe.count("slow") == 2)
        #expect(reporter.finished("slow")?.error == "timed out after 50ms (after 2 attempts)")
    }
}
