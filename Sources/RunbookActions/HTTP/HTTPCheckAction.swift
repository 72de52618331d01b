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
        let (body, json) = HTTPExchange.bodyOutputs(response, masker: invocation.context.masker)
        outputs["status"] = .int(response.status)
        outputs["body"] = body
        outputs["json"] = json
        if let why = Self.verdict(status: response.status, latencyMS: exchange.latencyMS, expected: expected, maxLatency: maxLatency) {
            throw ActionFailure("\(exchange.label): \(why)", outputs: outputs)
        }
        return ActionResult(outputs: outputs, summary: "\(response.status) in \(Int(exchange.latencyMS.rounded())) ms")
    }

    /// Why an answer fails the check (an unexpected status, too slow), nil when it passes: the
    /// same judgement for a real answer and a scenario's simulated one.
    static func verdict(status: Int?, latencyMS: Double?, expected: StatusExpectation, maxLatency: Double?) -> String? {
        if let status, !expected.accepts(status) { return "expected status \(expected), got \(status)" }
        if let latencyMS, let maxLatency, latencyMS > maxLatency * 1000 {
            return "took \(Int(latencyMS.rounded())) ms, over max_latency \(RunbookDuration(seconds: maxLatency))"
        }
        return nil
    }

    public func judge(simulated outputs: [String: Value], arguments: [String: Value]) -> String? {
        if outputs["timed_out"] == .bool(true) {
            return arguments["accept_timeout"] == .bool(true) ? nil : "timed out"
        }
        guard let expected = try? StatusExpectation(arguments: arguments) else { return nil }
        var status: Int?
        if case .int(let s)? = outputs["status"] { status = s }
        return Self.verdict(status: status, latencyMS: outputs["latency_ms"]?.numberValue, expected: expected,
                            maxLatency: ActionInvocation.duration(arguments["max_latency"]))
    }
}
