// prometheus.query: against a real Prometheus (backfilled and scraping a test exporter), and
// against a scripted server for the error shapes a real one rarely produces on demand.
import Foundation
import RunbookActions
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("prometheus.query against a real Prometheus",
       .enabled(if: PrometheusServer.shouldRun, Comment(rawValue: PrometheusServer.skipMessage)))
struct PrometheusRealServerTests {
    let action = PrometheusQueryAction()

    static let data: [PrometheusServer.Series] = [
        .init(metric: "runbook_test_single", labels: ["job": "api"], value: "42"),
        .init(metric: "runbook_test_latency_seconds", labels: ["route": "/a"], value: "0.25"),
        .init(metric: "runbook_test_latency_seconds", labels: ["route": "/b"], value: "1.5"),
        .init(metric: "runbook_test_nan", labels: [:], value: "NaN"),
        .init(metric: "runbook_test_inf", labels: [:], value: "+Inf"),
    ]

    func query(_ server: PrometheusServer, _ promql: String, _ extra: [String: Value] = [:])
        async throws -> Result<ActionResult, ActionFailure> {
        var arguments: [String: Value] = ["url": .string(server.url), "query": .string(promql)]
        for (k, v) in extra { arguments[k] = v }
        return try await ActionHarness.run(action, arguments)
    }

    @Test func instantQueriesOfEveryShape() async throws {
        try await withTestHTTPServer { exporter in
            exporter.route("/metrics", .text("# TYPE runbook_test_scraped gauge\nrunbook_test_scraped{shard=\"7\"} 7\n"))
            try await withPrometheus(backfill: Self.data, scrapeTarget: "127.0.0.1:\(exporter.port)") { server in
                // One series: value and labels.
                let single = try await query(server, "runbook_test_single", ["require_value": .bool(true)])
                #expect(single.succeeded, "\(single.failureMessage ?? "")")
                #expect(single.outputs["value"] == .double(42))
                #expect(single.outputs["empty"] == .bool(false))
                #expect(single.outputs["series"] == .list([.map([
                    "labels": .map(["__name__": .string("runbook_test_single"), "job": .string("api")]),
                    "value": .double(42),
                ])]))
                #expect(Set(single.outputs.keys) == Set(PrometheusActions.query.outputs.map(\.name)))

                // A scalar result.
                let scalar = try await query(server, "scalar(runbook_test_single) * 2")
                #expect(scalar.outputs["value"] == .double(84))
                #expect(scalar.outputs["series"] == .list([.map(["labels": .map([:]), "value": .double(84)])]))

                // An aggregation of several series.
                let sum = try await query(server, "sum(runbook_test_latency_seconds)", ["require_value": .bool(true)])
                #expect(sum.outputs["value"] == .double(1.75))

                // Several series: value is the first; require_value refuses to pick one.
                let many = try await query(server, "sort(runbook_test_latency_seconds)")
                #expect(many.succeeded)
                #expect(many.outputs["value"] == .double(0.25))
                guard case .list(let series)? = many.outputs["series"] else {
                    Issue.record("no series")
                    return
                }
                #expect(series.count == 2)
                let strict = try await query(server, "runbook_test_latency_seconds", ["require_value": .bool(true)])
                #expect(strict.failureMessage?.contains("returned 2 series; require_value needs one") == true,
                        "\(strict.failureMessage ?? "passed")")
                #expect(strict.outputs["empty"] == .bool(false))

                // Empty results.
                let empty = try await query(server, "runbook_test_absent")
                #expect(empty.succeeded)
                #expect(empty.outputs["value"] == .null)
                #expect(empty.outputs["series"] == .list([]))
                #expect(empty.outputs["empty"] == .bool(true))
                let required = try await query(server, "runbook_test_absent", ["require_value": .bool(true)])
                #expect(required.failureMessage == "prometheus at \(server.url): query 'runbook_test_absent' returned no series")

                // NaN and infinities are numbers.
                let nan = try await query(server, "runbook_test_nan")
                guard case .double(let nanValue)? = nan.outputs["value"] else {
                    Issue.record("NaN is not a number output: \(String(describing: nan.outputs["value"]))")
                    return
                }
                #expect(nanValue.isNaN)
                #expect(try await query(server, "runbook_test_inf").outputs["value"] == .double(.infinity))
                #expect(try await query(server, "-runbook_test_inf").outputs["value"] == .double(-.infinity))

                // An evaluation time in the past (Unix seconds and RFC 3339).
                let earlier = Date().addingTimeInterval(-300)
                let atUnix = try await query(server, "runbook_test_single",
                                             ["time": .string(String(Int(earlier.timeIntervalSince1970)))])
                #expect(atUnix.outputs["value"] == .double(42))
                let atRFC = try await query(server, "runbook_test_single",
                                            ["time": .string(ISO8601DateFormatter().string(from: earlier))])
                #expect(atRFC.outputs["value"] == .double(42))
                let beforeData = try await query(server, "runbook_test_single", ["time": .string("1000000000")])
                #expect(beforeData.outputs["empty"] == .bool(true))

                // PromQL errors come back with Prometheus's own words.
                let syntax = try await query(server, "sum(")
                #expect(syntax.failureMessage?.hasPrefix("prometheus at \(server.url): query failed (bad_data, status 400): ")
                        == true, "\(syntax.failureMessage ?? "passed")")
                #expect(syntax.failureMessage?.contains("parse error") == true)
                let range = try await query(server, "runbook_test_single[5m]")
                #expect(range.failureMessage?.contains("returned a range vector") == true)

                // The URL from the environment.
                var invocation = ActionHarness.invocation(for: action, ["query": .string("runbook_test_single")],
                                                          environment: ["RUNBOOK_PROMETHEUS_URL": server.url + "/"])
                invocation.arguments["url"] = nil
                let fromEnvironment = try await action.run(invocation)
                #expect(fromEnvironment.outputs["value"] == .double(42))

                // A scraped exporter: Prometheus scrapes every second.
                var scraped = try await query(server, "runbook_test_scraped")
                let start = ContinuousClock.now
                while scraped.outputs["empty"] == .bool(true), ContinuousClock.now - start < .seconds(30) {
                    try await Task.sleep(for: .milliseconds(250))
                    scraped = try await query(server, "runbook_test_scraped")
                }
                #expect(scraped.outputs["value"] == .double(7))
                guard case .list(let scrapedSeries)? = scraped.outputs["series"], case .map(let first)? = scrapedSeries.first,
                      case .map(let labels)? = first["labels"] else {
                    Issue.record("no scraped series")
                    return
                }
                #expect(labels["job"] == .string("exporter"))
                #expect(labels["shard"] == .string("7"))
            }
        }
    }
}

@Suite("prometheus.query error shapes")
struct PrometheusQueryActionTests {
    let action = PrometheusQueryAction()

    @Test func encodesTheQueryAndSendsHeaders() async throws {
        try await withTestHTTPServer { server in
            server.route("/prom/api/v1/query", .json(#"{"status":"success","data":{"resultType":"vector","result":[]}}"#))
            let result = try await ActionHarness.run(action, [
                "url": .string(server.url("/prom/")),
                "query": .string(#"sum by (le) (rate(x_bucket{job="a b",path=~"/v1/.+"}[1m])) > 0.5 & 1"#),
                "time": .string("2024-05-01T12:00:00+02:00"),
                "headers": .map(["Authorization": .string("Bearer t0ken")]),
            ], secrets: ["t0ken"])
            #expect(result.succeeded)
            let request = try #require(server.requests.first)
            #expect(request.method == "GET")
            #expect(request.uri == "/prom/api/v1/query?query=sum%20by%20%28le%29%20%28rate%28x_bucket%7Bjob%3D%22a%20b%22%2C"
                + "path%3D~%22%2Fv1%2F.%2B%22%7D%5B1m%5D%29%29%20%3E%200.5%20%26%201"
                + "&time=2024-05-01T12%3A00%3A00%2B02%3A00&timeout=15")
            #expect(request.header("authorization") == "Bearer t0ken")
        }
    }

    @Test func reportsPrometheusErrors() async throws {
        try await withTestHTTPServer { server in
            server.route("/api/v1/query",
                         .json(#"{"status":"error","errorType":"execution","error":"query processing would load too many samples"}"#,
                               status: 422))
            let result = try await ActionHarness.run(action, ["url": .string(server.baseURL), "query": .string("x")])
            #expect(result.failureMessage == "prometheus at \(server.baseURL): query failed (execution, status 422): "
                + "query processing would load too many samples")
            #expect(result.outputs["empty"] == .bool(true))
            #expect(result.outputs["value"] == .null)
        }
    }

    @Test func reportsANonPrometheusServer() async throws {
        try await withTestHTTPServer { server in
            server.route("/api/v1/query", TestHTTPResponse(status: 404, headers: [("Content-Type", "text/html")],
                                                           body: "<html>\n<body>Not Found</body></html>"))
            let result = try await ActionHarness.run(action, ["url": .string(server.baseURL), "query": .string("up")])
            #expect(result.failureMessage == "prometheus at \(server.baseURL): answered 404 with a body that is not a "
                + "JSON object ('<html> <body>Not Found</body></html>'); is the url a prometheus server?")
        }
    }

    @Test(arguments: [
        (#"{"status":"success"}"#, "malformed response: expected {status: success, data: {resultType, result}}"),
        (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}"#,
         "malformed response: a vector element has no 'value' pair"),
        (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"fast"]}]}}"#,
         "malformed response: sample value 'fast' is not a number"),
        (#"{"status":"success","data":{"resultType":"scalar","result":[1,2]}}"#,
         "malformed response: a sample is not a [time, \"value\"] pair"),
        (#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#,
         "the query returned a string, not a number"),
        (#"[1,2]"#, "answered 200 with a body that is not a JSON object ('[1,2]'); is the url a prometheus server?"),
    ])
    func reportsMalformedResponses(body: String, message: String) async throws {
        try await withTestHTTPServer { server in
            server.route("/api/v1/query", .json(body))
            let result = try await ActionHarness.run(action, ["url": .string(server.baseURL), "query": .string("up")])
            #expect(result.failureMessage == "prometheus at \(server.baseURL): \(message)")
        }
    }

    @Test func needsAURL() async throws {
        let invocation = ActionHarness.invocation(for: action, ["query": .string("up")], environment: [:])
        await #expect(throws: ActionFailure.self) { try await action.run(invocation) }
        do {
            _ = try await action.run(invocation)
        } catch let failure as ActionFailure {
            #expect(failure.message == "no prometheus url: set the 'url' parameter or the RUNBOOK_PROMETHEUS_URL "
                + "environment variable")
        }
    }

    @Test func connectionRefusedAndTimeout() async throws {
        let refused = try await ActionHarness.run(action, ["url": .string(TestHTTPServer.closedPortURL), "query": .string("up")])
        #expect(refused.failureMessage == "prometheus at \(TestHTTPServer.closedPortURL): connection refused")
        try await withTestHTTPServer { server in
            server.route("/api/v1/query", .json("{}", delay: 5))
            let slow = try await ActionHarness.run(action, [
                "url": .string(server.baseURL), "query": .string("up"), "timeout": .string("300ms"),
            ])
            #expect(slow.failureMessage == "prometheus at \(server.baseURL): query timed out after 300ms")
        }
    }
}

/// A scenario's outputs for `prometheus.query` are judged as a real answer is.
@Suite("prometheus.query judges simulated outputs")
struct PrometheusJudgeTests {
    @Test func requireValueNeedsOneSeries() {
        let action = PrometheusQueryAction()
        let required: [String: Value] = ["require_value": .bool(true)]
        #expect(action.judge(simulated: ["series": .list([])], arguments: required) == "the query returned no series (require_value)")
        #expect(action.judge(simulated: ["value": .null], arguments: required) == "the query returned no series (require_value)")
        #expect(action.judge(simulated: ["empty": .bool(true)], arguments: required) != nil)
        let two = Value.list([.map(["value": .double(1)]), .map(["value": .double(2)])])
        #expect(action.judge(simulated: ["series": two], arguments: required) == "the query returned 2 series; require_value needs one")
        #expect(action.judge(simulated: ["value": .double(3.1)], arguments: required) == nil)
        #expect(action.judge(simulated: ["series": .list([])], arguments: [:]) == nil, "without require_value an empty answer passes")
    }
}
