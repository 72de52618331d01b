// The circuit-breaker and feature-flag actions, against the run's state store. Every write
// records the run id as actor, the step and the reason; repeating a step changes nothing.
import Foundation
import RunbookKit

/// How actions reach the stores of a run's state directory (injected, so tests can swap them).
public struct StoreProvider: Sendable {
    /// The breaker and flag store of a state directory.
    public var state: @Sendable (_ stateDirectory: String) throws -> any StateStore
    /// The incident store of a state directory.
    public var incidents: @Sendable (_ stateDirectory: String) throws -> any IncidentStore

    /// Creates a provider from two openers.
    public init(state: @escaping @Sendable (String) throws -> any StateStore,
                incidents: @escaping @Sendable (String) throws -> any IncidentStore) {
        self.state = state
        self.incidents = incidents
    }

    /// `<state dir>/state.sqlite` for both.
    public static let sqlite = StoreProvider(state: { try SQLiteStore.open(stateDirectory: $0) },
                                             incidents: { try SQLiteStore.open(stateDirectory: $0) })

    func stateStore(_ invocation: ActionInvocation) throws -> any StateStore {
        do { return try state(invocation.context.stateDirectory) } catch {
            throw ActionFailure("cannot open the state store: \(error)")
        }
    }

    func incidentStore(_ invocation: ActionInvocation) throws -> any IncidentStore {
        do { return try incidents(invocation.context.stateDirectory) } catch {
            throw ActionFailure("cannot open the incident store: \(error)")
        }
    }
}

extension ActionInvocation {
    /// Who made a change from this step: the run, with `reason` (default: the run id).
    var changeOrigin: ChangeOrigin {
        let reason = string("reason").flatMap { $0.isEmpty ? nil : $0 } ?? context.runID
        return .run(context.runID, step: stepID, reason: context.masker.mask(reason))
    }
}

/// Runs a store call, turning store errors into step failures.
func storeCall<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let failure as ActionFailure {
        throw failure
    } catch {
        throw ActionFailure("\(error)")
    }
}

/// `circuit_breaker.open` and `circuit_breaker.close`.
struct SetBreakerAction: Action {
    let descriptor: ActionDescriptor
    let target: BreakerState
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let name = try invocation.requireString("name")
        let store = try stores.stateStore(invocation)
        let update = try storeCall {
            try store.setBreaker(name, to: target, operation: target == .open ? "open" : "close",
                                 origin: invocation.changeOrigin)
        }
        let summary = update.changed
            ? "breaker '\(name)' \(target.rawValue) (was \(update.previous.interpolationText))"
            : "breaker '\(name)' already \(target.rawValue)"
        return ActionResult(outputs: ["state": update.value, "previous": update.previous], summary: summary)
    }

    /// The usual case: the breaker was in the other state.
    func typicalDryRunOutputs(arguments: [String: Value]) -> [String: Value] {
        ["state": .string(target.rawValue), "previous": .string(target == .open ? BreakerState.closed.rawValue : BreakerState.open.rawValue)]
    }
}

/// `circuit_breaker.status`.
struct BreakerStatusAction: Action {
    let descriptor = CircuitBreakerActions.status
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let name = try invocation.requireString("name")
        let store = try stores.stateStore(invocation)
        let record = try storeCall { try store.breaker(named: name) }
        return ActionResult(outputs: [
            "state": .string(record.state.rawValue),
            "since": record.lastChange.map { .string(Journal.timestamp($0.at)) } ?? .null,
            "reason": record.lastChange?.reason.map(Value.string) ?? .null,
        ], summary: "breaker '\(name)' is \(record.state.rawValue)")
    }
}

/// `feature_flag.get`.
struct FlagGetAction: Action {
    let descriptor = FeatureFlagActions.get
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let name = try invocation.requireString("name")
        let store = try stores.stateStore(invocation)
        let record = try storeCall { try store.flag(named: name) }
        return ActionResult(outputs: ["value": record?.value ?? .null, "is_set": .bool(record != nil)],
                            summary: "\(name) = \(record.map { $0.value.jsonText() } ?? "unset")")
    }
}

/// `feature_flag.set`.
struct FlagSetAction: Action {
    let descriptor = FeatureFlagActions.set
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let name = try invocation.requireString("name")
        let value = invocation.arguments["value"] ?? .null
        let store = try stores.stateStore(invocation)
        let update = try storeCall {
            try store.setFlag(name, to: value, operation: "set", restorePoint: .keepFirst, origin: invocation.changeOrigin)
        }
        return ActionResult(outputs: ["previous": update.previous, "value": update.value],
                            summary: FlagText.summary(name, update))
    }
}

/// `feature_flag.downshift`: `<from>_mode_route = to`.
struct FlagDownshiftAction: Action {
    let descriptor = FeatureFlagActions.downshift
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let from = try invocation.requireString("from")
        let to = try invocation.requireString("to")
        guard from != to else { throw ActionFailure("cannot downshift mode '\(from)' to itself") }
        let flag = invocation.string("flag").flatMap { $0.isEmpty ? nil : $0 } ?? FlagText.routeFlag(from)
        let store = try stores.stateStore(invocation)
        let update = try storeCall {
            try store.setFlag(flag, to: .string(to), operation: "downshift", restorePoint: .keepFirst,
                              origin: invocation.changeOrigin)
        }
        let summary = update.changed
            ? "\(from) requests now served by \(to) (\(flag): \(FlagText.show(update.previous)) → \(to))"
            : "\(from) requests already served by \(to) (\(flag))"
        return ActionResult(outputs: ["flag": .string(flag), "previous": update.previous, "route": .string(to)],
                            summary: summary)
    }
}

/// `feature_flag.restore`: a mode's route flag or a named flag back to its restore point (or `value`).
struct FlagRestoreAction: Action {
    let descriptor = FeatureFlagActions.restore
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let mode = invocation.string("mode").flatMap { $0.isEmpty ? nil : $0 }
        let name = invocation.string("name").flatMap { $0.isEmpty ? nil : $0 }
        let flag: String
        switch (mode, name) {
        case (let mode?, nil): flag = FlagText.routeFlag(mode)
        case (nil, let name?): flag = name
        case (.some, .some): throw ActionFailure("give either 'mode' or 'name', not both")
        case (nil, nil): throw ActionFailure("give 'mode' (a downshifted mode) or 'name' (a flag)")
        }
        let target: RestoreTarget = invocation.arguments.keys.contains("value")
            ? .value(invocation.arguments["value"] ?? .null) : .recorded
        let store = try stores.stateStore(invocation)
        let update = try storeCall { try store.restoreFlag(flag, to: target, origin: invocation.changeOrigin) }
        let summary: String
        if update.changed {
            summary = "\(flag) restored: \(FlagText.show(update.previous)) → \(FlagText.show(update.value))"
        } else if target == .recorded {
            summary = "nothing recorded to restore: \(flag) left as it is (\(FlagText.show(update.value)))"
        } else {
            summary = "\(flag) already \(FlagText.show(update.value))"
        }
        return ActionResult(outputs: ["previous": update.previous, "value": update.value], summary: summary)
    }
}

/// Flag names and values as people read them.
enum FlagText {
    /// The route flag of a mode: `creative` → `creative_mode_route`.
    static func routeFlag(_ mode: String) -> String { mode + "_mode_route" }

    /// `unset`, or the JSON text.
    static func show(_ value: Value) -> String { value == .null ? "unset" : value.jsonText() }

    static func summary(_ name: String, _ update: StateUpdate) -> String {
        update.changed ? "\(name): \(show(update.previous)) → \(show(update.value))" : "\(name) already \(show(update.value))"
    }
}

extension CircuitBreakerActions {
    /// The implementations, against `stores`.
    static func implementations(_ stores: StoreProvider) -> [any Action] {
        [SetBreakerAction(descriptor: open, target: .open, stores: stores),
         SetBreakerAction(descriptor: close, target: .closed, stores: stores),
         BreakerStatusAction(stores: stores)]
    }
}

extension FeatureFlagActions {
    /// The implementations, against `stores`.
    static func implementations(_ stores: StoreProvider) -> [any Action] {
        [FlagGetAction(stores: stores), FlagSetAction(stores: stores), FlagDownshiftAction(stores: stores),
         FlagRestoreAction(stores: stores)]
    }
}
