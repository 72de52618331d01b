// A real HTTP/1.1 server on 127.0.0.1 for tests: scripted routes, every request recorded.
//
//     let server = TestHTTPServer()
//     server.route("/health", .text("ok"))
//     server.route("/flaky", .init(status: 503), .init(status: 503), .text("ok"))  // in order, last repeats
//     server.route("/slow", .init(status: 200, delay: 2))
//     server.route("/old", .redirect(to: "/health"))
//     try await server.start()
//     defer { Task { try? await server.stop() } }   // or use `withTestHTTPServer`
//     ... server.url("/health?x=1") ...
//     #expect(server.requests(path: "/health").first?.header("authorization") == "Bearer t")
//
// An unknown path answers 404. Routes may be changed while the server runs.
// `TestHTTPServer.closedPortURL` is a loopback URL where connections are refused.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// One scripted answer.
public struct TestHTTPResponse: Sendable {
    /// Status code.
    public var status: Int
    /// Header fields; `content-length` is always set by the server.
    public var headers: [(name: String, value: String)]
    /// Body bytes.
    public var body: [UInt8]
    /// Seconds to wait before answering (to exercise client timeouts and latency bounds).
    public var delay: Double

    /// A response with a text body.
    public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: String = "", delay: Double = 0) {
        self.status = status
        self.headers = headers
        self.body = Array(body.utf8)
        self.delay = delay
    }

    /// `text/plain` body.
    public static func text(_ body: String, status: Int = 200, delay: Double = 0) -> TestHTTPResponse {
        TestHTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: body, delay: delay)
    }

    /// `application/json` body, given as JSON text.
    public static func json(_ body: String, status: Int = 200, delay: Double = 0) -> TestHTTPResponse {
        TestHTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body, delay: delay)
    }

    /// A redirect to `location` (a path on this server, or a full URL).
    public static func redirect(to location: String, status: Int = 302) -> TestHTTPResponse {
        TestHTTPResponse(status: status, headers: [("Location", location)])
    }
}

/// A request as the server received it.
public struct TestHTTPRequest: Sendable {
    /// Upper-case method.
    public var method: String
    /// Path and query, as sent: `/health?model=qwen`.
    public var uri: String
    /// The path without the query.
    public var path: String
    /// Header fields in order, names as sent.
    public var headers: [(name: String, value: String)]
    /// Body bytes.
    public var body: [UInt8]

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The first value of a header, matched case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A loopback HTTP/1.1 server with an ephemeral port, built on SwiftNIO. Thread-safe.
public final class TestHTTPServer: Sendable {
    private struct Route: Sendable {
        var method: String?
        var responses: [TestHTTPResponse]
        var served = 0
    }

    private struct State: Sendable {
        var routes: [String: [Route]] = [:]
        var requests: [TestHTTPRequest] = []
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var acceptedConnections = 0
        var port: Int?
    }

    private let state = NIOLockedValueBox(State())

    /// A stopped server with no routes.
    public init() {}

    /// Answers requests to `path` (query ignored) with `responses` in order; the last one repeats.
    /// With `method`, only that method matches (others fall through to a route without a method, else 404).
    /// A later call for the same path and method replaces the earlier one.
    public func route(_ path: String, method: String? = nil, _ responses: TestHTTPResponse...) {
        precondition(!responses.isEmpty, "a route needs at least one response")
        let method = method?.uppercased()
        state.withLockedValue { state in
            var routes = state.routes[path, default: []].filter { $0.method != method }
            routes.append(Route(method: method, responses: responses))
            state.routes[path] = routes
        }
    }

    /// Binds 127.0.0.1 on an ephemeral port.
    public func start() async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(TestHTTPHandler(server: self))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        state.withLockedValue {
            $0.serverChannel = channel
            $0.port = channel.localAddress?.port
        }
    }

    /// Closes the listening socket and every open connection (delayed answers are dropped).
    public func stop() async throws {
        let (server, connections) = state.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            defer {
                state.serverChannel = nil
                state.connections = [:]
            }
            return (state.serverChannel, Array(state.connections.values))
        }
        for connection in connections { try? await connection.close() }
        try await server?.close()
    }

    /// The bound port (0 before `start`).
    public var port: Int { state.withLockedValue { $0.port ?? 0 } }

    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `baseURL` + a path (with query): `url("/health?x=1")`.
    public func url(_ pathAndQuery: String) -> String { baseURL + pathAndQuery }

    /// Every request received, in order.
    public var requests: [TestHTTPRequest] { state.withLockedValue { $0.requests } }

    /// How many requests arrived.
    public var requestCount: Int { state.withLockedValue { $0.requests.count } }

    /// How many connections were accepted, including ones that never sent a complete HTTP request
    /// (a TCP probe, a non-HTTP client).
    public var connectionCount: Int { state.withLockedValue { $0.acceptedConnections } }

    /// The requests whose path (query ignored) is `path`.
    public func requests(path: String) -> [TestHTTPRequest] {
        state.withLockedValue { $0.requests.filter { $0.path == path } }
    }

    /// `http://127.0.0.1:PORT` where a connection is refused: the port is bound (so no other test can
    /// take it) but never listens. One such port serves the whole test process.
    public static var closedPortURL: String { "http://127.0.0.1:\(reservedClosedPort)" }

    private static let reservedClosedPort: Int = {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        precondition(fd >= 0, "socket() failed")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        precondition(bound, "bind() on 127.0.0.1 failed")
        return Int(UInt16(bigEndian: address.sin_port))
    }()

    // MARK: internals

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue {
            $0.connections[id] = channel
            $0.acceptedConnections += 1
        }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLockedValue { $0.connections.removeValue(forKey: id) }
        }
    }

    /// Records the request and picks its answer.
    fileprivate func answer(_ request: TestHTTPRequest) -> TestHTTPResponse {
        state.withLockedValue { state in
            state.requests.append(request)
            guard var routes = state.routes[request.path],
                  let index = routes.firstIndex(where: { $0.method == request.method })
                      ?? routes.firstIndex(where: { $0.method == nil }) else {
                return TestHTTPResponse.text("no route for \(request.path)", status: 404)
            }
            let route = routes[index]
            let response = route.responses[min(route.served, route.responses.count - 1)]
            routes[index].served += 1
            state.routes[request.path] = routes
            return response
        }
    }
}

/// Starts a server, runs `body`, and stops the server even when `body` throws.
public func withTestHTTPServer<T>(_ body: (TestHTTPServer) async throws -> T) async throws -> T {
    let server = TestHTTPServer()
    try await server.start()
    do {
        let result = try await body(server)
        try await server.stop()
        return result
    } catch {
        try? await server.stop()
        throw error
    }
}

/// Collects one request, asks the server for the answer, writes it (after its delay).
private final class TestHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: TestHTTPServer
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(server: TestHTTPServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            self.head = nil
            let uri = head.uri
            let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
            let request = TestHTTPRequest(method: head.method.rawValue, uri: uri, path: path,
                                          headers: head.headers.map { ($0.name, $0.value) }, body: body)
            let response = server.answer(request)
            let keepAlive = head.isKeepAlive
            let isHead = head.method == .HEAD
            let version = head.version
            if response.delay > 0 {
                context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(response.delay * 1_000_000_000))) {
                    guard context.channel.isActive else { return }
                    self.write(response, version: version, keepAlive: keepAlive, omitBody: isHead, context: context)
                }
            } else {
                write(response, version: version, keepAlive: keepAlive, omitBody: isHead, context: context)
            }
        }
    }

    private func write(_ response: TestHTTPResponse, version: HTTPVersion, keepAlive: Bool, omitBody: Bool,
                       context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !omitBody && !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        if !keepAlive {
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
