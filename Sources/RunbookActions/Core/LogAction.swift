// `log`: one line to the run's output and journal, through the context (which masks secrets).
import RunbookKit

/// Runs `log`.
public struct LogAction: Action {
    /// The declaration this implements.
    public let descriptor = CoreActions.log

    /// The action.
    public init() {}

    /// No I/O, no waiting: run inline by the engine.
    public var isInstant: Bool { true }

    /// Emits `message` at `level`.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let message = invocation.arguments["message"]?.interpolationText ?? ""
        let level = invocation.string("level") ?? "info"
        invocation.context.emit(level, message)
        return ActionResult()
    }
}
