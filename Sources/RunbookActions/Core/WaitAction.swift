// `wait`: sleep for `duration`. The engine makes it instant in dry-run; cancellation (a timeout or an
// interrupt) ends the sleep at once.
import RunbookKit

/// Runs `wait` on a clock (a test clock makes it instant).
public struct WaitAction: Action {
    /// The declaration this implements.
    public let descriptor = CoreActions.wait
    private let clock: any Clock<Duration>

    /// The action on the given clock (default: the continuous clock).
    public init(clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
    }

    /// Sleeps for `duration`; throws `CancellationError` when cancelled.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        guard let seconds = invocation.duration("duration"), seconds >= 0 else {
            throw ActionFailure("parameter 'duration' is required")
        }
        if let reason = invocation.string("reason"), !reason.isEmpty {
            invocation.context.emit("info", "waiting \(RunbookDuration(seconds: seconds)): \(reason)")
        }
        try await clock.sleep(for: .milliseconds(RunbookDuration.milliseconds(seconds)))
        return ActionResult(summary: "waited \(RunbookDuration(seconds: seconds))")
    }
}
