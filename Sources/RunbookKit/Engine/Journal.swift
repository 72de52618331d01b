import Foundation

/// The append-only JSON Lines journal of one run.
///
/// Durability, in two steps:
/// - every record is handed to the kernel with `write(2)` before `append` returns, so a process
///   that dies (SIGKILL, a crash, the OOM killer) loses at most the record being written;
/// - every record is then fsync'd. With `.groupCommit` (the default) a background flusher fsyncs,
///   2 ms after a record, whatever has been written since its last fsync, so the records of several
///   steps share one fsync and the run does not wait for the disk on every record; callers
///   wait for the disk with `sync()` where it matters (the engine does before a non-idempotent
///   action starts, before a pause and at the end of a run). With `.everyRecord` each `append`
///   fsyncs before it returns.
public final class Journal: @unchecked Sendable {
    public enum Durability: String, Sendable, CaseIterable {
        /// A background flusher fsyncs batches of records; `sync()` waits for them.
        case groupCommit = "group"
        /// `append` fsyncs each record before it returns.
        case everyRecord = "record"
    }

    public let path: String
    public let durability: Durability
    private let fd: Int32
    /// Guards `seq` and the counters; `sync()` waits on it for the flusher.
    private let condition = NSCondition()
    private var seq: Int
    /// Records written to the file, and records known to be on disk.
    private var written = 0
    private var synced = 0
    /// A flush is queued (it holds the journal until it has run).
    private var flushScheduled = false
    /// An fsync of the journal is in progress (by the flusher or a `sync()` caller).
    private var fsyncRunning = false
    /// The journal was created by this open: its directory entries (in the run directory, which
    /// is in `runs/`, which is in the state directory) must reach the disk too, once.
    private var directoriesDurable: Bool
    private let companions: [String]
    /// Told once, with the reason, when a record cannot be written or synced (disk full, I/O
    /// error). After a failed write the journal takes no more records, so it ends with the last
    /// whole one instead of a torn line; the run itself goes on.
    private let onFailure: (@Sendable (String) -> Void)?
    private var reported = false
    private var stopped = false

    /// Opens (creating if needed) the journal for appending; `seq` continues after existing records.
    /// `companions`: files written beside the journal without an fsync of their own (the runbook
    /// copy): the first fsync makes them durable too.
    public init(path: String, durability: Durability = .groupCommit, companions: [String] = [],
                onFailure: (@Sendable (String) -> Void)? = nil) throws {
        self.path = path
        self.durability = durability
        self.companions = companions
        self.onFailure = onFailure
        let existing = (try? Journal.read(path: path)) ?? []
        seq = (existing.last?["seq"]?.numberValue).map { Int($0) } ?? 0
        directoriesDurable = FileManager.default.fileExists(atPath: path)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError("cannot open journal \(path): \(systemErrorText())") }
        // The writing process holds an exclusive lock on its journal for as long as it has it open;
        // the kernel drops it when the process dies, so `isInProgress` tells a live run from one
        // that crashed. (Not taken when another open journal of this process holds it.)
        _ = flock(fd, LOCK_EX | LOCK_NB)
        // A crash mid-write leaves a torn last line without its newline: end it, or the next record
        // would be glued onto it and lost too.
        if let data = FileManager.default.contents(atPath: path), let last = data.last, last != UInt8(ascii: "\n") {
            _ = Foundation.write(fd, "\n", 1)
        }
    }

    deinit {
        // No flush can be queued or running here (a queued flush holds the journal).
        if written > synced { fsync(fd); if !directoriesDurable { fsyncDirectories() } }
        Foundation.close(fd)
    }

    /// Appends one record: written to the file before this returns, fsync'd per `durability`.
    @discardableResult
    public func append(_ event: RunEvent, at date: Date = Date()) -> Int {
        var record = event.fields
        record.reserveCapacity(record.count + 3)
        record["time"] = .string(Journal.timestamp(date))
        record["type"] = .string(event.type)
        condition.lock()
        defer { condition.unlock() }
        seq += 1
        record["seq"] = .int(seq)
        guard !stopped else { return seq }
        var line = Value.map(record).jsonText()
        line += "\n"
        var done = 0
        guard line.withUTF8({ writeFully(fd, UnsafeRawBufferPointer($0), written: &done) }) else {
            let reason = systemErrorText()
            stopped = true
            // Take back the part of the record that did reach the file, so the journal ends with
            // its last whole record.
            var info = stat()
            if done > 0, fstat(fd, &info) == 0 { _ = ftruncate(fd, info.st_size - off_t(done)) }
            fail("cannot write to the run journal \(path): \(reason); it ends before record \(seq)")
            return seq
        }
        written += 1
        switch durability {
        case .everyRecord:
            syncLocked(through: written)
        case .groupCommit where !flushScheduled:
            flushScheduled = true
            // A short delay gathers the records of the next few steps into the same fsync.
            Journal.flushQueue.asyncAfter(deadline: .now() + Journal.groupDelay) { [self] in flush() }
        case .groupCommit:
            break  // the scheduled flush covers this record too
        }
        return seq
    }

    /// Returns once every record appended before the call is on disk.
    public func sync() {
        condition.lock()
        syncLocked(through: written)
        condition.unlock()
    }

    /// With `condition` held: returns once records up to `target` are on disk. One fsync runs at a
    /// time (the flusher's or a caller's); whoever starts one covers everything written by then,
    /// and the others wait for it rather than issuing their own.
    private func syncLocked(through target: Int) {
        while synced < target {
            if fsyncRunning { condition.wait(); continue }
            fsyncRunning = true
            let covered = written
            condition.unlock()
            let syncError = fsync(fd) == 0 ? nil : systemErrorText()
            if !directoriesDurable { fsyncDirectories() }
            condition.lock()
            if let syncError {
                fail("cannot sync the run journal \(path) to disk: \(syncError); its last records may be lost in a power failure")
            }
            directoriesDurable = true
            synced = max(synced, covered)
            fsyncRunning = false
            condition.broadcast()
        }
    }

    /// fsync of the companions and of the directories that name a new journal (the run directory,
    /// `runs/`, the state directory): a new file whose directory entry is not on disk can vanish in
    /// a power loss, data and all. Only called by the holder of `fsyncRunning`.
    private func fsyncDirectories() {
        for file in companions {
            let cfd = open(file, O_RDONLY | O_CLOEXEC)
            if cfd >= 0 { fsync(cfd); Foundation.close(cfd) }
        }
        var dir = (path as NSString).deletingLastPathComponent
        for _ in 0..<3 where !dir.isEmpty {
            let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 { fsync(dfd); Foundation.close(dfd) }
            dir = (dir as NSString).deletingLastPathComponent
        }
    }

    /// With `condition` held: reports `message`, the first time only.
    private func fail(_ message: String) {
        guard !reported else { return }
        reported = true
        onFailure?(message)
    }

    private static let flushQueue = DispatchQueue(label: "runbook.journal.fsync", qos: .utility)
    /// How long the flusher waits for more records before an fsync: the most a power loss can cost
    /// besides the fsync in progress (a crash of the process alone costs nothing).
    static let groupDelay = DispatchTimeInterval.milliseconds(2)

    /// Group commit: fsyncs until every record written so far (including those written during an
    /// fsync) is on disk.
    private func flush() {
        condition.lock()
        flushScheduled = false
        syncLocked(through: written)
        // Records appended during the fsync scheduled another flush (flushScheduled was false).
        condition.unlock()
    }

    /// One parser for the process (resume reads confirmation times back): creating an
    /// ISO8601DateFormatter (an ICU date format) is costly, and formatters are not safe to share
    /// between threads, so every use holds `formatterLock`.
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
    private static let formatterLock = NSLock()

    /// ISO 8601 with milliseconds, UTC (`2026-11-27T02:24:06.123Z`), formatted by hand: this runs for
    /// every journal record, and the ICU formatter costs microseconds per call plus its set-up.
    public static func timestamp(_ date: Date) -> String {
        let ms = (date.timeIntervalSince1970 * 1000).rounded(.down)
        var seconds = time_t(Int64((ms / 1000).rounded(.down)))
        let millis = Int(ms - Double(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// Parses a timestamp written by `timestamp(_:)`.
    public static func parseTimestamp(_ text: String) -> Date? {
        formatterLock.withLock { formatter.date(from: text) }
    }

    /// A live process has this journal open for writing (a run in progress), as opposed to a run that
    /// finished, paused or died.
    public static func isInProgress(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Foundation.close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { return false }
        return errno == EWOULDBLOCK
    }

    /// Reads every complete record. A torn last line (a crash mid-write) is ignored, silently: it
    /// is expected, and the run goes on from the record before it. Any other line that is not a
    /// record is skipped too, and reported to `damaged` with its line number: a record lost in
    /// the middle of a journal is damage someone should know about.
    public static func read(path: String, damaged: (JournalDamage) -> Void = { _ in }) throws -> [[String: Value]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError("cannot read journal \(path)")
        }
        var records: [[String: Value]] = []
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let last = lines.lastIndex(where: { !$0.isEmpty })
        for (index, line) in lines.enumerated() where !line.isEmpty {
            let value = Value.parseJSON(data: Data(line))
            if case .map(let m)? = value {
                records.append(m)
                continue
            }
            guard index != last else { continue }
            let problem: String
            if value != nil {
                problem = "a JSON value that is not a record (object)"
            } else if line.first == UInt8(ascii: "{"), line.last != UInt8(ascii: "}") {
                problem = "a record cut short (torn by a crash before the run was resumed?)"
            } else {
                problem = "not valid JSON"
            }
            damaged(JournalDamage(path: path, line: index + 1, problem: problem))
        }
        return records
    }
}

/// A line in a journal that is not a record, and not its torn last line; `Journal.read` skips it.
public struct JournalDamage: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// 1-based.
    public var line: Int
    /// What is wrong with it, e.g. "not valid JSON".
    public var problem: String

    public init(path: String, line: Int, problem: String) {
        self.path = path
        self.line = line
        self.problem = problem
    }

    /// `runs/x/journal.jsonl:3: not valid JSON; the line is skipped`.
    public var description: String { "\(path):\(line): \(problem); the line is skipped" }
}

/// A journal that could not be opened or read.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}
