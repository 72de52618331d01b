import Foundation
import RunbookKit
import Testing

/// The journal file itself.
@Suite("Engine: journal")
struct EngineJournalTests {
    @Test("every record has an increasing seq, an ISO 8601 time and a type; the run is fully described")
    func recordShape() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: flaky
            action: test.count
            with: {key: flaky, fail_times: 1}
            retry: {attempts: 2, delay: 10ms}
            rollback: none
          - id: skip_me
            action: test.echo
            when: "${{ false }}"
          - id: fail
            action: test.fail
        rollback:
          - id: undo
            action: test.echo
            with: {log: undoing}
        """)
        let outcome = try await h.run(rb, options: engineOptions(), journal: true)
        #expect(outcome.status == .failed)
        let records = try h.records()
        #expect(records.count > 10)
        var lastSeq = 0
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for record in records {
            let seq = try #require(record["seq"]?.numberValue.map { Int($0) })
            #expect(seq == lastSeq + 1)
            lastSeq = seq
            let time = try #require(record["time"]?.stringValue)
            #expect(formatter.date(from: time) != nil, "bad time \(time)")
            #expect(record["type"]?.stringValue?.isEmpty == false)
        }
        #expect(records.types == [
            "run_started",
            "step_started", "attempt", "attempt_failed", "attempt", "step_finished",
            "step_started", "step_finished",
            "step_started", "attempt_failed", "step_finished",
            "rollback_started",
            "step_started", "log", "step_finished",
            "run_finished",
        ])
        #expect(records.of("step_finished", step: "skip_me").first?["status"] == .string("skipped"))
        #expect(records.of("step_started", step: "undo").first?["phase"] == .string("rollback"))
        #expect(records.of("run_finished").first?["status"] == .string("failed"))
        #expect(records.first?["run_id"] == .string("run-1"))
    }

    @Test("a torn last line is ignored by Journal.read")
    func tornLastLine() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let journal = try Journal(path: h.journalPath)
        journal.append(.rollbackStarted(reason: "a"))
        journal.append(.rollbackStarted(reason: "b"))
        let handle = try #require(FileHandle(forWritingAtPath: h.journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"reason":"c","seq":3,"ti"#.utf8))
        try handle.close()
        let records = try Journal.read(path: h.journalPath)
        #expect(records.map { $0["reason"] } == [.string("a"), .string("b")])
    }

    @Test("a damaged line in the middle is skipped and reported with its line number and what is wrong; a torn last line is not")
    func damagedMiddleLines() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let journal = try Journal(path: h.journalPath)
        journal.append(.rollbackStarted(reason: "a"))
        let handle = try #require(FileHandle(forWritingAtPath: h.journalPath))
        handle.seekToEndOfFile()
        handle.write(Data("not json\n[1]\n\n{\"reason\":\"cut\",\"se\n".utf8))
        journal.append(.rollbackStarted(reason: "b"))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"reason":"torn","seq":3,"ti"#.utf8))
        try handle.close()
        var damage: [JournalDamage] = []
        let records = try Journal.read(path: h.journalPath, damaged: { damage.append($0) })
        #expect(records.map { $0["reason"] } == [.string("a"), .string("b")])
        #expect(damage.map(\.line) == [2, 3, 5])
        #expect(damage.map(\.problem) == ["not valid JSON", "a JSON value that is not a record (object)",
                                          "a record cut short (torn by a crash before the run was resumed?)"])
        #expect(damage.first?.description == "\(h.journalPath):2: not valid JSON; the line is skipped")
    }

    @Test("a state directory that cannot be created says why in the OS's words; missing parents are created 700")
    func stateDirectoryErrors() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let file = h.directory + "/a-file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        let error = #expect(throws: JournalError.self) { try StateDirectory(path: file + "/state").prepare() }
        #expect(error?.description == "cannot create state directory \(file)/state: not a directory")
        let deep = h.directory + "/x/y/state"
        try StateDirectory(path: deep).prepare()
        for dir in [h.directory + "/x", h.directory + "/x/y", deep, deep + "/runs", deep + "/locks"] {
            let mode = try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o700, "\(dir)")
        }
        let failure = #expect(throws: DirectoryCreationError.self) { try createDirectories(file + "/d") }
        #expect(failure?.reason == "not a directory")
        #expect(failure?.path == file + "/d")
    }

    @Test("a record is in the file as soon as append returns (a killed process loses nothing), in both durability modes")
    func writtenBeforeAppendReturns() throws {
        for durability in Journal.Durability.allCases {
            let h = try EngineHarness(); defer { h.cleanUp() }
            let journal = try Journal(path: h.journalPath, durability: durability)
            for n in 1...50 {
                journal.append(.rollbackStarted(reason: "r\(n)"))
                // Read back through a separate open file, without sync: what the kernel has.
                let records = try Journal.read(path: h.journalPath)
                #expect(records.count == n, "\(durability)")
                #expect(records.last?["reason"] == .string("r\(n)"))
            }
            journal.sync()
            journal.sync()  // nothing left: returns at once
            #expect(try Journal.read(path: h.journalPath).map { $0["seq"] } == (1...50).map { .int($0) })
        }
    }

    @Test("appends and syncs from several threads at once: every record once, seq without gaps, no deadlock")
    func concurrentAppendAndSync() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let journal = try Journal(path: h.journalPath)
        let threads = 8, each = 150
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // Plain threads: blocking in sync() must not hold the cooperative pool.
            let group = DispatchGroup()
            for t in 0..<threads {
                group.enter()
                Thread.detachNewThread {
                    for n in 0..<each {
                        journal.append(.rollbackStarted(reason: "t\(t)-\(n)"))
                        if n % 10 == 0 { journal.sync() }
                    }
                    group.leave()
                }
            }
            group.notify(queue: .global()) { done.resume() }
        }
        journal.sync()
        let records = try Journal.read(path: h.journalPath)
        #expect(records.count == threads * each)
        #expect(records.compactMap { $0["seq"]?.numberValue.map { Int($0) } } == Array(1...(threads * each)))
        #expect(Set(records.compactMap { $0["reason"]?.stringValue }).count == threads * each)
    }

    @Test("run ids are <runbook>-<UTC yyyyMMdd-HHmmss>-<4 hex digits>")
    func runIDs() throws {
        let dir = StateDirectory(path: "/nonexistent")
        let id = dir.newRunID(runbook: "qwen_failure_downshift", date: Date(timeIntervalSince1970: 1_795_746_246.9))
        #expect(id.hasPrefix("qwen_failure_downshift-20261127-022406-"))
        let suffix = id.split(separator: "-").last ?? ""
        #expect(suffix.count == 4 && suffix.allSatisfy(\.isHexDigit), "\(id)")
    }

    @Test("timestamps are RFC 3339 UTC with milliseconds and read back")
    func timestamps() throws {
        #expect(Journal.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Journal.timestamp(Date(timeIntervalSince1970: 1_795_746_246.1239)) == "2026-11-27T02:24:06.123Z")
        #expect(Journal.timestamp(Date(timeIntervalSince1970: 951_782_400.25)) == "2000-02-29T00:00:00.250Z")
        #expect(Journal.timestamp(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        let now = Date()
        let parsed = try #require(Journal.parseTimestamp(Journal.timestamp(now)))
        #expect(abs(parsed.timeIntervalSince(now)) < 0.001)
    }

    @Test("reopening continues seq, and a record appended after a torn line is kept")
    func reopenAfterTear() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        do {
            let journal = try Journal(path: h.journalPath)
            journal.append(.rollbackStarted(reason: "a"))
            journal.append(.rollbackStarted(reason: "b"))
        }
        let handle = try #require(FileHandle(forWritingAtPath: h.journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"reason":"torn","se"#.utf8))
        try handle.close()
        let reopened = try Journal(path: h.journalPath)
        #expect(reopened.append(.rollbackStarted(reason: "c")) == 3)
        let records = try Journal.read(path: h.journalPath)
        #expect(records.map { $0["reason"] } == [.string("a"), .string("b"), .string("c")])
        #expect(records.map { $0["seq"] } == [.int(1), .int(2), .int(3)])
    }

    @Test("a journal is only readable by its owner")
    func journalMode() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        _ = try Journal(path: h.journalPath)
        let attributes = try FileManager.default.attributesOfItem(atPath: h.journalPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test("a journal without run_started cannot be resumed; a finished run reports how it ended")
    func resumePointErrors() throws {
        #expect(throws: JournalError.self) { try ResumePoint.from(records: [["type": .string("log")]]) }
        let point = try ResumePoint.from(records: [
            ["type": .string("run_started"), "run_id": .string("r"), "runbook": .string("x"), "dry_run": .bool(false),
             "params": .map(["n": .int(2)])],
            ["type": .string("run_finished"), "status": .string("aborted")],
        ])
        #expect(point.endedWith == .aborted)
        #expect(point.params == ["n": .int(2)])
    }

    @Test("NaN and ±Inf outputs come back from the journal as numbers, not null, so a resumed run decides the same")
    func nonFiniteOutputsSurviveTheJournal() throws {
        let outputs: [String: Value] = ["value": .double(.infinity), "ratio": .double(.nan),
                                        "series": .list([.map(["value": .double(-.infinity)])]), "n": .double(2.5)]
        let event = RunEvent.stepFinished(step: "q", status: .succeeded, outputs: outputs, error: nil, durationMS: 1, reason: nil)
        var record = event.fields
        record["type"] = .string(event.type)
        // Through JSON text, as the journal file holds it.
        let text = Value.map(record).jsonText()
        #expect(text.contains(#"{"$number":"Infinity"}"#) && text.contains(#"{"$number":"NaN"}"#))
        let parsed = try #require(Value.parseJSON(text)).mapValue
        let point = try ResumePoint.from(records: [
            ["type": .string("run_started"), "run_id": .string("r"), "runbook": .string("x"), "dry_run": .bool(false)],
            parsed,
        ])
        let restored = try #require(point.finished["q"]).outputs
        #expect(restored["value"] == .double(.infinity))
        #expect(restored["n"] == .double(2.5))
        if case .double(let d)? = restored["ratio"] { #expect(d.isNaN) } else { Issue.record("ratio: \(String(describing: restored["ratio"]))") }
        #expect(restored["series"] == .list([.map(["value": .double(-.infinity)])]))
    }
}
