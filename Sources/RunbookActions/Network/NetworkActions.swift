// Plain network reachability.
import RunbookKit

/// `tcp.check`.
public enum NetworkActions {
    /// Open a TCP connection and close it.
    public static let tcpCheck = ActionDescriptor(
        id: "tcp.check",
        summary: "Open a TCP connection to `host`:`port` (Redis, a database, any port) within `timeout`",
        parameters: [
            ParameterDescriptor("host", .string, required: true, "Host name or IP address"),
            // TCPCheckAction refuses any other port.
            ParameterDescriptor("port", .int, required: true, minimum: 1, maximum: 65535, "TCP port"),
            StandardParameters.timeout(default: "5s", "Connect timeout"),
        ],
        outputs: [
            OutputDescriptor("latency_ms", .number, "Connect time, in milliseconds"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 10,
        examples: [
            """
            - id: redis_health
              action: tcp.check
              with: {host: localhost, port: 6379, timeout: 3s}
              on_failure: continue

            """,
        ]
    )

    /// Every network action, in registration order.
    static let all = [tcpCheck]
}
