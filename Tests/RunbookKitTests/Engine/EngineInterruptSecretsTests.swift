import Foundation
import RunbookKit
import Testing

/// SIGINT/SIGTERM during a step, and secret masking at every output boundary.
@Suite("Engine: interrupts and secrets")
struct EngineInterruptSecretsTests {
    static let interruptible = """
    steps:
      - id: change
        action: test.count
        with: {key: change}
      - id: long
        action: test.sleep
        with: {duration: 120s, key: long}
      - id: never
        action: test.count
        with: {key: never}
        rollback: none
    rollback:
      - id: undo_change
        action: test.sleep
        with: {duration: 10ms, key: undo_sleep}
        undoes: [change]
      - id: undo_count
        action: test.count
        with: {key: undo}
    """

    @Test("an interrupt during a long step fails it 'interrupted by SIGINT' and the rollback runs")
    func interruptRunsRollback() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.interruptible)
        let interrupt = InterruptSignal()
        let reporter = RecordingReporter()
        let run = Task { try await h.run(rb, options: engineOptions(interrupt: interrupt), journal: true, reporter: reporter) }
        #expect(await h.probe.waitStarted("long"))
        interrupt.trigger()
        let outcome = try await run.value
        #expect(outcome.status == .failed)
        #expect(outcome.failed == ["long"])
        #expect(reporter.finished("long")?.error == "interrupted by SIGINT")
        #expect(outcome.rolledBack == ["undo_change", "undo_count"], "one signal interrupts the step, not the rollback")
        #expect(outcome.rollbackFailed.isEmpty)
        #expect(await h.probe.count("never") == 0)
        #expect(await h.probe.count("undo") == 1)
        #expect(try h.records().of("rollback_started").first?["reason"] == .string("step 'long' failed: interrupted by SIGINT"))
    }

    @Test("SIGTERM is named too")
    func interruptNamesSignal() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.interruptible)
        let interrupt = InterruptSignal()
        let reporter = RecordingReporter()
        let run = Task { try await h.run(rb, options: engineOptions(interrupt: interrupt), reporter: reporter) }
        #expect(await h.probe.waitStarted("long"))
        interrupt.trigger("SIGTERM")
        _ = try await run.value
        #expect(reporter.finished("long")?.error == "interrupted by SIGTERM")
    }

    @Test("a second interrupt stops the rollback too: rollback_failed")
    func secondInterruptStopsRollback() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: change
            action: test.count
            with: {key: change}
          - id: long
            action: test.sleep
            with: {duration: 120s, key: long}
        rollback:
          - id: slow_undo
            action: test.sleep
            with: {duration: 120s, key: slow_undo}
            undoes: [change]
          - id: after
            action: test.count
            with: {key: after}
        """)
        let interrupt = InterruptSignal()
        let reporter = RecordingReporter()
        let run = Task { try await h.run(rb, options: engineOptions(interrupt: interrupt), reporter: reporter) }
        #expect(await h.probe.waitStarted("long"))
        interrupt.trigger()
        #expect(await h.probe.waitStarted("slow_undo"))
        interrupt.trigger()
        let outcome = try await run.value
        #expect(outcome.status == .rollbackFailed)
        #expect(outcome.rollbackFailed == ["slow_undo"])
        #expect(reporter.finished("slow_undo")?.error == "interrupted by SIGINT")
        #expect(await h.probe.count("after") == 0)
    }

    @Test("a signal during a rollback that a failure caused stops that rollback")
    func interruptDuringFailureRollback() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: change
            action: test.count
            with: {key: change}
          - id: broken
            action: test.fail
        rollback:
          - id: slow_undo
            action: test.sleep
            with: {duration: 120s, key: slow_undo}
            undoes: [change]
          - id: after
            action: test.count
            with: {key: after}
        """)
        let interrupt = InterruptSignal()
        let run = Task { try await h.run(rb, options: engineOptions(interrupt: interrupt)) }
        #expect(await h.probe.waitStarted("slow_undo"))
        interrupt.trigger()
        let outcome = try await run.value
        #expect(outcome.status == .rollbackFailed)
        #expect(outcome.failed == ["broken"])
        #expect(outcome.rollbackFailed == ["slow_undo"])
        #expect(await h.probe.count("after") == 0)
    }

    @Test("a retry delay is cut short by an interrupt")
    func interruptDuringRetryDelay() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: flaky
            action: test.count
            with: {key: flaky, fail_times: 5}
            retry: {attempts: 3, delay: 120s}
            rollback: none
        """)
        let interrupt = InterruptSignal()
        let reporter = RecordingReporter()
        let clock = ContinuousClock()
        let start = clock.now
        let run = Task { try await h.run(rb, options: engineOptions(interrupt: interrupt), reporter: reporter) }
        while await h.probe.count("flaky") == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(20))
        interrupt.trigger()
        let outcome = try await run.value
        #expect(clock.now - start < .seconds(60))
        #expect(outcome.failed == ["flaky"])
        #expect(await h.probe.count("flaky") == 1)
        #expect(reporter.finished("flaky")?.error == "interrupted by SIGINT")
    }

    // MARK: secrets

    static let secret = "s3cr3t-TOKEN-value"

    @Test("a secret never appears in the journal bytes or reporter output; *** does, and the run still sees it")
    func secretsAreMasked() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        params:
          api_url: {type: url, default: "http://localhost"}
        steps:
          - id: echo_secret
            action: test.echo
            with:
              text: "${{ secrets.token }}"
              value: {nested: ["Bearer ${{ secrets.token }}"]}
              log: "using token ${{ secrets.token }} now"
          - id: rejected
            action: test.fail
            with: {message: "token ${{ secrets.token }} was rejected"}
            on_failure: continue
          - id: compare
            action: test.echo
            with: {flag: "${{ steps.echo_secret.outputs.text == secrets.token }}"}
          - id: last
            action: test.fail
            with: {message: "again ${{ steps.echo_secret.outputs.text }}"}
            retry: {attempts: 2, delay: 10ms}
        rollback:
          - id: undo
            action: test.echo
            with: {log: "${{ steps.rejected.error }}"}
        """)
        let reporter = RecordingReporter()
        let options = engineOptions(params: ["api_url": .string("http://user:\(Self.secret)@localhost")],
                                    secrets: SecretStore(values: ["token": Self.secret]))
        let outcome = try await h.run(rb, options: options, journal: true, reporter: reporter)
        #expect(outcome.status == .failed)
        #expect(outcome.executed == ["echo_secret", "compare"])
        // The unmasked value flows inside the run: the comparison is true.
        #expect(reporter.finished("compare")?.outputs["flag"] == .bool(true))

        let journal = h.journalText()
        #expect(!journal.isEmpty)
        #expect(!journal.contains(Self.secret), "journal leaks the secret")
        #expect(!reporter.output.contains(Self.secret), "text output leaks the secret")
        #expect(!reporter.jsonLines.contains(Self.secret), "JSON output leaks the secret")
        #expect(journal.contains("***"))
        let records = try h.records()
        #expect(records.of("step_finished", step: "echo_secret").first?["outputs"]?.mapValue["text"] == .string("***"))
        #expect(records.of("step_finished", step: "rejected").first?["error"] == .string("token *** was rejected"))
        #expect(records.of("log", step: "echo_secret").first?["message"] == .string("using token *** now"))
        #expect(records.of("run_started").first?["params"]?.mapValue["api_url"] == .string("http://user:***@localhost"))
        #expect(reporter.output.contains("using token *** now"))
    }

    @Test("dry-run plans never show a secret")
    func secretsMaskedInPlan() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: change
            action: test.count
            with: {key: "${{ secrets.token }}"}
            rollback: none
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(dryRun: true, secrets: SecretStore(values: ["token": Self.secret])),
                                      reporter: reporter)
        #expect(outcome.status == .succeeded)
        #expect(!reporter.output.contains(Self.secret))
        #expect(reporter.output.contains("key: ***"))
    }

    @Test("a secret with a quote, a backslash, a tab or a newline is masked after to_json escaped it; a number equal to a secret too")
    func escapedAndNumericSecrets() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        params:
          pin: {type: int, default: 0}
        steps:
          - id: show
            action: test.echo
            with: {text: "${{ to_json(secrets) }} pin ${{ params.pin }}"}
        """)
        let secrets = ["tok": "ab\"cd\\ef-TOKEN", "tabby": "pass\tword-XYZ", "nl": "first-LINE\nsecond-LINE", "pin": "12345"]
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(params: ["pin": .int(12345)], secrets: SecretStore(values: secrets)),
                                      journal: true, reporter: reporter)
        #expect(outcome.status == .succeeded)
        let journal = h.journalText()
        for leak in ["TOKEN", "XYZ", "LINE", "12345"] {
            #expect(!reporter.output.contains(leak), "\(leak) in the output")
            #expect(!journal.contains(leak), "\(leak) in the journal")
        }
        #expect(try h.records().of("run_started").first?["params"]?.mapValue["pin"] == .string("***"))
        // The masker alone: the escaped form of each secret, and numbers.
        let masker = SecretMasker(secrets: ["ab\"cd"])
        #expect(masker.mask(Value.string("ab\"cd").jsonText()) == "\"***\"")
        #expect(SecretMasker(secrets: ["12345"]).mask(Value.int(12345)) == .string("***"))
        #expect(SecretMasker(secrets: ["12345"]).mask(Value.int(678)) == .int(678))
    }

    @Test("secret names are case-insensitive in expressions, as on the way in")
    func upperCaseSecretNames() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: show
            action: test.echo
            with: {text: "${{ len(secrets.API_TOKEN) }} ${{ len(secrets['Api_Token']) }}"}
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(secrets: SecretStore(values: ["api_token": "s3cr3t-t0ken"])),
                                      reporter: reporter)
        #expect(outcome.status == .succeeded, "\(reporter.output)")
        #expect(reporter.finished("show")?.outputs["text"] == .string("12 12"))
    }
}
