// `runbook history` and `resume` on damaged journals.
import Foundation
import RunbookKit
import Testing

/// Two `log` steps: the smallest runbook that leaves a journal (history and state-directory tests).
let logRunbook = """
version: 1
id: logger
title: Logger
owner: team
severity: sev3
automation: automatic
steps:
  - id: one
    action: log
    with: {message: "one"}
  - id: two
    action: log
    with: {message: "two"}

"""

@Suite("runbook history on damaged journals")
struct HistoryCLITests {
    /// A temp dir with `logger.yaml`, run `runs` times; returns the dir, the state options and the run ids, oldest first.
    static func world(runs: Int) async throws -> (TempDir, [String], [String]) {
        let dir = try TempDir()
        try dir.write("logger.yaml", logRunbook)
        let state = ["--state-dir", dir.path + "/state"]
        var ids: [String] = []
        for _ in 0..<runs {
            let r = try await CLI.run(["run", "logger.yaml"] + state, in: dir.path)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let all = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/runs")
            ids += all.filter { !ids.contains($0) }
        }
        return (dir, state, ids)
    }

    static func journalPath(_ dir: TempDir, _ runID: String) -> String { dir.path + "/state/runs/\(runID)/journal.jsonl" }

    /// Replaces line `number` (1-based) of a journal.
    static func replaceLine(_ number: Int, of path: String, with text: String) throws {
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        lines[number - 1] = text
        try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test("a run paused, resumed, then killed mid-step is interrupted, not paused")
    func resumedThenKilledIsInterrupted() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let runDir = dir.path + "/state/runs/logger-20261127-000000-abcd"
        try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
        // The journal is closed (its lock released) before history reads it, as after a kill.
        do {
            let journal = try Journal(path: runDir + "/journal.jsonl")
            journal.append(.runStarted(runID: "logger-20261127-000000-abcd", runbook: "logger", file: "logger.yaml", dryRun: false,
                                       params: [:], resumed: false))
            journal.append(.stepStarted(step: "one", title: "one", action: "log", phase: .main))
            journal.append(.confirmationAsked(step: "one", message: "Go?", kind: "confirm"))
            journal.append(.runPaused(step: "one", reason: "waiting"))
            journal.append(.runFinished(status: .paused, durationMS: 1))
            journal.append(.runStarted(runID: "logger-20261127-000000-abcd", runbook: "logger", file: "logger.yaml", dryRun: false,
                                       params: [:], resumed: true))
            journal.append(.stepStarted(step: "two", title: "two", action: "log", phase: .main))
        }
        let r = try await CLI.run(["history", "--state-dir", dir.path + "/state", "--format", "json"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("\"status\" : \"interrupted\"") || r.stdout.contains("\"status\": \"interrupted\""), "\(r.stdout)")
    }

    @Test("a run whose first journal line is corrupt is listed as corrupt, with a warning naming the file and line")
    func corruptFirstLine() async throws {
        let (dir, state, ids) = try await Self.world(runs: 2)
        defer { dir.cleanup() }
        let damaged = try #require(ids.first)
        let path = Self.journalPath(dir, damaged)
        try Self.replaceLine(1, of: path, with: "garbage")
        let r = try await CLI.run(["history"] + state, in: dir.path)
        #expect(r.status == 0, "\(r.stderr)")
        let row = r.stdout.split(separator: "\n").first { $0.hasPrefix(damaged) }.map(String.init) ?? ""
        #expect(row.contains("corrupt"), "\(r.stdout)")
        #expect(r.stdout.contains(ids[1]) && r.stdout.contains("succeeded"), "\(r.stdout)")
        #expect(r.stderr.contains("warning: \(path):1: not valid JSON; the line is skipped"), "\(r.stderr)")
        #expect(r.stderr.contains("warning: \(path): no readable run_started record"), "\(r.stderr)")

        let json = try await CLI.run(["history", "--format", "json"] + state, in: dir.path)
        #expect(json.status == 0)
        guard case .list(let items)? = Value.parseJSON(json.stdout) else {
            Issue.record("not a JSON list: \(json.stdout)")
            return
        }
        let item = try #require(items.first { $0.mapValue["run_id"] == .string(damaged) }).mapValue
        #expect(item["status"] == .string("corrupt"))
        #expect(item["runbook"] == .null)
        #expect(items.count == 2)
    }

    @Test("a corrupt line in the middle is warned about by history RUN, history and resume; a torn last line is not")
    func corruptMiddleLine() async throws {
        let (dir, state, ids) = try await Self.world(runs: 1)
        defer { dir.cleanup() }
        let run = try #require(ids.first)
        let path = Self.journalPath(dir, run)
        try Self.replaceLine(2, of: path, with: "[\"not a record\"]")
        let warning = "warning: \(path):2: a JSON value that is not a record (object); the line is skipped"

        var r = try await CLI.run(["history", run] + state, in: dir.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains(warning), "\(r.stderr)")
        #expect(r.stdout.contains("run_started logger") && r.stdout.contains("run_finished: succeeded"), "\(r.stdout)")
        r = try await CLI.run(["history"] + state, in: dir.path)
        #expect(r.stderr.contains(warning), "\(r.stderr)")
        #expect(r.stdout.contains("succeeded"), "the run keeps its status: \(r.stdout)")
        r = try await CLI.run(["resume", run] + state, in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains(warning), "\(r.stderr)")
        #expect(r.stderr.contains("already finished"), "\(r.stderr)")

        // A torn last line (a crash mid-write) is expected: skipped without a word.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"seq":99,"ty"#.utf8))
        try handle.close()
        r = try await CLI.run(["history", run] + state, in: dir.path)
        #expect(r.status == 0)
        #expect(r.stderr == warning + "\n", "only the damaged middle line: \(r.stderr)")
    }
}
