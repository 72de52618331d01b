// Instant queries against the Prometheus HTTP API (`/api/v1/query`).
import RunbookKit

/// `prometheus.query`.
public enum PrometheusActions {
    /// Run an instant PromQL query; the endpoint comes from `url` or `RUNBOOK_PROMETHEUS_URL`.
    public static let query = ActionDescriptor(
        id: "prometheus.query",
        summary: "Run an instant PromQL `query` against the Prometheus HTTP API at `url` "
            + "(default: the RUNBOOK_PROMETHEUS_URL environment variable)",
        parameters: [
            ParameterDescriptor("query", .string, required: true, "PromQL expression, evaluated as an instant query"),
            ParameterDescriptor("url", .url,
                                "Prometheus base URL, e.g. http://localhost:9090 (default: env RUNBOOK_PROMETHEUS_URL)"),
            ParameterDescriptor("time", .string, "Evaluation time, RFC 3339 or Unix seconds (default: now)"),
            ParameterDescriptor("require_value", .bool, default: .bool(false),
                                "Fail the step unless the result is one value: empty results and results of several "
                                    + "series both fail (aggregate them with sum, max, ...)"),
            StandardParameters.timeout(default: "15s", "Query timeout, also sent to Prometheus"),
            StandardParameters.headers,
        ],
        outputs: [
            OutputDescriptor("value", .number,
                             "The sample value of a scalar or single-series result (the first series otherwise); "
                                 + "null when empty; NaN and ±Inf are numbers"),
            OutputDescriptor("series", .list(.map(.any)),
                             "Every series as {labels: mapping of string, value: number}"),
            OutputDescriptor("empty", .bool, "Whether the result has no series"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 30,
        examples: [
            """
            - id: p95_recovered
              action: prometheus.query
              with:
                url: http://localhost:9090
                query: histogram_quantile(0.95, sum by (le) (rate(api_response_seconds_bucket[1m])))
                require_value: true
              retry: {attempts: 6, delay: 20s}
              until: "${{ steps.p95_recovered.outputs.value < 2.5 }}"

            """,
        ]
    )

    /// Every Prometheus action, in registration order.
    static let all = [query]
}
