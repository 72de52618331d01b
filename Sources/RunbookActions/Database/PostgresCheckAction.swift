// `postgres.check`: connect with postgres-nio, run the runbook's query in a read-only session, and
// report connection-pool use (client backends in pg_stat_activity against max_connections).
//
// The DSN is a secret: messages name the server by `PostgresDSN.redacted` (no password) and still
// go through the run's masker.
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import RunbookKit

/// What one probe measured.
public struct PostgresProbeReport: Sendable, Equatable {
    /// Client backends connected (pg_stat_activity, backend_type 'client backend'), this probe included.
    public var connections: Int
    /// The server's max_connections.
    public var maxConnections: Int
    /// Connect plus query time, in milliseconds.
    public var latencyMS: Double
    /// The query's first rows, column name to value.
    public var rows: [[String: Value]]
}

/// Why a probe failed, as a lowercase phrase without the password.
public struct PostgresProbeFailure: Error, Sendable, CustomStringConvertible {
    /// The phrase.
    public var description: String
}

/// Connects and queries. Implementations honour `timeout` and task cancellation.
public protocol PostgresProber: Sendable {
    /// Connects with `dsn`, runs `query` (keeping at most `maxRows` rows) and reads the pool figures.
    func probe(_ dsn: PostgresDSN, query: String, maxRows: Int, timeout: Double) async throws -> PostgresProbeReport
}

/// The real prober: one postgres-nio connection per probe, closed at the end.
public struct PostgresNIOProber: PostgresProber {
    /// The prober on NIO's process-wide event loop group.
    public init() {}

    private static let logger = Logger(label: "runbook.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Counts client connections the way a pool sees them: background workers are not connections.
    static let connectionsQuery = "select count(*)::int8 from pg_stat_activity where backend_type = 'client backend'"

    /// Connects, queries and reads the figures, all within `timeout`.
    ///
    /// runbook opens the socket itself and hands it to postgres-nio: closing it is the one way to stop
    /// a server that accepted the connection but never answers (postgres-nio's own connect timeout
    /// covers only the TCP handshake, and its startup phase does not react to task cancellation).
    public func probe(_ dsn: PostgresDSN, query: String, maxRows: Int, timeout: Double) async throws -> PostgresProbeReport {
        let clock = ContinuousClock()
        let start = clock.now
        let channel = try await Self.openChannel(dsn, timeout: timeout)
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try Self.configuration(dsn, channel: channel)
        } catch {
            try? await channel.close()
            throw error
        }
        let elapsed = clock.now - start
        let remaining = max(0.001, timeout - (Double(elapsed.components.seconds)
            + Double(elapsed.components.attoseconds) / 1e18))
        let timedOut = TimeoutFlag()
        let timeoutFailure = PostgresProbeFailure(description: "timed out after \(RunbookDuration(seconds: timeout))")
        return try await withThrowingTaskGroup(of: PostgresProbeReport.self) { group in
            group.addTask {
                try await Self.run(configuration, on: channel, query: query, maxRows: maxRows, user: dsn.user,
                                   start: start)
            }
            group.addTask {
                do {
                    try await Task.sleep(nanoseconds: RunbookDuration.nanoseconds(remaining))
                } catch {
                    try? await channel.close()
                    throw CancellationError()
                }
                timedOut.set()
                try? await channel.close()
                throw timeoutFailure
            }
            defer { group.cancelAll() }
            do {
                return try await group.next()!
            } catch {
                if timedOut.isSet { throw timeoutFailure }
                throw error
            }
        }
    }

    /// The TCP (or Unix-socket) connection, or a failure saying why there is none.
    static func openChannel(_ dsn: PostgresDSN, timeout: Double) async throws -> any Channel {
        let bootstrap = ClientBootstrap(group: PostgresConnection.defaultEventLoopGroup)
            .connectTimeout(.milliseconds(max(1, RunbookDuration.milliseconds(timeout))))
        do {
            if dsn.host.hasPrefix("/") {
                return try await bootstrap.connect(unixDomainSocketPath: dsn.host + "/.s.PGSQL.\(dsn.port)").get()
            }
            return try await bootstrap.connect(host: dsn.host, port: dsn.port).get()
        } catch {
            try Task.checkCancellation()
            switch NIOTCPConnector.classify(error) {
            case .refused: throw PostgresProbeFailure(description: "connection refused")
            case .timedOut:
                throw PostgresProbeFailure(description: "no connection within \(RunbookDuration(seconds: timeout))")
            case .unresolvable: throw PostgresProbeFailure(description: "cannot resolve host '\(dsn.host)'")
            case .failed(let why): throw PostgresProbeFailure(description: why)
            }
        }
    }

    private static func run(_ configuration: PostgresConnection.Configuration, on channel: any Channel, query: String,
                            maxRows: Int, user: String, start: ContinuousClock.Instant) async throws -> PostgresProbeReport {
        let clock = ContinuousClock()
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(on: channel.eventLoop, configuration: configuration, id: 1,
                                                              logger: logger)
        } catch {
            try? await channel.close()
            try Task.checkCancellation()
            throw PostgresProbeFailure(description: describe(error, user: user, connecting: true))
        }
        do {
            var rows: [[String: Value]] = []
            do {
                let sequence = try await connection.query(PostgresQuery(unsafeSQL: query), logger: logger)
                for try await row in sequence where rows.count < maxRows {
                    rows.append(Self.values(row))
                }
            } catch {
                try Task.checkCancellation()
                throw PostgresProbeFailure(description: "query failed: " + describe(error, user: user, connecting: false))
            }
            let elapsed = clock.now - start
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            var connections = 0
            var maxConnections = 0
            do {
                for try await count in try await connection.query(PostgresQuery(unsafeSQL: connectionsQuery),
                                                                  logger: logger).decode(Int.self) {
                    connections = count
                }
                for try await text in try await connection.query("show max_connections", logger: logger)
                    .decode(String.self) {
                    maxConnections = Int(text) ?? 0
                }
            } catch {
                try Task.checkCancellation()
                throw PostgresProbeFailure(description: "reading pool figures failed: "
                    + describe(error, user: user, connecting: false))
            }
            try? await connection.close()
            return PostgresProbeReport(connections: connections, maxConnections: maxConnections,
                                       latencyMS: (ms * 10).rounded() / 10, rows: rows)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The postgres-nio configuration over `channel`: TLS per sslmode, a read-only session, our application name.
    static func configuration(_ dsn: PostgresDSN, channel: any Channel) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            if let path = dsn.sslRootCert, !path.isEmpty {
                tlsConfiguration.trustRoots = .file(path)
            }
            switch dsn.sslMode {
            case .disable:
                tls = .disable
            case .allow, .prefer:
                tlsConfiguration.certificateVerification = .none
                tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require:
                tlsConfiguration.certificateVerification = .none
                tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
            case .verifyCA:
                tlsConfiguration.certificateVerification = .noHostnameVerification
                tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
        } catch {
            throw PostgresProbeFailure(description: "tls setup failed (sslmode=\(dsn.sslMode.rawValue)): \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            establishedChannel: channel, tls: dsn.host.hasPrefix("/") ? .disable : tls, username: dsn.user,
            password: dsn.password, database: dsn.database)
        // Certificate names are checked against the host name (never an IP address, as libpq).
        if !dsn.host.hasPrefix("/"), (try? SocketAddress(ipAddress: dsn.host, port: 0)) == nil {
            configuration.options.tlsServerName = dsn.host
        }
        // The check must never change data, whatever its query says.
        configuration.options.additionalStartupParameters = [
            ("default_transaction_read_only", "on"), ("application_name", "runbook postgres.check"),
        ]
        return configuration
    }

    /// A failure as a phrase: the server's own message for server errors, the socket's reason otherwise.
    static func describe(_ error: any Error, user: String, connecting: Bool) -> String {
        if let error = error as? PSQLError {
            if error.code == .server, let info = error.serverInfo {
                let message = info[.message] ?? "server error"
                let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + state
            }
            if error.code == .sslUnsupported {
                return "the server does not support TLS, which sslmode requires"
            }
            if error.code == .authMechanismRequiresPassword {
                return "the server asks for a password and the dsn has none"
            }
            if error.code == .unsupportedAuthMechanism {
                return "the server asks for an authentication method postgres-nio does not support"
            }
            if error.code == .serverClosedConnection || error.code == .uncleanShutdown {
                return "the server closed the connection"
            }
            if let underlying = error.underlying { return describe(underlying, user: user, connecting: connecting) }
            return "\(error.code)"
        }
        switch NIOTCPConnector.classify(error) {
        case .refused: return "connection refused"
        case .timedOut: return "no connection within the timeout"
        case .unresolvable: return "cannot resolve the host"
        case .failed(let why): return why
        }
    }

    /// A row as column → value; types without a natural JSON form become text when they are text on the
    /// wire, else a note to cast them.
    static func values(_ row: PostgresRow) -> [String: Value] {
        var out: [String: Value] = [:]
        for cell in row {
            out[cell.columnName] = value(cell)
        }
        return out
    }

    private static func value(_ cell: PostgresCell) -> Value {
        guard cell.bytes != nil else { return .null }
        do {
            switch cell.dataType {
            case .bool: return .bool(try cell.decode(Bool.self))
            case .int2, .int4, .int8, .oid: return .int(try cell.decode(Int.self))
            case .float4, .float8: return .double(try cell.decode(Double.self))
            case .numeric:
                let decimal = try cell.decode(Decimal.self)
                return .double(NSDecimalNumber(decimal: decimal).doubleValue)
            case .timestamp, .timestamptz, .date:
                return .string(iso8601(try cell.decode(Date.self)))
            case .json, .jsonb:
                let text = try cell.decode(String.self)
                return Value.parseJSON(text) ?? .string(text)
            case .uuid:
                return .string(try cell.decode(UUID.self).uuidString.lowercased())
            case .text, .varchar, .bpchar, .name:
                return .string(try cell.decode(String.self))
            default:
                // Enums and text-like extension types are text on the wire; other binary formats are not.
                let text = try cell.decode(String.self)
                if text.unicodeScalars.allSatisfy({ !$0.properties.isDefaultIgnorableCodePoint && ($0.value >= 0x20 || $0 == "\n" || $0 == "\t") }) {
                    return .string(text)
                }
                return uncastable(cell)
            }
        } catch {
            return uncastable(cell)
        }
    }

    /// A note in place of a value runbook cannot read: "<inet value: cast it to text in the query>".
    private static func uncastable(_ cell: PostgresCell) -> Value {
        .string("<\(String(describing: cell.dataType).lowercased()) value: cast it to text in the query>")
    }

    private static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// Set once when the probe's own timeout fired (so the error it causes is reported as the timeout).
private final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Runs `postgres.check` through a `PostgresProber`.
public struct PostgresCheckAction: Action {
    /// The declaration this implements.
    public let descriptor = DatabaseActions.postgresCheck
    /// Rows kept in the `rows` output.
    public static let maxRows = 100
    private let prober: any PostgresProber

    /// The action on the given prober (default: postgres-nio).
    public init(prober: any PostgresProber = PostgresNIOProber()) {
        self.prober = prober
    }

    /// Probes, then judges usage against `max_usage`. Failures keep the figures measured so far.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let masker = invocation.context.masker
        let dsn: PostgresDSN
        do {
            dsn = try PostgresDSN(try invocation.requireString("dsn"))
        } catch let error as PostgresDSN.Invalid {
            throw ActionFailure("parameter 'dsn': \(error.description)")
        }
        let query = invocation.string("query").flatMap { $0.isEmpty ? nil : $0 } ?? "select 1"
        let maxUsage = invocation.number("max_usage")
        if let maxUsage, !(0...1).contains(maxUsage) {
            throw ActionFailure("parameter 'max_usage' must be a fraction from 0 to 1, got \(Value.double(maxUsage).interpolationText)")
        }
        let timeout = HTTPExchange.effectiveTimeout(invocation)
        var secrets = [String]()
        if let password = dsn.password { secrets.append(password) }
        let credentials = SecretMasker(secrets: secrets)
        func mask(_ text: String) -> String { credentials.mask(masker.mask(text)) }
        let label = mask(dsn.redacted)

        let report: PostgresProbeReport
        do {
            report = try await prober.probe(dsn, query: query, maxRows: Self.maxRows, timeout: timeout)
        } catch let failure as PostgresProbeFailure {
            try Task.checkCancellation()
            throw ActionFailure(mask("\(label): \(failure.description)"))
        }
        let usage = report.maxConnections > 0 ? Double(report.connections) / Double(report.maxConnections) : 0
        let outputs: [String: Value] = [
            "connections": .int(report.connections), "max_connections": .int(report.maxConnections),
            "usage": .double((usage * 10000).rounded() / 10000), "latency_ms": .double(report.latencyMS),
            "rows": .list(report.rows.map { Value.map($0) }),
        ]
        let figures = "\(report.connections) of \(report.maxConnections) connections in use (\(Self.percent(usage)))"
        if let maxUsage, usage > maxUsage {
            throw ActionFailure(mask("\(label): \(figures), above max_usage \(Self.percent(maxUsage))"), outputs: outputs)
        }
        return ActionResult(outputs: outputs, summary: "\(figures); query took \(Int(report.latencyMS.rounded())) ms")
    }

    /// A scenario's `usage` above `max_usage` fails as a measured one does.
    public func judge(simulated outputs: [String: Value], arguments: [String: Value]) -> String? {
        // `usage`, else what `connections` of `max_connections` make (as the action computes it).
        var given = outputs["usage"]?.numberValue
        if given == nil, let used = outputs["connections"]?.numberValue, let limit = outputs["max_connections"]?.numberValue,
           limit > 0 {
            given = used / limit
        }
        guard let usage = given, let maxUsage = arguments["max_usage"]?.numberValue, usage > maxUsage else { return nil }
        return "connection usage \(Self.percent(usage)), above max_usage \(Self.percent(maxUsage))"
    }

    /// `0.853` → "85%"; "85.3%" when a rounding would hide a difference that matters near a limit.
    static func percent(_ fraction: Double) -> String {
        let p = fraction * 100
        return p == p.rounded() ? "\(Int(p))%" : "\(Value.double((p * 10).rounded() / 10).interpolationText)%"
    }
}
