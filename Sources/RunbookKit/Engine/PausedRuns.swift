import Foundation

/// A run that stopped at a question nobody has answered yet: no process runs it, and what its
/// steps set up (an open breaker, a downshifted flag) is still in place.
public struct PausedRun: Sendable, Equatable {
    public var runID: String
    /// The step whose question waits.
    public var step: String
    /// When it paused (the journal's time), RFC 3339.
    public var since: String
}

extension Journal {
    /// Whether the journal's last line is a `run_finished` record with a status other than
    /// `paused`, read from the file's last 512 bytes. False when that cannot be told (a longer
    /// or torn last line, an unreadable file): the caller then reads the journal.
    static func endedForGood(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size > 0 else { return false }
        try? handle.seek(toOffset: size > 512 ? size - 512 : 0)
        guard let data = try? handle.readToEnd() else { return false }
        let lines = data.split(separator: UInt8(ascii: "\n"))
        // The first piece may be the cut end of an earlier line; the last one must be whole.
        guard data.last == UInt8(ascii: "\n"), lines.count >= (size > 512 ? 2 : 1), let last = lines.last,
              case .map(let record)? = Value.parseJSON(data: Data(last)) else { return false }
        guard record["type"] == .string("run_finished"), case .string(let status)? = record["status"] else { return false }
        return status != "paused"
    }

    /// The records of the journal's last session (from its last `run_started`): a run paused,
    /// resumed, then killed is interrupted, not paused, whatever an earlier session ended with.
    public static func lastSession(of records: [[String: Value]]) -> ArraySlice<[String: Value]> {
        records.lastIndex { $0["type"] == .string("run_started") }.map { records[$0...] } ?? records[...]
    }
}

extension StateDirectory {
    /// The paused real (not dry) runs of `runbook`, oldest pause first. A new run of the same runbook
    /// beside one of them works on the same breakers and flags, and its rollback can undo what
    /// the paused run set up while that run still waits for its answer.
    public func pausedRuns(of runbook: String) -> [PausedRun] {
        var found: [PausedRun] = []
        // Run ids start with the runbook's id: only its own journals are read.
        for id in runIDs() where id.hasPrefix(runbook + "-") {
            let path = journalPath(id)
            // This runs before every real run: a run that ended for good is told by its journal's
            // last line, without reading the whole journal of every earlier run.
            if Journal.endedForGood(path: path) { continue }
            guard let records = try? Journal.read(path: path), let point = try? ResumePoint.from(records: records),
                  point.runbookID == runbook, !point.dryRun, point.endedWith == nil, !Journal.isInProgress(path: path) else { continue }
            let lastSession = Journal.lastSession(of: records)
            guard lastSession.last(where: { $0["type"] == .string("run_finished") })?["status"] == .string("paused"),
                  let pause = lastSession.last(where: { $0["type"] == .string("run_paused") }) else { continue }
            found.append(PausedRun(runID: id, step: pause["step"]?.stringValue ?? "?", since: pause["time"]?.stringValue ?? "?"))
        }
        // Run ids order by the second only: the journal's pause time (milliseconds) decides.
        return found.sorted { ($0.since, $0.runID) < ($1.since, $1.runID) }
    }
}
