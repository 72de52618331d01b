// `runbook state` and `runbook incident` through the built binary, including several processes
// writing the same state file at once.
import Foundation
import RunbookKit
import Testing

/// Starts many `runbook` processes at once, then waits for all of them.
enum ParallelCLI {
    struct Finished {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Starts every process at once and waits for all of them on a thread of its own.
    static func run(_ argumentLists: [[String]], in directory: String) async throws -> [Finished] {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(argumentLists, in: directory) })
            }
        }
    }

    static func runBlocking(_ argumentLists: [[String]], in directory: String) throws -> [Finished] {
        var running: [(Process, String, String)] = []
        for (i, args) in argumentLists.enumerated() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.executable)
            process.arguments = args
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            var env = ProcessInfo.processInfo.environment
            env["NO_COLOR"] = "1"
            env["USER"] = "tester"
            process.environment = env
            let out = directory + "/out-\(i).txt", err = directory + "/err-\(i).txt"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            _ = FileManager.default.createFile(atPath: err, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
            process.standardInput = FileHandle.nullDevice
            running.append((process, out, err))
        }
        for (p, _, _) in running { try p.run() }
        return running.map { p, out, err in
            p.waitUntilExit()
            return Finished(status: p.terminationStatus,
                            stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        }
    }
}

@Suite("runbook state")
struct StateCLITests {
    @Test func showSetAndHistory() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let env = ["USER": "alice"]
        let state = ["--state-dir", dir.path + "/st"]
        var r = try await CLI.run(["state"] + state, env: env)
        #expect(r.status == 0)
        #expect(r.stdout.contains("none set"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/st/state.sqlite"), "reading creates nothing")

        r = try await CLI.run(["state", "breaker", "qwen", "open", "--reason", "Qwen down"] + state, env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("open (was closed)"))
        r = try await CLI.run(["state", "flag", "cache_bypass", "true"] + state, env: env)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await CLI.run(["state", "flag", "creative_mode_route", "balanced"] + state, env: env)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await CLI.run(["state", "flag", "limits", #"{"rps": 5}"#] + state, env: env)
        #expect(r.status == 0, "\(r.stderr)")

        r = try await CLI.run(["state", "--format", "json"] + state, env: env)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(Value.parseJSON(r.stdout)).mapValue
        let breakers = try #require(json["breakers"]).mapValue
        #expect(breakers["qwen"]?.mapValue["state"] == .string("open"))
        #expect(breakers["qwen"]?.mapValue["actor"] == .string("manual:alice"))
        #expect(breakers["qwen"]?.mapValue["reason"] == .string("Qwen down"))
        let flags = try #require(json["flags"]).mapValue
        #expect(flags["cache_bypass"]?.mapValue["value"] == .bool(true))
        #expect(flags["creative_mode_route"]?.mapValue["value"] == .string("balanced"), "not JSON: a string")
        #expect(flags["limits"]?.mapValue["value"] == .map(["rps": .int(5)]))

        r = try await CLI.run(["state"] + state, env: env)
        #expect(r.stdout.contains("qwen"))
        #expect(r.stdout.contains("manual:alice"))

        r = try await CLI.run(["state", "flag", "cache_bypass", "null"] + state, env: env)
        #expect(r.stdout.contains("true → unset"))
        r = try await CLI.run(["state", "breaker", "qwen", "close"] + state, env: env)
        #expect(r.status == 0)

        r = try await CLI.run(["state", "history", "qwen"] + state, env: env)
        #expect(r.status == 0)
        #expect(r.stdout.contains("open → closed"))
        #expect(r.stdout.contains("closed → open"))
        #expect(!r.stdout.contains("cache_bypass"))
        r = try await CLI.run(["state", "history", "--format", "json"] + state, env: env)
        guard case .list(let changes)? = Value.parseJSON(r.stdout) else {
            Issue.record("history json: \(r.stdout)")
            return
        }
        #expect(changes.count == 6)
        #expect(changes.allSatisfy { $0.mapValue["actor"] == .string("manual:alice") })
        #expect(changes.first?.mapValue["name"] == .string("qwen"))
    }

    @Test func usageErrorsExit2() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let r = try await CLI.run(["state", "breaker", "qwen", "half-open", "--state-dir", dir.path])
        #expect(r.status == 2)
        // Every word that works, 'closed' included (it is accepted, so the error must not hide it).
        #expect(r.stderr.contains("state must be 'open', 'close' or 'closed', got 'half-open'"), "\(r.stderr)")
        let closed = try await CLI.run(["state", "breaker", "qwen", "closed", "--state-dir", dir.path])
        #expect(closed.status == 0, "\(closed.stderr)")
    }

    @Test("state history --limit below 1 is a usage error, however it is written, never \"no changes\"")
    func historyLimitMustBePositive() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let state = ["--state-dir", dir.path + "/st"]
        for n in 0..<3 {
            let r = try await CLI.run(["state", "flag", "f", "\(n)"] + state)
            #expect(r.status == 0, "\(r.stderr)")
        }
        for limit in [["--limit", "0"], ["--limit", "-1"], ["--limit=-1"], ["--limit=0"], ["--limit", "-5"]] {
            let r = try await CLI.run(["state", "history"] + limit + state)
            #expect(r.status == 2, "\(limit): \(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("--limit must be at least 1"), "\(limit): \(r.stderr)")
            #expect(!r.stderr.contains("Missing value"), "\(limit): -1 is the value, not an option: \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(limit): \(r.stdout)")
        }
        let one = try await CLI.run(["state", "history", "--limit", "1", "--format", "json"] + state)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(Value.parseJSON(one.stdout)?.listValue?.count == 1, "\(one.stdout)")
        let notANumber = try await CLI.run(["state", "history", "--limit", "--format", "json"] + state)
        #expect(notANumber.status == 2, "\(notANumber.stdout)\(notANumber.stderr)")
    }

    @Test("20 processes setting flags at once: every change is recorded")
    func parallelFlagProcesses() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let state = ["--state-dir", dir.path + "/st"]
        let results = try await ParallelCLI.run((0..<20).map { ["state", "flag", "shared", "\($0)", "--reason", "p\($0)"] + state }
                                              + (0..<20).map { ["state", "flag", "own_\($0)", "true"] + state },
                                          in: dir.path)
        for r in results { #expect(r.status == 0, "\(r.stderr)") }
        let r = try await CLI.run(["state", "history", "--format", "json"] + state)
        guard case .list(let changes)? = Value.parseJSON(r.stdout) else {
            Issue.record("history json: \(r.stdout) \(r.stderr)")
            return
        }
        #expect(changes.count == 40)
        // The shared flag's changes chain: each previous is the value before it.
        let shared = changes.reversed().filter { $0.mapValue["name"] == .string("shared") }.map(\.mapValue)
        #expect(shared.count == 20)
        #expect(shared.first?["previous"] == .null)
        for (a, b) in zip(shared, shared.dropFirst()) { #expect(b["previous"] == a["value"]) }
    }

    @Test("20 processes creating incidents at once get unique ids")
    func parallelIncidentProcesses() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let state = ["--state-dir", dir.path + "/st"]
        let results = try await ParallelCLI.run((1...20).map {
            ["incident", "create", "--title", "parallel \($0)", "--severity", "sev4"] + state
        }, in: dir.path)
        for r in results { #expect(r.status == 0, "\(r.stderr)") }
        let ids = results.map { $0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(Set(ids) == Set((1...20).map { String(format: "INC-%04d", $0) }))
    }
}

@Suite("runbook incident")
struct IncidentCLITests {
    @Test func createListShowResolve() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let state = ["--state-dir", dir.path]
        let env = ["USER": "carol"]
        var r = try await CLI.run(["incident", "create", "--title", "Qwen LLM Failure - Downshifted to Balanced",
                             "--severity", "Sev2", "--description", "Qwen model not responding.",
                             "--component", "LLM", "--component", "Qwen"] + state, env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "INC-0001\n")
        r = try await CLI.run(["incident", "create", "--json",
                         #"{"title": "RL Reward Runaway", "severity": "sev3", "components": ["RL", "PPO"]}"#] + state, env: env)
        #expect(r.stdout == "INC-0002\n", "\(r.stderr)")

        r = try await CLI.run(["incident", "list"] + state)
        #expect(r.stdout.contains("INC-0001"))
        #expect(r.stdout.contains("INC-0002"))

        r = try await CLI.run(["incident", "note", "INC-0001", "looking at OOM"] + state, env: env)
        #expect(r.status == 0)
        r = try await CLI.run(["incident", "resolve", "inc-0001", "--resolution", "Qwen restarted, Creative mode restored"] + state,
                        env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("INC-0001 resolved"))

        r = try await CLI.run(["incident", "show", "INC-0001"] + state)
        #expect(r.status == 0)
        #expect(r.stdout.contains("status:      resolved"))
        #expect(r.stdout.contains("Qwen restarted, Creative mode restored"))
        #expect(r.stdout.contains("components:  LLM, Qwen"))
        #expect(r.stdout.contains("looking at OOM"))

        r = try await CLI.run(["incident", "show", "INC-0002", "--format", "json"] + state)
        let shown = try #require(Value.parseJSON(r.stdout)).mapValue
        #expect(shown["components"] == .list([.string("RL"), .string("PPO")]))
        #expect(shown["created_by"] == .string("manual:carol"))
        #expect(shown["timeline"].map { if case .list(let l) = $0 { l.count } else { 0 } } == 1)

        r = try await CLI.run(["incident", "list", "--status", "resolved"] + state)
        #expect(r.stdout.contains("INC-0001"))
        #expect(!r.stdout.contains("INC-0002"))
        r = try await CLI.run(["incident", "list", "--status", "all", "--format", "json"] + state)
        if case .list(let all)? = Value.parseJSON(r.stdout) { #expect(all.count == 2) } else { Issue.record("\(r.stdout)") }
    }

    @Test("unknown ids, resolving twice and bad input exit 2", arguments: [
        ["incident", "show", "INC-0042"],
        ["incident", "resolve", "INC-0042", "--resolution", "x"],
        ["incident", "note", "INC-0042", "x"],
        ["incident", "show", "banana"],
        ["incident", "resolve", "INC-0001", "--resolution", "twice"],
        ["incident", "create", "--title", "x", "--severity", "p1"],
        ["incident", "create", "--severity", "sev2"],
        ["incident", "create", "--json", "{not json"],
        ["incident", "create", "--json", #"{"title": "x", "severity": "sev2", "owner": "me"}"#],
    ])
    func errorsExit2(_ args: [String]) async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let state = ["--state-dir", dir.path]
        _ = try await CLI.run(["incident", "create", "--title", "one", "--severity", "sev3"] + state)
        _ = try await CLI.run(["incident", "resolve", "INC-0001", "--resolution", "done"] + state)
        let r = try await CLI.run(args + state)
        #expect(r.status == 2, "\(r.stdout)")
        #expect(!r.stderr.isEmpty)
        if args.contains("INC-0042") { #expect(r.stderr.contains("no incident 'INC-0042'")) }
        if args.contains("twice") { #expect(r.stderr.contains("already resolved")) }
    }

    static let runbook = """
        version: 1
        id: incident_demo
        title: Incident demo
        description: Opens a breaker, then an incident, then waits for the on-call.
        severity: sev2
        automation: semi_automatic
        expected_recovery: 5m
        owner: sre
        components: [LLM]
        steps:
          - id: open_breaker
            action: circuit_breaker.open
            with: {name: qwen}
          - id: open_incident
            action: incident.create
            with: {title: Demo}
            rollback: none
          - id: go_on
            action: confirm
            with: {message: "Close the breaker?"}
          - id: close_breaker
            action: circuit_breaker.close
            with: {name: qwen}
            rollback: none
        rollback:
          - id: close_it
            action: circuit_breaker.close
            with: {name: qwen}
            undoes: [open_breaker]
        """

    @Test("a run's timeline lands on its incident; a dry-run creates nothing")
    func runTimeline() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("incident_demo.yaml", Self.runbook)
        let state = ["--state-dir", dir.path + "/st"]
        var r = try await CLI.run(["run", "incident_demo.yaml", "--dry-run"] + state, in: dir.path)
        #expect(r.status == 0 || r.status == 3, "\(r.stdout)\(r.stderr)")
        r = try await CLI.run(["incident", "list", "--status", "all"] + state, in: dir.path)
        #expect(r.stdout.contains("no incidents"))

        r = try await CLI.run(["run", "incident_demo.yaml"] + state, in: dir.path, env: ["USER": "dave"])
        #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
        let runID = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("running") }?
            .split(separator: " ").last?.trimmingCharacters(in: CharacterSet(charactersIn: "()")))
        r = try await CLI.run(["resume", runID, "--approve", "go_on"] + state, in: dir.path, env: ["USER": "dave"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")

        r = try await CLI.run(["incident", "show", "INC-0001", "--format", "json"] + state, in: dir.path)
        let shown = try #require(Value.parseJSON(r.stdout)).mapValue
        #expect(shown["run_id"] == .string(runID))
        #expect(shown["severity"] == .string("sev2"))
        guard case .list(let timeline)? = shown["timeline"] else {
            Issue.record("no timeline: \(r.stdout)")
            return
        }
        let kinds = timeline.compactMap { $0.mapValue["kind"]?.stringValue }
        #expect(kinds.first == "run_started")
        for kind in ["created", "confirmation_asked", "run_paused", "run_resumed", "confirmation_answered", "run_finished"] {
            #expect(kinds.contains(kind), "\(kind) in \(kinds)")
        }
        #expect(timeline.contains { $0.mapValue["step"] == .string("open_breaker") })
        #expect(timeline.contains { ($0.mapValue["text"]?.stringValue ?? "").contains("approved by dave") })
        r = try await CLI.run(["state", "--format", "json"] + state, in: dir.path)
        #expect(Value.parseJSON(r.stdout)?.mapValue["breakers"]?.mapValue["qwen"]?.mapValue["state"] == .string("closed"))
    }

    @Test("a run that touches no incident or state never opens the state store")
    func plainRunCreatesNoStore() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("plain.yaml", """
            version: 1
            id: plain
            title: plain
            severity: sev4
            automation: automatic
            steps:
              - id: note
                action: log
                with: {message: nothing stateful}

            """)
        let r = try await CLI.run(["run", "plain.yaml", "--state-dir", dir.path + "/st"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/st/state.sqlite"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/st/runs"))
    }
}
