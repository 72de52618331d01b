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
