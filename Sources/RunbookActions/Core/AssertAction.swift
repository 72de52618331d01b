// `assert`: the engine has already evaluated each `${{ }}` in `that`; this checks that all are true.
import RunbookKit

/// Runs `assert`.
public struct AssertAction: Action {
    /// The declaration this implements.
    public let descriptor = CoreActions.assert

    /// The action.
    public init() {}

    /// No I/O, no waiting: run inline by the engine.
    public var isInstant: Bool { true }

    /// Fails unless every entry of `that` is `true`.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let conditions: [Value]
        switch invocation.arguments["that"] {
        case .list(let items)?: conditions = items
        case let single?: conditions = [single]
        case nil: throw ActionFailure("parameter 'that' is required")
        }
        for (index, condition) in conditions.enumerated() where condition != .bool(true) {
            if let message = invocation.string("message"), !message.isEmpty {
                throw ActionFailure(message)
            }
            let which = conditions.count == 1 ? "" : " (condition \(index + 1) of \(conditions.count))"
            throw ActionFailure("assertion failed\(which)")
        }
        let count = conditions.count
        return ActionResult(summary: count == 1 ? "holds" : "all \(count) hold")
    }
}
