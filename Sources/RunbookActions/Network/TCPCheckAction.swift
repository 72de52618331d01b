// `tcp.check`: open a TCP connection and close it at once. The connect itself sits behind a small
// protocol so that scenario tests can answer without a network.
import NIOCore
import NIOPosix
import RunbookKit

/// Why a TCP connect failed.
public enum TCPConnectError: Error, Sendable, Equatable {
    /// Nothing listens at the address (ECONNREFUSED).
    case refused
    /// No connection within the timeout.
    case timedOut
    /// The host name does not resolve.
    case unresolvable
    /// Anything else, as a lowercase phrase.
    case failed(String)
}

/// Opens TCP connections. Implementations honour the timeout and report failures as `TCPConnectError`
/// (anything else is classified by `NIOTCPConnector.classify`).
public protocol TCPConnector: Sendable {
    /// Connects to `host`:`port` and closes the connection again.
    func connect(host: String, port: Int, timeout: Double) async throws
}

/// The real connector: a SwiftNIO client bootstrap (Happy Eyeballs over IPv4 and IPv6).
public struct NIOTCPConnector: TCPConnector {
    /// The connector on NIO's process-wide event loop group.
    public init() {}

    /// Connects and closes; the timeout covers name resolution and the handshake.
    public func connect(host: String, port: Int, timeout: Double) async throws {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(max(1, RunbookDuration.milliseconds(timeout))))
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            try? await channel.close()
        } catch {
            throw Self.classify(error)
        }
    }

    /// The few cases `tcp.check` tells apart.
    static func classify(_ error: any Error) -> TCPConnectError {
        if let error = error as? TCPConnectError { return error }
        if let error = error as? ChannelError, case .connectTimeout = error { return .timedOut }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return .refused
            case ETIMEDOUT: return .timedOut
            default: return .failed(phrase(error))
            }
        }
        if let error = error as? NIOConnectionError {
            let failures = error.connectionErrors.map { classify($0.error) }
            if failures.contains(.refused) { return .refused }
            if failures.contains(.timedOut) { return .timedOut }
            if let first = failures.first { return first }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return .unresolvable }
            return .unresolvable
        }
        if error is SocketAddressError { return .unresolvable }
        return .failed(phrase(error))
    }

    private static func phrase(_ error: any Error) -> String {
        let text = String(describing: error)
        guard let first = text.first else { return "connect failed" }
        return first.lowercased() + text.dropFirst()
    }
}

/// Runs `tcp.check` through a `TCPConnector`.
public struct TCPCheckAction: Action {
    /// The declaration this implements.
    public let descriptor = NetworkActions.tcpCheck
    private let connector: any TCPConnector

    /// The action on the given connector (default: SwiftNIO).
    public init(connector: any TCPConnector = NIOTCPConnector()) {
        self.connector = connector
    }

    /// Connects, times it, and reports refusals, timeouts and unknown hosts as failures.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let host = try invocation.requireString("host")
        guard let port = invocation.int("port"), (1...65535).contains(port) else {
            throw ActionFailure("parameter 'port' must be a port number from 1 to 65535")
        }
        let timeout = HTTPExchange.effectiveTimeout(invocation)
        let label = invocation.context.masker.mask(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        let clock = ContinuousClock()
        let start = clock.now
        var failure: TCPConnectError?
        do {
            try await connector.connect(host: host, port: port, timeout: timeout)
        } catch let error as TCPConnectError {
            failure = error
        } catch {
            try Task.checkCancellation()
            failure = NIOTCPConnector.classify(error)
        }
        try Task.checkCancellation()
        let elapsed = clock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let latency = (ms * 10).rounded() / 10
        let outputs: [String: Value] = ["latency_ms": .double(latency)]
        switch failure {
        case nil:
            return ActionResult(outputs: outputs, summary: "connected in \(Int(latency.rounded())) ms")
        case .refused?:
            throw ActionFailure("\(label): connection refused", outputs: outputs)
        case .timedOut?:
            throw ActionFailure("\(label): no connection within \(RunbookDuration(seconds: timeout))", outputs: outputs)
        case .unresolvable?:
            throw ActionFailure("\(label): cannot resolve host '\(invocation.context.masker.mask(host))'", outputs: outputs)
        case .failed(let why)?:
            throw ActionFailure(invocation.context.masker.mask("\(label): \(why)"), outputs: outputs)
        }
    }
}
