// What a step's program leaves behind: `exec` tells the run each child's pid as soon as it runs,
// and `SpawnedProcess` tells from /proc whether that process group still has live processes,
// without mistaking a process that got the same pid (another start time) or another boot for it.
import Foundation
import RunbookActions
import RunbookKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Pids told to `processStarted`.
final class ToldPids: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(pid: Int32, detached: Bool, process: SpawnedProcess)] = []
    func append(_ pid: Int32, _ detached: Bool) {
        // Observed at once, as the engine does, while the child cannot have been reaped.
        let process = SpawnedProcess.observe(pid: pid, detached: detached)
        lock.withLock { stored.append((pid, detached, process)) }
    }
    var all: [(pid: Int32, detached: Bool, process: SpawnedProcess)] { lock.withLock { stored } }
}

@Suite("spawned processes")
struct SpawnedProcessTests {
    /// Waits up to 10 s for `condition`.
    static func within(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }

    static func detached(_ argv: [String], told: ToldPids) async throws -> Int32 {
        let spec = ProgramSpec(executable: argv[0].hasPrefix("/") ? argv[0] : "/bin/" + argv[0], arguments: argv,
                               environment: ProcessInfo.processInfo.environment)
        let started = try await POSIXProgramLauncher().start(spec, started: { told.append($0, true) })
        #expect(started.earlyExitCode == nil)
        return started.pid
    }

    @Test("a stat line's fields are read after the last ')', whatever the name holds")
    func parsesStat() throws {
        let line = "4242 (my (odd) name) Z 1 4240 4240 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 8192 100"
        #expect(ProcessProbe.parse(line) == ProcessProbe.Entry(pid: 4242, comm: "my (odd) name", state: "Z", pgrp: 4240,
                                                               startTime: 987654))
        #expect(ProcessProbe.parse("4242 (short) S 1 2") == nil)
        let entry = try #require(ProcessProbe.stat(getpid()))
        #expect(entry.pid == getpid())
        #expect(ProcessProbe.all().contains { $0.pid == getpid() })
        #expect(ProcessProbe.bootID() != nil)
    }

    @Test("exec tells the run the pid of the program it runs, and of a detached one, before they end")
    func execTellsThePid() async throws {
        let told = ToldPids()
        let context = ActionContext(runID: "r", runbookID: "t", stateDirectory: NSTemporaryDirectory(),
                                    environment: ProcessInfo.processInfo.environment, masker: SecretMasker(secrets: []),
                                    processStarted: { told.append($0, $1) }, emit: { _, _ in })
        let action = ExecAction()
        var arguments: [String: Value] = ["argv": .list([.string("true")])]
        for p in action.descriptor.parameters where arguments[p.name] == nil { arguments[p.name] = p.defaultValue }
        let result = try await action.run(ActionInvocation(stepID: "s", arguments: arguments, timeout: 30, context: context))
        let first = try #require(told.all.first)
        #expect(result.outputs["pid"] == .int(Int(first.pid)))
        #expect(first.detached == false)
        #expect(first.process.startTime != nil, "read before the child was reaped")
        #expect(first.process.liveMembers().isEmpty, "it has ended")

        arguments["argv"] = .list([.string("sleep"), .string("30")])
        arguments["detach"] = .bool(true)
        let detached = try await action.run(ActionInvocation(stepID: "s", arguments: arguments, timeout: 30, context: context))
        let second = try #require(told.all.last)
        defer { kill(-second.pid, SIGKILL) }
        #expect(detached.outputs["pid"] == .int(Int(second.pid)))
        #expect(second.detached)
        #expect(second.process.stillRunningNote() == "process group \(second.pid) started by this step is still running (pid \(second.pid): sleep)")
    }

    @Test("a live group is found; another start time (the pid reused) or another boot is not it; an ended one is gone")
    func liveness() async throws {
        let told = ToldPids()
        let pid = try await Self.detached(["sleep", "300"], told: told)
        defer { kill(-pid, SIGKILL) }
        let process = try #require(told.all.first?.process)
        #expect(process.pid == pid)
        let start = try #require(process.startTime)
        #expect(process.liveMembers().map(\.pid) == [pid])
        #expect(process.liveMembers().first?.comm == "sleep")

        var reused = process
        reused.startTime = start + 1
        #expect(reused.liveMembers().isEmpty, "a process with that pid but another start time is another process")
        #expect(reused.stillRunningNote() == nil)
        var otherBoot = process
        otherBoot.bootID = "00000000-0000-0000-0000-000000000000"
        #expect(otherBoot.liveMembers().isEmpty, "after a reboot nothing it started runs")
        var unknown = process
        unknown.startTime = nil
        #expect(unknown.liveMembers().isEmpty, "without a start time nothing is claimed")

        kill(-pid, SIGKILL)
        #expect(await Self.within { process.liveMembers().isEmpty })
        #expect(process.stillRunningNote() == nil)
    }

    @Test("the note names the leader first, then the rest of its group")
    func wholeGroup() async throws {
        let told = ToldPids()
        let pid = try await Self.detached(["sh", "-c", "sleep 300 & sleep 300 & wait"], told: told)
        defer { kill(-pid, SIGKILL) }
        let process = try #require(told.all.first?.process)
        #expect(await Self.within { process.liveMembers().count == 3 })
        let members = process.liveMembers()
        #expect(members.first?.pid == pid)
        #expect(members.map(\.comm) == ["sh", "sleep", "sleep"])
        let note = try #require(process.stillRunningNote())
        #expect(note.hasPrefix("process group \(pid) started by this step is still running (pid \(pid): sh, pid "), "\(note)")
        // The leader gone, its group lives on in the two sleeps.
        kill(pid, SIGKILL)
        #expect(await Self.within { process.liveMembers().map(\.comm) == ["sleep", "sleep"] })
    }
}
