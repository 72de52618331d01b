import ArgumentParser
import Foundation
import RunbookKit

/// `runbook history [RUN]`: the runs in the state dir, or one run's timeline.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history",
                                                    abstract: "List runs, or show one run's timeline from its journal.")

    @Argument(help: "A run id: show its timeline.")
    var runID: String?

    @Option(name: .long, help: "State directory (default: $RUNBOOK_STATE_DIR or .runbook).")
    var stateDir: String?

    @Option(name: .long, help: "Output: text or json.")
    var format: RunOutputFormat = .text

    func run() async throws {
        let dir = StateDirectory.resolve(option: stateDir)
        if let runID {
            let records: [[String: Value]]
            do { records = try Journal.read(path: dir.journalPath(runID), damaged: warnDamaged) } catch {
                printError("error: no run '\(TerminalText.escaped(runID))' in \(TerminalText.escaped(dir.path))")
                throw ExitCode(Exit.usage)
            }
            if format == .json {
                for r in records { output(Value.map(r).jsonText() + "\n") }
                return
            }
            // Journals hold remote data (command output, error texts): one escaped line per record.
            for r in records { output(TerminalText.escaped(Self.timelineLine(r)) + "\n") }
            return
        }
        var rows: [[String]] = [["RUN", "RUNBOOK", "STARTED", "STATUS", "DRY-RUN"]]
        var items: [Value] = []
        for id in dir.runIDs() {
            let path = dir.journalPath(id)
            let records: [[String: Value]]
            do { records = try Journal.read(path: path, damaged: warnDamaged) } catch {
                printError("warning: \(TerminalText.escaped("\(error)"))")
                rows.append([id, "?", "?", Self.unreadable, "?"])
                items.append(Self.unknownRun(id, status: Self.unreadable))
                continue
            }
            guard let point = try? ResumePoint.from(records: records) else {
                // Listed all the same: a run that history leaves out is a run nobody looks at.
                printError("warning: \(TerminalText.escaped(path)): no readable run_started record; the run's runbook is unknown")
                rows.append([id, "?", "?", Self.corrupt, "?"])
                items.append(Self.unknownRun(id, status: Self.corrupt))
                continue
            }
            let started = records.first?["time"]?.stringValue ?? "?"
            // The last session's end only: a run paused, resumed, then killed is interrupted, not paused.
            let lastSession = records.lastIndex { $0["type"] == .string("run_started") }.map { records[$0...] } ?? records[...]
            let lastStatus = lastSession.last(where: { $0["type"] == .string("run_finished") })?["status"]?.stringValue
            let status = point.endedWith?.rawValue
                ?? (Journal.isInProgress(path: path) ? "running" : lastStatus == "paused" ? "paused" : "interrupted")
            rows.append([id, point.runbookID, started, status, point.dryRun ? "yes" : "no"])
            items.append(.map(["run_id": .string(id), "runbook": .string(point.runbookID), "started_at": .string(started),
                               "status": .string(status), "dry_run": .bool(point.dryRun)]))
        }
        if format == .json { output(Value.list(items).jsonText(pretty: true) + "\n") } else { output(Table.render(rows)) }
    }

    /// The status of a run whose journal has no readable `run_started` record.
    static let corrupt = "corrupt"
    /// The status of a run whose journal cannot be read at all.
    static let unreadable = "unreadable"

    /// The JSON row of a run whose journal does not say what it ran.
    static func unknownRun(_ id: String, status: String) -> Value {
        .map(["run_id": .string(id), "runbook": .null, "started_at": .null, "status": .string(status), "dry_run": .null])
    }

    /// The raw text of one timeline line; the caller escapes it for the terminal.
    static func timelineLine(_ r: [String: Value]) -> String {
        let time = r["time"]?.stringValue ?? ""
        let type = r["type"]?.stringValue ?? "?"
        let step = r["step"]?.stringValue.map { " \($0)" } ?? ""
        var detail = ""
        switch type {
        case "run_started": detail = " \(r["runbook"]?.stringValue ?? "")\(r["dry_run"] == .bool(true) ? " (dry-run)" : "")\(r["resumed"] == .bool(true) ? " (resumed)" : "")"
        case "step_finished":
            detail = ": \(r["status"]?.stringValue ?? "")" + (r["error"]?.stringValue.map { " — \($0)" } ?? "")
                + (r["reason"]?.stringValue.map { " — \($0)" } ?? "")
        case "confirmation_asked": detail = ": \(r["message"]?.stringValue ?? "")"
        case "confirmation_answered":
            detail = ": \(r["approved"] == .bool(true) ? "approved" : "declined") by \(r["by"]?.stringValue ?? "?") (\(r["how"]?.stringValue ?? ""))"
        case "attempt_failed", "log": detail = ": \(r["message"]?.stringValue ?? "")"
        case "rollback_started": detail = ": \(r["reason"]?.stringValue ?? "")"
        case "run_paused": detail = ": \(r["reason"]?.stringValue ?? "")"
        case "run_finished": detail = ": \(r["status"]?.stringValue ?? "")"
        default: break
        }
        return "\(time)  \(type)\(step)\(detail)"
    }
}

/// Tells on standard error about a journal line `Journal.read` skipped (not its torn last line).
func warnDamaged(_ damage: JournalDamage) {
    printError("warning: \(TerminalText.escaped(damage.description))")
}
