// Database probes. The DSN is a secret: it carries the password.
import RunbookKit

/// `postgres.check`.
public enum DatabaseActions {
    /// Connect, run a query, report connection-pool use.
    public static let postgresCheck = ActionDescriptor(
        id: "postgres.check",
        summary: "Connect to PostgreSQL with `dsn`, run `query`, and report connections against max_connections; "
            + "fails when it cannot connect, the query fails, or usage is above `max_usage`",
        parameters: [
            ParameterDescriptor("dsn", .string, required: true, secret: true,
                                "Connection string, e.g. postgres://user:pass@host:5432/db; pass secrets.*"),
            ParameterDescriptor("query", .string, default: .string("select 1"), "Query to run (read-only)"),
            // PostgresCheckAction refuses a fraction outside 0–1.
            ParameterDescriptor("max_usage", .number, minimum: 0, maximum: 1,
                                "Fail when connections / max_connections is above this fraction (0..1)"),
            StandardParameters.timeout(default: "5s", "Connect and query timeout"),
        ],
        outputs: [
            OutputDescriptor("connections", .int, "Open connections (pg_stat_activity)"),
            OutputDescriptor("max_connections", .int, "The server's max_connections"),
            OutputDescriptor("usage", .number, "connections / max_connections"),
            OutputDescriptor("latency_ms", .number, "Connect plus query time, in milliseconds"),
            OutputDescriptor("rows", .list(.map(.any)), "Result rows of `query` (at most 100)"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 30,
        examples: [
            """
            - id: check_pool
              action: postgres.check
              with:
                dsn: "${{ secrets.postgres_dsn }}"
                max_usage: 0.9
              on_failure: continue

            """,
        ]
    )

    /// Every database action, in registration order.
    static let all = [postgresCheck]
}
