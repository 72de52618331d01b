// notify.slack, notify.pagerduty and notify.webhook against a real loopback server: exact payloads
// and headers, retries (counted), no retry where none is allowed, and failure messages without secrets.
import Foundation
import RunbookActions
import RunbookKit
import RunbookTestSupport
import Testing

/// Quick retries so the tests do not wait seconds between tries.
extension NotificationRetryPolicy {
    static let fastPagerDuty = NotificationRetryPolicy(attempts: 4, initialDelay: 0.01, maxDelay: 0.05,
                                                       retriesServerErrors: true)
    static let fastSlack = NotificationRetryPolicy(attempts: 3, initialDelay: 0.01, maxDelay: 0.05,
                                                   retriesServerErrors: false)
}

/// Runs an action the way the engine would, with a chosen environment.
func runNotify(_ action: any Action, _ arguments: [String: Value], secrets: [String] = [],
               environment: [String: String] = [:], emitted: EmittedLines = EmittedLines())
    async throws -> Result<ActionResult, ActionFailure> {
    let invocation = ActionHarness.invocation(for: action, arguments, secrets: secrets, environment: environment,
                                              emitted: emitted)
    do { return .success(try await action.run(invocation)) } catch let failure as ActionFailure { return .failure(failure) }
}

@Suite("notify.slack")
struct SlackNotifyTests {
    let action = SlackNotifyAction(retry: .fastSlack)
    static let hookPath = "/services/T000/B000/XXXXsecrettoken"

    @Test func postsTheExactPayloadAsJSON() async throws {
        try await withTestHTTPServer { server in
            server.route(Self.hookPath, .text("ok"))
            let blocks: Value = .list([.map(["type": .string("section"),
                                             "text": .map(["type": .string("mrkdwn"), "text": .string("*down*")])])])
            let result = try await runNotify(action, [
                "webhook_url": .string(server.url(Self.hookPath)), "text": .string("Qwen failure; on-call needed"),
                "blocks": blocks, "channel": .string("#artisan-oncall"), "username": .string("runbook"),
            ])
            #expect(result.succeeded)
            #expect(result.outputs == ["status": .int(200)])
            let request = try #require(server.requests(path: Self.hookPath).first)
            #expect(request.method == "POST")
            #expect(request.header("content-type") == "application/json")
            #expect(Value.parseJSON(request.bodyText) == .map([
                "text": .string("Qwen failure; on-call needed"), "blocks": blocks,
                "channel": .string("#artisan-oncall"), "username": .string("runbook"),
            ]))
        }
    }

    @Test func onlyTextWhenNothingElseIsGivenAndTheURLFromTheEnvironment() async throws {
        try await withTestHTTPServer { server in
            server.route(Self.hookPath, .text("ok"))
            let result = try await runNotify(action, ["text": .string("hello")],
                                             environment: ["RUNBOOK_SLACK_WEBHOOK_URL": server.url(Self.hookPath)])
            #expect(result.succeeded)
            #expect(server.requests(path: Self.hookPath).map(\.bodyText) == [#"{"text":"hello"}"#])
        }
    }

    @Test func noWebhookAnywhereIsAClearFailure() async throws {
        let result = try await runNotify(action, ["text": .string("hello")])
        #expect(result.failureMessage == "no slack webhook: pass 'webhook_url' (e.g. secrets.slack_webhook) or set "
                + "RUNBOOK_SLACK_WEBHOOK_URL")
    }

    @Test(arguments: [(400, "invalid_payload"), (404, "no_service"), (403, "action_prohibited")])
    func slackErrorsFailWithoutShowingTheWebhookPath(_ status: Int, _ error: String) async throws {
        try await withTestHTTPServer { server in
            server.route(Self.hookPath, .text(error, status: status))
            let url = server.url(Self.hookPath)
            let result = try await runNotify(action, ["webhook_url": .string(url), "text": .string("hi")])
            let message = try #require(result.failureMessage)
            #expect(message == "slack webhook at \(server.baseURL)/*** answered \(status): \(error)")
            #expect(!message.contains("secrettoken") && !message.contains("/services"))
            #expect(result.outputs["status"] == .int(status))
            #expect(server.requests(path: Self.hookPath).count == 1)
        }
    }

    @Test func rateLimitsAreRetriedButServerErrorsAreNot() async throws {
        try await withTestHTTPServer { server in
            server.route("/limited", .text("rate_limited", status: 429), .text("ok"))
            server.route("/broken", .text("internal_error", status: 500), .text("ok"))
            let limited = try await runNotify(action, ["webhook_url": .string(server.url("/limited")), "text": .string("a")])
            #expect(limited.succeeded)
            #expect(server.requests(path: "/limited").count == 2)
            let broken = try await runNotify(action, ["webhook_url": .string(server.url("/broken")), "text": .string("a")])
            #expect(broken.failureMessage == "slack webhook at \(server.baseURL)/*** answered 500: internal_error")
            #expect(server.requests(path: "/broken").count == 1)
        }
    }

    @Test func aRefusedConnectionDoesNotShowTheURL() async throws {
        let url = TestHTTPServer.closedPortURL + Self.hookPath
        let result = try await runNotify(action, ["webhook_url": .string(url), "text": .string("a")])
        let message = try #require(result.failureMessage)
        #expect(message == "slack webhook at \(TestHTTPServer.closedPortURL)/***: connection refused")
    }
}

@Suite("notify.pagerduty")
struct PagerDutyNotifyTests {
    let action = PagerDutyNotifyAction(retry: .fastPagerDuty)
    static let routingKey = "R0UT1NGKEY0123456789abcdef012345"
    static let accepted = TestHTTPResponse.json(
        #"{"status":"success","message":"Event processed","dedup_key":"runbook/test/test-run"}"#, status: 202)

    @Test func triggersWithTheExactEventAndTheDefaultDedupKey() async throws {
        try await withTestHTTPServer { server in
            server.route("/v2/enqueue", Self.accepted)
            let result = try await runNotify(action, [
                "routing_key": .string(Self.routingKey), "url": .string(server.url("/v2/enqueue")),
                "summary": .string("Qwen failure; downshifted to balanced"), "severity": .string("critical"),
                "source": .string("artisan-api"), "component": .string("qwen-llm"),
                "details": .map(["error_rate": .double(0.12), "mode": .string("balanced")]),
            ])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            #expect(result.outputs == ["dedup_key": .string("runbook/test/test-run"), "status": .int(202)])
            let request = try #require(server.requests(path: "/v2/enqueue").first)
            #expect(request.method == "POST")
            #expect(request.header("content-type") == "application/json")
            #expect(Value.parseJSON(request.bodyText) == .map([
                "routing_key": .string(Self.routingKey), "event_action": .string("trigger"),
                "dedup_key": .string("runbook/test/test-run"),
                "payload": .map([
                    "summary": .string("Qwen failure; downshifted to balanced"), "source": .string("artisan-api"),
                    "severity": .string("critical"), "component": .string("qwen-llm"),
                    "custom_details": .map(["error_rate": .double(0.12), "mode": .string("balanced")]),
                ]),
            ]))
        }
    }

    @Test func resolveSendsNoPayloadAndTheEndpointMayComeFromTheEnvironment() async throws {
        try await withTestHTTPServer { server in
            server.route("/v2/enqueue", .json(#"{"status":"success","message":"Event processed","dedup_key":"k-1"}"#,
                                              status: 202))
            let result = try await runNotify(action, [
                "routing_key": .string(Self.routingKey), "event_action": .string("resolve"), "dedup_key": .string("k-1"),
            ], environment: ["RUNBOOK_PAGERDUTY_URL": server.url("/v2/enqueue")])
            #expect(result.outputs["dedup_key"] == .string("k-1"))
            #expect(server.requests(path: "/v2/enqueue").map(\.bodyText)
                == [#"{"dedup_key":"k-1","event_action":"resolve","routing_key":"\#(Self.routingKey)"}"#])
        }
    }

    @Test func defaultsForSourceAndSeverity() async throws {
        try await withTestHTTPServer { server in
            server.route("/e", Self.accepted)
            _ = try await runNotify(action, ["routing_key": .string(Self.routingKey), "url": .string(server.url("/e")),
                                             "summary": .string("s")])
            let body = try #require(server.requests(path: "/e").first.flatMap { Value.parseJSON($0.bodyText) })
            guard case .map(let event) = body else { Issue.record("not an object"); return }
            #expect(event["payload"] == .map(["summary": .string("s"), "source": .string("runbook/test"),
                                              "severity": .string("error")]))
        }
    }

    @Test func noEndpointAndMissingSummaryFailBeforeSending() async throws {
        let none = try await runNotify(action, ["routing_key": .string(Self.routingKey), "summary": .string("s")])
        #expect(none.failureMessage == "no pagerduty endpoint: pass 'url' (e.g. https://events.pagerduty.com/v2/enqueue) "
                + "or set RUNBOOK_PAGERDUTY_URL")
        let noSummary = try await runNotify(action, ["routing_key": .string(Self.routingKey),
                                                     "url": .string(TestHTTPServer.closedPortURL)])
        #expect(noSummary.failureMessage == "parameter 'summary' is required for a trigger event")
    }

    @Test(arguments: [429, 503])
    func retriesRateLimitsAndServerErrors(_ status: Int) async throws {
        try await withTestHTTPServer { server in
            server.route("/e", .json(#"{"status":"throttled"}"#, status: status), .json("{}", status: status), Self.accepted)
            let emitted = EmittedLines()
            let result = try await runNotify(action, ["routing_key": .string(Self.routingKey),
                                                      "url": .string(server.url("/e")), "summary": .string("s")],
                                             emitted: emitted)
            #expect(result.succeeded)
            #expect(server.requests(path: "/e").count == 3)
            #expect(Set(server.requests(path: "/e").map(\.bodyText)).count == 1, "every try sends the same event")
            #expect(emitted.lines.filter { $0.message.contains("answered \(status); retrying") }.count == 2)
        }
    }

    @Test func givesUpAfterTheLastTryWithoutShowingTheKey() async throws {
        try await withTestHTTPServer { server in
            server.route("/e", .json(#"{"status":"error","message":"echo \#(Self.routingKey)"}"#, status: 503))
            let result = try await runNotify(action, ["routing_key": .string(Self.routingKey),
                                                      "url": .string(server.url("/e")), "summary": .string("s")])
            #expect(server.requests(path: "/e").count == 4)
            let message = try #require(result.failureMessage)
            #expect(message == "pagerduty at \(server.url("/e")) answered 503 after 4 tries: echo ***")
        }
    }

    @Test func aBadRequestIsNotRetriedAndShowsPagerDutysReason() async throws {
        try await withTestHTTPServer { server in
            server.route("/e", .json(#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}"#,
                                     status: 400))
            let key = "short-key-from-secrets"
            let result = try await runNotify(action, ["routing_key": .string(key),
                                                      "url": .string(server.url("/e")), "summary": .string("s")],
                                             secrets: [key])
            #expect(server.requests(path: "/e").count == 1)
            let message = try #require(result.failureMessage)
            #expect(message == "pagerduty at \(server.url("/e")) answered 400: Event object is invalid "
                    + "(Length of 'routing_key' is incorrect (should be 32 characters))")
            #expect(!message.contains(key))
            #expect(result.outputs["status"] == .int(400))
        }
    }

    @Test func cancellationStopsTheBackoff() async throws {
        try await withTestHTTPServer { server in
            server.route("/e", .json("{}", status: 503))
            let slow = PagerDutyNotifyAction(retry: NotificationRetryPolicy(attempts: 4, initialDelay: 60, maxDelay: 60,
                                                                            retriesServerErrors: true))
            let invocation = ActionHarness.invocation(for: slow, [
                "routing_key": .string(Self.routingKey), "url": .string(server.url("/e")), "summary": .string("s"),
            ], timeout: 600)
            let start = ContinuousClock.now
            let task = Task { try await slow.run(invocation) }
            while server.requests(path: "/e").isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(50))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(seconds(since: start) < 30)
            #expect(server.requests(path: "/e").count == 1)
        }
    }
}

@Suite("notify.webhook")
struct WebhookNotifyTests {
    let action = WebhookNotifyAction()

    @Test func postsJSONWithHeadersAndReportsTheStatus() async throws {
        try await withTestHTTPServer { server in
            server.route("/hooks/status", .json(#"{"ok":true}"#))
            let result = try await runNotify(action, [
                "url": .string(server.url("/hooks/status")),
                "json": .map(["component": .string("cache"), "status": .string("degraded"), "n": .int(3)]),
                "headers": .map(["X-Token": .string("tok-123456"), "X-Source": .string("runbook")]),
            ])
            #expect(result.outputs == ["status": .int(200), "body": .string(#"{"ok":true}"#)])
            let request = try #require(server.requests(path: "/hooks/status").first)
            #expect(request.header("content-type") == "application/json")
            #expect(request.header("x-token") == "tok-123456")
            #expect(request.header("x-source") == "runbook")
            #expect(request.bodyText == #"{"component":"cache","n":3,"status":"degraded"}"#)
        }
    }

    @Test func anUnexpectedStatusFailsOnceWithoutThePathOrTheToken() async throws {
        try await withTestHTTPServer { server in
            server.route("/hooks/T0k3nInPath", .text("bad token tok-123456", status: 503))
            let result = try await runNotify(action, [
                "url": .string(server.url("/hooks/T0k3nInPath?sig=abc123")), "json": .map(["a": .int(1)]),
                "headers": .map(["Authorization": .string("tok-123456")]),
            ])
            #expect(server.requests(path: "/hooks/T0k3nInPath").count == 1)
            #expect(result.failureMessage == "webhook at \(server.baseURL)/***: expected status 200–299, got 503: bad token ***")
            #expect(result.outputs["status"] == .int(503))
        }
    }

    @Test func theBodyOutputHidesTheEndpointSecrets() async throws {
        // A receiver that echoes the request: the path (the webhook's token), its query and a
        // credential header would reach the output, and the journal, as the engine masks only
        // the run's secrets there.
        try await withTestHTTPServer { server in
            server.route("/hooks/T0k3nInPath", .text("got /hooks/T0k3nInPath?sig=abc123 with tok-123456"))
            let result = try await runNotify(action, [
                "url": .string(server.url("/hooks/T0k3nInPath?sig=abc123")), "json": .map(["a": .int(1)]),
                "headers": .map(["Authorization": .string("tok-123456")]),
            ])
            #expect(result.succeeded)
            #expect(result.outputs["body"] == .string("got ***?*** with ***"))
        }
    }

    @Test func expectStatusIsHonoured() async throws {
        try await withTestHTTPServer { server in
            server.route("/h", .init(status: 204))
            let ok = try await runNotify(action, ["url": .string(server.url("/h")), "json": .map([:]),
                                                  "expect_status": .int(204)])
            #expect(ok.succeeded)
            let wrong = try await runNotify(action, ["url": .string(server.url("/h")), "json": .map([:]),
                                                     "expect_status": .int(200)])
            #expect(wrong.failureMessage == "webhook at \(server.baseURL)/***: expected status 200, got 204")
        }
    }
}
