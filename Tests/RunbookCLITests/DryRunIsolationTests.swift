// `--dry-run` fails closed: for every runbook in runbooks.d, with every endpoint it could reach
// pointed at a recording loopback server, every secret set and every program it execs shadowed by
// a logging wrapper, a dry-run contacts nothing, starts no process and changes no state.
import Foundation
import RunbookActions
import RunbookKit
import RunbookTestSupport
import Testing

/// Everything a dry-run of the repository's runbooks could reach, pointed at one recording server.
struct DryRunTrap {
    let world: RunWorld
    let runbooks: [Runbook]
    let wrappers: String
    let execLog: String
    let programs: [String]

    var server: TestHTTPServer { world.server }

    static func make(_ w: RunWorld) throws -> DryRunTrap {
        let files = try Linter.expand([Repo.path("runbooks.d")])
        let linted = Repo.linter.lint(files: files)
        let runbooks = linted.compactMap(\.runbook)
        try #require(runbooks.count == files.count && runbooks.count >= 5, "every runbook lints")

        // Every program an `exec` step starts: argv[0], or the first word of `command`.
        var programs = Set<String>()
        for step in runbooks.flatMap(\.allSteps) where step.action.value == "exec" {
            if case .list(let items, _)? = step.argument("argv")?.value, let first = items.first?.staticValue?.stringValue {
                programs.insert((first as NSString).lastPathComponent)
            }
            if let command = step.argument("command")?.value.staticValue?.stringValue,
               let first = command.split(separator: " ").first {
                programs.insert((String(first) as NSString).lastPathComponent)
            }
        }
        try #require(!programs.isEmpty, "the runbooks exec programs (kubectl, python, ...)")

        let wrappers = w.dir.path + "/wrappers", execLog = w.dir.path + "/exec.log"
        try FileManager.default.createDirectory(atPath: wrappers, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: execLog, contents: nil)
        for program in programs {
            let path = wrappers + "/" + program
            try "#!/bin/sh\necho \"\(program) $*\" >> '\(execLog)'\n".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        try w.dir.write("kubeconfig", """
        apiVersion: v1
        kind: Config
        clusters:
        - name: trap
          cluster: {server: "\(w.server.baseURL)"}
        users:
        - name: trap
          user: {token: trap-token}
        contexts:
        - name: trap
          context: {cluster: trap, user: trap, namespace: production}
        current-context: trap

        """)
        return DryRunTrap(world: w, runbooks: runbooks.sorted { $0.id.value < $1.id.value }, wrappers: wrappers,
                          execLog: execLog, programs: programs.sorted())
    }

    /// `--param` for every url param (the server), host and port params (the server's address).
    func params(_ rb: Runbook) -> [String] {
        var out: [String] = []
        for p in rb.params {
            let name = p.name.value
            var value: String?
            if p.type == .url { value = server.url("/\(name)") }
            else if name.hasSuffix("_host") { value = "127.0.0.1" }
            else if name.hasSuffix("_port") && p.type == .int { value = String(server.port) }
            else if p.defaultValue == nil {
                value = ["string": "x", "int": "1", "number": "1", "bool": "true", "duration": "1s"][p.type.rawValue]
            }
            if let value { out += ["--param", "\(name)=\(value)"] }
        }
        return out
    }

    /// Every secret any runbook reads, set to a value that points at the server.
    var secretNames: [String] {
        var names = Set<String>()
        for step in runbooks.flatMap(\.allSteps) {
            let templates = step.with.flatMap(\.value.templates) + [step.when, step.until, step.confirm?.message].compactMap { $0 }
            for t in templates {
                for path in t.template.references where path.count > 1 && path[0] == "secrets" { names.insert(path[1]) }
            }
        }
        return names.sorted()
    }

    var environment: [String: String] {
        var env = world.env
        env["PATH"] = wrappers + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        env["KUBECONFIG"] = world.dir.path + "/kubeconfig"
        env["RUNBOOK_PROMETHEUS_URL"] = server.url("/env-prometheus")
        env["RUNBOOK_SLACK_WEBHOOK_URL"] = server.url("/env-slack")
        env["RUNBOOK_PAGERDUTY_URL"] = server.url("/env-pagerduty")
        for name in secretNames {
            env["RUNBOOK_SECRET_" + name.uppercased()] = name.contains("dsn")
                ? "postgresql://runbook:pw@127.0.0.1:\(server.port)/artisan?connect_timeout=2"
                : server.url("/secret-\(name)")
        }
        return env
    }

    /// `runbook run <runbook> --dry-run` with everything pointed at the server.
    func dryRunArguments(_ rb: Runbook) -> [String] {
        ["run", rb.file, "--dry-run"] + world.state + params(rb)
    }

    var execLogLines: [String] {
        ((try? String(contentsOfFile: execLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

/// The user-visible state: breakers, flags, their history, incidents.
struct StateSnapshot: Equatable {
    var outputs: [String]

    static func take(_ w: RunWorld) async throws -> StateSnapshot {
        var outputs: [String] = []
        for args in [["state", "--format", "json"], ["state", "history", "--format", "json"],
                     ["incident", "list", "--status", "all", "--format", "json"], ["incident", "list"],
                     ["incident", "show", "INC-0001", "--format", "json"]] {
            let r = try await w.cli(args + w.state)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            outputs.append(r.stdout)
        }
        return StateSnapshot(outputs: outputs)
    }

    /// The bytes of the state store and its write-ahead log (not the -shm index, which readers update).
    static func storeBytes(_ w: RunWorld) -> [String: Data] {
        var out: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: w.stateDir)) ?? []
            where name == "state.sqlite" || name == "state.sqlite-wal" {
            out[name] = FileManager.default.contents(atPath: w.stateDir + "/" + name)
        }
        return out
    }
}

@Suite("dry-run fails closed")
struct DryRunIsolationTests {
    /// Breakers, flags and an incident that a dry-run must leave alone.
    static func seedState(_ w: RunWorld) async throws {
        for args in [["state", "breaker", "qwen", "open", "--reason", "seeded"],
                     ["state", "flag", "cache_bypass", "false"],
                     ["state", "flag", "creative_mode_route", "balanced"],
                     ["incident", "create", "--title", "Seeded", "--severity", "sev3"]] {
            let r = try await w.cli(args + w.state)
            try #require(r.status == 0, "\(args): \(r.stderr)")
        }
    }

    @Test func everyRunbookContactsNothingStartsNothingChangesNothing() async throws {
        try await RunWorld.with { w in
            let trap = try DryRunTrap.make(w)
            try await Self.seedState(w)
            let before = try await StateSnapshot.take(w)
            let bytesBefore = StateSnapshot.storeBytes(w)
            #expect(bytesBefore["state.sqlite"] != nil)

            for rb in trap.runbooks {
                let r = try await w.cli(trap.dryRunArguments(rb), env: trap.environment)
                #expect(r.status == 0, "\(rb.id.value): \(r.stdout)\(r.stderr)")
                #expect(r.stdout.contains("dry-run of \(rb.id.value)"))
                #expect(r.stdout.contains("(dry-run: nothing was changed)"))
                if rb.params.contains(where: { $0.type == .url }) {
                    #expect(r.stdout.contains(w.server.baseURL), "\(rb.id.value)'s plan resolves to the trap: \(r.stdout)")
                }
                #expect(w.server.requestCount == 0, "\(rb.id.value) sent \(w.server.requests.map(\.uri))")
                #expect(w.server.connectionCount == 0, "\(rb.id.value) connected to the server")
                #expect(trap.execLogLines == [], "\(rb.id.value) started \(trap.execLogLines)")
            }
            #expect(w.runIDs.count == trap.runbooks.count)

            #expect(StateSnapshot.storeBytes(w) == bytesBefore, "the state store's files are untouched")
            let after = try await StateSnapshot.take(w)
            #expect(after == before)

            // Each dry-run journaled itself as one, and history says so.
            for run in w.runIDs {
                let start = try #require(try w.journal(run).records("run_started").first)
                #expect(start["dry_run"] == .bool(true))
            }
            let history = try await w.cli(["history", "--format", "json"] + w.state)
            let rows = try #require(Value.parseJSON(history.stdout)?.listValue)
            #expect(rows.count == trap.runbooks.count)
            #expect(rows.allSatisfy { $0.mapValue["dry_run"] == .bool(true) && $0.mapValue["status"] == .string("succeeded") })
        }
    }

    @Test func aFreshStateDirGetsNoStateStore() async throws {
        try await RunWorld.with { w in
            let trap = try DryRunTrap.make(w)
            for rb in trap.runbooks {
                let r = try await w.cli(trap.dryRunArguments(rb), env: trap.environment)
                #expect(r.status == 0, "\(rb.id.value): \(r.stdout)\(r.stderr)")
            }
            #expect(StateSnapshot.storeBytes(w).isEmpty, "no state.sqlite was created")
            #expect(!FileManager.default.fileExists(atPath: w.stateDir + "/state.sqlite-shm"))
            let incidents = try await w.cli(["incident", "list", "--status", "all"] + w.state)
            #expect(incidents.stdout.contains("no incidents"), "\(incidents.stdout)")
        }
    }

    /// The control: the same trap does catch a real run that execs one of those programs.
    @Test func theWrappersCatchARealExec() async throws {
        try await RunWorld.with { w in
            let trap = try DryRunTrap.make(w)
            let program = try #require(trap.programs.first)
            try w.dir.write("execs.yaml", """
            version: 1
            id: execs
            title: execs
            severity: sev4
            automation: automatic
            steps:
              - id: run_it
                action: exec
                with: {argv: [\(program), version]}
                rollback: none

            """)
            let dry = try await w.cli(["run", "execs.yaml", "--dry-run"] + w.state, env: trap.environment)
            #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
            #expect(trap.execLogLines == [])
            let real = try await w.cli(["run", "execs.yaml"] + w.state, env: trap.environment)
            #expect(real.status == 0, "\(real.stdout)\(real.stderr)")
            #expect(trap.execLogLines == ["\(program) version"])
        }
    }

    static let strace = ["/usr/bin/strace", "/bin/strace", "/usr/local/bin/strace"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs `runbook args…` under `strace -f` and returns every execve the process tree made.
    static func execves(_ w: RunWorld, _ args: [String], env: [String: String]) async throws -> (CLIResult, [String]) {
        let log = w.dir.path + "/strace-\(UUID().uuidString.prefix(8)).log"
        let child = try await LaunchedCLI.start(["-f", "-qq", "-e", "trace=execve", "-o", log, CLI.executable] + args,
                                                in: w.dir.path, env: env, executable: try #require(strace))
        let r = await child.wait()
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        return (r, lines.filter { $0.contains("execve(") })
    }

    @Test(.enabled(if: strace != nil, "strace is not installed (apt-get install -y strace)"))
    func underStraceTheOnlyExecveIsRunbookItself() async throws {
        try await RunWorld.with { w in
            let trap = try DryRunTrap.make(w)
            for rb in trap.runbooks {
                let (r, execs) = try await Self.execves(w, trap.dryRunArguments(rb), env: trap.environment)
                #expect(r.status == 0, "\(rb.id.value): \(r.stdout)\(r.stderr)")
                #expect(execs.count == 1, "\(rb.id.value): \(execs.joined(separator: "\n"))")
                #expect(execs.first?.contains("execve(\"\(CLI.executable)\"") == true, "\(execs)")
            }
            #expect(w.server.requestCount == 0 && w.server.connectionCount == 0)
            // The control: strace sees a real run's exec.
            try w.dir.write("execs.yaml", """
            version: 1
            id: execs
            title: execs
            severity: sev4
            automation: automatic
            steps:
              - id: run_it
                action: exec
                with: {argv: ["true"]}
                rollback: none

            """)
            let (real, execs) = try await Self.execves(w, ["run", "execs.yaml"] + w.state, env: trap.environment)
            #expect(real.status == 0, "\(real.stdout)\(real.stderr)")
            #expect(execs.count == 2, "\(execs.joined(separator: "\n"))")
        }
    }
}

extension Value {
    var listValue: [Value]? {
        if case .list(let items) = self { return items }
        return nil
    }
}
