// Calling an action the way the engine does (defaults applied, a context with a masker and an emit
// sink), without a runbook around it.
import Foundation
import RunbookKit

/// Lines an action emitted through its context.
final class EmittedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(level: String, message: String)] = []

    func append(_ level: String, _ message: String) { lock.withLock { stored.append((level, message)) } }
    var lines: [(level: String, message: String)] { lock.withLock { stored } }
}

enum ActionHarness {
    /// The invocation the engine would build: the descriptor's defaults under the given arguments.
    static func invocation(for action: any Action, _ arguments: [String: Value], timeout: Double? = nil,
                           secrets: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment,
                           emitted: EmittedLines = EmittedLines()) -> ActionInvocation {
        var resolved = arguments
        for p in action.descriptor.parameters where resolved[p.name] == nil {
            if let d = p.defaultValue { resolved[p.name] = d }
        }
        let context = ActionContext(runID: "test-run", runbookID: "test", stateDirectory: NSTemporaryDirectory(),
                                    environment: environment, masker: SecretMasker(secrets: secrets),
                                    emit: { level, message in emitted.append(level, message) })
        return ActionInvocation(stepID: "step", arguments: resolved,
                                timeout: timeout ?? action.descriptor.defaultTimeout, context: context)
    }

    /// Runs the action; an `ActionFailure` comes back as `.failure`, any other error is rethrown.
    static func run(_ action: any Action, _ arguments: [String: Value], timeout: Double? = nil, secrets: [String] = [],
                    emitted: EmittedLines = EmittedLines()) async throws -> Result<ActionResult, ActionFailure> {
        let invocation = invocation(for: action, arguments, timeout: timeout, secrets: secrets, emitted: emitted)
        do {
            return .success(try await action.run(invocation))
        } catch let failure as ActionFailure {
            return .failure(failure)
        }
    }
}

extension Result where Success == ActionResult, Failure == ActionFailure {
    /// Outputs of a success or a failure.
    var outputs: [String: Value] {
        switch self {
        case .success(let r): r.outputs
        case .failure(let f): f.outputs
        }
    }

    /// The failure message, or nil on success.
    var failureMessage: String? {
        if case .failure(let f) = self { return f.message }
        return nil
    }

    var succeeded: Bool {
        if case .success = self { return true }
        return false
    }
}

/// Seconds since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
