// `http.check`: a read-only GET probe. Passes on an expected status within `max_latency`, or on a
// timeout when `accept_timeout` says that "down" is what the runbook wants to see.
import RunbookKit

/// Runs `http.check` over an `HTTPTransport`.
public struct HTTPCheckAction: Action {
    /// The declaration this implements.
    public let descriptor = HTTPActions.check
    private let transport: any HTTPTransport

    /// The action on the given transport (default: the process-wide AsyncHTTPClient).
    public init(transport: any HTTPTransport = AsyncHTTPTransport()) {
        self.transport = transport
    }

    /// GETs `url` and judges status, timeout and latency. Failures keep their outputs.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let url = try invocation.requireString("url")
        let expected = try StatusExpectation(invocation)
        let acceptTimeout = invocation.bool("accept_timeout") ?? false
        let maxLatency = invocation.duration("max_latency")
        let exchange = try await HTTPExchange.perform(method: "GET", url: url, body: nil, contentType: nil,
                                                      invocation: invocation, transport: transport)
        var outputs: [String: Value] = [
            "status": .int(0), "latency_ms": .double(exchange.latencyMS), "body": .string(""), "json": .null,
            "timed_out": .bool(false),
        ]
        let response: HTTPTransportResponse
        switch exchange.result {
        case .failure(.timedOut):
            outputs["timed_out"] = .bool(true)
            if acceptTimeout {
                return ActionResult(outputs: outputs, summary: "timed out after \(RunbookDuration(seconds: exchange.timeout)) (accepted)")
            }
            throw ActionFailure(exchange.message(for: .timedOut), outputs: outputs)
        case .failure(let error):
            throw ActionFailure(exchange.message(for: error), outputs: outputs)
        case .success(let r):
            response = r
        }
        let (body, json) = HTTPExchange.bodyOutputs(response)
        outputs["status"] = .int(response.status)
        outputs["body"] = body
        outputs["json"] = json
        guard expected.accepts(response.status) else {
            throw ActionFailure("\(exchange.label): expected status \(expected), got \(response.status)", outputs: outputs)
        }
        let latency = Int(exchange.latencyMS.rounded())
        if let maxLatency, exchange.latencyMS > maxLatency * 1000 {
            throw ActionFailure("\(exchange.label): took \(latency) ms, over max_latency \(RunbookDuration(seconds: maxLatency))",
                                outputs: outputs)
        }
        return ActionResult(outputs: outputs, summary: "\(response.status) in \(latency) ms")
    }
}
