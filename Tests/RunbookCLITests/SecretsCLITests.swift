// A secret's value never appears in any output, journal, runbook copy, state or incident file,
// even when the server echoes it back in a body and in an error.
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("secrets stay secret")
struct SecretsCLITests {
    static let secret = "s3cr3t-Zq81-token"

    static func routes(_ server: TestHTTPServer) {
        server.route("/echo", .text("you sent \(secret)"))
        server.route("/fail", .text("bad token \(secret)", status: 500))
    }

    /// Every file under `dir` whose bytes contain `needle`.
    static func filesContaining(_ needle: String, under dir: String) -> [String] {
        let bytes = Array(needle.utf8)
        let entries = FileManager.default.enumerator(atPath: dir)?.allObjects.compactMap { $0 as? String } ?? []
        return entries.filter { entry in
            guard let data = FileManager.default.contents(atPath: dir + "/" + entry) else { return false }
            return [UInt8](data).firstRange(of: bytes) != nil
        }
    }

    /// Runs secret_flow with `secretArgs`/`env`, then checks the secret was used but never shown.
    func check(_ w: RunWorld, secretArgs: [String], env: [String: String]) async throws {
        Self.routes(w.server)
        var outputs: [CLIResult] = []
        for format in ["text", "json"] {
            let r = try await w.run("secret_flow", secretArgs + ["--format", format], env: env)
            #expect(r.status == 1, "fail_with_secret fails and the rollback runs: \(r.stdout)\(r.stderr)")
            outputs.append(r)
        }
        // The secret really was sent (header and URL)...
        let sent = w.server.requests(path: "/echo")
        #expect(sent.count == 2)
        #expect(sent.first?.header("authorization") == "Bearer \(Self.secret)")
        #expect(sent.first?.uri.contains(Self.secret) == true)
        // ...and the echoed body and the error reached the run, masked.
        let text = outputs[0].stdout
        #expect(text.contains("the server said you sent ***"), "\(text)")
        #expect(text.contains("failed: "), "\(text)")

        for run in w.runIDs {
            for args in [["history", run], ["history", run, "--format", "json"]] {
                outputs.append(try await w.cli(args + w.state))
            }
        }
        let incidents = try await w.cli(["incident", "list", "--status", "all", "--format", "json"] + w.state)
        #expect(incidents.status == 0, "\(incidents.stderr)")
        outputs.append(incidents)
        for id in incidents.stdout.matches(of: /INC-\d+/).map({ String($0.output) }) {
            outputs.append(try await w.cli(["incident", "show", id] + w.state))
        }
        for (i, r) in outputs.enumerated() {
            #expect(!r.stdout.contains(Self.secret), "output \(i) stdout: \(r.stdout)")
            #expect(!r.stderr.contains(Self.secret), "output \(i) stderr: \(r.stderr)")
        }
        // Every file of the state dir: journals, runbook copies, state.sqlite (+ WAL), incidents.
        let files = FileManager.default.enumerator(atPath: w.stateDir)?.allObjects.compactMap { $0 as? String } ?? []
        #expect(files.contains { $0.hasSuffix("journal.jsonl") })
        #expect(files.contains { $0.hasSuffix("runbook.yaml") })
        #expect(files.contains { $0.hasPrefix("state.sqlite") })
        #expect(Self.filesContaining(Self.secret, under: w.stateDir) == [])
        // The control: the search does find what is there.
        #expect(!Self.filesContaining("fail_with_secret", under: w.stateDir).isEmpty)
    }

    @Test func fromTheEnvironment() async throws {
        try await RunWorld.with { w in
            try await check(w, secretArgs: [], env: ["RUNBOOK_SECRET_API_TOKEN": Self.secret])
        }
    }

    @Test func fromASecretsFileWithMode600() async throws {
        try await RunWorld.with { w in
            let file = w.dir.path + "/secrets.env"
            try "# test secrets\nAPI_TOKEN=\(Self.secret)\n".write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            try await check(w, secretArgs: ["--secrets-file", file], env: [:])
        }
    }

    @Test("a dry-run plan hides parameters declared secret whatever gives them (a literal, env)")
    func planHidesSecretParameters() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("plan_secrets.yaml", """
            version: 1
            id: plan_secrets
            title: Secret parameters from elsewhere than secrets
            severity: sev4
            automation: automatic
            steps:
              - id: tell
                action: notify.slack
                with: {webhook_url: "${{ env.PLAN_SLACK_URL }}", text: hi}
              - id: db
                action: postgres.check
                with: {dsn: "${{ env.PLAN_DSN }}"}
              - id: page
                action: notify.pagerduty
                with: {routing_key: R0UT1NGKEYLITERAL000000, summary: hi}  # runbook-lint: ignore secret-literal
              - id: hook
                action: notify.webhook
                with:
                  url: "https://example.com/hook?token=QUERYT0K9"
                  json: {a: 1}
                  headers: {X-Api-Key: L1THDR10, X-Other: plainvisible}
              - id: probe
                action: http.check
                with: {url: "http://user:URLPW11@127.0.0.1:9/x", headers: {Authorization: "Bearer ${{ env.PLAN_DSN }}"}}
            """)
        let env = ["PLAN_SLACK_URL": "https://hooks.slack.com/services/T0/B0/SlackT0kenXYZ",
                   "PLAN_DSN": "postgres://app:PgPassw0rd@db.internal:5432/app"]
        let r = try await CLI.run(["run", "plan_secrets.yaml", "--dry-run", "--state-dir", dir.path + "/st"], in: dir.path, env: env)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("webhook_url: https://hooks.slack.com/***"), "\(r.stdout)")
        #expect(r.stdout.contains("dsn: postgres://db.internal:5432/***"), "\(r.stdout)")
        #expect(r.stdout.contains("routing_key: ***"), "\(r.stdout)")
        #expect(r.stdout.contains("url: https://example.com/***"), "\(r.stdout)")
        #expect(r.stdout.contains(#"headers: {"X-Api-Key":"***","X-Other":"plainvisible"}"#), "\(r.stdout)")
        #expect(r.stdout.contains("url: http://user:***@127.0.0.1:9/x"), "\(r.stdout)")
        for needle in ["SlackT0kenXYZ", "PgPassw0rd", "R0UT1NGKEYLITERAL000000", "QUERYT0K9", "L1THDR10", "URLPW11"] {
            #expect(!r.stdout.contains(needle) && !r.stderr.contains(needle), "\(needle) in \(r.stdout)")
            // (The run's copy of the runbook holds the literal, as the runbook itself does.)
            #expect(Self.filesContaining(needle, under: dir.path + "/st").filter { !$0.hasSuffix("runbook.yaml") }.isEmpty,
                    "\(needle) in the journal")
        }
    }

    @Test func aSecretsFileReadableByOthersIsRefused() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            let file = w.dir.path + "/secrets.env"
            try "API_TOKEN=\(Self.secret)\n".write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
            let r = try await w.run("secret_flow", ["--secrets-file", file])
            #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("secrets file \(file) is readable by others (mode 644); run: chmod 600 \(file)"), "\(r.stderr)")
            #expect(!r.stderr.contains(Self.secret) && !r.stdout.contains(Self.secret))
            #expect(w.server.requestCount == 0)
            #expect(w.runIDs.isEmpty, "nothing ran")
        }
    }

    @Test("a secrets file that cannot be read says why, in the system's words")
    func anUnreadableSecretsFileSaysWhy() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            try FileManager.default.createDirectory(atPath: w.dir.path + "/scratch", withIntermediateDirectories: true)
            try "x".write(toFile: w.dir.path + "/plain", atomically: true, encoding: .utf8)
            let cases: [(String, String)] = [
                ("scratch/nonexist.env", "error: secrets file scratch/nonexist.env: cannot read it: no such file or directory"),
                ("scratch", "error: secrets file scratch: cannot read it: it is a directory"),
                ("plain/x.env", "error: secrets file plain/x.env: cannot read it: not a directory"),
            ]
            for (file, message) in cases {
                let r = try await w.run("secret_flow", ["--secrets-file", file])
                #expect(r.status == 2, "\(file): \(r.stdout)\(r.stderr)")
                #expect(r.stderr == message + "\n", "\(file): \(r.stderr)")
            }
            #expect(w.server.requestCount == 0)
            #expect(w.runIDs.isEmpty, "nothing ran")
        }
    }

    @Test("a secrets file without read permission says 'permission denied'", .disabled(if: geteuid() == 0, "root reads any file"))
    func aSecretsFileWithoutReadPermission() async throws {
        try await RunWorld.with { w in
            let file = w.dir.path + "/secrets.env"
            try "API_TOKEN=\(Self.secret)\n".write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o200], ofItemAtPath: file)
            let r = try await w.run("secret_flow", ["--secrets-file", file])
            #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("secrets file \(file): cannot read it: permission denied"), "\(r.stderr)")
        }
    }

    @Test("a secrets file may be a pipe (--secrets-file <(...)), and its secret stays masked")
    func aSecretsFileFromAPipe() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            let command = "exec \"$0\" run \"$1\" --state-dir \"$2\" --param base_url=\"$3\" --secrets-file <(printf 'API_TOKEN=%s\\n' \"$4\")"
            let r = try await CLI.runProgram("/bin/bash", ["-c", command, CLI.executable, Fixture.runbook("secret_flow"),
                                                           w.stateDir, w.server.baseURL, Self.secret], in: w.dir.path)
            #expect(r.status == 1, "the secret was read, so the run went as far as its failing step: \(r.stdout)\(r.stderr)")
            #expect(w.server.requests(path: "/echo").first?.header("authorization") == "Bearer \(Self.secret)")
            #expect(!r.stdout.contains(Self.secret) && !r.stderr.contains(Self.secret))
        }
    }

    @Test func aMissingSecretFailsTheStepWithoutSendingAnything() async throws {
        try await RunWorld.with { w in
            Self.routes(w.server)
            let r = try await w.run("secret_flow")
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("secret 'api_token' is not set: export RUNBOOK_SECRET_API_TOKEN"), "\(r.stdout)")
            #expect(w.server.requestCount == 0)
        }
    }
}
