// The machine's processes as `process.stop` sees them, behind a small protocol so that the rules
// that keep it from signalling the wrong process (itself, its ancestors, PID 1) can be tested
// without real signals. The real table reads /proc (Linux).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One process in the table.
public struct RunningProcess: Sendable, Equatable {
    /// Process id.
    public var pid: Int32
    /// Parent's process id (0 when unknown).
    public var parentPID: Int32
    /// argv joined by spaces, as `pkill -f` matches it; empty for kernel threads and zombies.
    public var commandLine: String
    /// Start time (clock ticks since boot): a pid reused by a new process has a different one.
    public var startTime: UInt64
    /// Exited but not yet reaped: it is gone, only its entry is left.
    public var isZombie: Bool

    /// A process entry.
    public init(pid: Int32, parentPID: Int32, commandLine: String, startTime: UInt64 = 0, isZombie: Bool = false) {
        self.pid = pid
        self.parentPID = parentPID
        self.commandLine = commandLine
        self.startTime = startTime
        self.isZombie = isZombie
    }
}

/// Lists and signals processes.
public protocol ProcessTable: Sendable {
    /// The pid of the runner itself.
    var ownPID: Int32 { get }
    /// Every process visible to the runner.
    func all() throws -> [RunningProcess]
    /// One process, or nil when there is no such process.
    func process(_ pid: Int32) -> RunningProcess?
    /// Sends `signal` to `pid`; returns 0 or the errno of kill(2).
    func send(_ signal: Int32, to pid: Int32) -> Int32
}

/// Why the process table cannot be read.
public struct ProcessTableError: Error, Sendable, CustomStringConvertible {
    /// The reason, lowercase.
    public var description: String
    /// An error.
    public init(_ description: String) { self.description = description }
}

/// The real table: /proc on Linux.
public struct ProcFSProcessTable: ProcessTable {
    /// The table of this machine.
    public init() {}

    /// This process.
    public var ownPID: Int32 { getpid() }

    /// Every numeric entry of /proc that can still be read (processes come and go while listing).
    public func all() throws -> [RunningProcess] {
        #if os(Linux)
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: "/proc") } catch {
            throw ProcessTableError("cannot list /proc: \(error.localizedDescription)")
        }
        return entries.compactMap { Int32($0) }.sorted().compactMap(process)
        #else
        throw ProcessTableError("listing processes needs /proc (Linux)")
        #endif
    }

    /// Reads /proc/PID/stat and /proc/PID/cmdline.
    public func process(_ pid: Int32) -> RunningProcess? {
        #if os(Linux)
        guard let statData = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let stat = String(decoding: statData, as: UTF8.self)
        // "pid (comm) S ppid pgrp ... starttime(22nd)": comm may hold spaces and parentheses.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 20 else { return nil }
        let state = fields[0]
        let parent = Int32(fields[1]) ?? 0
        let start = UInt64(fields[19]) ?? 0
        let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        let argv = raw.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let commandLine = (argv.last == "" ? argv.dropLast() : argv[...]).joined(separator: " ")
        return RunningProcess(pid: pid, parentPID: parent, commandLine: commandLine, startTime: start,
                              isZombie: state == "Z" || state == "X")
        #else
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return RunningProcess(pid: pid, parentPID: 0, commandLine: "")
        #endif
    }

    /// kill(2).
    public func send(_ signal: Int32, to pid: Int32) -> Int32 {
        kill(pid, signal) == 0 ? 0 : errno
    }
}
