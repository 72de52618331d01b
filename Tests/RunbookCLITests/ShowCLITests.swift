import Foundation
import Testing

@Suite struct ShowCLITests {
    @Test func showsWhatAStepDoesBeforeItRuns() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("sh.yaml", """
        version: 1
        id: sh
        title: Show me
        severity: sev2
        automation: semi_automatic
        params:
          env: {type: string, default: staging, enum: [staging, production]}
          n: {type: int, default: 3}
        steps:
          - id: probe
            action: http.check
            with: {url: "http://127.0.0.1:9/"}
            timeout: 10s
            retry: {attempts: 3, delay: 5s, backoff: 2}
            until: "${{ steps.probe.outputs.status == 200 }}"
            on_failure: continue
          - id: scale_up
            action: kubernetes.scale
            name: Scale up
            with: {deployment: api, replicas: "${{ params.n }}"}
            confirm: {message: "Scale production API to ${{ params.n }}?", timeout: 10m}
            when: steps.probe.status == 'failed'
            rollback: none
          - id: once
            action: log
            with: {message: hi}
            retry: {attempts: 1}
          - id: gate
            action: confirm
            with: {message: "Drain ${{ params.env }}?", timeout: 15m}

        """)
        let r = try await CLI.run(["show", "sh.yaml"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("  env: string one of staging, production = staging\n"))
        #expect(r.stdout.contains("""
          1. probe [http.check]
               timeout 10s per try, up to 3 tries, 5s apart (×2 each time), until ${{ steps.probe.outputs.status == 200 }}
               on_failure: continue
          2. scale_up [kubernetes.scale] Scale up
               when: steps.probe.status == 'failed'
               confirm: "Scale production API to ${{ params.n }}?" (declined after 10m without an answer)
               rollback: none
          3. once [log]
               1 try
          4. gate [confirm]
               confirm: "Drain ${{ params.env }}?" (declined after 15m without an answer)

        """), "\(r.stdout)")
    }

    @Test("show hides a default given to a notification URL or a secret, and a URL's password, as docs does")
    func showHidesDefaultsAsDocsDoes() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("hook.yaml", """
        version: 1
        id: hook
        title: Hook
        severity: sev4
        automation: automatic
        params:
          hook_url: {type: url, default: "http://127.0.0.1:18081/hooks/payments"}
          key: {type: string, default: "R0UT1NGKEY"}
          db: {type: url, default: "http://ops:pw@db.internal/"}
        steps:
          - id: tell
            action: notify.webhook
            with: {url: "${{ params.hook_url }}", json: {text: hi}}
          - id: page
            action: notify.pagerduty
            with: {routing_key: "${{ params.key }}", summary: down}
          - id: probe
            action: http.check
            with: {url: "${{ params.db }}"}
        """)
        let r = try await CLI.run(["show", "hook.yaml"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("hook_url: url = http://127.0.0.1:18081/***"), "\(r.stdout)")
        #expect(r.stdout.contains("key: string = ***"), "\(r.stdout)")
        #expect(r.stdout.contains("db: url = http://ops:***@db.internal/"), "\(r.stdout)")
        for clear in ["hooks/payments", "R0UT1NGKEY", ":pw@"] { #expect(!r.stdout.contains(clear), "\(clear): \(r.stdout)") }
    }

    @Test("show prints the description, the manual recovery and the prevention list, as written")
    func showsDescriptionManualRecoveryAndPrevention() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("notes.yaml", """
        version: 1
        id: notes
        title: Notes
        description: |
          Redis is unreachable.

          **Symptoms**
          - hit rate at 0 %
        severity: sev3
        automation: automatic
        steps:
          - id: hello
            action: log
            with: {message: hi}
        manual_recovery: |
          1. Look at Redis:

                 redis-cli -h localhost ping

          2. Turn the bypass off.
        prevention:
          - Redis memory alerts
          - "A replica with Sentinel\\e[2J"

        """)
        let r = try await CLI.run(["show", "notes.yaml"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("""
        notes: Notes
          severity: Sev3   automation: automatic

          Redis is unreachable.

          **Symptoms**
          - hit rate at 0 %

        steps:

        """), "\(r.stdout)")
        #expect(r.stdout.hasSuffix("""

        manual recovery:
          1. Look at Redis:

                 redis-cli -h localhost ping

          2. Turn the bypass off.

        prevention:
          - Redis memory alerts
          - A replica with Sentinel\\u{1B}[2J

        """), "last, after the rollback, with escape sequences escaped: \(r.stdout)")
    }

    @Test("show of a repository runbook includes its manual recovery, commands indented as written")
    func repositoryRunbookShowsManualRecovery() async throws {
        let r = try await CLI.run(["show", Repo.path("runbooks.d/cache_service_failure.yaml")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\nmanual recovery:\n  If the run stopped with the bypass on, Redis is still down:\n"), "\(r.stdout)")
        #expect(r.stdout.contains("\n         kubectl get pods -n production -l app=redis\n"), "\(r.stdout)")
        #expect(r.stdout.contains("\nprevention:\n  - Redis memory alerts"), "\(r.stdout)")
        #expect(r.stdout.contains("\n  Redis is unreachable, or the cache stopped serving hits."), "the description: \(r.stdout)")
    }
}
