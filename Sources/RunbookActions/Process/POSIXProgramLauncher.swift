// The real ProgramLauncher: posix_spawn with the child as leader of its own process group, so a
// timeout or a cancellation can stop everything it started (a shell's background jobs included).
//
// Threads, not the cooperative pool, do the blocking parts: one waits for the child (waitpid), one
// drains stdout and stderr together with poll(2) so a chatty child never blocks on a full pipe.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CProcessSpawn
import Foundation
import RunbookKit

/// Runs programs with posix_spawn, each in its own process group.
public struct POSIXProgramLauncher: ProgramLauncher {
    /// Time between SIGTERM and SIGKILL when a process group is stopped.
    public var killGrace: Double

    /// A launcher; `killGrace` seconds between SIGTERM and SIGKILL.
    public init(killGrace: Double = 2) {
        self.killGrace = killGrace
    }

    /// Runs the program in a new process group; see `ProgramLauncher.run`.
    public func run(_ spec: ProgramSpec, timeout: Double,
                    started: @escaping @Sendable (Int32) -> Void) async throws -> ProgramOutcome {
        let stdoutPipe = try Pipe2()
        let stderrPipe: Pipe2
        do { stderrPipe = try Pipe2() } catch { stdoutPipe.closeBoth(); throw error }
        let pid: pid_t
        do {
            pid = try Spawner.spawn(spec, stdout: stdoutPipe.write, stderr: stderrPipe.write, detached: false)
        } catch {
            stdoutPipe.closeBoth()
            stderrPipe.closeBoth()
            throw error
        }
        close(stdoutPipe.write)
        close(stderrPipe.write)
        // Before anything can reap it: whoever is told can still read its start time in /proc.
        started(pid)

        let group = ProcessGroup(pgid: pid, grace: killGrace)
        let drain = OutputDrain(stdout: stdoutPipe.read, stderr: stderrPipe.read, cap: max(0, spec.maxOutputBytes))
        let outputs = Task.detached { await drain.run() }
        let exit = ExitWatch(pid: pid)

        enum Event: Sendable { case exited(Int32), timedOut, sleepEnded }
        let (status, timedOut): (Int32, Bool) = await withTaskCancellationHandler {
            await withTaskGroup(of: Event.self) { tasks in
                tasks.addTask { .exited(await exit.wait()) }
                tasks.addTask {
                    do {
                        try await Task.sleep(nanoseconds: RunbookDuration.nanoseconds(max(0.001, timeout)))
                        return .timedOut
                    } catch {
                        return .sleepEnded
                    }
                }
                var status: Int32 = 0
                var timedOut = false
                while let event = await tasks.next() {
                    switch event {
                    case .exited(let s):
                        status = s
                        tasks.cancelAll()
                    case .timedOut:
                        timedOut = true
                        group.terminate()
                    case .sleepEnded:
                        break
                    }
                }
                return (status, timedOut)
            }
        } onCancel: {
            group.terminate()
        }

        // The leader is reaped. Whatever it left running in its group goes too (a step that means to
        // leave something running uses `detach`), and the pipes are drained for a bounded time.
        var leftovers: [String] = []
        if group.hasMembers {
            if !timedOut { leftovers = group.liveMembers(limit: 10) }
            group.terminate()
        }
        drain.stop(after: group.isTerminating ? killGrace + 1 : 0.5)
        let (out, err) = await outputs.value
        await group.waitUntilEmpty(atMost: killGrace + 1)

        if Task.isCancelled { throw CancellationError() }
        let (code, signal) = Self.decode(status)
        var outcome = ProgramOutcome(pid: pid, exitCode: code, signal: signal, stdout: out, stderr: err, timedOut: timedOut)
        outcome.stoppedLeftovers = leftovers
        return outcome
    }

    /// Starts the program in a new session; see `ProgramLauncher.start`.
    public func start(_ spec: ProgramSpec, started: @escaping @Sendable (Int32) -> Void) async throws -> DetachedStart {
        let pid = try Spawner.spawn(spec, stdout: -1, stderr: -1, detached: true)
        started(pid)
        // Reap it whenever it ends, so that a long-lived runner (serve, watch) never keeps a zombie.
        let exit = ExitWatch(pid: pid)
        let watcher = Task.detached { await exit.wait() }
        // "Running" means it got past exec and did not fail straight away.
        try? await Task.sleep(nanoseconds: 200_000_000)
        if let status = exit.result {
            _ = await watcher.value
            return DetachedStart(pid: pid, earlyExitCode: Self.decode(status).code)
        }
        return DetachedStart(pid: pid)
    }

    /// A wait status as (exit code, signal): a signal gives 128 + its number, as shells report it.
    static func decode(_ status: Int32) -> (code: Int32, signal: Int32?) {
        let signal = status & 0x7f
        if signal == 0 { return ((status >> 8) & 0xff, nil) }
        return (128 + signal, signal)
    }
}

// MARK: - spawning

/// A pipe whose ends are close-on-exec (the child gets only what dup2 hands it).
private struct Pipe2 {
    let read: Int32
    let write: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard runbook_pipe_cloexec(&fds) == 0 else {
            throw LaunchError("cannot create a pipe: \(systemErrorText())")
        }
        read = fds[0]
        write = fds[1]
    }

    func closeBoth() {
        close(read)
        close(write)
    }
}

private enum Spawner {
    /// Starts the child: its own process group (or session when detached), default signal handling,
    /// stdin from /dev/null, stdout/stderr to the given descriptors (-1: /dev/null).
    static func spawn(_ spec: ProgramSpec, stdout: Int32, stderr: Int32, detached: Bool) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if stdout >= 0 { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        else { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
        if stderr >= 0 { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        else { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        if let cwd = spec.workingDirectory {
            let rc = runbook_spawn_file_actions_addchdir(&actions, cwd)
            guard rc == 0 else {
                throw LaunchError("cannot set the working directory: \(systemErrorText(rc))")
            }
        }
        // Nothing else of the runner's: a descriptor it inherited without close-on-exec (a
        // supervisor's pipe or socket) would otherwise stay open in the program, and, if the
        // runner is killed, in an orphan that outlives it, so whoever waits for that descriptor to
        // close waits for the program instead. Where the platform cannot, they are inherited.
        _ = runbook_spawn_file_actions_addclosefrom(&actions, 3)

        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        let setsid = Int32(runbook_spawn_setsid_flag())
        if detached && setsid != 0 {
            flags |= setsid
        } else {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        // Signals this process ignores (SIGPIPE, ...) must not stay ignored in the child.
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = CStringArray(spec.arguments)
        let envp = CStringArray(spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        defer {
            argv.free()
            envp.free()
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, spec.executable, &actions, &attributes, argv.pointers, envp.pointers)
        guard rc == 0 else {
            throw LaunchError("cannot start: \(systemErrorText(rc))")
        }
        return pid
    }
}

/// A NULL-terminated array of C strings that lives until `free()`.
private struct CStringArray {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    func free() {
        for p in pointers { Foundation.free(p) }
    }
}

// MARK: - waiting and stopping

/// Waits for one child on a thread of its own (waitpid blocks) and keeps its wait status.
private final class ExitWatch: @unchecked Sendable {
    private let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    init(pid: pid_t) { self.pid = pid }

    /// The wait status, once reaped.
    var result: Int32? { lock.withLock { status } }

    /// Reaps the child; only one caller may wait.
    func wait() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let pid = pid
            Thread.detachNewThread { [self] in
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 {
                    if errno != EINTR {
                        status = 0
                        break
                    }
                }
                lock.withLock { self.status = status }
                continuation.resume(returning: status)
            }
        }
    }
}

/// The child's process group: SIGTERM to all of it, then SIGKILL after the grace period.
private final class ProcessGroup: @unchecked Sendable {
    let pgid: pid_t
    let grace: Double
    private let lock = NSLock()
    private var terminating = false

    init(pgid: pid_t, grace: Double) {
        self.pgid = pgid
        self.grace = grace
    }

    var isTerminating: Bool { lock.withLock { terminating } }

    /// Some live process is still in the group. Zombies do not count: an orphan's zombie belongs to
    /// init, which may reap it late (some container inits poll only every second or so).
    var hasMembers: Bool {
        guard kill(-pgid, 0) == 0 else { return false }
        #if os(Linux)
        return !liveMembers(limit: 1, unknownAsMember: true).isEmpty
        #else
        return true
        #endif
    }

    /// Live (not zombie) processes in the group, as "pid (name)", at most `limit`. Without a
    /// readable /proc: one entry "unknown" when `unknownAsMember`, else none.
    func liveMembers(limit: Int, unknownAsMember: Bool = false) -> [String] {
        #if os(Linux)
        guard ProcessProbe.stat(getpid()) != nil else { return unknownAsMember ? ["unknown"] : [] }
        return ProcessProbe.all().filter { $0.pgrp == pgid && $0.state != "Z" && $0.state != "X" }
            .prefix(limit).map { "\($0.pid) (\($0.comm))" }
        #else
        return unknownAsMember ? ["unknown"] : []
        #endif
    }

    /// Idempotent: SIGTERM now, SIGKILL after `grace` if anything is left.
    func terminate() {
        let first = lock.withLock {
            defer { terminating = true }
            return !terminating
        }
        guard first else { return }
        kill(-pgid, SIGTERM)
        let pgid = pgid
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) {
            kill(-pgid, SIGKILL)
        }
    }

    /// Waits until no process is left in the group, or `seconds` have passed.
    /// Runs in a detached task so that it still sleeps between checks when the caller is cancelled.
    func waitUntilEmpty(atMost seconds: Double) async {
        guard isTerminating else { return }
        let deadline = Date().addingTimeInterval(seconds)
        await Task.detached { [self] in
            while hasMembers && Date() < deadline {
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
        }.value
    }
}

// MARK: - output

/// Reads stdout and stderr together until both close, or until told to stop; keeps the tail of each.
private final class OutputDrain: @unchecked Sendable {
    private let descriptors: [Int32]
    private let cap: Int
    private let lock = NSLock()
    private var stopAt: Date?

    init(stdout: Int32, stderr: Int32, cap: Int) {
        descriptors = [stdout, stderr]
        self.cap = cap
    }

    /// Stop reading `seconds` from now even if a descendant that escaped the group keeps a pipe open.
    func stop(after seconds: Double) {
        lock.withLock { stopAt = Date().addingTimeInterval(seconds) }
    }

    private var shouldStop: Bool {
        lock.withLock { stopAt.map { Date() >= $0 } ?? false }
    }

    func run() async -> (CapturedOutput, CapturedOutput) {
        await withCheckedContinuation { (continuation: CheckedContinuation<(CapturedOutput, CapturedOutput), Never>) in
            Thread.detachNewThread { [self] in
                continuation.resume(returning: drain())
            }
        }
    }

    private func drain() -> (CapturedOutput, CapturedOutput) {
        var tails = [TailBuffer(cap: cap), TailBuffer(cap: cap)]
        var polls = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while polls.contains(where: { $0.fd >= 0 }) {
            let ready = poll(&polls, nfds_t(polls.count), 100)
            if ready < 0 && errno != EINTR { break }
            if ready > 0 {
                for i in polls.indices where polls[i].fd >= 0 && polls[i].revents != 0 {
                    let n = buffer.withUnsafeMutableBytes { read(polls[i].fd, $0.baseAddress, $0.count) }
                    if n > 0 {
                        tails[i].append(buffer[0..<n])
                    } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                        close(polls[i].fd)
                        polls[i].fd = -1
                    }
                }
            } else if shouldStop {
                break
            }
        }
        for p in polls where p.fd >= 0 { close(p.fd) }
        return (tails[0].captured, tails[1].captured)
    }
}

/// Keeps the last `cap` bytes of a stream and counts the rest.
private struct TailBuffer {
    let cap: Int
    /// Trim in batches, once this many bytes are held, so a long stream costs linear time.
    private let trimAt: Int
    private var bytes: [UInt8] = []
    private var dropped = 0

    init(cap: Int) {
        self.cap = cap
        // Saturating: `max_output_bytes` may be any size.
        trimAt = cap > (Int.max - 65536) / 2 ? Int.max : 2 * cap + 65536
    }

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        bytes += chunk
        if bytes.count > trimAt { trim() }
    }

    private mutating func trim() {
        guard bytes.count > cap else { return }
        let excess = bytes.count - cap
        dropped += excess
        bytes.removeFirst(excess)
    }

    var captured: CapturedOutput {
        var copy = self
        copy.trim()
        return CapturedOutput(tail: copy.bytes, droppedBytes: copy.dropped)
    }
}
