import Foundation

/// Human-readable run output: one line per event that matters, colored on a terminal
/// (unless NO_COLOR), plain otherwise.
public final class TextRunReporter: RunReporter, @unchecked Sendable {
    private let write: @Sendable (String) -> Void
    private let color: Bool
    private let verbose: Bool
    private let lock = NSLock()
    private var titles: [String: String] = [:]
    private var dryRun = false
    /// Steps with more than one try (the executor announces each try of those only): a failed
    /// try of a single-try step would print its message twice, as the try and as the step.
    private var retried: Set<String> = []

    public init(color: Bool, verbose: Bool = false, write: @escaping @Sendable (String) -> Void) {
        self.color = color
        self.verbose = verbose
        self.write = write
    }

    private func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    /// Text from the runbook, its arguments or a service's reply, with control characters
    /// escaped (see `TerminalText`): only the reporter's own colors reach the terminal.
    private func e(_ s: String) -> String { TerminalText.escaped(s) }
    /// The same, keeping line breaks, each continued under `indent`.
    private func lines(_ s: String, indent: String) -> String {
        TerminalText.escaped(s, keepingNewlines: true).replacingOccurrences(of: "\n", with: "\n" + indent)
    }

    public func report(_ event: RunEvent) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case let .runStarted(runID, runbook, _, dryRun, params, resumed):
            self.dryRun = dryRun
            var line = "\(resumed ? "resuming" : dryRun ? "dry-run of" : "running") \(paint(e(runbook), "1")) (run \(e(runID)))"
            if !params.isEmpty {
                line += "\n  params: " + params.keys.sorted().map { "\(e($0))=\(e(params[$0]!.interpolationText))" }.joined(separator: " ")
            }
            write(line + "\n")
        case let .stepStarted(step, title, action, phase):
            titles[step] = title
            retried.remove(step)
            let prefix = phase == .rollback ? paint("↩", "35") : paint("▶", "36")
            write("\(prefix) \(e(step)) [\(e(action))]\(title != step ? " \(e(title))" : "")\n")
        case let .stepPlanned(_, arguments, condition, note):
            if !arguments.isEmpty {
                for key in arguments.keys.sorted() {
                    write("    \(e(key)): \(e(String(arguments[key]!.interpolationText.prefix(200))))\n")
                }
            }
            if let condition { write("    when: \(condition)\n") }
            write("    \(paint("plan:", "2")) \(lines(note, indent: "      "))\n")
        case let .attempt(step, number, of):
            retried.insert(step)
            if number > 1 { write("    attempt \(number)/\(of)\n") }
        case let .attemptFailed(step, number, message):
            // A single try's failure is the step's: the `✗ failed` line says it.
            if retried.contains(step) { write("    \(paint("✗", "33")) try \(number): \(lines(message, indent: "      "))\n") }
        case let .log(_, level, message):
            write("    \(level == "info" ? "" : e(level) + ": ")\(lines(message, indent: "    "))\n")
        case let .confirmationAsked(_, message, _):
            write("    \(paint("?", "1;33")) \(lines(message, indent: "      "))\n")
        case let .confirmationAnswered(_, approved, by, how, _, earlier):
            let who = EarlierAnswer.describe(by: by, how: how, earlierHow: earlier?.how, earlierSeq: earlier?.seq)
            write("    \(approved ? paint("approved", "32") : paint("declined", "31")) by \(e(who))\n")
        case let .stepFinished(_, status, _, error, durationMS, reason, _):
            switch status {
            case .succeeded:
                write("  \(paint("✓", "32")) succeeded in \(Self.duration(durationMS))\(reason.map { " — \(lines($0, indent: "    "))" } ?? "")\n")
            case .skipped:
                write("  \(paint("↷", "2")) skipped\(reason.map { ": \(lines($0, indent: "    "))" } ?? "")\n")
            case .failed:
                write("  \(paint("✗", "31")) failed in \(Self.duration(durationMS)): \(lines(error ?? "failed", indent: "    "))\n")
            }
        case let .rollbackStarted(reason):
            write(paint("rolling back", "1;35") + ": \(lines(reason, indent: "  "))\n")
        case let .runPaused(_, reason, _):
            write(paint("paused", "1;33") + ": \(lines(reason, indent: "  "))\n")
        case .runFinished, .processStarted:
            // A program's pid is in the journal (for resume) and the step's `pid` output.
            break
        }
    }

    static func duration(_ ms: Int) -> String {
        ms < 1000 ? "\(ms) ms" : String(format: "%.1f s", Double(ms) / 1000)
    }

    /// The closing summary: what ran, what was skipped, what was rolled back, how to resume.
    public func summary(_ outcome: RunOutcome) -> String {
        var lines: [String] = []
        let word: String
        switch outcome.status {
        case .succeeded: word = paint("succeeded", "1;32")
        case .failed:
            word = paint("failed", "1;31")
                + (outcome.nothingToRollBack ? " (nothing to roll back: the runbook has no rollback steps)"
                   : outcome.rolledBack.isEmpty ? "" : " (rolled back)")
        case .aborted: word = paint("aborted", "1;31") + " (no rollback)"
        case .paused: word = paint("paused", "1;33")
        case .rollbackFailed: word = paint("failed, and rollback failed", "1;31")
        }
        lines.append("run \(outcome.runID) \(word) in \(Self.duration(outcome.durationMS))\(dryRun ? " (dry-run: nothing was changed)" : "")")
        func add(_ label: String, _ ids: [String]) { if !ids.isEmpty { lines.append("  \(label): \(ids.joined(separator: ", "))") } }
        add("ran", outcome.executed)
        add("skipped", outcome.skipped)
        add("failed", outcome.failed)
        add("rolled back", outcome.rolledBack)
        // Failed rollback steps that may fail (`on_failure: continue`) do not fail the rollback:
        // said so, not "rollback failed", which is the exit-4 status.
        add(outcome.status == .rollbackFailed ? "rollback failed" : "rollback steps failed (on_failure: continue)",
            outcome.rollbackFailed)
        if outcome.status == .paused, let step = outcome.pausedAt {
            lines.append("  waiting at '\(step)': runbook resume \(outcome.runID) --approve \(step)   (or --decline \(step))")
            if let expiry = outcome.pauseExpiresAt {
                lines.append("  the question \(QuestionExpiry.describe(expiry)); resumed later without an answer, it counts as declined")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Machine output: every event as one JSON line (the journal's shape), then a summary line.
public final class JSONRunReporter: RunReporter, @unchecked Sendable {
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()
    public init(write: @escaping @Sendable (String) -> Void) { self.write = write }

    public func report(_ event: RunEvent) {
        var record = event.fields
        record["type"] = .string(event.type)
        lock.withLock { write(Value.map(record).jsonText() + "\n") }
    }

    public func summary(_ outcome: RunOutcome) -> String {
        var m: [String: Value] = [
            "type": .string("summary"), "run_id": .string(outcome.runID), "status": .string(outcome.status.rawValue),
            "exit_code": .int(Int(outcome.status.exitCode)),
            "executed": .list(outcome.executed.map(Value.string)), "skipped": .list(outcome.skipped.map(Value.string)),
            "failed": .list(outcome.failed.map(Value.string)), "rolled_back": .list(outcome.rolledBack.map(Value.string)),
            "rollback_failed": .list(outcome.rollbackFailed.map(Value.string)), "duration_ms": .int(outcome.durationMS),
        ]
        if let p = outcome.pausedAt { m["paused_at"] = .string(p) }
        if let expiry = outcome.pauseExpiresAt { m["expires_at"] = .string(Journal.timestamp(expiry)) }
        return Value.map(m).jsonText() + "\n"
    }
}
