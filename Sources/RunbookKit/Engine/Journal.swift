import Foundation

/// The append-only JSON Lines journal of one run, fsync'd after every record so a crash
/// (even SIGKILL) loses at most the record being written.
public final class Journal: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var seq: Int

    /// Opens (creating if needed) the journal for appending; `seq` continues after existing records.
    public init(path: String) throws {
        self.path = path
        let existing = (try? Journal.read(path: path)) ?? []
        seq = (existing.last?["seq"]?.numberValue).map { Int($0) } ?? 0
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError("cannot open journal \(path): \(String(cString: strerror(errno)))") }
        // A crash mid-write leaves a torn last line without its newline: end it, or the next record
        // would be glued onto it and lost too.
        if let data = FileManager.default.contents(atPath: path), let last = data.last, last != UInt8(ascii: "\n") {
            _ = write(fd, "\n", 1)
        }
    }

    deinit { close(fd) }

    /// Appends one record and makes it durable.
    @discardableResult
    public func append(_ event: RunEvent, at date: Date = Date()) -> Int {
        lock.lock(); defer { lock.unlock() }
        seq += 1
        var record = event.fields
        record["seq"] = .int(seq)
        record["time"] = .string(Journal.timestamp(date))
        record["type"] = .string(event.type)
        let line = Value.map(record).jsonText() + "\n"
        let bytes = Array(line.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; break }
            written += n
        }
        fsync(fd)
        return seq
    }

    /// One formatter for the process: creating an ISO8601DateFormatter (an ICU date format) costs far
    /// more than formatting with it, and every journal record needs a timestamp. Formatters are not
    /// safe to share between threads, so every use holds `formatterLock`.
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
    private static let formatterLock = NSLock()

    /// ISO 8601 with milliseconds, UTC.
    public static func timestamp(_ date: Date) -> String {
        formatterLock.withLock { formatter.string(from: date) }
    }

    /// Parses a timestamp written by `timestamp(_:)`.
    public static func parseTimestamp(_ text: String) -> Date? {
        formatterLock.withLock { formatter.date(from: text) }
    }

    /// Reads every complete record; a torn last line (crash mid-write) is ignored.
    public static func read(path: String) throws -> [[String: Value]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError("cannot read journal \(path)")
        }
        var records: [[String: Value]] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard case .map(let m)? = Value.parseJSON(data: Data(line)) else { continue }
            records.append(m)
        }
        return records
    }
}

/// A journal that could not be opened or read.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}
