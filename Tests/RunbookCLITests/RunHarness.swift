// Helpers for end-to-end tests of `runbook run/resume/history`: fixture runbooks, a state dir per
// test, runbook processes started in the background (so a test can SIGKILL them), journals.
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing

/// Runbooks written for these tests: Tests/RunbookCLITests/Fixtures/runbooks/<name>.yaml.
enum Fixture {
    static func runbook(_ name: String) -> String { Repo.path("Tests/RunbookCLITests/Fixtures/runbooks/\(name).yaml") }
    static func scenarios(_ name: String) -> String { Repo.path("Tests/RunbookCLITests/Fixtures/scenarios/\(name)") }
}

/// One test's world: a temp dir with a state dir inside, and a loopback HTTP server.
struct RunWorld {
    let dir: TempDir
    let server: TestHTTPServer
    var stateDir: String { dir.path + "/state" }
    var state: [String] { ["--state-dir", stateDir] }
    /// `--param base_url=<server>`.
    var base: [String] { ["--param", "base_url=\(server.baseURL)"] }
    /// The user that answers confirmations ($SUDO_USER wins over $USER, so both are set).
    static let user = "oncall-tester"
    var env: [String: String] { ["USER": RunWorld.user, "SUDO_USER": RunWorld.user] }

    /// Runs `runbook args…` in the temp dir with the world's environment.
    func cli(_ args: [String], env extra: [String: String] = [:]) async throws -> CLIResult {
        try await CLI.run(args, in: dir.path, env: env.merging(extra) { $1 })
    }

    /// `runbook run <fixture> --state-dir … --param base_url=…` plus `extra`.
    func run(_ fixture: String, _ extra: [String] = [], env: [String: String] = [:]) async throws -> CLIResult {
        try await cli(["run", Fixture.runbook(fixture)] + state + base + extra, env: env)
    }

    /// `runbook resume RUN --state-dir …` plus `extra`.
    func resume(_ runID: String, _ extra: [String] = []) async throws -> CLIResult {
        try await cli(["resume", runID] + state + extra)
    }

    /// Starts `runbook run <fixture> …` in the background.
    func start(_ fixture: String, _ extra: [String] = []) async throws -> LaunchedCLI {
        try await LaunchedCLI.start(["run", Fixture.runbook(fixture)] + state + base + extra, in: dir.path, env: env)
    }

    /// Starts `runbook resume RUN …` in the background.
    func startResume(_ runID: String, _ extra: [String] = []) async throws -> LaunchedCLI {
        try await LaunchedCLI.start(["resume", runID] + state + extra, in: dir.path, env: env)
    }

    /// The run ids in the state dir, sorted.
    var runIDs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: stateDir + "/runs")) ?? []).sorted()
    }

    /// The only run in the state dir.
    func onlyRunID() throws -> String {
        let ids = runIDs
        try #require(ids.count == 1, "expected one run, found \(ids)")
        return ids[0]
    }

    /// The journal records of a run.
    func journal(_ runID: String) throws -> [[String: Value]] {
        try Journal.read(path: stateDir + "/runs/\(runID)/journal.jsonl")
    }

    /// Requests the server received for a path.
    func count(_ path: String) -> Int { server.requests(path: path).count }

    /// A world for `body`; the server is stopped and the temp dir removed afterwards, even on failure.
    static func with<T>(_ body: (RunWorld) async throws -> T) async throws -> T {
        let dir = try TempDir()
        defer { dir.cleanup() }
        return try await withTestHTTPServer { server in
            try await body(RunWorld(dir: dir, server: server))
        }
    }
}

/// A `runbook` process started in the background: its pid is known, so it can be SIGKILLed.
/// Starting and waiting happen on threads of their own, never on the cooperative pool.
final class LaunchedCLI: @unchecked Sendable {
    let process: Process
    let stdoutPath: String
    let stderrPath: String

    private init(process: Process, stdoutPath: String, stderrPath: String) {
        self.process = process
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    var pid: Int32 { process.processIdentifier }

    /// Starts `executable args…` (default: the built `runbook`) in `directory`; `NO_COLOR=1` unless
    /// `unset` names it.
    static func start(_ args: [String], in directory: String, env: [String: String] = [:],
                      executable: String = CLI.executable, unset: [String] = []) async throws -> LaunchedCLI {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    try startBlocking(args, in: directory, env: env, executable: executable, unset: unset)
                })
            }
        }
    }

    private static func startBlocking(_ args: [String], in directory: String, env: [String: String],
                                      executable: String, unset: [String]) throws -> LaunchedCLI {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        for (k, v) in env { environment[k] = v }
        for k in unset { environment[k] = nil }
        process.environment = environment
        let tag = UUID().uuidString.prefix(8)
        let out = directory + "/bg-\(tag).out", err = directory + "/bg-\(tag).err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return LaunchedCLI(process: process, stdoutPath: out, stderrPath: err)
    }

    /// SIGKILL: no handler runs, nothing is flushed, the lock dies with the process.
    func kill9() { kill(pid, SIGKILL) }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit (on a thread of its own). A process still running after
    /// `timeout` seconds is killed, so a hung test cannot leave it behind.
    func wait(timeout: TimeInterval = 120) async -> CLIResult {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [self] in
                let deadline = Date().addingTimeInterval(timeout)
                while process.isRunning && Date() < deadline { usleep(20_000) }
                if process.isRunning { kill9() }
                process.waitUntilExit()
                continuation.resume()
            }
        }
        return CLIResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Whether it was killed by a signal (and which).
    var killedBySignal: Int32? { process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil }
}

/// Polls `condition` every 20 ms (sleeping, not blocking) until it holds; fails after `timeout` seconds.
func eventually(_ what: @autoclosure () -> String, timeout: TimeInterval = 60,
                _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        if Date() > deadline {
            Issue.record("timed out after \(Int(timeout)) s waiting for \(what())")
            throw CancellationError()
        }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}

extension [[String: Value]] {
    /// Records of one type (and step).
    func records(_ type: String, step: String? = nil) -> [[String: Value]] {
        filter { $0["type"]?.stringValue == type && (step == nil || $0["step"]?.stringValue == step) }
    }
}

/// A held HTTP answer: the server receives the request and answers only after this long, so a
/// test can kill the client while the request is in flight.
let heldForever = TestHTTPResponse(status: 200, body: "late", delay: 600)
