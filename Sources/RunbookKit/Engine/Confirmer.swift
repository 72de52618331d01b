import Foundation

/// The answer to a confirmation. Never assumed: without an answer the run pauses.
public enum ConfirmationAnswer: Sendable, Equatable {
    case approved(by: String, how: String)
    case declined(by: String, how: String)
    /// Nobody could answer now (no terminal, no approval): the run pauses.
    case pending
}

/// Asks a human (or a policy) whether a step may go ahead.
public protocol Confirmer: Sendable {
    func confirm(step: String, message: String, timeout: Double?) async -> ConfirmationAnswer
    /// The answer the operator gave before `step` was asked (`--decline STEP`, `--approve STEP`,
    /// `--yes`), if any. On resume, a decline wins over an approval the journal holds from before
    /// a crash, and any such answer wins over a question's expiry: it is given now.
    func upFrontAnswer(step: String) -> ConfirmationAnswer?
    /// `confirm` for a question that `--yes` must not answer: the answer names the step
    /// (`--approve STEP`, `--decline STEP`) or is typed on the terminal. Asked before re-running a
    /// step whose program is still running, where a blanket approval would start a second copy
    /// beside the first without anyone having read that it runs.
    func confirmNamingStep(step: String, message: String, timeout: Double?) async -> ConfirmationAnswer
}

extension Confirmer {
    public func upFrontAnswer(step: String) -> ConfirmationAnswer? { nil }
    public func confirmNamingStep(step: String, message: String, timeout: Double?) async -> ConfirmationAnswer {
        await confirm(step: step, message: message, timeout: timeout)
    }
}

/// Answers from flags, a scenario or a terminal, in that order; otherwise pending.
public struct ConfirmationPolicy: Confirmer {
    /// `--yes`: approve everything.
    public var approveAll: Bool
    /// `--approve STEP`.
    public var approved: Set<String>
    /// `--decline STEP`.
    public var declined: Set<String>
    /// Answers from a scenario file.
    public var scenarioAnswers: [String: Bool]
    /// Steps a scenario leaves unanswered (`confirm: pause`): the run pauses there.
    public var scenarioPauses: Set<String> = []
    /// Ask on the controlling terminal when one is there.
    public var interactive: Bool
    /// Who answers: the operator's user name.
    public var operatorName: String
    /// The run's text output on the terminal already shows each question (`? message`): the
    /// prompt then only asks `Proceed? [y/N]`, instead of printing the question a second time.
    public var questionShown = false

    public init(approveAll: Bool = false, approved: Set<String> = [], declined: Set<String> = [],
                scenarioAnswers: [String: Bool] = [:], interactive: Bool = false,
                operatorName: String = ConfirmationPolicy.currentUser()) {
        self.approveAll = approveAll
        self.approved = approved
        self.declined = declined
        self.scenarioAnswers = scenarioAnswers
        self.interactive = interactive
        self.operatorName = operatorName
    }

    public static func currentUser() -> String {
        let env = ProcessInfo.processInfo.environment
        if let name = env["SUDO_USER"] ?? env["USER"] ?? env["LOGNAME"], !name.isEmpty { return name }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    public func upFrontAnswer(step: String) -> ConfirmationAnswer? {
        if declined.contains(step) { return .declined(by: operatorName, how: "--decline \(step)") }
        if approved.contains(step) { return .approved(by: operatorName, how: "--approve \(step)") }
        if approveAll { return .approved(by: operatorName, how: "--yes") }
        return nil
    }

    public func confirm(step: String, message: String, timeout: Double?) async -> ConfirmationAnswer {
        await confirm(step: step, message: message, timeout: timeout, blanket: true)
    }

    public func confirmNamingStep(step: String, message: String, timeout: Double?) async -> ConfirmationAnswer {
        await confirm(step: step, message: message, timeout: timeout, blanket: false)
    }

    /// `blanket`: `--yes` answers too.
    private func confirm(step: String, message: String, timeout: Double?, blanket: Bool) async -> ConfirmationAnswer {
        if declined.contains(step) || approved.contains(step) || (blanket && approveAll),
           let answer = upFrontAnswer(step: step) {
            return answer
        }
        if let answer = scenarioAnswers[step] {
            return answer ? .approved(by: "scenario", how: "scenario") : .declined(by: "scenario", how: "scenario")
        }
        if scenarioPauses.contains(step) { return .pending }
        guard interactive else { return .pending }
        return await TerminalPrompt.ask(questionShown ? nil : message, timeout: timeout, operatorName: operatorName)
    }
}

/// y/N on the controlling terminal, with an optional expiry (expired = declined). Cancelling the
/// asking task (the engine does on SIGINT/SIGTERM) ends the question at once as declined, `how`
/// `interrupted`.
enum TerminalPrompt {
    /// The `how` of an answer ended by a signal.
    static let interrupted = "interrupted"

    /// `message` nil: the question is on screen already; only `Proceed? [y/N]` is asked.
    static func ask(_ message: String?, timeout: Double?, operatorName: String) async -> ConfirmationAnswer {
        // Cancellation wakes the blocked poll(2) through a pipe.
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return await blocking(message, timeout, operatorName, cancelFD: -1) }
        defer { close(fds[0]); close(fds[1]) }
        let wake = fds[1]
        return await withTaskCancellationHandler {
            await blocking(message, timeout, operatorName, cancelFD: fds[0])
        } onCancel: {
            var byte: UInt8 = 1
            _ = write(wake, &byte, 1)
        }
    }

    private static func blocking(_ message: String?, _ timeout: Double?, _ operatorName: String,
                                 cancelFD: Int32) async -> ConfirmationAnswer {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: askBlocking(message, timeout: timeout, operatorName: operatorName,
                                                           cancelFD: cancelFD))
            }
        }
    }

    private static func askBlocking(_ message: String?, timeout: Double?, operatorName: String,
                                    cancelFD: Int32) -> ConfirmationAnswer {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return .pending }
        defer { close(fd) }
        // Keys typed before the question was shown (a `y⏎` during an earlier step, a `y` left
        // from a prompt that expired, a double Enter) must not answer it: they are discarded.
        _ = tcflush(fd, TCIFLUSH)
        let expiry = timeout.map { " (expires in \(RunbookDuration(seconds: $0)))" } ?? ""
        // The question comes from the runbook: a `\r` or an escape sequence in it must not rewrite
        // what the on-call is approving.
        let question = message.map { "\n\(TerminalText.escaped($0, keepingNewlines: true))\n" } ?? ""
        let prompt = "\(question)Proceed? [y/N]\(expiry) "
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var line = [UInt8]()
        while true {
            var pfds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                        pollfd(fd: cancelFD, events: Int16(POLLIN), revents: 0)]
            let remaining = deadline.map { max(0, Int32($0.timeIntervalSinceNow * 1000)) } ?? -1
            let ready = poll(&pfds, cancelFD >= 0 ? 2 : 1, remaining)
            if ready > 0 && pfds[1].revents != 0 {
                _ = "\ninterrupted: declined\n".withCString { write(fd, $0, strlen($0)) }
                return .declined(by: operatorName, how: interrupted)
            }
            if ready == 0 {
                _ = "\nconfirmation expired: declined\n".withCString { write(fd, $0, strlen($0)) }
                return .declined(by: "timeout", how: "expired")
            }
            if ready < 0 { if errno == EINTR { continue }; return .pending }
            var byte: UInt8 = 0
            let n = read(fd, &byte, 1)
            // End of input (Ctrl-D, a closed terminal) is no answer: the run pauses, and a decline
            // (which would start the rollback) is never assumed either.
            if n <= 0 {
                _ = "\nno answer (end of input)\n".withCString { write(fd, $0, strlen($0)) }
                return .pending
            }
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        let answer = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes" ? .approved(by: operatorName, how: "terminal")
                                                  : .declined(by: operatorName, how: "terminal")
    }
}
