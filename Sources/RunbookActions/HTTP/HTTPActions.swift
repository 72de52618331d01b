// HTTP probes and requests: the declarations. The implementations (HTTPCheckAction, HTTPRequestAction)
// send through an HTTPTransport, so tests can swap the network.
import RunbookKit

/// `http.check` (read-only probe) and `http.request` (any method, treated as mutating).
public enum HTTPActions {
    /// GET a URL and pass on an expected status (or an accepted timeout) within a latency bound.
    public static let check = ActionDescriptor(
        id: "http.check",
        summary: "GET `url`; pass when the status is in `expect_status` (default 200–299), or on a timeout "
            + "when `accept_timeout` is true, and the latency is under `max_latency`. Follows up to 5 redirects; its `headers` go along only to the same origin (scheme, host, port), "
            + "so an API key never reaches a host the runbook did not name",
        parameters: [
            ParameterDescriptor("url", .url, required: true,
                                "The URL to GET; a `user:password@` in it is sent as Basic credentials (messages show `user:***@`)"),
            StandardParameters.expectStatus(),
            ParameterDescriptor("accept_timeout", .bool, default: .bool(false),
                                "Pass when the request times out (to verify that something is down)"),
            ParameterDescriptor("max_latency", .duration, "Fail when the response takes longer than this"),
            StandardParameters.timeout(default: "10s", "Give up on the request after this long"),
            StandardParameters.headers,
        ],
        outputs: [
            OutputDescriptor("status", .int, "HTTP status code (0 when the request timed out or failed to connect)"),
            OutputDescriptor("latency_ms", .number, "Time to the complete response, in milliseconds (to the 1 MiB body cap when the body is longer: the rest is not read)"),
            OutputDescriptor("body", .string, "Response body as text (truncated to 64 KiB)"),
            OutputDescriptor("json", .any, "Response body parsed as JSON; null when it is not JSON (or over 1 MiB)"),
            OutputDescriptor("timed_out", .bool, "Whether the request timed out"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 30,
        // HTTPExchange: "a status code or a non-empty list of them".
        constraints: [.nonEmpty("expect_status")],
        examples: [
            """
            - id: api_health
              action: http.check
              with:
                url: http://localhost:8000/health
                expect_status: 200
                max_latency: 2s

            """,
            """
            - id: qwen_down
              name: Qwen answers 503 or not at all
              action: http.check
              with:
                url: http://localhost:8000/health/llm?model=qwen
                expect_status: [503]
                accept_timeout: true
                timeout: 30s
              on_failure: continue

            """,
        ]
    )

    /// Send an arbitrary HTTP request. Any method may change the target, so it never runs in dry-run.
    public static let request = ActionDescriptor(
        id: "http.request",
        summary: "Send `method` to `url` with `json` (a mapping sent as JSON) or `body` (text); pass when the "
            + "status is in `expect_status`. Treated as mutating: use http.check for read-only probes. "
            + "Only GET and HEAD follow redirects: for other methods the 3xx is the answer (a 302 would "
            + "turn a POST into a GET without its body)",
        parameters: [
            ParameterDescriptor("method", .enumeration(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
                                default: .string("GET"), "HTTP method"),
            ParameterDescriptor("url", .url, required: true,
                                "The request URL; a `user:password@` in it is sent as Basic credentials (messages show `user:***@`)"),
            StandardParameters.headers,
            ParameterDescriptor("json", .map(.any),
                                "Request body sent as JSON with Content-Type application/json (not with `body`)"),
            ParameterDescriptor("body", .string, "Request body as text (not with `json`)"),
            StandardParameters.expectStatus(),
            StandardParameters.timeout(default: "30s", "Give up on the request after this long"),
        ],
        outputs: [
            OutputDescriptor("status", .int, "HTTP status code"),
            OutputDescriptor("body", .string, "Response body as text (truncated to 64 KiB)"),
            OutputDescriptor("json", .any, "Response body parsed as JSON; null when it is not JSON (or over 1 MiB)"),
            OutputDescriptor("headers", .map(.string), "Response headers, names in lower case"),
            OutputDescriptor("latency_ms", .number, "Time to the complete response, in milliseconds (to the 1 MiB body cap when the body is longer: the rest is not read)"),
        ],
        mutating: true, idempotent: false, dryRun: .skipped, defaultTimeout: 60,
        // HTTPRequestAction: "use either 'json' or 'body', not both".
        constraints: [.atMostOne(["json", "body"]), .nonEmpty("expect_status")],
        examples: [
            """
            - id: warm_cache
              action: http.request
              with:
                method: POST
                url: http://localhost:8000/admin/cache/warm
                json: {scope: hot_keys}
                expect_status: [200, 202]
              rollback: none

            """,
        ]
    )

    /// Every HTTP action, in registration order.
    static let all = [check, request]
}
