// What http.check and http.request share: reading their common arguments, sending through the
// transport while timing it, judging the status, and turning a response into outputs.
import Foundation
import RunbookKit

/// One request/response exchange of an HTTP action.
struct HTTPExchange: Sendable {
    /// Body bytes kept in the `body` output (the declarations say 64 KiB).
    static let keptBodyBytes = 64 * 1024
    /// Body bytes read from the network; `json` is parsed from these (larger bodies: `json` is null).
    static let readBodyBytes = 1024 * 1024
    /// Characters of a client error quoted in a message (after masking).
    static let quotedErrorCharacters = 200

    /// "GET http://host/path", secrets masked: the prefix of every message.
    let label: String
    /// Seconds the request was allowed.
    let timeout: Double
    /// The response, or why there is none.
    let result: Result<HTTPTransportResponse, HTTPTransportError>
    /// Time to the complete response (or to the failure), in milliseconds.
    let latencyMS: Double
    /// The run's secrets.
    let masker: SecretMasker

    /// Sends `method url` with the invocation's `headers` and `timeout`, plus `body`/`contentType`.
    /// Throws only `CancellationError`; every network failure is in `result`.
    static func perform(method: String, url: String, body: [UInt8]?, contentType: String?,
                        invocation: ActionInvocation, transport: any HTTPTransport,
                        maxBodyBytes: Int = readBodyBytes) async throws -> HTTPExchange {
        // A `user:password@` URL names its user, never its password.
        let label = invocation.context.masker.mask("\(method) \(SecretMasker.hidingURLPassword(url))")
        var headers: [(name: String, value: String)] = []
        if case .map(let given)? = invocation.arguments["headers"] {
            for name in given.keys.sorted() {
                headers.append((name, given[name]?.interpolationText ?? ""))
            }
        }
        if let contentType, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("Content-Type", contentType))
        }
        let timeout = effectiveTimeout(invocation)
        let request = HTTPTransportRequest(method: method, url: url, headers: headers, body: body, timeout: timeout,
                                           maxBodyBytes: maxBodyBytes)
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await transport.sendCapturingFailure(request)
        let elapsed = clock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return HTTPExchange(label: label, timeout: timeout, result: result, latencyMS: (ms * 10).rounded() / 10,
                            masker: invocation.context.masker)
    }

    /// The `timeout` argument, kept a little inside the step's own timeout so that the action, not the
    /// engine, reports it (and `accept_timeout` can apply).
    static func effectiveTimeout(_ invocation: ActionInvocation) -> Double {
        let requested = invocation.duration("timeout") ?? 10
        let step = invocation.timeout
        guard step > 0 else { return requested }
        let margin = min(0.25, step * 0.1)
        return max(0.001, min(requested, step - margin))
    }

    /// The failure message for a transport error: "GET url: connection refused".
    func message(for error: HTTPTransportError) -> String {
        switch error {
        case .timedOut: "\(label): timed out after \(RunbookDuration(seconds: timeout))"
        case .connectionRefused: "\(label): connection refused"
        case .tooManyRedirects: "\(label): more than \(AsyncHTTPTransport.maxRedirects) redirects, or a redirect loop"
        case .failed(let why): "\(label): \(masker.maskedPrefix(why, characters: Self.quotedErrorCharacters, firstLine: true))"
        }
    }

    /// `body` (first 64 KiB as text) and `json` (parsed when the body is JSON) of a response.
    /// The body stays as it came (the engine masks outputs, and lists those that held a secret),
    /// but is cut before a secret that crosses 64 KiB, not inside it: a piece of a secret would
    /// pass the masking. `masker`: the run's secrets, plus any the action hides itself.
    static func bodyOutputs(_ response: HTTPTransportResponse, masker: SecretMasker) -> (body: Value, json: Value) {
        let kept = response.body.count > keptBodyBytes
            ? Array(response.body.prefix(masker.safePrefixLength(response.body, limit: keptBodyBytes))) : response.body
        let text = String(decoding: kept, as: UTF8.self)
        var json = Value.null
        if !response.bodyTruncated, looksLikeJSON(response) {
            json = Value.parseJSON(data: Data(response.body)) ?? .null
        }
        return (.string(text), json)
    }

    /// A JSON content type, or a body that starts like a JSON document.
    static func looksLikeJSON(_ response: HTTPTransportResponse) -> Bool {
        if let type = response.headers.first(where: { $0.name.lowercased() == "content-type" })?.value.lowercased(),
           type.contains("json") {
            return true
        }
        let first = response.body.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// Header names in lower case; repeated fields joined with ", ".
    static func headerOutputs(_ response: HTTPTransportResponse) -> Value {
        var out: [String: String] = [:]
        for field in response.headers {
            let name = field.name.lowercased()
            out[name] = out[name].map { "\($0), \(field.value)" } ?? field.value
        }
        return .map(out.mapValues(Value.string))
    }
}

/// `expect_status`: one code, a list, or (absent) any 2xx.
struct StatusExpectation: Sendable, CustomStringConvertible {
    /// nil: 200–299.
    let codes: [Int]?

    /// Reads `expect_status` from the arguments.
    init(_ invocation: ActionInvocation) throws { try self.init(arguments: invocation.arguments) }

    /// Reads `expect_status` from resolved arguments.
    init(arguments: [String: Value]) throws {
        switch arguments["expect_status"] {
        case nil, .null?: codes = nil
        case .int(let code)?: codes = [code]
        case .list(let items)?:
            let ints = items.compactMap { item -> Int? in
                if case .int(let i) = item { return i }
                return nil
            }
            guard ints.count == items.count, !ints.isEmpty else {
                throw ActionFailure("parameter 'expect_status' must be a status code or a non-empty list of them")
            }
            codes = ints
        case let other?:
            throw ActionFailure("parameter 'expect_status' must be a status code or a list of them, got \(other.typeName)")
        }
    }

    /// Whether `status` passes.
    func accepts(_ status: Int) -> Bool {
        guard let codes else { return (200...299).contains(status) }
        return codes.contains(status)
    }

    /// "200", "200 or 204", "one of 200, 201, 204", "200–299".
    var description: String {
        guard let codes else { return "200–299" }
        switch codes.count {
        case 1: return String(codes[0])
        case 2: return "\(codes[0]) or \(codes[1])"
        default: return "one of " + codes.map(String.init).joined(separator: ", ")
        }
    }
}
