// `http.request`: any method, with a JSON or text body. Mutating by declaration, so the engine
// never runs it in dry-run.
import RunbookKit

/// Runs `http.request` over an `HTTPTransport`.
public struct HTTPRequestAction: Action {
    /// The declaration this implements.
    public let descriptor = HTTPActions.request
    private let transport: any HTTPTransport

    /// The action on the given transport (default: the process-wide AsyncHTTPClient).
    public init(transport: any HTTPTransport = AsyncHTTPTransport()) {
        self.transport = transport
    }

    /// Sends the request and judges the status. Failures keep their outputs.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let url = try invocation.requireString("url")
        let method = (invocation.string("method") ?? "GET").uppercased()
        let expected = try StatusExpectation(invocation)
        var body: [UInt8]?
        var contentType: String?
        switch (invocation.arguments["json"], invocation.arguments["body"]) {
        case (let json?, let text?) where json != .null && text != .null:
            throw ActionFailure("use either 'json' or 'body', not both")
        case (let json?, _) where json != .null:
            body = Array(json.jsonText().utf8)
            contentType = "application/json"
        case (_, .string(let text)?):
            body = Array(text.utf8)
            contentType = "text/plain; charset=utf-8"
        default:
            break
        }
        let exchange = try await HTTPExchange.perform(method: method, url: url, body: body, contentType: contentType,
                                                      invocation: invocation, transport: transport)
        var outputs: [String: Value] = [
            "status": .int(0), "body": .string(""), "json": .null, "headers": .map([:]),
            "latency_ms": .double(exchange.latencyMS),
        ]
        let response: HTTPTransportResponse
        switch exchange.result {
        case .failure(let error): throw ActionFailure(exchange.message(for: error), outputs: outputs)
        case .success(let r): response = r
        }
        let (text, json) = HTTPExchange.bodyOutputs(response, masker: invocation.context.masker)
        outputs["status"] = .int(response.status)
        outputs["body"] = text
        outputs["json"] = json
        outputs["headers"] = HTTPExchange.headerOutputs(response)
        guard expected.accepts(response.status) else {
            throw ActionFailure("\(exchange.label): expected status \(expected), got \(response.status)", outputs: outputs)
        }
        return ActionResult(outputs: outputs, summary: "\(response.status) in \(Int(exchange.latencyMS.rounded())) ms")
    }

    /// A scenario's status outside `expect_status` fails as a real one does.
    public func judge(simulated outputs: [String: Value], arguments: [String: Value]) -> String? {
        guard case .int(let status)? = outputs["status"], let expected = try? StatusExpectation(arguments: arguments) else { return nil }
        return HTTPCheckAction.verdict(status: status, latencyMS: nil, expected: expected, maxLatency: nil)
    }
}
