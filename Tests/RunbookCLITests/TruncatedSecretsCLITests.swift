// Text is masked before it is shortened, and a tail or head cut never keeps part of a secret:
// masking replaces whole values only, so a piece left by a cut would be shown. Every cut is put
// across a secret here (a real loopback server, real programs), and no 4-character piece of any
// secret may reach the output, the errors or the journal.
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("no piece of a secret survives a cut")
struct TruncatedSecretsCLITests {
    // Every 4-character window holds an upper-case letter, so none can match ordinary output
    // (run ids, times, counts) by chance.
    static let slackToken = "Zq8KmW9xR7tVpL5nB3hJ6cQ"
    static let hookToken = "Wx3PqL7mN2vB8kJ5rT"
    static let password = "Hq7VT2kXm9P4wL8zR3nD"
    static let apiToken = "Tk9FhJ7qW2eRyU8iOpA4sDgZxC"

    /// Every 4-character piece of each secret found in `text`.
    static func pieces(in text: String) -> [String] {
        var found: Set<String> = []
        for secret in [slackToken, hookToken, password, apiToken] {
            let chars = Array(secret)
            for i in 0...(chars.count - 4) {
                let piece = String(chars[i..<i + 4])
                if text.contains(piece) { found.insert(piece) }
            }
        }
        return found.sorted()
    }

    static func runbook(_ w: RunWorld) -> String {
        """
        version: 1
        id: cut_secrets
        title: a secret across every cut
        severity: sev4
        automation: automatic
        steps:
          # A 404 page that quotes the path (the token) where the 200-character quote ends.
          - id: tell_slack
            action: notify.slack
            with: {webhook_url: "${{ secrets.slack_webhook }}", text: hello}
            on_failure: continue
          - id: tell_hook
            action: notify.webhook
            with: {url: "${{ secrets.hook_url }}", json: {a: 1}}
            on_failure: continue
          # The body output is the first 64 KiB; the token crosses that point.
          - id: big_body
            action: http.check
            with:
              url: "\(w.server.url("/big"))"
              headers: {Authorization: "Bearer ${{ secrets.api_token }}"}
          # Not a Prometheus answer: its first 400 bytes are quoted, the token crosses byte 400.
          - id: prom
            action: prometheus.query
            with: {url: "\(w.server.baseURL)", query: up}
            on_failure: continue
          # The last 12 bytes of stdout and stderr end inside the password.
          - id: tail_cut
            action: exec
            with:
              argv: [sh, -c, 'printf "connecting with pw %s\\n" "$PW"; printf "%s\\n" "$PW" >&2; exit 3']
              env: {PW: "${{ secrets.db_password }}"}
              max_output_bytes: 12
            rollback: none
            on_failure: continue
          # The default limit (64 KiB) starts inside the password.
          - id: default_tail
            action: exec
            with:
              argv:
                - sh
                - -c
                - |
                  printf 'Connecting with pw %s' "$PW"; head -c 65530 /dev/zero | tr '\\0' x
              env: {PW: "${{ secrets.db_password }}"}
            rollback: none
          # The last line of stderr, quoted in the error, is cut to 300 characters inside the password.
          - id: last_line
            action: exec
            with:
              argv: [sh, -c, 'printf "%0290d%s\\n" 0 "$PW" >&2; exit 3']
              env: {PW: "${{ secrets.db_password }}"}
            rollback: none
            on_failure: continue
          # A command line shown in messages is cut to 60 characters inside the password.
          - id: label_cut
            action: exec
            with:
              shell: true
              command: ": 0123456789012345678901234567890123456789012345 ${{ secrets.db_password }}; exit 3"
            rollback: none
            on_failure: continue
          # A value that does not convert is quoted, cut to 80 characters inside the password.
          - id: bad_timeout
            action: exec
            with:
              argv: ["true"]
              timeout: "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt${{ secrets.db_password }}"
            rollback: none
            on_failure: continue
          # A file that is not a pidfile is quoted, cut to 40 characters inside the token.
          - id: stop_it
            action: process.stop
            with: {pidfile: "\(w.dir.path)/not.pid"}
            rollback: none
            on_failure: continue

        """
    }

    @Test func everyCutIsMadeAfterMaskingOrOutsideASecret() async throws {
        try await RunWorld.with { w in
            let slackPath = "/services/T0001/B0001/\(Self.slackToken)"
            let hookPath = "/hooks/\(Self.hookToken)"
            // As many proxies' error pages: padding, then the request path.
            w.server.route(slackPath, .text(String(repeating: "E", count: 154) + " no route for " + slackPath, status: 404))
            w.server.route(hookPath, .text(String(repeating: "E", count: 170) + " no route for " + hookPath, status: 404))
            w.server.route("/big", .text(String(repeating: "a", count: 65536 - 10) + Self.apiToken + "tail"))
            w.server.route("/api/v1/query", .text(String(repeating: "\n", count: 390) + Self.apiToken + "\n"))
            try (String(repeating: "x", count: 30) + Self.apiToken + "\n").write(toFile: w.dir.path + "/not.pid",
                                                                                   atomically: true, encoding: .utf8)
            try w.dir.write("cut.yaml", Self.runbook(w))
            let env = [
                "RUNBOOK_SECRET_SLACK_WEBHOOK": w.server.url(slackPath),
                "RUNBOOK_SECRET_HOOK_URL": w.server.url(hookPath),
                "RUNBOOK_SECRET_DB_PASSWORD": Self.password,
                "RUNBOOK_SECRET_API_TOKEN": Self.apiToken,
            ]
            var outputs: [CLIResult] = []
            for format in ["text", "json"] {
                let r = try await w.cli(["run", w.dir.path + "/cut.yaml", "--format", format] + w.state, env: env)
                #expect(r.status == 0, "the failing steps continue: \(r.stdout)\(r.stderr)")
                outputs.append(r)
            }
            // The secrets really were used, and every cut really happened.
            #expect(w.server.requests(path: slackPath).count == 2 && w.server.requests(path: hookPath).count == 2)
            #expect(w.server.requests(path: "/big").first?.header("authorization") == "Bearer \(Self.apiToken)")
            let text = outputs[0].stdout
            for expected in ["answered 404: EEEE", "no route for ***", "expected status 200–299, got 404: EEEE",
                             "with a body that is not a JSON object", "exit code 3: 000000", "0000***",
                             "sh -c ': 0123456789012345678901234567890123456789012345 ***; exit 3': exit code 3",
                             "must be duration, got string 'tttttttttt", "does not hold a pid: 'xxxxxxxxxx"] {
                #expect(text.contains(expected), "\(expected) in \(text)")
            }

            for run in w.runIDs {
                let journal = try String(contentsOfFile: w.stateDir + "/runs/\(run)/journal.jsonl", encoding: .utf8)
                #expect(journal.contains("earlier bytes truncated"), "the tails were cut")
                #expect(journal.contains(String(repeating: "a", count: 100)), "the body is there")
                #expect(Self.pieces(in: journal) == [], "journal of \(run)")
                outputs.append(try await w.cli(["history", run] + w.state))
            }
            for (i, r) in outputs.enumerated() {
                #expect(Self.pieces(in: r.stdout) == [], "stdout \(i): \(r.stdout)")
                #expect(Self.pieces(in: r.stderr) == [], "stderr \(i): \(r.stderr)")
            }
        }
    }
}
