// exec with real processes: argv and shell, env, cwd, exit codes, output caps, and that timeouts and
// cancellation stop the whole process group (a shell's background job included).
import Foundation
import RunbookActions
import RunbookKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("exec")
struct ExecActionTests {
    let action = ExecAction()

    /// Whether `pid` is a live process (a zombie, or no process at all, is not).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Waits up to `seconds` for `pid` to stop running.
    static func isGone(_ pid: Int32, within seconds: Double = 1) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning(pid) && Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        return !isRunning(pid)
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "runbook-exec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func runsArgvWithoutAShell() async throws {
        let result = try await ActionHarness.run(action, ["argv": .list([.string("echo"), .string("hello  world"), .string("$HOME")])])
        #expect(result.succeeded)
        #expect(result.outputs["stdout"] == .string("hello  world $HOME\n"))
        #expect(result.outputs["stderr"] == .string(""))
        #expect(result.outputs["exit_code"] == .int(0))
        #expect((result.outputs["pid"].flatMap { if case .int(let p) = $0 { p } else { nil } } ?? 0) > 0)
        #expect(Set(result.outputs.keys) == Set(ProcessActions.exec.outputs.map(\.name)))
    }

    @Test("text the OS would cut at a NUL (or an env name with '=') fails the step before anything starts")
    func refusesSystemTextItCannotPassIntact() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A value an expression built at run time (lint only sees literals): `> file\0; rm` must not run half.
        let cut = try await ActionHarness.run(action, ["shell": .bool(true),
                                                       "command": .string("echo kept > \(dir)/a\u{0}; echo dropped > \(dir)/b")])
        #expect(cut.failureMessage == "parameter 'command' of 'exec': the text holds a NUL character; the operating system would cut the text there")
        #expect(!FileManager.default.fileExists(atPath: dir + "/a") && !FileManager.default.fileExists(atPath: dir + "/b"))
        let argv = try await ActionHarness.run(action, ["argv": .list([.string("echo"), .string("one\u{0}two")])])
        #expect(argv.failureMessage == "parameter 'argv' of 'exec': item 2: the text holds a NUL character; the operating system would cut the text there")
        let env = try await ActionHarness.run(action, ["argv": .list([.string("true")]), "env": .map(["A=B": .string("1")])])
        #expect(env.failureMessage == "parameter 'env' of 'exec': the name 'A=B' holds '=' (an environment name cannot); the operating system would cut the text there")
    }

    @Test func runsACommandThroughTheShell() async throws {
        let result = try await ActionHarness.run(action, ["shell": .bool(true),
                                                          "command": .string("echo $((1 + 2)); echo warn >&2")])
        #expect(result.succeeded)
        #expect(result.outputs["stdout"] == .string("3\n"))
        #expect(result.outputs["stderr"] == .string("warn\n"))
    }

    @Test func mergesEnvironmentOverTheRunners() async throws {
        let result = try await ActionHarness.run(action, [
            "argv": .list([.string("sh"), .string("-c"), .string("echo \"$RUNBOOK_TEST_VAR:${PATH:+has-path}\"")]),
            "env": .map(["RUNBOOK_TEST_VAR": .string("bar baz")]),
        ])
        #expect(result.outputs["stdout"] == .string("bar baz:has-path\n"))
    }

    @Test func runsInTheWorkingDirectory() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try await ActionHarness.run(action, ["argv": .list([.string("pwd")]), "cwd": .string(dir)])
        #expect(result.outputs["stdout"] == .string(URL(fileURLWithPath: dir).resolvingSymlinksInPath().path + "\n"))
        let missing = try await ActionHarness.run(action, ["argv": .list([.string("pwd")]), "cwd": .string(dir + "/nope")])
        #expect(missing.failureMessage == "exec: working directory \(dir)/nope does not exist")
    }

    @Test func nonZeroExitFailsWithCodeAndLastStderrLine() async throws {
        let result = try await ActionHarness.run(action, [
            "shell": .bool(true), "command": .string("echo partial; echo first >&2; echo 'disk full' >&2; exit 3"),
        ])
        #expect(result.failureMessage == "sh -c 'echo partial; echo first >&2; echo 'disk full' >&2; exit 3': exit code 3: disk full")
        #expect(result.outputs["exit_code"] == .int(3))
        #expect(result.outputs["stdout"] == .string("partial\n"))
        let accepted = try await ActionHarness.run(action, ["argv": .list([.string("sh"), .string("-c"), .string("exit 3")]),
                                                            "expect_exit": .list([.int(0), .int(3)])])
        #expect(accepted.succeeded)
        let wrongZero = try await ActionHarness.run(action, ["argv": .list([.string("true")]), "expect_exit": .int(1)])
        #expect(wrongZero.failureMessage == "'true': exit code 0 (expected 1)")
    }

    @Test func masksSecretsInTheMessage() async throws {
        let result = try await ActionHarness.run(action, [
            "argv": .list([.string("sh"), .string("-c"), .string("echo \"auth failed for $TOKEN\" >&2; exit 1")]),
            "env": .map(["TOKEN": .string("hunter2-token")]),
        ], secrets: ["hunter2-token"])
        #expect(result.failureMessage == "'sh': exit code 1: auth failed for ***")
    }

    @Test func capsOutputKeepingTheTail() async throws {
        // 300 KB is several pipe buffers: the child would block forever if the pipes were not drained.
        let result = try await ActionHarness.run(action, [
            "shell": .bool(true),
            "command": .string("head -c 300000 /dev/zero | tr '\\0' a; echo END; head -c 300000 /dev/zero | tr '\\0' b >&2"),
            "max_output_bytes": .int(1000),
        ])
        #expect(result.succeeded)
        let stdout = try #require(result.outputs["stdout"]?.stringValue)
        #expect(stdout.hasPrefix("[… 299004 earlier bytes truncated]\n"))
        #expect(stdout.hasSuffix(String(repeating: "a", count: 996) + "END\n"))
        let stderr = try #require(result.outputs["stderr"]?.stringValue)
        #expect(stderr.hasSuffix(String(repeating: "b", count: 1000)))
        #expect(stderr.contains("299000 earlier bytes truncated"))
    }

    @Test func aTailCutInsideASecretDropsTheWholeSecret() async throws {
        // The last 12 bytes of "connecting with Hunter2LongPassword!\n" start inside the password:
        // the tail starts after it, and the bytes of the secret count as truncated.
        let result = try await ActionHarness.run(action, [
            "argv": .list([.string("sh"), .string("-c"),
                           .string(#"printf 'connecting with %s\n' "$PW"; printf '%0290d%s\n' 0 "$PW" >&2; exit 1"#)]),
            "env": .map(["PW": .string("Hunter2LongPassword!")]),
            "max_output_bytes": .int(12),
        ], secrets: ["Hunter2LongPassword!"])
        #expect(result.outputs["stdout"] == .string("[… 36 earlier bytes truncated]\n\n"))
        #expect(result.outputs["stderr"] == .string("[… 310 earlier bytes truncated]\n\n"))
        // Default limit: the last stderr line (310 characters) is masked, then cut to 300.
        let line = try await ActionHarness.run(action, [
            "argv": .list([.string("sh"), .string("-c"), .string(#"printf '%0290d%s\n' 0 "$PW" >&2; exit 1"#)]),
            "env": .map(["PW": .string("Hunter2LongPassword!")]),
        ], secrets: ["Hunter2LongPassword!"])
        #expect(line.failureMessage == "'sh': exit code 1: " + String(repeating: "0", count: 290) + "***")
    }

    @Test("a secret holding a line break: the failure message's last stderr line is masked, not the secret's second half")
    func multiLineSecretInTheLastStderrLine() async throws {
        let secret = "first-half-Mlt1\nsecond-half-Ln2x"
        let result = try await ActionHarness.run(action, [
            "argv": .list([.string("sh"), .string("-c"), .string(#"printf '%s' "$A" >&2; exit 1"#)]),
            "env": .map(["A": .string(secret)]),
        ], secrets: [secret])
        #expect(result.failureMessage == "'sh': exit code 1: ***")
    }

    @Test func unknownProgramFails() async throws {
        let result = try await ActionHarness.run(action, ["argv": .list([.string("no-such-program-xyz")])])
        #expect(result.failureMessage == "'no-such-program-xyz': command not found")
        let path = try await ActionHarness.run(action, ["argv": .list([.string("/nonexistent/prog")])])
        #expect(path.failureMessage == "'/nonexistent/prog': cannot start: no such file or directory")
    }

    @Test func argumentMistakes() async throws {
        let noShell = try await ActionHarness.run(action, ["command": .string("ls")])
        #expect(noShell.failureMessage == "exec: 'command' runs through a shell: add 'shell: true', or give 'argv'")
        let nothing = try await ActionHarness.run(action, [:])
        #expect(nothing.failureMessage?.hasPrefix("exec: give 'argv'") == true)
        let shellWithoutCommand = try await ActionHarness.run(action, ["shell": .bool(true)])
        #expect(shellWithoutCommand.failureMessage == "exec: 'shell: true' needs 'command'")
    }

    @Test func timeoutStopsTheWholeProcessGroup() async throws {
        let start = ContinuousClock.now
        let result = try await ActionHarness.run(action, [
            "shell": .bool(true), "command": .string("sleep 100 & echo $!; sleep 100"), "timeout": .string("500ms"),
        ])
        #expect(seconds(since: start) < 60)
        let message = try #require(result.failureMessage)
        #expect(message.hasSuffix(": timed out after 500ms; its process group was stopped"))
        let grandchild = try #require(Int32(result.outputs["stdout"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        #expect(await Self.isGone(grandchild), "background job \(grandchild) survived the timeout")
        if case .int(let pid)? = result.outputs["pid"] { #expect(!Self.isRunning(Int32(pid))) }
    }

    @Test func aChildThatIgnoresSIGTERMIsKilled() async throws {
        let action = ExecAction(launcher: POSIXProgramLauncher(killGrace: 0.5))
        let start = ContinuousClock.now
        let result = try await ActionHarness.run(action, [
            "shell": .bool(true), "command": .string("trap '' TERM; sleep 100 & echo $!; wait"), "timeout": .string("300ms"),
        ])
        let elapsed = seconds(since: start)
        #expect(elapsed >= 0.7 && elapsed < 60, "took \(elapsed)s")
        #expect(result.failureMessage?.contains("timed out") == true)
        let grandchild = try #require(Int32(result.outputs["stdout"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        #expect(await Self.isGone(grandchild))
    }

    @Test func cancellationStopsTheProcessGroup() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pidFile = dir + "/bg.pid"
        let invocation = ActionHarness.invocation(for: action, [
            "shell": .bool(true), "command": .string("sleep 100 & echo $! > '\(pidFile)'; wait"),
        ])
        let action = action
        let task = Task { try await action.run(invocation) }
        var grandchild: Int32?
        for _ in 0..<100 where grandchild == nil {
            try await Task.sleep(nanoseconds: 20_000_000)
            grandchild = (try? String(contentsOfFile: pidFile, encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let pid = try #require(grandchild)
        #expect(Self.isRunning(pid))
        let start = ContinuousClock.now
        task.cancel()
        let outcome = await task.result
        #expect(seconds(since: start) < 60)
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(await Self.isGone(pid), "background job \(pid) survived cancellation")
    }

    @Test("what a command leaves running is stopped when it exits, and the step says so (nohup x & in a restart script)")
    func leftoverBackgroundJobsAreStoppedAfterANormalExit() async throws {
        let start = ContinuousClock.now
        let emitted = EmittedLines()
        let result = try await ActionHarness.run(action, [
            "shell": .bool(true), "command": .string("nohup sleep 100 >/dev/null 2>&1 & echo $!"),
        ], emitted: emitted)
        #expect(result.succeeded)
        #expect(seconds(since: start) < 60)
        let grandchild = try #require(Int32(result.outputs["stdout"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        #expect(await Self.isGone(grandchild))
        let warning = try #require(emitted.lines.first { $0.level == "warning" }, "\(emitted.lines)")
        #expect(warning.message.contains("left a process running in the background, stopped when the step ended: \(grandchild) (sleep)"),
                "\(warning.message)")
        #expect(warning.message.hasSuffix("a program meant to keep running needs 'detach: true'"))

        // Nothing left behind: no warning.
        let quiet = EmittedLines()
        let clean = try await ActionHarness.run(action, ["shell": .bool(true), "command": .string("sleep 0.1 & wait")], emitted: quiet)
        #expect(clean.succeeded)
        #expect(!quiet.lines.contains { $0.level == "warning" }, "\(quiet.lines)")
    }

    @Test func detachLeavesTheProgramRunningAndWritesThePidfile() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pidFile = dir + "/trainer.pid"
        let result = try await ActionHarness.run(action, [
            "argv": .list([.string("sleep"), .string("30")]), "detach": .bool(true), "pidfile": .string(pidFile),
        ])
        #expect(result.succeeded, "\(result.failureMessage ?? "")")
        guard case .int(let pid)? = result.outputs["pid"] else {
            Issue.record("no pid")
            return
        }
        defer { kill(Int32(pid), SIGKILL) }
        #expect(result.outputs["exit_code"] == .null)
        #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == "\(pid)\n")
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(Self.isRunning(Int32(pid)))
        #expect(getsid(Int32(pid)) == Int32(pid), "a detached program leads its own session")
    }

    @Test("a program gets stdin, stdout and stderr, and none of the runner's other descriptors, detached or not")
    func inheritsNoOtherDescriptors() async throws {
        // Opened without close-on-exec, as a descriptor the runner inherited from its parent is.
        let fd = open("/dev/null", O_RDONLY)
        try #require(fd > 2)
        defer { close(fd) }
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let check = "if test -e /proc/$$/fd/\(fd); then echo leaked; else echo closed; fi"
        let result = try await ActionHarness.run(action, ["command": .string(check), "shell": .bool(true)])
        #expect(result.outputs["stdout"] == .string("closed\n"), "\(result.outputs)")
        let detached = try await ActionHarness.run(action, [
            "command": .string(check + " > \(dir)/out"), "shell": .bool(true), "detach": .bool(true),
        ])
        #expect(detached.succeeded, "\(detached.failureMessage ?? "")")
        try await eventually { (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) == "closed\n" }
    }

    /// Polls `condition` for up to 10 s.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(nanoseconds: 20_000_000) }
        #expect(condition())
    }

    @Test("a detached launcher that exits 0 at once: the step passes with a warning, and no pidfile names the gone pid")
    func detachOfALauncherThatExitsAtOnce() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let emitted = EmittedLines()
        let result = try await ActionHarness.run(action, [
            "argv": .list([.string("true")]), "detach": .bool(true), "pidfile": .string(dir + "/d.pid"),
        ], emitted: emitted)
        #expect(result.succeeded, "\(result.failureMessage ?? "")")
        #expect(result.outputs["exit_code"] == .int(0))
        #expect(!FileManager.default.fileExists(atPath: dir + "/d.pid"))
        let warning = try #require(emitted.lines.first { $0.level == "warning" }, "\(emitted.lines)")
        #expect(warning.message.contains("exited at once with code 0: pid "), "\(warning.message)")
        #expect(warning.message.contains("no pidfile was written"), "\(warning.message)")
    }

    @Test func detachReportsAProgramThatFailsAtOnce() async throws {
        let result = try await ActionHarness.run(action, [
            "argv": .list([.string("sh"), .string("-c"), .string("exit 7")]), "detach": .bool(true),
        ])
        #expect(result.failureMessage == "'sh': exited at once with code 7")
        #expect(result.outputs["exit_code"] == .int(7))
    }

    @Test func stepTimeoutBoundsTheProgramWhenNoTimeoutIsGiven() async throws {
        let result = try await ActionHarness.run(action, ["argv": .list([.string("sleep"), .string("100")])], timeout: 0.6)
        #expect(result.failureMessage?.contains("timed out") == true)
    }
}
