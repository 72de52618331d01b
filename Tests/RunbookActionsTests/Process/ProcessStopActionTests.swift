// process.stop with real processes (perl with a unique marker in its argv, one that ignores SIGTERM),
// pidfiles, and — on a scripted process table — that it never signals itself, its ancestors or PID 1.
import Foundation
import RunbookActions
import RunbookKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("process.stop")
struct ProcessStopActionTests {
    let action = ProcessStopAction()

    /// Starts `perl -e <script> <marker>` detached (reaped by the launcher once it exits).
    static func spawn(_ script: String, marker: String) async throws -> Int32 {
        let spec = ProgramSpec(executable: "/usr/bin/perl", arguments: ["perl", "-e", script, marker],
                               environment: ProcessInfo.processInfo.environment)
        let started = try await POSIXProgramLauncher().start(spec)
        #expect(started.earlyExitCode == nil)
        return started.pid
    }

    static let sleeper = "sleep 300"
    /// Ignores SIGTERM: only SIGKILL stops it.
    static let stubborn = "$SIG{TERM} = 'IGNORE'; sleep 300"

    static func marker() -> String { "ppo_trainer_test_\(UUID().uuidString.prefix(8))" }

    /// Best effort cleanup so a failing test leaves nothing behind.
    static func kill9(_ pids: [Int32]) { for pid in pids { kill(pid, SIGKILL) } }

    @Test func stopsEveryMatchingProcessWithTERM() async throws {
        let marker = Self.marker()
        let a = try await Self.spawn(Self.sleeper, marker: marker)
        let b = try await Self.spawn(Self.sleeper, marker: marker + "_worker")
        let other = try await Self.spawn(Self.sleeper, marker: Self.marker())
        defer { Self.kill9([a, b, other]) }

        let result = try await ActionHarness.run(action, ["pattern": .string(marker), "grace": .string("20s")])
        #expect(result.succeeded, "\(result.failureMessage ?? "")")
        #expect(result.outputs["stopped"] == .int(2))
        #expect(result.outputs["killed"] == .int(0))
        #expect(result.outputs["pids"] == .list([.int(Int(min(a, b))), .int(Int(max(a, b)))]))
        let aGone = await ExecActionTests.isGone(a)
        let bGone = await ExecActionTests.isGone(b)
        #expect(aGone && bGone)
        #expect(ExecActionTests.isRunning(other))
    }

    @Test func patternIsAnExtendedRegularExpression() async throws {
        let marker = Self.marker()
        let pid = try await Self.spawn(Self.sleeper, marker: marker + "_rank3")
        defer { Self.kill9([pid]) }
        let result = try await ActionHarness.run(action, ["pattern": .string("perl .*\(marker)_rank[0-9]+$")])
        #expect(result.outputs["pids"] == .list([.int(Int(pid))]))
    }

    @Test func escalatesToKILLAfterTheGracePeriod() async throws {
        let marker = Self.marker()
        let pid = try await Self.spawn(Self.stubborn, marker: marker)
        defer { Self.kill9([pid]) }
        let emitted = EmittedLines()
        let result = try await ActionHarness.run(action, ["pattern": .string(marker), "grace": .string("500ms")],
                                                 emitted: emitted)
        #expect(result.succeeded, "\(result.failureMessage ?? "")")
        #expect(result.outputs["stopped"] == .int(1))
        #expect(result.outputs["killed"] == .int(1))
        #expect(emitted.lines.contains { $0.level == "warning" && $0.message.contains("sending SIGKILL to pid \(pid)") })
        #expect(await ExecActionTests.isGone(pid))
    }

    @Test func withoutEscalationAStubbornProcessFailsTheStep() async throws {
        let marker = Self.marker()
        let pid = try await Self.spawn(Self.stubborn, marker: marker)
        defer { Self.kill9([pid]) }
        let result = try await ActionHarness.run(action, ["pattern": .string(marker), "grace": .string("300ms"),
                                                          "escalate": .bool(false)])
        #expect(result.failureMessage == "1 process still running after SIGTERM and 300ms (escalate is false): pid \(pid)")
        #expect(result.outputs["stopped"] == .int(0))
        #expect(ExecActionTests.isRunning(pid))
    }

    @Test(arguments: [Value.string("INT"), .string("SIGINT"), .int(2), .string("2")])
    func signalsByNameOrNumber(_ signal: Value) async throws {
        let marker = Self.marker()
        // Exits 42 on SIGINT only; SIGTERM would not be handled, so a wrong signal shows as "not stopped".
        let pid = try await Self.spawn("$SIG{TERM} = 'IGNORE'; $SIG{INT} = sub { exit 42 }; sleep 300", marker: marker)
        defer { Self.kill9([pid]) }
        let result = try await ActionHarness.run(action, ["pattern": .string(marker), "signal": signal,
                                                          "grace": .string("20s"), "escalate": .bool(false)])
        #expect(result.outputs["stopped"] == .int(1), "\(result.failureMessage ?? "")")
    }

    @Test func unknownSignalsAndBadPatternsFailClearly() async throws {
        let bad = try await ActionHarness.run(action, ["pattern": .string("x"), "signal": .string("BOOM")])
        #expect(bad.failureMessage == "parameter 'signal': unknown signal 'BOOM' (use one of HUP, INT, KILL, QUIT, TERM, "
                + "USR1, USR2, or a number)")
        let regex = try await ActionHarness.run(action, ["pattern": .string("ppo(")])
        #expect(regex.failureMessage == "parameter 'pattern': 'ppo(' is not a valid regular expression")
        let neither = try await ActionHarness.run(action, [:])
        #expect(neither.failureMessage == "give either 'pattern' or 'pidfile'")
        let both = try await ActionHarness.run(action, ["pattern": .string("x"), "pidfile": .string("/tmp/x")])
        #expect(both.failureMessage == "use either 'pattern' or 'pidfile', not both")
    }

    @Test func noMatchIsSuccessUnlessAMatchIsRequired() async throws {
        let marker = Self.marker()
        let relaxed = try await ActionHarness.run(action, ["pattern": .string(marker)])
        #expect(relaxed.succeeded)
        #expect(relaxed.outputs == ["stopped": .int(0), "pids": .list([]), "killed": .int(0)])
        let strict = try await ActionHarness.run(action, ["pattern": .string(marker), "require_match": .bool(true)])
        #expect(strict.failureMessage == "no running process matches '\(marker)'")
    }

    @Test func stopsThePidInAPidfile() async throws {
        let dir = try ExecActionTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pid = try await Self.spawn(Self.sleeper, marker: Self.marker())
        defer { Self.kill9([pid]) }
        try "\(pid)\n".write(toFile: dir + "/trainer.pid", atomically: true, encoding: .utf8)
        let result = try await ActionHarness.run(action, ["pidfile": .string(dir + "/trainer.pid")])
        #expect(result.outputs["pids"] == .list([.int(Int(pid))]), "\(result.failureMessage ?? "")")
        #expect(await ExecActionTests.isGone(pid))
    }

    @Test func staleMissingAndGarbledPidfiles() async throws {
        let dir = try ExecActionTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A pid that ran and is gone: start a process, stop it, keep its pid.
        let pid = try await Self.spawn(Self.sleeper, marker: Self.marker())
        kill(pid, SIGKILL)
        #expect(await ExecActionTests.isGone(pid, within: 20))
        try "\(pid)\n".write(toFile: dir + "/stale.pid", atomically: true, encoding: .utf8)
        let emitted = EmittedLines()
        let stale = try await ActionHarness.run(action, ["pidfile": .string(dir + "/stale.pid")], emitted: emitted)
        #expect(stale.succeeded)
        #expect(stale.outputs["stopped"] == .int(0))
        #expect(emitted.lines.contains { $0.message.contains("names pid \(pid), which is not running (stale pidfile)") })
        let required = try await ActionHarness.run(action, ["pidfile": .string(dir + "/stale.pid"),
                                                            "require_match": .bool(true)])
        #expect(required.failureMessage == "no running process matches pidfile \(dir)/stale.pid")

        let missing = try await ActionHarness.run(action, ["pidfile": .string(dir + "/missing.pid")])
        #expect(missing.succeeded)

        try "not-a-pid\n".write(toFile: dir + "/garbled.pid", atomically: true, encoding: .utf8)
        let garbled = try await ActionHarness.run(action, ["pidfile": .string(dir + "/garbled.pid")])
        #expect(garbled.failureMessage == "pidfile \(dir)/garbled.pid does not hold a pid: 'not-a-pid'")
        // A multi-line secret in it: masked whole before the first line is quoted.
        try "tok-first-line\ntok-second-line\n".write(toFile: dir + "/secret.pid", atomically: true, encoding: .utf8)
        let secret = try await ActionHarness.run(action, ["pidfile": .string(dir + "/secret.pid")],
                                                 secrets: ["tok-first-line\ntok-second-line"])
        #expect(secret.failureMessage == "pidfile \(dir)/secret.pid does not hold a pid: '***'")

        try "1\n".write(toFile: dir + "/init.pid", atomically: true, encoding: .utf8)
        let initPID = try await ActionHarness.run(action, ["pidfile": .string(dir + "/init.pid")])
        #expect(initPID.failureMessage?.contains("refusing to signal it") == true)
    }
}

/// A scripted table: the runner is 500, child of 400, child of 1; everything matches the pattern.
final class ScriptedProcessTable: ProcessTable, @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [Int32: RunningProcess]
    private var sent: [(signal: Int32, pid: Int32)] = []

    init() {
        let entries = [
            RunningProcess(pid: 1, parentPID: 0, commandLine: "/sbin/init ppo_trainer"),
            RunningProcess(pid: 400, parentPID: 1, commandLine: "sh -c runbook run rl --param pattern=ppo_trainer"),
            RunningProcess(pid: 500, parentPID: 400, commandLine: "runbook run rl --param pattern=ppo_trainer"),
            RunningProcess(pid: 600, parentPID: 1, commandLine: "python -m ppo_trainer"),
            RunningProcess(pid: 700, parentPID: 600, commandLine: "", isZombie: true),
        ]
        processes = Dictionary(uniqueKeysWithValues: entries.map { ($0.pid, $0) })
    }

    var signals: [(signal: Int32, pid: Int32)] { lock.withLock { sent } }
    var ownPID: Int32 { 500 }
    func all() throws -> [RunningProcess] { lock.withLock { processes.values.sorted { $0.pid < $1.pid } } }
    func process(_ pid: Int32) -> RunningProcess? { lock.withLock { processes[pid] } }
    func send(_ signal: Int32, to pid: Int32) -> Int32 {
        lock.withLock {
            sent.append((signal, pid))
            processes[pid] = nil   // every process obeys at once
            return 0
        }
    }
}

@Suite("process.stop safety")
struct ProcessStopSafetyTests {
    @Test func neverSignalsItselfItsAncestorsOrInit() async throws {
        let table = ScriptedProcessTable()
        let emitted = EmittedLines()
        let result = try await ActionHarness.run(ProcessStopAction(table: table), ["pattern": .string("ppo_trainer")],
                                                 emitted: emitted)
        #expect(result.outputs["pids"] == .list([.int(600)]))
        #expect(table.signals.map(\.pid) == [600])
        #expect(table.signals.map(\.signal) == [SIGTERM])
        let warnings = emitted.lines.filter { $0.level == "warning" }.map(\.message)
        #expect(warnings.contains { $0.contains("pid 1:") } && warnings.contains { $0.contains("pid 400:") })
    }

    @Test func aPidfileNamingAnAncestorIsRefused() async throws {
        let dir = try ExecActionTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "400".write(toFile: dir + "/x.pid", atomically: true, encoding: .utf8)
        let table = ScriptedProcessTable()
        let result = try await ActionHarness.run(ProcessStopAction(table: table), ["pidfile": .string(dir + "/x.pid")])
        #expect(result.failureMessage == "pidfile \(dir)/x.pid names pid 400, the runner itself, one of its ancestors "
                + "or PID 1: refusing to signal it")
        #expect(table.signals.isEmpty)
    }
}
