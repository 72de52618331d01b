import Foundation

/// Everything that happens in a run, in order. The journal stores each as one JSON line;
/// reporters turn them into terminal output. Values are already masked when they get here.
public enum RunEvent: Sendable {
    case runStarted(runID: String, runbook: String, file: String, dryRun: Bool, params: [String: Value], resumed: Bool)
    case stepStarted(step: String, title: String, action: String, phase: Phase)
    case stepPlanned(step: String, arguments: [String: Value], condition: Bool?, note: String)
    case attempt(step: String, number: Int, of: Int)
    case attemptFailed(step: String, number: Int, message: String)
    case log(step: String, level: String, message: String)
    case confirmationAsked(step: String, message: String, kind: String)
    /// `kind`: the question answered, as `confirmationAsked` names it (`confirm`: the step's own
    /// confirmation; `rerun`: whether to re-run a step in flight when the run stopped; `rollback`:
    /// whether to roll back after Ctrl-C). `earlier`: the answer is one given before a pause or
    /// crash, restated from the journal (then `by` is who gave it and `how` is `earlier answer`).
    case confirmationAnswered(step: String, approved: Bool, by: String, how: String, kind: String = "confirm",
                              earlier: EarlierAnswer? = nil)
    /// `masked`: the outputs that held a secret (shown and journaled masked).
    case stepFinished(step: String, status: StepStatus, outputs: [String: Value], error: String?, durationMS: Int, reason: String?,
                      masked: [String] = [])
    /// A step started a program (`exec`): its pid and process group, so that a resume after the
    /// runner died can tell whether it is still running.
    case processStarted(step: String, process: SpawnedProcess)
    case rollbackStarted(reason: String)
    /// `expiresAt`: when the question the run waits for expires (journaled as `expires_at`).
    case runPaused(step: String, reason: String, expiresAt: Date? = nil)
    case runFinished(status: RunStatus, durationMS: Int)

    /// Main steps or rollback steps.
    public enum Phase: String, Sendable { case main, rollback }

    /// The journal's `type` field.
    public var type: String {
        switch self {
        case .runStarted: "run_started"
        case .stepStarted: "step_started"
        case .stepPlanned: "step_planned"
        case .attempt: "attempt"
        case .attemptFailed: "attempt_failed"
        case .log: "log"
        case .confirmationAsked: "confirmation_asked"
        case .confirmationAnswered: "confirmation_answered"
        case .stepFinished: "step_finished"
        case .processStarted: "process_started"
        case .rollbackStarted: "rollback_started"
        case .runPaused: "run_paused"
        case .runFinished: "run_finished"
        }
    }

    /// The fields of the journal record (besides `seq`, `time`, `type`).
    public var fields: [String: Value] {
        switch self {
        case let .runStarted(runID, runbook, file, dryRun, params, resumed):
            return ["run_id": .string(runID), "runbook": .string(runbook), "file": .string(file),
                    "dry_run": .bool(dryRun), "params": .map(params), "resumed": .bool(resumed)]
        case let .stepStarted(step, title, action, phase):
            return ["step": .string(step), "title": .string(title), "action": .string(action), "phase": .string(phase.rawValue)]
        case let .stepPlanned(step, arguments, condition, note):
            var m: [String: Value] = ["step": .string(step), "arguments": .map(arguments), "note": .string(note)]
            if let condition { m["condition"] = .bool(condition) }
            return m
        case let .attempt(step, number, of):
            return ["step": .string(step), "attempt": .int(number), "of": .int(of)]
        case let .attemptFailed(step, number, message):
            return ["step": .string(step), "attempt": .int(number), "message": .string(message)]
        case let .log(step, level, message):
            return ["step": .string(step), "level": .string(level), "message": .string(message)]
        case let .confirmationAsked(step, message, kind):
            return ["step": .string(step), "message": .string(message), "kind": .string(kind)]
        case let .confirmationAnswered(step, approved, by, how, kind, earlier):
            var m: [String: Value] = ["step": .string(step), "approved": .bool(approved), "by": .string(by),
                                      "how": .string(how), "kind": .string(kind)]
            if let earlier {
                m["earlier_how"] = .string(earlier.how)
                if let seq = earlier.seq { m["earlier_seq"] = .int(seq) }
            }
            return m
        case let .stepFinished(step, status, outputs, error, durationMS, reason, masked):
            // NaN and ±Inf (a Prometheus ratio with no traffic) have no JSON form: kept as
            // {"$number": "NaN"} so that `resume` gives the same value back, not null.
            var m: [String: Value] = ["step": .string(step), "status": .string(status.rawValue),
                                      "outputs": Value.map(outputs).withNonFiniteNumbersTagged,
                                      "duration_ms": .int(durationMS)]
            if let error { m["error"] = .string(error) }
            if let reason { m["reason"] = .string(reason) }
            if !masked.isEmpty { m["masked_outputs"] = .list(masked.map(Value.string)) }
            return m
        case let .processStarted(step, process):
            var m: [String: Value] = ["step": .string(step), "pid": .int(Int(process.pid)), "pgid": .int(Int(process.pid)),
                                      "detached": .bool(process.detached)]
            if let start = process.startTime, start <= UInt64(Int.max) { m["start_time"] = .int(Int(start)) }
            if let boot = process.bootID { m["boot_id"] = .string(boot) }
            return m
        case let .rollbackStarted(reason):
            return ["reason": .string(reason)]
        case let .runPaused(step, reason, expiresAt):
            var m: [String: Value] = ["step": .string(step), "reason": .string(reason)]
            if let expiresAt { m["expires_at"] = .string(Journal.timestamp(expiresAt)) }
            return m
        case let .runFinished(status, durationMS):
            return ["status": .string(status.rawValue), "duration_ms": .int(durationMS)]
        }
    }
}

/// An answer to a step's confirmation given in an earlier session of the run, as its journal
/// record says: who gave it, how, and which record (`seq`) holds it.
public struct EarlierAnswer: Sendable, Equatable {
    public var approved: Bool
    public var by: String
    /// How it was given then (`--yes`, `--approve STEP`, `terminal`, ...).
    public var how: String
    /// The `seq` of the journal record of the answer; nil when the record has none.
    public var seq: Int?

    public init(approved: Bool, by: String, how: String, seq: Int?) {
        self.approved = approved
        self.by = by
        self.how = how
        self.seq = seq
    }

    /// The `how` of an answer restated from the journal.
    public static let how = "earlier answer"

    /// Who answered and how, for people: `root (--yes)`, or for an answer restated from the
    /// journal `root via --yes, earlier answer (seq 12)`.
    public static func describe(by: String, how: String, earlierHow: String?, earlierSeq: Int?) -> String {
        guard let earlierHow else { return "\(by) (\(how))" }
        return "\(by) via \(earlierHow), \(how)" + (earlierSeq.map { " (seq \($0))" } ?? "")
    }
}

/// A step's final state, readable as `steps.<id>.status`.
public enum StepStatus: String, Sendable, CaseIterable {
    case succeeded, failed, skipped
}

/// How a run ended (or stopped for now).
public enum RunStatus: String, Sendable {
    case succeeded
    /// A step failed; rollback ran (or was not wanted) and succeeded.
    case failed
    /// Waiting for a confirmation; resume continues.
    case paused
    /// A rollback step failed.
    case rollbackFailed = "rollback_failed"
    /// A step failed with on_failure: abort.
    case aborted

    /// The documented exit code.
    public var exitCode: Int32 {
        switch self {
        case .succeeded: 0
        case .failed, .aborted: 1
        case .paused: 3
        case .rollbackFailed: 4
        }
    }
}

extension Value {
    /// This value with every NaN and ±Inf replaced by `{"$number": "NaN" | "Infinity" | "-Infinity"}`
    /// (JSON has no such numbers); `withNonFiniteNumbersRestored` undoes it.
    public var withNonFiniteNumbersTagged: Value {
        switch self {
        case .double(let d) where !d.isFinite:
            return .map(["$number": .string(d.isNaN ? "NaN" : d > 0 ? "Infinity" : "-Infinity")])
        case .list(let items): return .list(items.map(\.withNonFiniteNumbersTagged))
        case .map(let m): return .map(m.mapValues(\.withNonFiniteNumbersTagged))
        default: return self
        }
    }

    /// The numbers `withNonFiniteNumbersTagged` tagged, back as numbers.
    public var withNonFiniteNumbersRestored: Value {
        switch self {
        case .map(let m):
            if m.count == 1, case .string(let text)? = m["$number"] {
                switch text {
                case "NaN": return .double(.nan)
                case "Infinity": return .double(.infinity)
                case "-Infinity": return .double(-.infinity)
                default: break
                }
            }
            return .map(m.mapValues(\.withNonFiniteNumbersRestored))
        case .list(let items): return .list(items.map(\.withNonFiniteNumbersRestored))
        default: return self
        }
    }
}
