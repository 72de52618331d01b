// The network side of the HTTP actions, behind a small protocol so that tests (and anything that
// must not touch the network) can swap it. The real transport is AsyncHTTPClient with one client
// shared by every request of the process.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import RunbookKit

/// One HTTP request, in plain types (no AsyncHTTPClient or NIO types leak into the actions).
public struct HTTPTransportRequest: Sendable {
    /// Upper-case method name: GET, POST, ...
    public var method: String
    /// Absolute http or https URL.
    public var url: String
    /// Header fields in order; a name may repeat.
    public var headers: [(name: String, value: String)]
    /// Request body; nil sends none.
    public var body: [UInt8]?
    /// Seconds the whole exchange (connect, send, complete response) may take.
    public var timeout: Double
    /// Read at most this many body bytes; the rest is discarded.
    public var maxBodyBytes: Int
    /// TLS settings for https URLs; nil: the system's trust roots, no client certificate.
    public var tls: HTTPTransportTLS?

    /// A request; `timeout` in seconds.
    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                timeout: Double, maxBodyBytes: Int, tls: HTTPTransportTLS? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
        self.tls = tls
    }
}

/// TLS settings of one request, as PEM bytes (what kubeconfig files and service-account mounts hold).
public struct HTTPTransportTLS: Sendable, Hashable {
    /// PEM certificates to trust instead of the system roots; nil: the system roots.
    public var trustRootsPEM: [UInt8]?
    /// PEM client certificate (chain) presented to the server; needs `clientKeyPEM`.
    public var clientCertificatePEM: [UInt8]?
    /// PEM private key of the client certificate.
    public var clientKeyPEM: [UInt8]?
    /// false: accept any server certificate (kubeconfig's `insecure-skip-tls-verify`).
    public var verifyServer: Bool

    /// Settings; every part optional.
    public init(trustRootsPEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil,
                verifyServer: Bool = true) {
        self.trustRootsPEM = trustRootsPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.verifyServer = verifyServer
    }

    /// Why a part is unusable, as a lowercase phrase: names the part ("certificate authority: ...").
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        /// The phrase.
        public var description: String
    }

    /// Checks that every PEM part parses, so a bad file is reported before any request is sent.
    /// Throws `Invalid`.
    public func validate() throws {
        _ = try makeConfiguration()
    }

    /// The NIOSSL configuration these settings describe.
    func makeConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let roots = trustRootsPEM {
            guard let certificates = try? NIOSSLCertificate.fromPEMBytes(roots), !certificates.isEmpty else {
                throw Invalid(description: "certificate authority: no PEM certificate could be read")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        switch (clientCertificatePEM, clientKeyPEM) {
        case (nil, nil):
            break
        case (let certificate?, let key?):
            guard let chain = try? NIOSSLCertificate.fromPEMBytes(certificate), !chain.isEmpty else {
                throw Invalid(description: "client certificate: no PEM certificate could be read")
            }
            guard let privateKey = try? NIOSSLPrivateKey(bytes: key, format: .pem) else {
                throw Invalid(description: "client key: no PEM private key could be read")
            }
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(privateKey)
        case (_?, nil):
            throw Invalid(description: "a client certificate needs its client key")
        case (nil, _?):
            throw Invalid(description: "a client key needs its client certificate")
        }
        if !verifyServer { configuration.certificateVerification = .none }
        return configuration
    }
}

/// A complete response (after redirects).
public struct HTTPTransportResponse: Sendable {
    /// Status code of the final response.
    public var status: Int
    /// Header fields in order, names as the server sent them.
    public var headers: [(name: String, value: String)]
    /// The body, at most the request's `maxBodyBytes`.
    public var body: [UInt8]
    /// Whether the server sent more than `body` holds.
    public var bodyTruncated: Bool

    /// A response as received.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [], bodyTruncated: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
    }
}

/// Why no response arrived. Cancellation is reported as `CancellationError`, never as one of these.
public enum HTTPTransportError: Error, Sendable, Equatable {
    /// The request did not complete within its timeout (connect timeouts included).
    case timedOut
    /// Nothing listens at the address.
    case connectionRefused
    /// More redirects than the client follows, or a redirect cycle.
    case tooManyRedirects
    /// Anything else, as a lowercase phrase.
    case failed(String)
}

/// Sends HTTP requests. Implementations must honour `timeout` and task cancellation.
public protocol HTTPTransport: Sendable {
    /// Sends one request and reads its response, following redirects for GET and HEAD.
    func send(_ request: HTTPTransportRequest) async throws -> HTTPTransportResponse
}

extension HTTPTransport {
    /// Sends the request; a transport failure is returned as a value (for the step's outputs and
    /// messages), cancellation (timeout, Ctrl-C) is thrown.
    func sendCapturingFailure(_ request: HTTPTransportRequest) async throws -> Result<HTTPTransportResponse, HTTPTransportError> {
        do {
            return .success(try await send(request))
        } catch let error as HTTPTransportError {
            return .failure(error)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return .failure(.failed(AsyncHTTPTransport.phrase(String(describing: error))))
        }
    }
}

/// The real transport: AsyncHTTPClient, one client for the whole process.
public struct AsyncHTTPTransport: HTTPTransport {
    /// Most redirects followed for one request.
    public static let maxRedirects = 5

    /// The process-wide client. It lives as long as the process, so it is never shut down; a client per
    /// request would leak connections and threads. It follows no redirect itself: `send` does, so
    /// that it can choose what goes along to the next host.
    static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            // Longer than any usual `timeout`, so the request's own timeout is the one that fires.
            timeout: .init(connect: .seconds(60)),
            decompression: .enabled(limit: .ratio(25))
        )
        // A probe must report "connection refused" at once; retrying belongs to the step's `retry:`.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The URL without its `user:password@` part, and that part as a Basic `Authorization`
    /// value (percent-decoded, as RFC 3986 writes them); the URL as is when it has none.
    static func splittingCredentials(_ text: String) -> (url: String, authorization: String?) {
        guard var parts = URLComponents(string: text), let user = parts.user else { return (text, nil) }
        let credentials = user + ":" + (parts.password ?? "")
        parts.user = nil
        parts.password = nil
        guard let url = parts.string else { return (text, nil) }
        return (url, "Basic " + Data(credentials.utf8).base64EncodedString())
    }

    /// Whether a request follows redirects: only reads (GET, HEAD) do. A 301/302/303 would turn a
    /// POST into a GET without its body and report the GET's success, so for a change the 3xx is
    /// the answer.
    static func followsRedirects(_ method: String) -> Bool { method == "GET" || method == "HEAD" }

    /// `scheme://host:port`, lower-cased, with the scheme's default port: what a redirect must
    /// keep for the request's headers to go along.
    static func origin(_ url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? ""
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
    }

    /// Where a redirect answer points, resolved against the URL that answered; nil when it is
    /// not a redirect or has no usable `Location`.
    static func redirectTarget(_ response: HTTPClientResponse, from url: String) -> URL? {
        guard [301, 302, 303, 307, 308].contains(Int(response.status.code)),
              let location = response.headers.first(name: "location"),
              let base = URL(string: url), let target = URL(string: location, relativeTo: base)?.absoluteURL,
              let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https", target.host != nil
        else { return nil }
        return target
    }

    /// The transport on the process-wide client.
    public init() {}

    /// Sends the request; the timeout covers the whole exchange, body included.
    public func send(_ request: HTTPTransportRequest) async throws -> HTTPTransportResponse {
        // AsyncHTTPClient traps on a port past 65535: whatever built the URL, the step fails instead.
        if let problem = URLCheck.portProblem(request.url) { throw HTTPTransportError.failed(problem) }
        // The client refuses these too, but with its own type's name for a message.
        for field in request.headers {
            if !ParameterConstraint.isHeaderName(field.name) {
                throw HTTPTransportError.failed("header '\(field.name)' is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)")
            }
            if field.value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) {
                throw HTTPTransportError.failed("the value of header '\(field.name)' holds a line break or a NUL")
            }
        }
        // `http://user:password@host/`: sent as Basic credentials, as curl does (the client would
        // drop them), unless the runbook gives its own Authorization header.
        let (url, basic) = Self.splittingCredentials(request.url)
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for field in request.headers { outgoing.headers.add(name: field.name, value: field.value) }
        if let basic, !outgoing.headers.contains(name: "authorization") {
            outgoing.headers.add(name: "Authorization", value: basic)
        }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        if let tls = request.tls {
            do { outgoing.tlsConfiguration = try tls.makeConfiguration() } catch {
                throw HTTPTransportError.failed("tls: \(error)")
            }
        }
        let prepared = outgoing
        let timeout = max(0.001, request.timeout)
        let client = Self.sharedClient
        let follows = Self.followsRedirects(request.method)
        let limit = max(0, request.maxBodyBytes)
        do {
            return try await withThrowingTaskGroup(of: HTTPTransportResponse.self) { group in
                group.addTask {
                    // A little slack so that our own timer, not the client's deadline, reports the timeout.
                    let deadline = NIODeadline.now() + .nanoseconds(Int64(RunbookDuration.nanoseconds(timeout + 1)))
                    var outgoing = prepared
                    var response = try await client.execute(outgoing, deadline: deadline)
                    var visited: Set<String> = [outgoing.url]
                    while follows, let target = Self.redirectTarget(response, from: outgoing.url) {
                        guard visited.count <= Self.maxRedirects, visited.insert(target.absoluteString).inserted else {
                            throw HTTPTransportError.tooManyRedirects
                        }
                        // What the redirect answered with is not read; what the runbook set (an API
                        // key, a token) goes along only to the origin it named.
                        for try await _ in response.body {}
                        if let from = URL(string: outgoing.url), Self.origin(from) != Self.origin(target) {
                            outgoing.headers = [:]
                        }
                        outgoing.url = target.absoluteString
                        if URLCheck.portProblem(outgoing.url) != nil { throw HTTPTransportError.failed("redirected to a bad port") }
                        response = try await client.execute(outgoing, deadline: deadline)
                    }
                    var body: [UInt8] = []
                    var truncated = false
                    for try await chunk in response.body {
                        let room = limit - body.count
                        if chunk.readableBytes > room {
                            body += chunk.readableBytesView.prefix(room)
                            truncated = true
                            break
                        }
                        body += chunk.readableBytesView
                    }
                    return HTTPTransportResponse(status: Int(response.status.code),
                                                 headers: response.headers.map { ($0.name, $0.value) },
                                                 body: body, bodyTruncated: truncated)
                }
                group.addTask {
                    try await Task.sleep(nanoseconds: RunbookDuration.nanoseconds(timeout))
                    throw HTTPTransportError.timedOut
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw Self.classify(error)
        }
    }

    /// Maps client and socket errors to the few cases the actions tell apart.
    static func classify(_ error: any Error) -> any Error {
        if error is HTTPTransportError || error is CancellationError { return error }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout, .getConnectionFromPoolTimeout,
                 .tlsHandshakeTimeout:
                return HTTPTransportError.timedOut
            case .redirectLimitReached, .redirectCycleDetected:
                return HTTPTransportError.tooManyRedirects
            case .cancelled:
                return CancellationError()
            case .remoteConnectionClosed:
                return HTTPTransportError.failed("the server closed the connection")
            case .invalidURL, .emptyHost, .emptyScheme:
                return HTTPTransportError.failed("invalid url")
            default:
                break
            }
        }
        if let e = error as? IOError, e.errnoCode == ECONNREFUSED { return HTTPTransportError.connectionRefused }
        if let e = error as? IOError, e.errnoCode == ECONNRESET {
            return HTTPTransportError.failed("connection reset by the server")
        }
        let text = String(describing: error)
        if text.localizedCaseInsensitiveContains("connection refused") { return HTTPTransportError.connectionRefused }
        if text.localizedCaseInsensitiveContains("connection reset") {
            return HTTPTransportError.failed("connection reset by the server")
        }
        if text.localizedCaseInsensitiveContains("timed out") || text.localizedCaseInsensitiveContains("timeout") {
            return HTTPTransportError.timedOut
        }
        return HTTPTransportError.failed(Self.phrase(text))
    }

    /// A client error's description as a lowercase phrase, every line of it. The actions keep
    /// its first line and shorten it after masking (`SecretMasker.maskedPrefix(_:characters:
    /// firstLine:)`): the transport does not know the run's secrets, and a cut made here (even
    /// at a newline, inside a multi-line secret) could keep the start of one.
    static func phrase(_ text: String) -> String {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let first = text.first else { return "request failed" }
        return first.lowercased() + text.dropFirst()
    }
}
