// Confirmations on a real terminal: `runbook run` under util-linux `script`, which gives it a
// pseudo-terminal; the test types into it (answers, Enter, Ctrl-C) after the prompt appears.
import Foundation
import RunbookKit
import Testing

/// `runbook args…` on a pseudo-terminal: what it prints is collected, keystrokes can be sent.
final class TerminalSession: @unchecked Sendable {
    static let script = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }

    private let process = Process()
    private let input = Pipe()
    private let outputPath: String

    init(_ args: [String], in directory: String) throws {
        outputPath = directory + "/tty-\(UUID().uuidString.prefix(8)).out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let quoted = ([CLI.executable] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        process.executableURL = URL(fileURLWithPath: try #require(Self.script))
        // -q quiet, -f flush at once, -e the child's exit status, -c the command; no log file.
        process.arguments = ["-qfec", quoted.joined(separator: " "), "/dev/null"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["USER"] = "tty-operator"
        env["SUDO_USER"] = "tty-operator"
        process.environment = env
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = process.standardOutput
        try process.run()
    }

    /// Everything the terminal showed so far.
    var screen: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits until the screen shows `text` `count` times (generous bound: a hang guard, not a timing test).
    func waitFor(_ text: String, count: Int = 1, seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while screen.components(separatedBy: text).count - 1 < count {
            if Date() > deadline || !process.isRunning && screen.components(separatedBy: text).count - 1 < count {
                Issue.record("the terminal never showed \(text.debugDescription) \(count)×:\n\(screen)")
                throw CancellationError()
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Types `keys` (e.g. "y\n", "\u{03}" for Ctrl-C).
    func type(_ keys: String) {
        input.fileHandleForWriting.write(Data(keys.utf8))
    }

    /// Waits for the process and returns its exit status.
    func wait(seconds: Double = 60) async -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        if process.isRunning { process.terminate(); Issue.record("still running:\n\(screen)") }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("confirmations on a terminal", .enabled(if: TerminalSession.script != nil, "util-linux script is not installed"))
struct TerminalPromptCLITests {
    static let runbook = """
    version: 1
    id: tty_gate
    title: tty gate
    severity: sev4
    automation: semi_automatic
    steps:
      - id: before
        action: log
        with: {message: "before the gate"}
      - id: gate
        action: log
        with: {message: "past the gate"}
        confirm: {message: "Really flip the switch?", timeout: 10m}
    rollback:
      - id: undo
        action: log
        with: {message: "undoing the switch"}

    """

    /// A temp dir with the runbook; `body` gets the dir and the `run` arguments.
    func withRunbook(_ text: String = runbook, _ body: (TempDir, [String]) async throws -> Void) async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("tty_gate.yaml", text)
        try await body(dir, ["run", "tty_gate.yaml", "--state-dir", dir.path + "/state"])
    }

    func journal(_ dir: TempDir) throws -> [[String: Value]] {
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/runs")
        return try Journal.read(path: dir.path + "/state/runs/\(try #require(runs.first))/journal.jsonl")
    }

    @Test func yesApprovesAndTheAnswerIsJournaled() async throws {
        try await withRunbook { dir, args in
            let tty = try TerminalSession(args, in: dir.path)
            try await tty.waitFor("Proceed? [y/N]")
            #expect(tty.screen.components(separatedBy: "Really flip the switch?").count == 2, "shown once: \(tty.screen)")
            #expect(tty.screen.contains("expires in 10m"))
            tty.type("y\n")
            #expect(await tty.wait() == 0, "\(tty.screen)")
            #expect(tty.screen.contains("past the gate"))
            let answered = try journal(dir).first { $0["type"] == .string("confirmation_answered") }
            #expect(answered?["approved"] == .bool(true))
            #expect(answered?["by"] == .string("tty-operator"))
            #expect(answered?["how"] == .string("terminal"))
        }
    }

    @Test func enterAloneDeclinesAndRollsBack() async throws {
        try await withRunbook { dir, args in
            let tty = try TerminalSession(args, in: dir.path)
            try await tty.waitFor("Proceed? [y/N]")
            tty.type("\n")
            #expect(await tty.wait() == 1, "\(tty.screen)")
            #expect(!tty.screen.contains("past the gate"))
            #expect(tty.screen.contains("confirmation declined by tty-operator"))
            #expect(tty.screen.contains("undoing the switch"))
        }
    }

    @Test func ctrlCAtThePromptEndsItAndOffersTheRollback() async throws {
        try await withRunbook { dir, args in
            let tty = try TerminalSession(args, in: dir.path)
            try await tty.waitFor("Proceed? [y/N]")
            tty.type("\u{03}")
            // The question ends at once (no Enter needed) and the rollback is offered.
            try await tty.waitFor("Run the rollback steps now?")
            #expect(tty.screen.contains("interrupted by SIGINT while waiting for confirmation"))
            try await tty.waitFor("Proceed? [y/N]", count: 2)
            tty.type("y\n")
            #expect(await tty.wait() == 1, "\(tty.screen)")
            #expect(tty.screen.contains("undoing the switch"))
            #expect(!tty.screen.contains("past the gate"))
            let answered = try journal(dir).first { $0["type"] == .string("confirmation_answered") }
            #expect(answered?["approved"] == .bool(false))
            #expect(answered?["how"] == .string("interrupted"))
            let finished = try journal(dir).last { $0["type"] == .string("run_finished") }
            #expect(finished?["status"] == .string("failed"))
        }
    }

    @Test func aSecondCtrlCRefusesTheRollback() async throws {
        try await withRunbook { dir, args in
            let tty = try TerminalSession(args, in: dir.path)
            try await tty.waitFor("Proceed? [y/N]")
            tty.type("\u{03}")
            try await tty.waitFor("Proceed? [y/N]", count: 2)
            tty.type("\u{03}")
            #expect(await tty.wait() == 1, "\(tty.screen)")
            #expect(!tty.screen.contains("undoing the switch"))
            let finished = try journal(dir).last { $0["type"] == .string("run_finished") }
            #expect(finished?["status"] == .string("aborted"))
        }
    }

    @Test("keys typed before the question was shown do not answer it")
    func typeAheadIsDiscarded() async throws {
        // The step before the gate runs until the test says so: the keys are typed (and echoed,
        // so they sit in the terminal's input) while it runs, whatever the machine's load.
        let held = Self.runbook
            .replacingOccurrences(of: "action: log\n    with: {message: \"before the gate\"}",
                                  with: "action: exec\n    with: {argv: [sh, -c, \"while [ ! -f go ]; do sleep 0.05; done\"]}\n    rollback: none")
            .replacingOccurrences(of: "timeout: 10m", with: "timeout: 2s")
        #expect(held.contains("while [ ! -f go ]") && held.contains("timeout: 2s"))
        try await withRunbook(held) { dir, args in
            let tty = try TerminalSession(args, in: dir.path)
            try await tty.waitFor("▶ before")
            tty.type("y\n")
            try await tty.waitFor("y\r\n")
            #expect(!tty.screen.contains("Proceed?"))
            try dir.write("go", "")
            try await tty.waitFor("Proceed? [y/N] (expires in 2s)")
            #expect(await tty.wait() == 1, "\(tty.screen)")
            #expect(!tty.screen.contains("past the gate"), "\(tty.screen)")
            #expect(tty.screen.contains("confirmation expired: declined"))
            let answered = try journal(dir).first { $0["type"] == .string("confirmation_answered") }
            #expect(answered?["approved"] == .bool(false))
            #expect(answered?["how"] == .string("expired"))
        }
    }

    @Test("end of input (Ctrl-D) at the question is no answer: the run pauses, no rollback starts")
    func endOfInputPauses() async throws {
        try await withRunbook { dir, args in
            let tty = try TerminalSession(args, in: dir.path)
            try await tty.waitFor("Proceed? [y/N]")
            tty.type("\u{04}")
            #expect(await tty.wait() == 3, "\(tty.screen)")
            #expect(tty.screen.contains("no answer (end of input)"))
            #expect(tty.screen.contains("paused: waiting for confirmation of step 'gate'"))
            #expect(!tty.screen.contains("past the gate"))
            #expect(!tty.screen.contains("undoing the switch"))
            #expect(try journal(dir).contains { $0["type"] == .string("run_paused") })
        }
    }

    @Test func anUnansweredQuestionExpiresAsDeclined() async throws {
        try await withRunbook(Self.runbook.replacingOccurrences(of: "timeout: 10m", with: "timeout: 1s")) { dir, args in
            let tty = try TerminalSession(args, in: dir.path)
            try await tty.waitFor("Proceed? [y/N] (expires in 1s)")
            #expect(await tty.wait() == 1, "\(tty.screen)")
            #expect(tty.screen.contains("confirmation expired: declined"))
            #expect(tty.screen.contains("undoing the switch"))
            let answered = try journal(dir).first { $0["type"] == .string("confirmation_answered") }
            #expect(answered?["how"] == .string("expired"))
        }
    }
}
