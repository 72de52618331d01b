// http.request against a real loopback server: methods, JSON and text bodies, headers both ways.
import Foundation
import RunbookActions
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("http.request")
struct HTTPRequestActionTests {
    let action = HTTPRequestAction()

    @Test func postsJSON() async throws {
        try await withTestHTTPServer { server in
            server.route("/admin/cache/warm", method: "POST",
                         TestHTTPResponse(status: 202, headers: [("X-Request-Id", "abc-1"), ("Content-Type", "application/json")],
                                          body: #"{"queued":true}"#))
            let result = try await ActionHarness.run(action, [
                "method": .string("POST"), "url": .string(server.url("/admin/cache/warm")),
                "json": .map(["scope": .string("hot_keys"), "limit": .int(3), "tags": .list([.string("a")])]),
                "expect_status": .list([.int(200), .int(202)]),
            ])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            let request = try #require(server.requests(path: "/admin/cache/warm").first)
            #expect(request.method == "POST")
            #expect(request.bodyText == #"{"limit":3,"scope":"hot_keys","tags":["a"]}"#)
            #expect(request.header("content-type") == "application/json")
            #expect(result.outputs["status"] == .int(202))
            #expect(result.outputs["json"] == .map(["queued": .bool(true)]))
            guard case .map(let headers)? = result.outputs["headers"] else {
                Issue.record("no headers output")
                return
            }
            #expect(headers["x-request-id"] == .string("abc-1"))
            #expect(headers["content-type"] == .string("application/json"))
            #expect(headers.keys.allSatisfy { $0 == $0.lowercased() })
            #expect(Set(result.outputs.keys) == Set(HTTPActions.request.outputs.map(\.name)))
        }
    }

    @Test("a POST does not follow a redirect: the 302 is the answer, never a body-less GET reported as success")
    func changesDoNotFollowRedirects() async throws {
        try await withTestHTTPServer { server in
            server.route("/failover", method: "POST", .redirect(to: "/elsewhere"))
            server.route("/elsewhere", .text("ok"))
            let result = try await ActionHarness.run(action, [
                "method": .string("POST"), "url": .string(server.url("/failover")), "json": .map(["go": .bool(true)]),
            ])
            #expect(!result.succeeded)
            #expect(result.outputs["status"] == .int(302))
            #expect(result.failureMessage?.contains("302") == true, "\(result.failureMessage ?? "")")
            #expect(server.requests(path: "/elsewhere").isEmpty, "nothing was sent to the redirect's target")
        }
    }

    @Test func sendsATextBodyWithMethodAndHeaders() async throws {
        try await withTestHTTPServer { server in
            server.route("/flags/qwen", .text("done"))
            let result = try await ActionHarness.run(action, [
                "method": .string("PUT"), "url": .string(server.url("/flags/qwen")), "body": .string("mode=B"),
                "headers": .map(["X-Token": .string("abc")]),
            ])
            #expect(result.succeeded)
            let request = try #require(server.requests.first)
            #expect(request.method == "PUT")
            #expect(request.bodyText == "mode=B")
            #expect(request.header("content-type") == "text/plain; charset=utf-8")
            #expect(request.header("x-token") == "abc")
        }
    }

    @Test func anExplicitContentTypeWins() async throws {
        try await withTestHTTPServer { server in
            server.route("/ingest", .text("ok"))
            _ = try await ActionHarness.run(action, [
                "method": .string("POST"), "url": .string(server.url("/ingest")),
                "json": .map(["a": .int(1)]), "headers": .map(["Content-Type": .string("application/vnd.api+json")]),
            ])
            let request = try #require(server.requests.first)
            #expect(request.headers.filter { $0.name.lowercased() == "content-type" }.map(\.value) == ["application/vnd.api+json"])
        }
    }

    @Test func failureKeepsStatusAndBody() async throws {
        try await withTestHTTPServer { server in
            server.route("/boom", .json(#"{"error":"db down"}"#, status: 500))
            let url = server.url("/boom")
            let result = try await ActionHarness.run(action, ["method": .string("DELETE"), "url": .string(url)])
            #expect(result.failureMessage == "DELETE \(url): expected status 200–299, got 500")
            #expect(result.outputs["status"] == .int(500))
            #expect(result.outputs["json"] == .map(["error": .string("db down")]))
        }
    }

    @Test func headRequests() async throws {
        try await withTestHTTPServer { server in
            server.route("/file", TestHTTPResponse(status: 200, headers: [("ETag", "\"v1\"")], body: "content"))
            let result = try await ActionHarness.run(action, ["method": .string("HEAD"), "url": .string(server.url("/file"))])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            #expect(result.outputs["body"] == .string(""))
            if case .map(let headers)? = result.outputs["headers"] { #expect(headers["etag"] == .string("\"v1\"")) }
        }
    }

    @Test func jsonAndBodyTogetherIsAnError() async throws {
        let result = try await ActionHarness.run(action, [
            "method": .string("POST"), "url": .string("http://127.0.0.1:9/x"), "json": .map([:]), "body": .string("x"),
        ])
        #expect(result.failureMessage == "use either 'json' or 'body', not both")
    }

    @Test func timeoutAndRefusedAreFailures() async throws {
        try await withTestHTTPServer { server in
            server.route("/slow", .text("late", delay: 5))
            let url = server.url("/slow")
            let slow = try await ActionHarness.run(action, ["method": .string("POST"), "url": .string(url),
                                                            "timeout": .string("250ms")])
            #expect(slow.failureMessage == "POST \(url): timed out after 250ms")
            #expect(slow.outputs["status"] == .int(0))
        }
        let closed = TestHTTPServer.closedPortURL
        let refused = try await ActionHarness.run(action, ["url": .string(closed)])
        #expect(refused.failureMessage == "GET \(closed): connection refused")
    }

    @Test func scriptedSequencesAndRequestCount() async throws {
        try await withTestHTTPServer { server in
            server.route("/flaky", TestHTTPResponse(status: 503), TestHTTPResponse(status: 503), .text("ok"))
            var statuses: [Value?] = []
            for _ in 0..<4 {
                statuses.append(try await ActionHarness.run(action, ["url": .string(server.url("/flaky"))]).outputs["status"])
            }
            #expect(statuses == [.int(503), .int(503), .int(200), .int(200)])
            #expect(server.requestCount == 4)
            let unknown = try await ActionHarness.run(action, ["url": .string(server.url("/nope"))])
            #expect(unknown.outputs["status"] == .int(404))
        }
    }
}
