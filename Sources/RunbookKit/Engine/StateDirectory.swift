import Foundation

/// The state directory: `runs/<run-id>/journal.jsonl` (+ the runbook as it ran), `locks/`, and later the
/// state store and incidents. Default `.runbook/`; `--state-dir` or `RUNBOOK_STATE_DIR` change it.
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `--state-dir`, else `RUNBOOK_STATE_DIR`, else `.runbook`.
    public static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> StateDirectory {
        StateDirectory(path: option ?? environment["RUNBOOK_STATE_DIR"] ?? ".runbook")
    }

    public var runsPath: String { path + "/runs" }
    public func runPath(_ runID: String) -> String { runsPath + "/" + runID }
    public func journalPath(_ runID: String) -> String { runPath(runID) + "/journal.jsonl" }
    public func runbookCopyPath(_ runID: String) -> String { runPath(runID) + "/runbook.yaml" }
    /// The scenario a dry run followed (`run --dry-run --scenario`), so its resume follows it too.
    public func scenarioCopyPath(_ runID: String) -> String { runPath(runID) + "/scenario.test.yaml" }
    /// The run's own lock: held by the one process that runs or resumes it.
    public func runLockPath(_ runID: String) -> String { runPath(runID) + "/run.lock" }

    /// Creates the directories (owner-only: journals describe incidents).
    public func prepare() throws {
        for dir in [path, runsPath, path + "/locks"] {
            do { try createDirectories(dir, mode: 0o700) } catch {
                throw JournalError("cannot create state directory \(dir): \(error.reason)")
            }
        }
    }

    /// A new run id: `<runbook>-<UTC yyyyMMdd-HHmmss>-<4 hex>`, sortable by time.
    public func newRunID(runbook: String, date: Date = Date()) -> String {
        // From the journal's timestamp (2026-11-27T02:24:06.123Z → 20261127-022406): a DateFormatter
        // would load ICU, a millisecond of every run's start.
        let digits = Journal.timestamp(date).prefix(19).filter(\.isNumber)
        let stamp = "\(digits.prefix(8))-\(digits.dropFirst(8))"
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return "\(runbook)-\(stamp)-\(String(repeating: "0", count: 4 - suffix.count) + suffix)"
    }

    /// Run ids present (those with a journal), sorted by id. File times say nothing of when a
    /// run started (a copied or restored state directory gives every file a new one): `history`
    /// orders runs by the start their journals record.
    public func runIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsPath)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: journalPath($0)) }.sorted()
    }

    /// Takes the per-runbook lock (one run at a time per runbook id). Held until `release` or process exit.
    public func lock(runbook: String) throws -> RunLock {
        let lockPath = path + "/locks/" + runbook + ".lock"
        do { return try Self.takeLock(lockPath) } catch let holder as LockHeld {
            throw RunLockBusy(runbook: runbook, holder: holder.text)
        }
    }

    /// Takes the run's own lock (`runs/<run-id>/run.lock`): one process at a time runs or resumes
    /// a given run, whatever `--allow-concurrent` says. `resume` takes it before it reads the
    /// journal, so of several resumes started at once exactly one goes on; the others fail with
    /// `RunInProgress`. Held until `release` or process exit (the kernel drops it when the holder
    /// dies, so a crashed run can be resumed). The run directory must exist.
    public func lock(run runID: String) throws -> RunLock {
        do { return try Self.takeLock(runLockPath(runID)) } catch let holder as LockHeld {
            throw RunInProgress(runID: runID, holder: holder.text)
        }
    }

    /// What a lock file says of its holder ("pid 123"), trimmed; may be empty.
    private struct LockHeld: Error {
        var text: String
    }

    /// An exclusive, non-blocking `flock` on `lockPath` (created mode 600), which then says
    /// "pid N" for whoever finds it held. Throws `LockHeld`, or `JournalError` when the file cannot be opened.
    private static func takeLock(_ lockPath: String) throws -> RunLock {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError("cannot open lock \(lockPath): \(systemErrorText())") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var holder = ""
            if let data = FileManager.default.contents(atPath: lockPath) { holder = String(decoding: data, as: UTF8.self) }
            close(fd)
            throw LockHeld(text: holder.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        ftruncate(fd, 0)
        let text = "pid \(getpid())\n"
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        return RunLock(fd: fd)
    }
}

/// A held run lock; the kernel releases it when the process dies.
public final class RunLock: @unchecked Sendable {
    private var fd: Int32
    init(fd: Int32) { self.fd = fd }
    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
    deinit { release() }
}

/// Another run of the same runbook holds the lock.
public struct RunLockBusy: Error, Sendable, CustomStringConvertible {
    public var runbook: String
    public var holder: String
    public var description: String {
        "another run of '\(runbook)' is in progress (\(holder.isEmpty ? "lock held" : holder)); wait for it or pass --allow-concurrent"
    }
}

/// Another process runs or resumes this run (it holds the run's own lock).
public struct RunInProgress: Error, Sendable, CustomStringConvertible {
    public var runID: String
    public var holder: String
    public var description: String {
        "run '\(runID)' is still in progress (\(holder.isEmpty ? "another process holds it" : holder + " holds it")); wait for it or stop it first"
    }
}
