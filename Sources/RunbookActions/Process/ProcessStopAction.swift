// `process.stop`: signal processes found by command-line pattern (like `pkill -f`) or by pidfile,
// wait for them to exit, and SIGKILL what is left after the grace period.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import RunbookKit

/// Runs `process.stop` over a `ProcessTable`.
///
/// It never signals the runner itself, any of its ancestors (the shell or service that started it,
/// whose command line often holds the pattern too) or PID 1.
public struct ProcessStopAction: Action {
    /// The declaration this implements.
    public let descriptor = ProcessActions.stop
    private let table: any ProcessTable
    private let pollInterval: Double
    private let killWait: Double

    /// The action on the given table (default: /proc); `pollInterval` seconds between exit checks,
    /// `killWait` seconds to wait for SIGKILLed processes to disappear.
    public init(table: any ProcessTable = ProcFSProcessTable(), pollInterval: Double = 0.05, killWait: Double = 5) {
        self.table = table
        self.pollInterval = pollInterval
        self.killWait = killWait
    }

    /// Signal names accepted by `signal` (with or without `SIG`), and their numbers.
    static let signalNumbers: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1, "USR2": SIGUSR2,
        "TERM": SIGTERM,
    ]

    /// `TERM`, `SIGTERM`, `15` or 15 → (15, "SIGTERM").
    static func parseSignal(_ value: Value?) throws -> (number: Int32, name: String) {
        func named(_ number: Int32) -> String {
            signalNumbers.first { $0.value == number }.map { "SIG" + $0.key } ?? "signal \(number)"
        }
        switch value {
        case nil, .null?: return (SIGTERM, "SIGTERM")
        case .int(let n)?:
            guard (1...64).contains(n) else { throw ActionFailure("parameter 'signal': \(n) is not a signal number (1–64)") }
            return (Int32(n), named(Int32(n)))
        case .string(let text)?:
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if let n = Int(trimmed) { return try parseSignal(.int(n)) }
            var name = trimmed.uppercased()
            if name.hasPrefix("SIG") { name.removeFirst(3) }
            guard let number = signalNumbers[name] else {
                throw ActionFailure("parameter 'signal': unknown signal '\(text)' (use one of "
                                    + signalNumbers.keys.sorted().joined(separator: ", ") + ", or a number)")
            }
            return (number, "SIG" + name)
        case let other?:
            throw ActionFailure("parameter 'signal' must be a signal name or number, got \(other.typeName)")
        }
    }

    /// Finds, signals, waits, escalates.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        try ExecAction.checkSystemText(invocation, ["pattern", "pidfile"], action: "process.stop")
        let pattern = invocation.string("pattern").flatMap { $0.isEmpty ? nil : $0 }
        let pidfile = invocation.string("pidfile").flatMap { $0.isEmpty ? nil : $0 }
        let signal = try Self.parseSignal(invocation.arguments["signal"])
        let grace = max(0, invocation.duration("grace") ?? 10)
        let escalate = invocation.bool("escalate") ?? true
        let requireMatch = invocation.bool("require_match") ?? false
        let emit = invocation.context.emit

        let what: String
        let targets: [RunningProcess]
        switch (pattern, pidfile) {
        case (nil, nil): throw ActionFailure("give either 'pattern' or 'pidfile'")
        case (_?, _?): throw ActionFailure("use either 'pattern' or 'pidfile', not both")
        case (let pattern?, nil):
            what = "'\(pattern)'"
            targets = try matching(pattern, emit: emit)
        case (nil, let pidfile?):
            what = "pidfile \(pidfile)"
            targets = try fromPidfile(pidfile, masker: invocation.context.masker, emit: emit)
        }

        var outputs: [String: Value] = ["stopped": .int(0), "pids": .list([]), "killed": .int(0)]
        guard !targets.isEmpty else {
            if requireMatch { throw ActionFailure("no running process matches \(what)", outputs: outputs) }
            return ActionResult(outputs: outputs, summary: "nothing to stop: no running process matches \(what)")
        }

        var denied: [Int32] = []
        var signalled: [RunningProcess] = []
        for target in targets {
            switch table.send(signal.number, to: target.pid) {
            case 0: signalled.append(target)
            case ESRCH: signalled.append(target)   // exited meanwhile: it counts as stopped
            case EPERM: denied.append(target.pid)
            case let error: throw ActionFailure("cannot signal pid \(target.pid): "
                                                + systemErrorText(error), outputs: outputs)
            }
        }

        var remaining = try await waitForExit(signalled, within: grace)
        var killed: [Int32] = []
        if signal.number == SIGKILL {
            killed = signalled.map(\.pid)
        } else if escalate && !remaining.isEmpty {
            emit("warning", "\(Self.count(remaining.count)) still running after \(RunbookDuration(seconds: grace)): "
                 + "sending SIGKILL to pid " + Self.list(remaining.map(\.pid)))
            for target in remaining where table.send(SIGKILL, to: target.pid) == 0 { killed.append(target.pid) }
            remaining = try await waitForExit(remaining, within: killWait)
        }

        let stillRunning = Set(remaining.map(\.pid))
        let stopped = signalled.map(\.pid).filter { !stillRunning.contains($0) }
        outputs = ["stopped": .int(stopped.count), "pids": .list(stopped.map { .int(Int($0)) }),
                   "killed": .int(killed.filter { !stillRunning.contains($0) }.count)]

        if !denied.isEmpty {
            throw ActionFailure("not permitted to signal pid \(Self.list(denied)) (owned by another user?)"
                                + (stopped.isEmpty ? "" : "; stopped pid \(Self.list(stopped))"), outputs: outputs)
        }
        if !remaining.isEmpty {
            let after = escalate && signal.number != SIGKILL
                ? "SIGKILL" : "\(signal.name) and \(RunbookDuration(seconds: grace))" + (escalate ? "" : " (escalate is false)")
            throw ActionFailure("\(Self.count(remaining.count)) still running after \(after): pid "
                                + Self.list(remaining.map(\.pid)), outputs: outputs)
        }
        let viaKill = killed.isEmpty || signal.number == SIGKILL ? "" : "; \(killed.count) needed SIGKILL"
        return ActionResult(outputs: outputs,
                            summary: "stopped \(Self.count(stopped.count)) (pid \(Self.list(stopped))) with \(signal.name)"
                                + viaKill)
    }

    // MARK: finding

    /// The runner, its ancestors and PID 1: never signalled.
    func protectedPIDs() -> Set<Int32> {
        var protected: Set<Int32> = [1, table.ownPID]
        var pid = table.ownPID
        while let parent = table.process(pid)?.parentPID, parent > 0, protected.insert(parent).inserted {
            pid = parent
        }
        return protected
    }

    /// Processes whose command line matches the extended regular expression, like `pkill -f`.
    func matching(_ pattern: String, emit: @Sendable (String, String) -> Void) throws -> [RunningProcess] {
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw ActionFailure("parameter 'pattern': '\(pattern)' is not a valid regular expression")
        }
        let processes: [RunningProcess]
        do { processes = try table.all() } catch let error as ProcessTableError {
            throw ActionFailure(error.description)
        }
        let protected = protectedPIDs()
        var found: [RunningProcess] = []
        for process in processes where !process.isZombie && !process.commandLine.isEmpty {
            let line = process.commandLine
            guard regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil else { continue }
            if protected.contains(process.pid) {
                if process.pid != table.ownPID {
                    emit("warning", "not signalling pid \(process.pid): it is the runner's ancestor or PID 1")
                }
                continue
            }
            found.append(process)
        }
        return found
    }

    /// The process named by a pidfile; none when the file is missing or the pid is not running (stale).
    /// `masker`: a file that is not a pidfile is quoted masked, then shortened.
    func fromPidfile(_ pidfile: String, masker: SecretMasker = .none,
                     emit: @Sendable (String, String) -> Void) throws -> [RunningProcess] {
        guard let data = FileManager.default.contents(atPath: pidfile) else {
            if FileManager.default.fileExists(atPath: pidfile) { throw ActionFailure("cannot read pidfile \(pidfile)") }
            emit("info", "pidfile \(pidfile) does not exist")
            return []
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard let pid = Int32(firstLine.trimmingCharacters(in: .whitespaces)), pid > 0 else {
            // Masked whole before its first line is taken: a multi-line secret's first line
            // alone is no secret the masker knows.
            throw ActionFailure("pidfile \(pidfile) does not hold a pid: '\(masker.maskedPrefix(text, characters: 40, firstLine: true))'")
        }
        if protectedPIDs().contains(pid) {
            throw ActionFailure("pidfile \(pidfile) names pid \(pid), the runner itself, one of its ancestors or PID 1: "
                                + "refusing to signal it")
        }
        guard let process = table.process(pid), !process.isZombie else {
            emit("info", "pidfile \(pidfile) names pid \(pid), which is not running (stale pidfile)")
            return []
        }
        return [process]
    }

    // MARK: waiting

    /// Waits until every process has exited or `seconds` have passed; returns those still running.
    func waitForExit(_ processes: [RunningProcess], within seconds: Double) async throws -> [RunningProcess] {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(RunbookDuration.milliseconds(seconds))
        var remaining = processes.filter(isRunning)
        while !remaining.isEmpty && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(RunbookDuration.milliseconds(pollInterval)))
            remaining = remaining.filter(isRunning)
        }
        return remaining
    }

    /// Still the same live process: not gone, not a zombie, and its pid not reused.
    func isRunning(_ process: RunningProcess) -> Bool {
        guard let now = table.process(process.pid), !now.isZombie else { return false }
        return now.startTime == process.startTime
    }

    static func count(_ n: Int) -> String { n == 1 ? "1 process" : "\(n) processes" }
    static func list(_ pids: [Int32]) -> String { pids.map(String.init).joined(separator: ", ") }
}
