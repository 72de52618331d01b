// The state the served application reads: circuit breakers and feature flags, with a history of
// every change. A protocol, so that a store shared by several hosts (PostgreSQL) can replace the
// local SQLite file without touching the actions or the CLI.
import Foundation
import RunbookKit

/// A circuit breaker's forced state. A breaker that was never set is `closed`.
public enum BreakerState: String, Sendable, CaseIterable {
    /// Calls flow.
    case closed
    /// Calls are blocked; the application uses its fallback path.
    case open
}

/// Who changed something, when, from which run and step, and why.
public struct ChangeOrigin: Sendable, Equatable {
    /// The run id for changes made by a run, `manual:<user>` for changes made by hand.
    public var actor: String
    /// The run that made the change; nil for manual changes.
    public var runID: String?
    /// The step that made the change.
    public var step: String?
    /// Why; shown by `runbook state history`.
    public var reason: String?
    /// When the change happens.
    public var at: Date

    /// A change made by a run's step (the actor is the run id).
    public static func run(_ runID: String, step: String?, reason: String?, at: Date = Date()) -> ChangeOrigin {
        ChangeOrigin(actor: runID, runID: runID, step: step, reason: reason, at: at)
    }

    /// A change made by hand (`runbook state ...`, `runbook incident ...`): actor `manual:<user>`.
    public static func manual(user: String, reason: String?, at: Date = Date()) -> ChangeOrigin {
        ChangeOrigin(actor: "manual:" + user, runID: nil, step: nil, reason: reason, at: at)
    }

    /// Creates an origin from its parts.
    public init(actor: String, runID: String?, step: String?, reason: String?, at: Date = Date()) {
        self.actor = actor
        self.runID = runID
        self.step = step
        self.reason = reason
        self.at = at
    }
}

/// A breaker as stored, or the implicit closed state of a breaker never set.
public struct BreakerRecord: Sendable, Equatable {
    /// The breaker's name, e.g. `qwen`.
    public var name: String
    /// Its current state.
    public var state: BreakerState
    /// The last change; nil when the breaker was never set.
    public var lastChange: ChangeOrigin?
}

/// A flag that has a value. An unset flag has no record.
public struct FlagRecord: Sendable, Equatable {
    /// The flag's name, e.g. `creative_mode_route`.
    public var name: String
    /// Any JSON value except null (null means unset).
    public var value: Value
    /// The last change.
    public var lastChange: ChangeOrigin
}

/// What kind of state a change was made to.
public enum StateKind: String, Sendable {
    /// A circuit breaker.
    case breaker
    /// A feature flag.
    case flag
}

/// One row of the change history.
public struct StateChange: Sendable, Equatable {
    /// Increasing id (the history's order).
    public var id: Int64
    /// Breaker or flag.
    public var kind: StateKind
    /// The breaker's or flag's name.
    public var name: String
    /// What made the change: `open`, `close`, `set`, `downshift`, `restore`, `manual`.
    public var operation: String
    /// The value before; `.null` for an unset flag. Breakers hold `"open"`/`"closed"`.
    public var previous: Value
    /// The value after; `.null` when the flag was unset.
    public var value: Value
    /// Who, when, why.
    public var origin: ChangeOrigin
}

/// The outcome of a write: values before and after, and the history row when something changed.
public struct StateUpdate: Sendable, Equatable {
    /// The value before the write (`.null`: unset flag).
    public var previous: Value
    /// The value after the write (`.null`: unset flag).
    public var value: Value
    /// The recorded change; nil when the write changed nothing (idempotent repeat).
    public var change: StateChange?

    /// Whether the write changed anything.
    public var changed: Bool { change != nil }
}

/// The value a flag had before a run first changed it, kept until restored.
public struct RestorePoint: Sendable, Equatable {
    /// The flag.
    public var flag: String
    /// Its value before the first recorded change (`.null`: it was unset).
    public var value: Value
    /// The change that recorded the point.
    public var origin: ChangeOrigin
}

/// What `restoreFlag` puts back.
public enum RestoreTarget: Sendable, Equatable {
    /// The flag's restore point; with none, the flag is left as it is.
    case recorded
    /// This value (`.null`: unset); the restore point, if any, is dropped.
    case value(Value)
}

/// Whether a flag write records the value it replaces for a later `restoreFlag`.
public enum RestorePointPolicy: Sendable {
    /// Record the replaced value unless a restore point is already pending (so a chain of
    /// changes restores to the value before the first one). Used by `feature_flag.set`/`.downshift`.
    case keepFirst
    /// Leave restore points alone (changes made by hand).
    case none
}

/// Breakers, flags and their change history.
///
/// Writes are atomic (read, compare, write and history row in one transaction) and idempotent:
/// writing the current value changes nothing and records no history. Implementations must be
/// safe to use from several processes at once (several runs, `runbook state` by hand).
public protocol StateStore: Sendable {
    /// Every breaker that was ever set, by name.
    func breakers() throws -> [BreakerRecord]
    /// One breaker; a breaker never set is closed with no last change.
    func breaker(named name: String) throws -> BreakerRecord
    /// Forces a breaker's state; `operation` is recorded in the history (`open`, `close`, `manual`).
    func setBreaker(_ name: String, to state: BreakerState, operation: String, origin: ChangeOrigin) throws -> StateUpdate

    /// Every flag that has a value, by name.
    func flags() throws -> [FlagRecord]
    /// One flag; nil when unset.
    func flag(named name: String) throws -> FlagRecord?
    /// Sets a flag (`.null` unsets it).
    func setFlag(_ name: String, to value: Value, operation: String, restorePoint: RestorePointPolicy,
                 origin: ChangeOrigin) throws -> StateUpdate
    /// Puts a flag back to its restore point (or an explicit value) and drops the restore point.
    /// Returns nil `change` when there was nothing to restore or the value already matched.
    func restoreFlag(_ name: String, to target: RestoreTarget, origin: ChangeOrigin) throws -> StateUpdate
    /// The pending restore point of a flag.
    func restorePoint(flag name: String) throws -> RestorePoint?
    /// Every pending restore point.
    func restorePoints() throws -> [RestorePoint]

    /// Changes, newest first; only those of `name` when given.
    func history(name: String?, limit: Int?) throws -> [StateChange]
}

/// A store that could not be opened, read or written.
public struct StateStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for people.
    public var description: String
    /// Creates an error with a message.
    public init(_ message: String) { description = message }
}

