// Running a program, behind a small protocol so that `exec` can be tested without forking and the
// process handling (groups, pipes, timeouts, reaping) lives in one place.
import RunbookKit

/// A program to run: the resolved executable, its full argv, environment and working directory.
public struct ProgramSpec: Sendable, Equatable {
    /// Path of the executable (absolute, or relative to `workingDirectory`).
    public var executable: String
    /// The full argv, `argv[0]` included.
    public var arguments: [String]
    /// The complete environment of the child.
    public var environment: [String: String]
    /// nil: the runner's working directory.
    public var workingDirectory: String?
    /// Keep at most this many bytes (the tail) of stdout and of stderr.
    public var maxOutputBytes: Int

    /// A program to run.
    public init(executable: String, arguments: [String], environment: [String: String], workingDirectory: String? = nil,
                maxOutputBytes: Int = 65536) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.maxOutputBytes = maxOutputBytes
    }
}

/// The tail of one output stream.
public struct CapturedOutput: Sendable, Equatable {
    /// The last bytes written, at most the spec's `maxOutputBytes`.
    public var tail: [UInt8]
    /// How many earlier bytes were dropped.
    public var droppedBytes: Int

    /// Captured bytes.
    public init(tail: [UInt8] = [], droppedBytes: Int = 0) {
        self.tail = tail
        self.droppedBytes = droppedBytes
    }

    /// The text, with a first line saying how much was cut when the output was too long.
    public var text: String {
        let body = String(decoding: tail, as: UTF8.self)
        return droppedBytes > 0 ? "[… \(droppedBytes) earlier bytes truncated]\n" + body : body
    }

    /// The last non-empty line, for failure messages. The whole text is masked before it is
    /// split into lines (a secret that holds a line break would otherwise leave its last line
    /// in clear), then the line is cut to 300 characters. A line that starts where the kept
    /// bytes start is dropped when earlier bytes were: it may be the end of a secret.
    public func lastLine(masking masker: SecretMasker) -> String? {
        let masked = masker.mask(String(decoding: tail, as: UTF8.self))
        let lines = masked.split(whereSeparator: \.isNewline)
        guard let index = lines.lastIndex(where: { !$0.allSatisfy(\.isWhitespace) }) else { return nil }
        if index == lines.startIndex, droppedBytes > 0, masked.first?.isNewline == false { return nil }
        return masker.maskedPrefix(lines[index].trimmingCharacters(in: .whitespaces), characters: 300)
    }

    /// At most the last `limit` bytes, never part of a secret: a secret that crosses the cut is
    /// dropped with the bytes before it (and counted with them). Captured with
    /// `masker.longestSecretBytes` bytes more than `limit`, so that a secret crossing the cut
    /// also lies whole in the tail and can be found.
    public func keepingLast(_ limit: Int, masker: SecretMasker) -> CapturedOutput {
        let start = masker.safeSuffixStart(tail, limit: limit)
        return start == 0 ? self : CapturedOutput(tail: Array(tail[start...]), droppedBytes: droppedBytes + start)
    }
}

/// How a program ended.
public struct ProgramOutcome: Sendable, Equatable {
    /// The process id (also the process group id).
    public var pid: Int32
    /// The exit code; 128 + signal number when a signal ended it (as shells report it).
    public var exitCode: Int32
    /// The signal that ended it, if one did.
    public var signal: Int32?
    /// Tail of standard output.
    public var stdout: CapturedOutput
    /// Tail of standard error.
    public var stderr: CapturedOutput
    /// It ran past its timeout and its process group was stopped.
    public var timedOut: Bool
    /// Processes the program left running in its group when it exited (`nohup x &`), which
    /// were then stopped: "pid (name)", at most 10.
    public var stoppedLeftovers: [String] = []

    /// An outcome.
    public init(pid: Int32, exitCode: Int32, signal: Int32? = nil, stdout: CapturedOutput = CapturedOutput(),
                stderr: CapturedOutput = CapturedOutput(), timedOut: Bool = false) {
        self.pid = pid
        self.exitCode = exitCode
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
    }
}

/// A program that could not be started: the message says why, in lowercase.
public struct LaunchError: Error, Sendable, CustomStringConvertible {
    /// The reason.
    public var description: String
    /// A launch failure.
    public init(_ message: String) { description = message }
}

/// Starts programs. The real one forks; tests may script outcomes.
public protocol ProgramLauncher: Sendable {
    /// Runs the program to completion in its own process group. After `timeout` seconds, or when the
    /// calling task is cancelled, the whole group gets SIGTERM, then SIGKILL after a grace period, and
    /// is reaped before this returns (cancellation then throws `CancellationError`). `started` is
    /// told the child's pid (its process group id) as soon as it runs, before it can be reaped.
    func run(_ spec: ProgramSpec, timeout: Double, started: @escaping @Sendable (Int32) -> Void) async throws -> ProgramOutcome

    /// Starts the program in a new session with no terminal and output to /dev/null, and returns its
    /// pid once it is running; it outlives the step (and the runner). `started` is told the pid as
    /// soon as the child runs, before it can be reaped.
    func start(_ spec: ProgramSpec, started: @escaping @Sendable (Int32) -> Void) async throws -> DetachedStart
}

extension ProgramLauncher {
    /// `run` with nobody told the pid before it ends.
    public func run(_ spec: ProgramSpec, timeout: Double) async throws -> ProgramOutcome {
        try await run(spec, timeout: timeout, started: { _ in })
    }

    /// `start` with nobody told the pid before it returns.
    public func start(_ spec: ProgramSpec) async throws -> DetachedStart {
        try await start(spec, started: { _ in })
    }
}

/// What `start` saw of a detached program.
public struct DetachedStart: Sendable, Equatable {
    /// The process id (also its session id).
    public var pid: Int32
    /// Set when it had already ended by the time `start` returned (it failed straight away, or was short).
    public var earlyExitCode: Int32?

    /// A started program.
    public init(pid: Int32, earlyExitCode: Int32? = nil) {
        self.pid = pid
        self.earlyExitCode = earlyExitCode
    }
}
