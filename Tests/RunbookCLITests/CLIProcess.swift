import Foundation

/// Runs the built `runbook` executable as a user would, capturing output and exit status.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// `.build/debug/runbook` (or release), next to the test bundle.
    static var executable: String {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("runbook").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("runbook").path,
            Repo.path(".build/debug/runbook"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    /// Runs `runbook args…` in `directory` with extra environment; stdin is empty (no terminal).
    /// The blocking wait happens on a thread of its own, never on the cooperative pool (which has
    /// only as many threads as cores, and other tests need it).
    static func run(_ args: [String], in directory: String? = nil, env: [String: String] = [:],
                    timeout: TimeInterval = 60, stdinFile: String? = nil) async throws -> CLIResult {
        // At most a few at once: a hundred debug binaries starting together starve the test
        // process's own threads of CPU, and in-process tests with time bounds fail.
        await slots.acquire()
        defer { Task { await slots.release() } }
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(args, in: directory, env: env, timeout: timeout, stdinFile: stdinFile) })
            }
        }
    }

    /// Runs another program (a shell around `runbook`, say) the same way as `run`.
    static func runProgram(_ program: String, _ args: [String], in directory: String? = nil,
                           timeout: TimeInterval = 60) async throws -> CLIResult {
        await slots.acquire()
        defer { Task { await slots.release() } }
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    try runBlocking(args, in: directory, env: [:], timeout: timeout, program: program)
                })
            }
        }
    }

    static func runBlocking(_ args: [String], in directory: String?, env: [String: String],
                            timeout: TimeInterval, stdinFile: String? = nil, program: String? = nil) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program ?? executable)
        process.arguments = args
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdinFile.flatMap { FileHandle(forReadingAtPath: $0) } ?? FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe. On threads of
        // their own: blocking reads on Dispatch's global queues would take the worker threads that
        // Swift concurrency's default executor runs on (on Linux), stalling every other test.
        nonisolated(unsafe) var outData = Data(), errData = Data()
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        Thread.detachNewThread { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            group.wait()
        }
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A counting semaphore that suspends (never blocks a thread) while every slot is taken.
actor AsyncSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    init(_ count: Int) { free = count }
    func acquire() async {
        if free > 0 { free -= 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }
    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// Slots for `CLI.run`: processes that run to completion. Background processes (`LaunchedCLI`)
/// take none: they mostly wait, and holding slots while waiting for a `CLI.run` could deadlock.
private let slots = AsyncSlots(max(2, ProcessInfo.processInfo.activeProcessorCount))

/// A fresh temporary directory, removed by the caller with `cleanup()`.
struct TempDir {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "runbook-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}
