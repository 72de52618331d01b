import Foundation

/// A program a step started (`exec`), as its journal records it (`process_started`): enough to
/// tell, after the runner died, whether that program is still running, without mistaking another
/// process that got the same pid for it.
public struct SpawnedProcess: Sendable, Equatable {
    /// The child's pid, which is also its process group id (and session id when detached).
    public var pid: Int32
    /// When it started, in clock ticks after boot (`/proc/PID/stat` field 22); nil where there is
    /// no `/proc`: then nothing is claimed about it later.
    public var startTime: UInt64?
    /// The kernel's boot id when it started: after a reboot nothing it started is running.
    public var bootID: String?
    /// Started with `detach: true` (its own session, meant to outlive the step).
    public var detached: Bool

    public init(pid: Int32, startTime: UInt64?, bootID: String?, detached: Bool) {
        self.pid = pid
        self.startTime = startTime
        self.bootID = bootID
        self.detached = detached
    }

    /// What `/proc` says of a child just started: call it before the child is reaped (a zombie
    /// still has its start time).
    public static func observe(pid: Int32, detached: Bool) -> SpawnedProcess {
        SpawnedProcess(pid: pid, startTime: ProcessProbe.stat(pid)?.startTime, bootID: ProcessProbe.bootID(),
                       detached: detached)
    }

    /// From a `process_started` journal record; nil when it names no pid.
    public init?(record: [String: Value]) {
        guard let pid = record["pid"]?.numberValue, pid > 0, pid <= Double(Int32.max) else { return nil }
        self.pid = Int32(pid)
        startTime = record["start_time"]?.numberValue.flatMap { $0 >= 0 ? UInt64($0) : nil }
        bootID = record["boot_id"]?.stringValue
        detached = record["detached"] == .bool(true)
    }

    /// The live processes of the process group this program led: empty when it cannot be the
    /// same group any more (another boot; its pid now belongs to a process that started at
    /// another time, so the group had ended before the pid was reused) or when nothing says when
    /// it started. Zombies do not count. The leader comes first, then the others by pid.
    public func liveMembers() -> [ProcessProbe.Entry] {
        guard let startTime else { return [] }
        if let bootID, let now = ProcessProbe.bootID(), now != bootID { return [] }
        if let leader = ProcessProbe.stat(pid), leader.startTime != startTime { return [] }
        // Processes started before the leader cannot have joined its group: only what the
        // program started, or what joined it after (none of the runner's own processes).
        let members = ProcessProbe.all().filter {
            $0.pgrp == pid && $0.startTime >= startTime && $0.state != "Z" && $0.state != "X"
        }
        return members.sorted { ($0.pid == pid ? 0 : 1, $0.pid) < ($1.pid == pid ? 0 : 1, $1.pid) }
    }

    /// "process group 4242 started by this step is still running (pid 4242: sleep)", naming at
    /// most three of its live processes; nil when none is left.
    public func stillRunningNote() -> String? {
        let live = liveMembers()
        guard !live.isEmpty else { return nil }
        var named = live.prefix(3).map { "pid \($0.pid): \($0.comm)" }.joined(separator: ", ")
        if live.count > 3 { named += ", and \(live.count - 3) more" }
        return "process group \(pid) started by this step is still running (\(named))"
    }
}

/// Reads `/proc` (Linux). Elsewhere every answer is "unknown" (nil or empty).
public enum ProcessProbe {
    /// One line of `/proc/PID/stat`, the fields used here.
    public struct Entry: Sendable, Equatable {
        public var pid: Int32
        /// The executable's name as the kernel keeps it (at most 15 bytes).
        public var comm: String
        /// `R`, `S`, `D`, `Z` (zombie), ...
        public var state: Character
        public var pgrp: Int32
        /// Clock ticks after boot.
        public var startTime: UInt64

        public init(pid: Int32, comm: String, state: Character, pgrp: Int32, startTime: UInt64) {
            self.pid = pid
            self.comm = comm
            self.state = state
            self.pgrp = pgrp
            self.startTime = startTime
        }
    }

    /// `/proc/PID/stat`, or nil when there is no such process (or no `/proc`).
    public static func stat(_ pid: Int32) -> Entry? {
        #if os(Linux)
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        return parse(String(decoding: data, as: UTF8.self))
        #else
        return nil
        #endif
    }

    /// Parses a stat line: "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses,
    /// so the fields are split after the last ')'.
    public static func parse(_ text: String) -> Entry? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close,
              let pid = Int32(text[..<open].trimmingCharacters(in: .whitespaces)) else { return nil }
        let comm = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // state is field 3 of the line, pgrp field 5, starttime field 22.
        guard fields.count > 19, let state = fields[0].first, let pgrp = Int32(fields[2]),
              let start = UInt64(fields[19]) else { return nil }
        return Entry(pid: pid, comm: comm, state: state, pgrp: pgrp, startTime: start)
    }

    /// Every process `/proc` lists.
    public static func all() -> [Entry] {
        #if os(Linux)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name in
            guard name.first?.isNumber == true, let pid = Int32(name) else { return nil }
            return stat(pid)
        }
        #else
        return []
        #endif
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`).
    public static func bootID() -> String? {
        #if os(Linux)
        guard let data = FileManager.default.contents(atPath: "/proc/sys/kernel/random/boot_id") else { return nil }
        let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
        #else
        return nil
        #endif
    }
}
