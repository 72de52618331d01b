import Foundation
import RunbookKit
import Testing

/// When journal records reach the file and the disk, seen from outside with strace: every record is
/// written before the run goes on, the disk is waited for before a non-idempotent action starts and
/// at the end, and `--journal-sync record` fsyncs every record.
@Suite("CLI: journal durability (strace)")
struct JournalDurabilityCLITests {
    /// One syscall of interest, in the order strace saw them.
    enum Call: Equatable {
        case journalWrite(String)
        case journalSync
        /// fsync of another file or directory (its path as opened).
        case otherSync(String)
        case exec(String)
    }

    static let runbook = """
    version: 1
    id: durable
    title: durable
    severity: sev4
    automation: automatic
    steps:
      - id: note_one
        action: log
        with: {message: "first note"}
      - id: note_two
        action: log
        with: {message: "second note"}
      - id: touch_it
        action: exec
        with: {argv: ["/bin/true"]}
        rollback: none
      - id: note_three
        action: log
        with: {message: "third note"}

    """

    /// Runs `runbook run durable.yaml args…` under strace and returns the journal writes and syncs and
    /// the execs, in order.
    static func trace(_ w: RunWorld, _ args: [String]) async throws -> (CLIResult, [Call]) {
        try w.dir.write("durable.yaml", runbook)
        let log = w.dir.path + "/strace-\(UUID().uuidString.prefix(8)).log"
        let child = try await LaunchedCLI.start(
            ["-f", "-qq", "-y", "-s", "4096", "-e", "trace=write,fsync,fdatasync,execve", "-o", log, CLI.executable,
             "run", "durable.yaml"] + w.state + args,
            in: w.dir.path, env: w.env, executable: try #require(DryRunIsolationTests.strace))
        let result = await child.wait()
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        // -y prints each fd argument with its path: write(7</…/journal.jsonl>, …), fsync(9</…/runs>).
        // A call another thread interrupts is split: fsync(9</…/runs> <unfinished ...>.
        var calls: [Call] = []
        for line in lines {
            if line.contains("execve(\"/bin/true\"") {
                calls.append(.exec(line))
            } else if line.contains(" write("), line.contains("journal.jsonl>, ") {
                calls.append(.journalWrite(line))
            } else if let open = line.range(of: "sync("), let lt = line[open.upperBound...].firstIndex(of: "<"),
                      let gt = line[lt...].firstIndex(of: ">") {
                let path = String(line[line.index(after: lt)..<gt])
                calls.append(path.hasSuffix("journal.jsonl") ? .journalSync : .otherSync(path))
            }
        }
        return (result, calls)
    }

    static func isWrite(_ call: Call, containing text: String) -> Bool {
        if case .journalWrite(let line) = call { return line.contains(text) }
        return false
    }

    @Test(.enabled(if: DryRunIsolationTests.strace != nil, "strace is not installed (apt-get install -y strace)"))
    func groupCommitWaitsForTheDiskBeforeANonIdempotentActionAndAtTheEnd() async throws {
        try await RunWorld.with { w in
            let (r, calls) = try await Self.trace(w, [])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let started = try #require(calls.firstIndex { Self.isWrite($0, containing: #"\"step\":\"touch_it\""#) },
                                       "\(calls)")
            let exec = try #require(calls.firstIndex { if case .exec = $0 { return true }; return false }, "\(calls)")
            #expect(started < exec)
            // The exec's step_started is on disk before the process that may change the system starts.
            #expect(calls[started..<exec].contains(.journalSync), "\(calls)")
            // So are the new journal's directory entries (the run directory and runs/) and the copy of
            // the runbook that resume will use.
            let run = try w.onlyRunID()
            let synced = calls[..<exec].compactMap { if case .otherSync(let p) = $0 { return p }; return nil }
            #expect(synced.contains { $0.hasSuffix("runs/\(run)/runbook.yaml") }, "\(synced)")
            #expect(synced.contains { $0.hasSuffix("runs/\(run)") }, "\(synced)")
            #expect(synced.contains { $0.hasSuffix("/runs") }, "\(synced)")
            // Every record was written (run_started … run_finished) and the last write is followed by a sync.
            let writes = calls.indices.filter { if case .journalWrite = calls[$0] { return true }; return false }
            let records = try w.journal(try w.onlyRunID())
            #expect(writes.count == records.count)
            let lastWrite = try #require(writes.last)
            #expect(Self.isWrite(calls[lastWrite], containing: "run_finished"))
            #expect(calls[lastWrite...].contains(.journalSync), "\(calls)")
        }
    }

    @Test(.enabled(if: DryRunIsolationTests.strace != nil, "strace is not installed (apt-get install -y strace)"))
    func journalSyncRecordFsyncsEveryRecordBeforeTheNext() async throws {
        try await RunWorld.with { w in
            let (r, calls) = try await Self.trace(w, ["--journal-sync", "record"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let journal = calls.filter {
                switch $0 {
                case .exec, .otherSync: return false
                default: return true
                }
            }
            let writes = journal.indices.filter { if case .journalWrite = journal[$0] { return true }; return false }
            let records = try w.journal(try w.onlyRunID())
            #expect(writes.count == records.count)
            for w in writes {
                #expect(w + 1 < journal.count && journal[w + 1] == .journalSync, "record \(journal[w]) not fsync'd before the next")
            }
        }
    }

    @Test func badJournalSyncValueIsAUsageError() async throws {
        try await RunWorld.with { w in
            try w.dir.write("durable.yaml", Self.runbook)
            let r = try await w.cli(["run", "durable.yaml", "--journal-sync", "sometimes"] + w.state)
            #expect(r.status == 2)
            #expect(r.stderr.contains("journal-sync"), "\(r.stderr)")
        }
    }
}

/// A journal that cannot be written (disk full, file size limit, I/O error) is said once on stderr;
/// the run goes on, and the journal ends with its last whole record.
@Suite("CLI: journal write failure")
struct JournalWriteFailureCLITests {
    @Test func aFailedJournalWriteIsReportedOnceAndTheJournalStaysReadable() async throws {
        try await RunWorld.with { w in
            var text = "version: 1\nid: chatty\ntitle: chatty\nseverity: sev4\nautomation: automatic\nsteps:\n"
            for n in 0..<40 { text += "  - {id: s\(n), action: log, with: {message: n\(n)}}\n" }
            try w.dir.write("chatty.yaml", text)
            // RLIMIT_FSIZE of 8 x 512 bytes: the runbook copy fits, the journal soon does not, and its
            // write fails with EFBIG (SIGXFSZ ignored, as a full disk fails with ENOSPC).
            let script = #"trap "" XFSZ; ulimit -f 8; exec "$0" "$@""#
            let child = try await LaunchedCLI.start(["-c", script, CLI.executable, "run", "chatty.yaml"] + w.state,
                                                    in: w.dir.path, env: w.env, executable: "/bin/sh")
            let r = await child.wait()
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("s39"), "every step still ran: \(r.stdout)")
            let warnings = r.stderr.components(separatedBy: "cannot write to the run journal").count - 1
            #expect(warnings == 1, "\(r.stderr)")
            #expect(r.stderr.contains("file too large"), "\(r.stderr)")
            #expect(r.stderr.contains("'runbook resume' cannot see"), "\(r.stderr)")
            // What was written is whole records only: the journal reads back, and it is shorter than the run.
            let records = try w.journal(try w.onlyRunID())
            #expect(!records.isEmpty && records.count < 80)
            #expect(records.first?["type"]?.stringValue == "run_started")
            let raw = try String(contentsOfFile: w.stateDir + "/runs/\(try w.onlyRunID())/journal.jsonl", encoding: .utf8)
            #expect(raw.hasSuffix("\n"))
        }
    }
}
