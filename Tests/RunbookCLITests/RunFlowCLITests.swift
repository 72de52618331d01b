// `runbook run` for real against a loopback HTTP server: success, rollback, abort, continue,
// retries with backoff, until, step timeouts, and a rollback that fails (exit 4).
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("runbook run against a local server")
struct RunFlowCLITests {
    @Test func successRunsEveryStepAndNoRollback() async throws {
        try await RunWorld.with { w in
            w.server.route("/health", .text("ok"))
            w.server.route("/enable", method: "POST", .text("enabled"))
            w.server.route("/verify", .text("ok"))
            let r = try await w.run("http_flow")
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/health") == 1)
            #expect(w.server.requests(path: "/enable").map(\.method) == ["POST"])
            #expect(w.count("/verify") == 1)
            #expect(w.count("/undo/enable") == 0)
            #expect(r.stdout.contains("succeeded"))
            #expect(r.stdout.contains("ran: check_health, enable_thing, verify"))
            let journal = try w.journal(try w.onlyRunID())
            #expect(journal.last?["type"] == .string("run_finished"))
            #expect(journal.last?["status"] == .string("succeeded"))
        }
    }

    @Test func failureRunsTheRollback() async throws {
        try await RunWorld.with { w in
            w.server.route("/health", .text("ok"))
            w.server.route("/enable", .text("enabled"))
            w.server.route("/verify", .text("broken", status: 500))
            w.server.route("/undo/enable", .text("disabled"))
            let r = try await w.run("http_flow")
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/verify") == 1)
            #expect(w.server.requests(path: "/undo/enable").map(\.method) == ["POST"], "the rollback step ran once")
            #expect(r.stdout.contains("rolling back"))
            #expect(r.stdout.contains("rolled back: disable_thing"))
            let journal = try w.journal(try w.onlyRunID())
            #expect(journal.records("rollback_started").count == 1)
            #expect(journal.last?["status"] == .string("failed"))
        }
    }

    @Test func failureBeforeTheChangeSkipsItsUndo() async throws {
        try await RunWorld.with { w in
            w.server.route("/health", .text("down", status: 503))
            let r = try await w.run("http_flow")
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/enable") == 0)
            #expect(w.count("/undo/enable") == 0, "the undo's `when` is false: nothing to undo")
        }
    }

    @Test func aFailingRollbackStepExitsFour() async throws {
        try await RunWorld.with { w in
            w.server.route("/health", .text("ok"))
            w.server.route("/enable", .text("enabled"))
            w.server.route("/verify", .text("broken", status: 500))
            w.server.route("/undo/enable", .text("cannot", status: 500))
            let r = try await w.run("http_flow")
            #expect(r.status == 4, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/undo/enable") == 1)
            #expect(r.stdout.contains("rollback failed: disable_thing"))
            let journal = try w.journal(try w.onlyRunID())
            #expect(journal.last?["status"] == .string("rollback_failed"))
        }
    }

    @Test func continueGoesOnAndAbortStopsWithoutRollback() async throws {
        // optional_probe fails (continue), critical_probe fails (abort): no rollback, `after` never runs.
        try await RunWorld.with { w in
            w.server.route("/optional", .text("nope", status: 500))
            w.server.route("/change", .text("changed"))
            w.server.route("/critical", .text("nope", status: 500))
            let r = try await w.run("failure_modes")
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/optional") == 1)
            #expect(w.count("/change") == 1, "continue went on past the failed optional probe")
            #expect(w.count("/critical") == 1)
            #expect(w.count("/after") == 0, "abort stops the run")
            #expect(w.count("/undo/change") == 0, "abort runs no rollback")
            #expect(r.stdout.contains("aborted (no rollback)"))
            let journal = try w.journal(try w.onlyRunID())
            #expect(journal.last?["status"] == .string("aborted"))
            #expect(journal.records("rollback_started").isEmpty)
        }
        // Only the `continue` step fails: the run succeeds.
        try await RunWorld.with { w in
            w.server.route("/optional", .text("nope", status: 500))
            w.server.route("/change", .text("changed"))
            w.server.route("/critical", .text("ok"))
            w.server.route("/after", .text("ok"))
            let r = try await w.run("failure_modes")
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/after") == 1)
            #expect(w.count("/undo/change") == 0)
            #expect(r.stdout.contains("failed: optional_probe"))
        }
    }

    @Test func retriesWithBackoffUntilTheServerAnswers() async throws {
        try await RunWorld.with { w in
            w.server.route("/flaky", .init(status: 503), .init(status: 503), .text("ok"))
            w.server.route("/progress", .json(#"{"done": false}"#), .json(#"{"done": false}"#), .json(#"{"done": true}"#))
            let r = try await w.run("retry_until")
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/flaky") == 3, "503, 503, 200: three requests")
            #expect(w.count("/progress") == 3, "polled until done")
            #expect(r.stdout.contains("try 1: "))
            #expect(r.stdout.contains("until "))
            // Backoff: 200 ms before the 2nd try, 400 ms before the 3rd (journal times, ms resolution).
            let journal = try w.journal(try w.onlyRunID())
            let starts = journal.records("attempt", step: "flaky").compactMap { $0["time"]?.stringValue }.compactMap(parseTime)
            try #require(starts.count == 3)
            let first = starts[1].timeIntervalSince(starts[0]), second = starts[2].timeIntervalSince(starts[1])
            #expect(first >= 0.19, "first delay \(first)")
            #expect(second >= 0.39, "second delay \(second)")
            #expect(journal.records("attempt_failed", step: "flaky").count == 2)
            #expect(journal.records("attempt_failed", step: "wait_done").count == 2)
        }
    }

    @Test func untilThatNeverHoldsFailsAfterItsAttempts() async throws {
        try await RunWorld.with { w in
            w.server.route("/flaky", .text("ok"))
            w.server.route("/progress", .json(#"{"done": false}"#))
            let r = try await w.run("retry_until")
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(w.count("/progress") == 4)
            #expect(r.stdout.contains("did not hold (steps.wait_done.outputs.json.done = false) (after 4 attempts)"), "\(r.stdout)")
        }
    }

    @Test func aStepTimeoutFailsCleanly() async throws {
        try await RunWorld.with { w in
            w.server.route("/slow", heldForever)
            let started = Date()
            let r = try await w.run("step_timeout")
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(Date().timeIntervalSince(started) < 30, "the 1 s step timeout ended the request")
            // Given up within the 1 s step budget: by the action (it caps its own timeout just under the
            // step's) or, on a loaded machine, by the step timeout itself.
            #expect(r.stdout.contains("timed out after"), "\(r.stdout)")
            #expect(r.stdout.contains("failed: slow_probe"))
            #expect(w.count("/after") == 0)
            let journal = try w.journal(try w.onlyRunID())
            let finished = journal.records("step_finished", step: "slow_probe")
            #expect(finished.first?["status"] == .string("failed"))
            #expect(finished.first?["error"]?.stringValue?.contains("timed out after") == true)
            #expect(journal.last?["status"] == .string("failed"))
        }
    }

    @Test("a failure in a runbook without rollback steps says there is nothing to roll back, not 'rolling back'")
    func nothingToRollBack() async throws {
        try await RunWorld.with { w in
            try w.dir.write("ask_only.yaml", """
                version: 1
                id: ask_only
                title: Ask, then log
                severity: sev4
                automation: semi_automatic
                steps:
                  - id: ask
                    action: confirm
                    with: {message: "Go ahead?"}
                  - id: after
                    action: log
                    with: {message: after}
                """)
            let r = try await w.cli(["run", "ask_only.yaml", "--decline", "ask"] + w.state)
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(!r.stdout.contains("rolling back"), "\(r.stdout)")
            #expect(r.stdout.contains("✗ failed in"), "\(r.stdout)")
            #expect(r.stdout.contains("failed in") && r.stdout.contains("(nothing to roll back: the runbook has no rollback steps)"),
                    "\(r.stdout)")
            #expect(r.stdout.contains("  failed: ask\n"), "\(r.stdout)")
            let journal = try w.journal(try w.onlyRunID())
            #expect(journal.records("rollback_started").isEmpty, "no rollback started")
            #expect(journal.last?["status"] == .string("failed"))

            // JSON: the same events, no rollback_started either.
            let json = try await w.cli(["run", "ask_only.yaml", "--decline", "ask", "--format", "json"] + w.state)
            #expect(json.status == 1)
            #expect(!json.stdout.contains("rollback_started"), "\(json.stdout)")
        }
    }

    @Test("a step tried once prints its failure once; a step with retry prints each failed try")
    func failedTriesOnlyForRetriedSteps() async throws {
        try await RunWorld.with { w in
            w.server.route("/down", .text("down", status: 503))
            try w.dir.write("tries.yaml", """
                version: 1
                id: tries
                title: Tries
                severity: sev4
                automation: automatic
                params:
                  base_url: {type: url}
                steps:
                  - id: once
                    action: http.check
                    with: {url: "${{ params.base_url }}/down"}
                    on_failure: continue
                  - id: twice
                    action: http.check
                    with: {url: "${{ params.base_url }}/down"}
                    retry: {attempts: 2}
                    on_failure: continue
                """)
            let r = try await w.cli(["run", "tries.yaml"] + w.state + w.base)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let once = try #require(r.stdout.components(separatedBy: "▶ twice").first)
            #expect(!once.contains("✗ try"), "a single try is the step's own failure: \(once)")
            #expect(once.contains("✗ failed in"), "\(once)")
            let twice = r.stdout.components(separatedBy: "▶ twice").dropFirst().joined()
            #expect(twice.contains("✗ try 1: ") && twice.contains("✗ try 2: "), "\(twice)")
            #expect(twice.contains("(after 2 attempts)"), "\(twice)")
            // The journal still has every failed try, a single one too.
            let journal = try w.journal(try w.onlyRunID())
            #expect(journal.records("attempt_failed", step: "once").count == 1)
            #expect(journal.records("attempt_failed", step: "twice").count == 2)
        }
    }
}

/// An RFC 3339 journal time.
func parseTime(_ text: String) -> Date? {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.date(from: text)
}
