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
            let now = Date()
            for r in records { output(TerminalText.escaped(Self.timelineLine(r, now: now)) + "\n") }
            return
        }
        // Oldest first by the start each journal records, not by file times: a state directory
        // copied or restored (`cp -r`, a backup) gives every file a new time.
        var listed: [(start: Date?, id: String, row: [String], item: Value)] = []
        for id in dir.runIDs() {
            let path = dir.journalPath(id)
            let records: [[String: Value]]
            do { records = try Journal.read(path: path, damaged: warnDamaged) } catch {
                printError("warning: \(TerminalText.escaped("\(error)"))")
                listed.append((Self.startInID(id), id, [id, "?", "?", Self.unreadable, "?"], Self.unknownRun(id, status: Self.unreadable)))
                continue
            }
            guard let point = try? ResumePoint.from(records: records) else {
                // Listed all the same: a run that history leaves out is a run nobody looks at.
                printError("warning: \(TerminalText.escaped(path)): no readable run_started record; the run's runbook is unknown")
                listed.append((Self.startInID(id), id, [id, "?", "?", Self.corrupt, "?"], Self.unknownRun(id, status: Self.corrupt)))
                continue
            }
            let started = records.first { $0["type"] == .string("run_started") }?["time"]?.stringValue ?? "?"
            // The last session's end only: a run paused, resumed, then killed is interrupted, not paused.
            let lastSession = Journal.lastSession(of: records)
            let lastStatus = lastSession.last(where: { $0["type"] == .string("run_finished") })?["status"]?.stringValue
            let status = point.endedWith?.rawValue
                ?? (Journal.isInProgress(path: path) ? "running" : lastStatus == "paused" ? "paused" : "interrupted")
            // A paused run waits for a question that may expire: when, beside the status.
            let expiry = status == "paused"
                ? lastSession.last(where: { $0["type"] == .string("run_paused") })?["expires_at"]?.stringValue
                : nil
            let shownStatus = expiry.flatMap(Journal.parseTimestamp).map { date in
                QuestionExpiry.hasExpired(date) ? "paused (question expired)" : "paused (expires \(QuestionExpiry.relative(date)))"
            } ?? status
            listed.append((Journal.parseTimestamp(started) ?? Self.startInID(id), id,
                           [id, point.runbookID, started, shownStatus, point.dryRun ? "yes" : "no"],
                           .map(["run_id": .string(id), "runbook": .string(point.runbookID), "started_at": .string(started),
                                 "status": .string(status), "dry_run": .bool(point.dryRun),
                                 "expires_at": expiry.map(Value.string) ?? .null])))
        }
        listed.sort(by: Self.oldestFirst)
        if format == .json {
            output(Value.list(listed.map(\.item)).jsonText(pretty: true) + "\n")
        } else {
            output(Table.render([["RUN", "RUNBOOK", "STARTED", "STATUS", "DRY-RUN"]] + listed.map(\.row)))
        }
    }

    /// By start time, then run id; a run whose start is unknown goes after those whose is known.
    static func oldestFirst(_ a: (start: Date?, id: String, row: [String], item: Value),
                            _ b: (start: Date?, id: String, row: [String], item: Value)) -> Bool {
        switch (a.start, b.start) {
        case let (x?, y?) where x != y: return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a.id < b.id
        }
    }

    /// The start a run id carries (`<runbook>-<UTC yyyyMMdd-HHmmss>-<hex>`, to the second): the
    /// place in the list of a run whose journal does not say when it started.
    static func startInID(_ id: String) -> Date? {
        let parts = id.split(separator: "-")
        guard parts.count >= 3 else { return nil }
        let day = parts[parts.count - 3], time = parts[parts.count - 2]
        let digit: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        guard day.count == 8, time.count == 6, day.allSatisfy(digit), time.allSatisfy(digit) else { return nil }
        let d = Array(day), t = Array(time)
        let text = "\(String(d[0..<4]))-\(String(d[4..<6]))-\(String(d[6..<8]))T\(String(t[0..<2])):\(String(t[2..<4])):\(String(t[4..<6])).000Z"
        return Journal.parseTimestamp(text)
    }

    /// The status of a run whose journal has no readable `run_started` record.
    static let corrupt = "corrupt"
    /// The status of a run whose journal cannot be read at all.
    static let unreadable = "unreadable"

    /// The JSON row of a run whose journal does not say what it ran.
    static func unknownRun(_ id: String, status: String) -> Value {
        .map(["run_id": .string(id), "runbook": .null, "started_at": .null, "status": .string(status), "dry_run": .null,
              "expires_at": .null])
    }

    /// The raw text of one timeline line; the caller escapes it for the terminal.
    static func timelineLine(_ r: [String: Value], now: Date = Date()) -> String {
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
            let who = EarlierAnswer.describe(by: r["by"]?.stringValue ?? "?", how: r["how"]?.stringValue ?? "",
                                             earlierHow: r["earlier_how"]?.stringValue,
                                             earlierSeq: r["earlier_seq"]?.numberValue.map { Int($0) })
            detail = ": \(r["approved"] == .bool(true) ? "approved" : "declined") by \(who)"
        case "attempt_failed", "log": detail = ": \(r["message"]?.stringValue ?? "")"
        case "rollback_started": detail = ": \(r["reason"]?.stringValue ?? "")"
        case "process_started":
            let pid = r["pid"]?.numberValue.map { String(Int($0)) } ?? "?"
            detail = ": pid \(pid) (process group \(r["pgid"]?.numberValue.map { String(Int($0)) } ?? pid))"
                + (r["detached"] == .bool(true) ? ", detached" : "")
        case "run_paused":
            detail = ": \(r["reason"]?.stringValue ?? "")"
                + (r["expires_at"]?.stringValue.flatMap(Journal.parseTimestamp).map {
                    " (the question \(QuestionExpiry.describe($0, now: now)))"
                } ?? "")
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
