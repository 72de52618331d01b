import Foundation
import RunbookKit

/// Writes a run's events to the timeline of every incident the run creates or touches.
///
/// A run is bound to an incident when a step of `incident.create`, `incident.note` or
/// `incident.resolve` succeeds with an `id` output, or, for a resumed run, when the store
/// already links the run to incidents. Events before the binding are buffered and written on
/// binding, so the timeline starts with the run, not with the incident. Recorded: run
/// started/resumed, steps started and finished (status, error), confirmations asked and answered
/// (by whom, how), notifications sent (successful steps whose action `notifies`), rollback
/// started, run paused and finished. Texts come from the events, which the engine has already
/// masked. Dry-runs are never recorded.
///
/// A failing store never fails the run: the error goes to `warn` once per incident.
public final class IncidentTimelineRecorder: RunReporter, @unchecked Sendable {
    /// Opens the store on first use: most runs touch no incident, and opening (creating,
    /// migrating) the SQLite file costs a run milliseconds of fsyncs.
    private let openStore: @Sendable () throws -> any IncidentStore
    private var opened: Result<any IncidentStore, any Error>?
    private let catalog: ActionCatalog
    private let warn: @Sendable (String) -> Void
    private let clock: @Sendable () -> Date

    // Guarded by `lock`: events arrive from the executing task, one at a time, but report() is synchronous.
    private let lock = NSLock()
    private var runID = ""
    private var disabled = false
    /// Every event of the run so far, with its time (formatted when an incident is bound).
    private var history: [(Date, RunEvent)] = []
    private var bound: [String] = []
    private var warned: Set<String> = []
    private var actions: [String: String] = [:]
    private var titles: [String: String] = [:]

    /// Records into `store`; `catalog` tells which actions notify; `warn` reports store failures.
    public convenience init(store: any IncidentStore, catalog: ActionCatalog,
                clock: @escaping @Sendable () -> Date = { Date() },
                warn: @escaping @Sendable (String) -> Void) {
        self.init(opening: { store }, catalog: catalog, clock: clock, warn: warn)
    }

    /// Records into the store `opening` returns, called the first time the run needs the store.
    public init(opening: @escaping @Sendable () throws -> any IncidentStore, catalog: ActionCatalog,
                clock: @escaping @Sendable () -> Date = { Date() },
                warn: @escaping @Sendable (String) -> Void) {
        self.openStore = opening
        self.catalog = catalog
        self.clock = clock
        self.warn = warn
    }

    /// The incidents this run writes to, in binding order.
    public var boundIncidents: [String] { lock.withLock { bound } }

    /// Turns one event into timeline entries, binding the run to incidents as they appear.
    public func report(_ event: RunEvent) {
        lock.withLock { handle(event) }
    }

    /// The store, opened on first use (the same result, success or error, afterwards).
    private var store: any IncidentStore {
        get throws {
            if opened == nil { opened = Result { try openStore() } }
            return try opened!.get()
        }
    }

    private func handle(_ event: RunEvent) {
        if disabled { return }
        let now = clock()
        // Bookkeeping every event needs; the timeline texts are made only once an incident is
        // bound (most runs never touch one), from the events kept in `history`.
        var newIncidents: [String] = []
        switch event {
        case let .runStarted(runID, _, _, dryRun, _, resumed):
            self.runID = runID
            if dryRun { disabled = true; return }
            if resumed {
                do { newIncidents = try store.incidents(linkedTo: runID) } catch {
                    warn("incident timeline: cannot read the incidents of run \(runID): \(error)")
                }
            }
        case let .stepStarted(step, title, action, _):
            actions[step] = action
            titles[step] = title
        case let .stepFinished(step, status, outputs, _, _, _, _):
            if status == .succeeded, actions[step]?.hasPrefix("incident.") == true, case .string(let id)? = outputs["id"],
               let normalized = IncidentID.normalize(id) {
                newIncidents.append(normalized)
            }
        default:
            break
        }
        history.append((now, event))
        if !bound.isEmpty { for id in bound { write(entries(event, at: now), to: id) } }
        for id in newIncidents where !bound.contains(id) {
            bound.append(id)
            // The whole run so far: the incident's timeline starts with the run.
            write(history.flatMap { entries($0.1, at: $0.0) }, to: id)
            do { try store.link(runID: runID, to: id) } catch { warnOnce(id, error) }
        }
    }

    /// The timeline entries of one event.
    private func entries(_ event: RunEvent, at now: Date) -> [TimelineEntry] {
        var entries: [TimelineEntry] = []
        func entry(_ kind: String, _ text: String, step: String? = nil) {
            entries.append(TimelineEntry(at: now, kind: kind, text: text, runID: runID, step: step, actor: runID))
        }
        switch event {
        case let .runStarted(runID, runbook, _, _, _, resumed):
            entry(resumed ? "run_resumed" : "run_started", "Run \(runID) of runbook '\(runbook)' \(resumed ? "resumed" : "started")")
        case let .stepStarted(step, title, action, phase):
            entry("step_started", "\(phase == .rollback ? "Rollback step" : "Step") '\(step)' (\(action)) started"
                + (title != step ? ": \(title)" : ""), step: step)
        case let .stepFinished(step, status, _, error, durationMS, reason, _):
            let action = actions[step] ?? ""
            var text = "Step '\(step)' \(status.rawValue)"
            if status != .skipped { text += " in \(Self.duration(durationMS))" }
            if let error { text += ": \(error)" } else if let reason { text += status == .skipped ? ": \(reason)" : " — \(reason)" }
            entry("step_finished", text, step: step)
            if status == .succeeded, catalog[action]?.notifies == true {
                entry("notification_sent", "Notification sent by step '\(step)' (\(action))"
                    + (titles[step].map { $0 != step ? ": \($0)" : "" } ?? ""), step: step)
            }
        case let .confirmationAsked(step, message, _):
            entry("confirmation_asked", "Confirmation asked at step '\(step)': \(message)", step: step)
        case let .confirmationAnswered(step, approved, by, how, _, earlier):
            let who = EarlierAnswer.describe(by: by, how: how, earlierHow: earlier?.how, earlierSeq: earlier?.seq)
            entry("confirmation_answered", "Step '\(step)' \(approved ? "approved" : "declined") by \(who)", step: step)
        case let .rollbackStarted(reason):
            entry("rollback_started", "Rollback started: \(reason)")
        case let .runPaused(step, reason, expiresAt):
            entry("run_paused", "Run paused at step '\(step)': \(reason)"
                + (expiresAt.map { " (the question expires at \(Journal.timestamp($0)))" } ?? ""), step: step)
        case let .runFinished(status, durationMS):
            if status != .paused {
                entry("run_finished", "Run \(status.rawValue.replacingOccurrences(of: "_", with: " ")) after \(Self.duration(durationMS))")
            }
        case .stepPlanned, .attempt, .attemptFailed, .log, .processStarted:
            break
        }
        return entries
    }

    private func write(_ entries: [TimelineEntry], to id: String) {
        guard !entries.isEmpty else { return }
        do { try store.append(entries, to: id) } catch { warnOnce(id, error) }
    }

    private func warnOnce(_ id: String, _ error: any Error) {
        guard warned.insert(id).inserted else { return }
        warn("incident timeline of \(id): \(error)")
    }

    static func duration(_ ms: Int) -> String {
        ms < 1000 ? "\(ms) ms" : String(format: "%.1f s", Double(ms) / 1000)
    }
}
