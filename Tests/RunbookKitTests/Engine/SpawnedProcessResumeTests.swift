import Foundation
import RunbookActions
import RunbookKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Resuming a step that was in flight when the runner died, when the journal says which programs it
/// started (`process_started`): a live one is named in the re-run question and pause, `--yes` does not
/// re-run the step beside it, and journals without such records read as before.
@Suite("Engine: resume while a step's program still runs")
struct SpawnedProcessResumeTests {
    static let body = """
    steps:
      - id: job
        action: test.count
        with: {key: job}
        rollback: none
      - id: after
        action: test.count
        with: {key: after}
        rollback: none
    """

    /// A journal of a run killed while `job` ran `process` (and, before that, an ended one).
    static func writeKilledDuring(_ h: EngineHarness, _ processes: [SpawnedProcess]) throws {
        let journal = try Journal(path: h.journalPath)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "enginetest.yaml", dryRun: false,
                                   params: [:], resumed: false))
        journal.append(.stepStarted(step: "job", title: "job", action: "test.count", phase: .main))
        for p in processes { journal.append(.processStarted(step: "job", process: p)) }
    }

    /// A `sleep 300` in a group of its own, observed as the engine observes a step's program.
    static func sleeper() async throws -> SpawnedProcess {
        let spec = ProgramSpec(executable: "/bin/sleep", arguments: ["sleep", "300"], environment: [:])
        let box = ToldBox()
        let started = try await POSIXProgramLauncher().start(spec, started: { box.set(SpawnedProcess.observe(pid: $0, detached: false)) })
        return try #require(box.value.flatMap { $0.pid == started.pid ? $0 : nil })
    }

    @Test("the journal's process records: kept for the step in flight across sessions, dropped when it finished")
    func resumePointCollectsThem() throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let a = SpawnedProcess(pid: 100, startTime: 5, bootID: "b", detached: false)
        let b = SpawnedProcess(pid: 200, startTime: 9, bootID: "b", detached: true)
        let journal = try Journal(path: h.journalPath)
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "e.yaml", dryRun: false, params: [:], resumed: false))
        journal.append(.stepStarted(step: "before", title: "before", action: "exec", phase: .main))
        journal.append(.processStarted(step: "before", process: SpawnedProcess(pid: 50, startTime: 1, bootID: "b", detached: false)))
        journal.append(.stepFinished(step: "before", status: .succeeded, outputs: [:], error: nil, durationMS: 1, reason: nil))
        journal.append(.stepStarted(step: "job", title: "job", action: "exec", phase: .main))
        journal.append(.processStarted(step: "job", process: a))
        journal.append(.runStarted(runID: "run-1", runbook: "enginetest", file: "e.yaml", dryRun: false, params: [:], resumed: true))
        journal.append(.stepStarted(step: "job", title: "job", action: "exec", phase: .main))
        journal.append(.processStarted(step: "job", process: b))
        let records = try h.records()
        let record = try #require(records.of("process_started", step: "job").first)
        #expect(record["pid"] == .int(100) && record["pgid"] == .int(100) && record["start_time"] == .int(5)
                && record["boot_id"] == .string("b") && record["detached"] == .bool(false))
        let point = try ResumePoint.from(records: records)
        #expect(point.inFlight == "job")
        #expect(point.inFlightProcesses == [a, b])

        // A journal from before these records: nothing known, nothing claimed.
        let old = records.filter { $0["type"] != .string("process_started") }
        #expect(try ResumePoint.from(records: old).inFlightProcesses.isEmpty)
    }

    @Test("a live program: named in the question and the pause; --yes does not re-run the step beside it")
    func liveProgramIsNamed() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let process = try await Self.sleeper()
        defer { kill(-process.pid, SIGKILL) }
        try Self.writeKilledDuring(h, [process])
        let rb = try EngineHarness.runbook(Self.body)
        let note = "process group \(process.pid) started by this step is still running (pid \(process.pid): sleep)"

        let yes = ConfirmationPolicy(approveAll: true, operatorName: "erin")
        let outcome = try await h.run(rb, options: engineOptions(confirmer: yes), journal: true,
                                      resume: try ResumePoint.from(records: try h.records()))
        #expect(outcome.status == .paused)
        #expect(outcome.pausedAt == "job")
        #expect(await h.probe.count("job") == 0, "no second copy")
        let asked = try #require(try h.records().of("confirmation_asked", step: "job").last)
        #expect(asked["kind"] == .string("rerun"))
        #expect(asked["message"] == .string("Step 'job' (test.count) was in flight when the run stopped and is not idempotent: "
                                            + "it may or may not have taken effect, and \(note). Run it again?"))
        #expect(outcome.pauseReason == "step 'job' was in flight when the run stopped, and \(note): check on it first; "
                + "re-run the step beside it with --approve job (--yes does not), or mark it failed with --decline job")

        // Named, the step is re-run, and the record says the two run side by side.
        let named = ConfirmationPolicy(approved: ["job"], operatorName: "erin")
        let rerun = try await h.run(rb, options: engineOptions(confirmer: named), journal: true,
                                    resume: try ResumePoint.from(records: try h.records()))
        #expect(rerun.status == .succeeded)
        #expect(await h.probe.count("job") == 1)
        let warning = try h.records().of("log", step: "job").last
        #expect(warning?["level"] == .string("warning"))
        #expect(warning?["message"] == .string("re-run while \(note): the two copies run side by side"))
    }

    @Test("declined while it runs: the step fails, and its error says the program still runs")
    func declinedWhileRunning() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let process = try await Self.sleeper()
        defer { kill(-process.pid, SIGKILL) }
        try Self.writeKilledDuring(h, [process])
        let rb = try EngineHarness.runbook(Self.body)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(confirmer: ConfirmationPolicy(declined: ["job"], operatorName: "erin")),
                                      journal: true, resume: try ResumePoint.from(records: try h.records()), reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(reporter.finished("job")?.error == "not re-run after the run stopped mid-step (declined by erin); "
                + "process group \(process.pid) started by this step is still running (pid \(process.pid): sleep)")
    }

    @Test("an ended program, or one whose pid now belongs to another process: not claimed to run; --yes re-runs as before")
    func endedOrReusedIsNotClaimed() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let process = try await Self.sleeper()
        kill(-process.pid, SIGKILL)
        for _ in 0..<500 where !process.liveMembers().isEmpty { try await Task.sleep(nanoseconds: 20_000_000) }
        // A live process whose pid the journal names with another start time: pid reuse, not it.
        let other = try await Self.sleeper()
        defer { kill(-other.pid, SIGKILL) }
        var reused = other
        reused.startTime = other.startTime.map { $0 + 1 }
        try Self.writeKilledDuring(h, [process, reused])
        let rb = try EngineHarness.runbook(Self.body)
        let outcome = try await h.run(rb, options: engineOptions(confirmer: ConfirmationPolicy(approveAll: true, operatorName: "erin")),
                                      journal: true, resume: try ResumePoint.from(records: try h.records()))
        #expect(outcome.status == .succeeded, "--yes answers the re-run question when nothing of the step runs")
        let asked = try #require(try h.records().of("confirmation_asked", step: "job").last?["message"]?.stringValue)
        #expect(asked == "Step 'job' (test.count) was in flight when the run stopped and is not idempotent: it may or may not "
                + "have taken effect (process groups \(process.pid), \(other.pid) it started are no longer running). Run it again?")
    }
}

/// One value set from a @Sendable closure.
final class ToldBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: SpawnedProcess?
    func set(_ p: SpawnedProcess) { lock.withLock { stored = p } }
    var value: SpawnedProcess? { lock.withLock { stored } }
}
