// http.check against a real loopback server: status expectations, timeouts, latency, redirects,
// JSON bodies, headers and masking.
import Foundation
import RunbookActions
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("http.check")
struct HTTPCheckActionTests {
    let action = HTTPCheckAction()

    @Test func passesOnA2xxAndReportsOutputs() async throws {
        try await withTestHTTPServer { server in
            server.route("/health", .text("ok"))
            let result = try await ActionHarness.run(action, ["url": .string(server.url("/health"))])
            #expect(result.succeeded)
            #expect(result.outputs["status"] == .int(200))
            #expect(result.outputs["body"] == .string("ok"))
            #expect(result.outputs["json"] == .null)
            #expect(result.outputs["timed_out"] == .bool(false))
            #expect((result.outputs["latency_ms"]?.numberValue ?? -1) >= 0)
            #expect(Set(result.outputs.keys) == Set(HTTPActions.check.outputs.map(\.name)))
            let request = try #require(server.requests(path: "/health").first)
            #expect(request.method == "GET")
        }
    }

    struct StatusCase: Sendable, CustomTestStringConvertible {
        var served: Int
        var expect: Value?
        var passes: Bool
        var testDescription: String { "\(served) vs \(expect.map { $0.jsonText() } ?? "default") → \(passes)" }
    }

    @Test(arguments: [
        StatusCase(served: 200, expect: nil, passes: true),
        StatusCase(served: 204, expect: nil, passes: true),
        StatusCase(served: 299, expect: nil, passes: true),
        StatusCase(served: 404, expect: nil, passes: false),
        StatusCase(served: 503, expect: nil, passes: false),
        StatusCase(served: 503, expect: .int(503), passes: true),
        StatusCase(served: 200, expect: .int(503), passes: false),
        StatusCase(served: 503, expect: .list([.int(200), .int(503)]), passes: true),
        StatusCase(served: 404, expect: .list([.int(200), .int(204)]), passes: false),
    ])
    func statusExpectations(_ c: StatusCase) async throws {
        try await withTestHTTPServer { server in
            server.route("/s", TestHTTPResponse(status: c.served, body: "x"))
            var args: [String: Value] = ["url": .string(server.url("/s"))]
            if let e = c.expect { args["expect_status"] = e }
            let result = try await ActionHarness.run(action, args)
            #expect(result.succeeded == c.passes, "\(result.failureMessage ?? "passed")")
            #expect(result.outputs["status"] == .int(c.served))
        }
    }

    @Test func statusFailureNamesTheURLAndKeepsOutputs() async throws {
        try await withTestHTTPServer { server in
            server.route("/health", .json(#"{"ok":false}"#, status: 503))
            let url = server.url("/health")
            let one = try await ActionHarness.run(action, ["url": .string(url), "expect_status": .int(200)])
            #expect(one.failureMessage == "GET \(url): expected status 200, got 503")
            #expect(one.outputs["status"] == .int(503))
            #expect(one.outputs["json"] == .map(["ok": .bool(false)]))
            let range = try await ActionHarness.run(action, ["url": .string(url)])
            #expect(range.failureMessage == "GET \(url): expected status 200–299, got 503")
            let list = try await ActionHarness.run(action, ["url": .string(url), "expect_status": .list([.int(200), .int(204)])])
            #expect(list.failureMessage == "GET \(url): expected status 200 or 204, got 503")
        }
    }

    @Test("a port past 65535 (built at run time) fails the step; the HTTP client would stop the process")
    func portOutOfRangeFailsTheStep() async throws {
        let result = try await ActionHarness.run(action, ["url": .string("http://127.0.0.1:80800/health"), "timeout": .string("1s")])
        #expect(!result.succeeded)
        #expect(result.failureMessage?.contains("port 80800 is not a TCP port (1-65535)") == true)
        #expect(!URLCheck.isValid("http://127.0.0.1:80800/") && !URLCheck.isValid("http://h:0/") && URLCheck.isValid("http://h:65535/"))
        #expect(throws: ArgumentError.self) { try ArgumentConversion.convert(.string("http://h:99999/"), to: .url, name: "url", action: "http.check") }
        // A header name the client refuses: the step says which, not the client's error type.
        let header = try await ActionHarness.run(action, ["url": .string("http://127.0.0.1:9/"), "timeout": .string("1s"),
                                                          "headers": .map(["X Request Id": .string("abc")])])
        #expect(header.failureMessage?.contains("'X Request Id' is not an HTTP header name") == true, "\(header.failureMessage ?? "")")
    }

    @Test func timeoutFailsWithTimedOut() async throws {
        try await withTestHTTPServer { server in
            server.route("/slow", .text("late", delay: 60))
            let url = server.url("/slow")
            let start = ContinuousClock.now
            let result = try await ActionHarness.run(action, ["url": .string(url), "timeout": .string("300ms")])
            #expect(seconds(since: start) < 30)
            #expect(result.failureMessage == "GET \(url): timed out after 300ms")
            #expect(result.outputs["timed_out"] == .bool(true))
            #expect(result.outputs["status"] == .int(0))
        }
    }

    @Test func acceptedTimeoutPasses() async throws {
        try await withTestHTTPServer { server in
            server.route("/hang", .text("late", delay: 60))
            let result = try await ActionHarness.run(action, [
                "url": .string(server.url("/hang")), "timeout": .string("300ms"), "accept_timeout": .bool(true),
                "expect_status": .list([.int(503)]),
            ])
            #expect(result.succeeded)
            #expect(result.outputs["timed_out"] == .bool(true))
            #expect(result.outputs["status"] == .int(0))
        }
    }

    @Test func acceptTimeoutStillJudgesAnAnswer() async throws {
        try await withTestHTTPServer { server in
            server.route("/up", .text("ok"))
            let result = try await ActionHarness.run(action, [
                "url": .string(server.url("/up")), "accept_timeout": .bool(true), "expect_status": .int(503),
            ])
            #expect(result.failureMessage?.hasSuffix("expected status 503, got 200") == true)
            #expect(result.outputs["timed_out"] == .bool(false))
        }
    }

    @Test func stepTimeoutShorterThanTheParameterStillReportsTheTimeout() async throws {
        try await withTestHTTPServer { server in
            server.route("/hang", .text("late", delay: 60))
            let result = try await ActionHarness.run(action, [
                "url": .string(server.url("/hang")), "accept_timeout": .bool(true),
            ], timeout: 1)
            #expect(result.succeeded)
            #expect(result.outputs["timed_out"] == .bool(true))
        }
    }

    @Test func maxLatency() async throws {
        try await withTestHTTPServer { server in
            server.route("/sluggish", .text("ok", delay: 0.4))
            let url = server.url("/sluggish")
            let slow = try await ActionHarness.run(action, ["url": .string(url), "max_latency": .string("100ms")])
            let message = try #require(slow.failureMessage)
            #expect(message.hasPrefix("GET \(url): took "))
            #expect(message.hasSuffix(" ms, over max_latency 100ms"))
            #expect(slow.outputs["status"] == .int(200))
            #expect((slow.outputs["latency_ms"]?.numberValue ?? 0) >= 400)
            let fine = try await ActionHarness.run(action, ["url": .string(url), "max_latency": .string("5s")])
            #expect(fine.succeeded)
        }
    }

    @Test func connectionRefused() async throws {
        let url = TestHTTPServer.closedPortURL + "/health"
        let start = ContinuousClock.now
        let result = try await ActionHarness.run(action, ["url": .string(url)])
        #expect(result.failureMessage == "GET \(url): connection refused")
        #expect(result.outputs["status"] == .int(0))
        #expect(result.outputs["timed_out"] == .bool(false))
        #expect(seconds(since: start) < 30)
    }

    @Test func followsRedirects() async throws {
        try await withTestHTTPServer { server in
            server.route("/old", .redirect(to: "/middle", status: 301))
            server.route("/middle", .redirect(to: "/health"))
            server.route("/health", .json(#"{"status":"ok"}"#))
            let result = try await ActionHarness.run(action, ["url": .string(server.url("/old"))])
            #expect(result.succeeded)
            #expect(result.outputs["json"] == .map(["status": .string("ok")]))
            #expect(server.requests.map(\.path) == ["/old", "/middle", "/health"])
        }
    }

    @Test("user:password in the URL is sent as Basic credentials, never shown in a message")
    func urlCredentialsAreSentAsBasicAuth() async throws {
        try await withTestHTTPServer { server in
            server.route("/admin", .text("ok"))
            let url = server.url("/admin").replacingOccurrences(of: "http://", with: "http://ops:p%40ss@")
            let result = try await ActionHarness.run(action, ["url": .string(url)])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            let expected = "Basic " + Data("ops:p@ss".utf8).base64EncodedString()
            #expect(server.requests(path: "/admin").first?.header("authorization") == expected)
            server.route("/down", .init(status: 503))
            let down = try await ActionHarness.run(action, ["url": .string(url.replacingOccurrences(of: "/admin", with: "/down"))])
            #expect(down.failureMessage?.contains("ops:***@") == true, "\(down.failureMessage ?? "")")
            #expect(down.failureMessage?.contains("p%40ss") == false)
        }
    }

    @Test("a redirect to another origin does not take the runbook's headers along (an API key, a token)")
    func crossOriginRedirectDropsHeaders() async throws {
        try await withTestHTTPServer { elsewhere in
            elsewhere.route("/target", .text("ok"))
            try await withTestHTTPServer { server in
                server.route("/same", .redirect(to: "/final"))
                server.route("/final", .redirect(to: elsewhere.url("/target")))
                let result = try await ActionHarness.run(action, [
                    "url": .string(server.url("/same")),
                    "headers": .map(["X-Api-Key": .string("k3y-secret"), "Authorization": .string("Bearer t0ken")]),
                ])
                #expect(result.succeeded, "\(result.failureMessage ?? "")")
                // Same origin: the headers go along.
                #expect(server.requests(path: "/final").first?.header("x-api-key") == "k3y-secret")
                // Another origin (another port): none of them.
                let there = try #require(elsewhere.requests(path: "/target").first)
                #expect(there.header("x-api-key") == nil)
                #expect(there.header("authorization") == nil)
            }
        }
    }

    @Test func redirectLoopsAndLongChainsFail() async throws {
        try await withTestHTTPServer { server in
            server.route("/a", .redirect(to: "/b"))
            server.route("/b", .redirect(to: "/a"))
            for n in 0..<7 { server.route("/r\(n)", .redirect(to: "/r\(n + 1)")) }
            server.route("/r7", .text("too far"))
            let loop = try await ActionHarness.run(action, ["url": .string(server.url("/a"))])
            #expect(loop.failureMessage?.contains("redirect") == true)
            let chain = try await ActionHarness.run(action, ["url": .string(server.url("/r0"))])
            #expect(chain.failureMessage?.contains("more than 5 redirects") == true)
        }
    }

    @Test func parsesJSONBodies() async throws {
        try await withTestHTTPServer { server in
            server.route("/j", .json(#"{"reward_mean": 101.5, "steps": [1, 2], "ok": true, "none": null}"#))
            server.route("/untyped", TestHTTPResponse(body: #"  [1, "two"]"#))
            server.route("/broken", .json("{not json"))
            let typed = try await ActionHarness.run(action, ["url": .string(server.url("/j"))])
            #expect(typed.outputs["json"] == .map([
                "reward_mean": .double(101.5), "steps": .list([.int(1), .int(2)]), "ok": .bool(true), "none": .null,
            ]))
            let untyped = try await ActionHarness.run(action, ["url": .string(server.url("/untyped"))])
            #expect(untyped.outputs["json"] == .list([.int(1), .string("two")]))
            let broken = try await ActionHarness.run(action, ["url": .string(server.url("/broken"))])
            #expect(broken.succeeded)
            #expect(broken.outputs["json"] == .null)
            #expect(broken.outputs["body"] == .string("{not json"))
        }
    }

    @Test func capsTheBodyOutput() async throws {
        try await withTestHTTPServer { server in
            server.route("/big", .text(String(repeating: "a", count: 100_000)))
            let result = try await ActionHarness.run(action, ["url": .string(server.url("/big"))])
            #expect(result.succeeded)
            #expect(result.outputs["body"]?.stringValue?.utf8.count == 64 * 1024)
        }
    }

    @Test func sendsHeadersAndQuery() async throws {
        try await withTestHTTPServer { server in
            server.route("/health/llm", .text("ok"))
            let result = try await ActionHarness.run(action, [
                "url": .string(server.url("/health/llm?model=qwen")),
                "headers": .map(["Authorization": .string("Bearer t0ken"), "X-Probe": .string("runbook")]),
            ])
            #expect(result.succeeded)
            let request = try #require(server.requests(path: "/health/llm").first)
            #expect(request.uri == "/health/llm?model=qwen")
            #expect(request.header("authorization") == "Bearer t0ken")
            #expect(request.header("x-probe") == "runbook")
        }
    }

    @Test func masksSecretsInMessages() async throws {
        try await withTestHTTPServer { server in
            server.route("/hook", TestHTTPResponse(status: 500))
            let url = server.url("/hook?token=s3cr3t-value")
            let result = try await ActionHarness.run(action, ["url": .string(url)], secrets: ["s3cr3t-value"])
            let message = try #require(result.failureMessage)
            #expect(!message.contains("s3cr3t-value"))
            #expect(message.contains("token=***"))
        }
    }

    @Test func cancellationStopsTheRequest() async throws {
        try await withTestHTTPServer { server in
            server.route("/hang", .text("late", delay: 60))
            let invocation = ActionHarness.invocation(for: action, ["url": .string(server.url("/hang")), "timeout": .string("20s")])
            let action = action
            let start = ContinuousClock.now
            let task = Task { try await action.run(invocation) }
            try await Task.sleep(nanoseconds: 300_000_000)
            task.cancel()
            let outcome = await task.result
            #expect(seconds(since: start) < 30)
            #expect(throws: CancellationError.self) { try outcome.get() }
        }
    }
}
