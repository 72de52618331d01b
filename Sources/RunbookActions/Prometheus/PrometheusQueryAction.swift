// `prometheus.query`: one instant query over the Prometheus HTTP API, its result turned into a
// number (`value`) and a list of labelled samples (`series`).
//
// Prometheus sends sample values as strings ("0.42", "NaN", "+Inf"); they become numbers here,
// NaN and ±Inf included (a NaN compares false with everything, so `until: value < 2.5` keeps
// waiting, which is what a runbook wants from a broken ratio).
import Foundation
import RunbookKit

/// Runs `prometheus.query` over an `HTTPTransport`.
public struct PrometheusQueryAction: Action {
    /// The declaration this implements.
    public let descriptor = PrometheusActions.query
    /// The environment variable that names the server when `url` is absent.
    public static let urlVariable = "RUNBOOK_PROMETHEUS_URL"
    /// Response bytes read; an instant query returning more than this is not a probe.
    static let maxResponseBytes = 8 * 1024 * 1024

    private let transport: any HTTPTransport

    /// The action on the given transport (default: the process-wide AsyncHTTPClient).
    public init(transport: any HTTPTransport = AsyncHTTPTransport()) {
        self.transport = transport
    }

    /// Queries, decodes and judges the result. Failures keep the outputs decoded so far.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let query = try invocation.requireString("query")
        let base = try Self.baseURL(invocation)
        let requireValue = invocation.bool("require_value") ?? false
        let timeout = HTTPExchange.effectiveTimeout(invocation)
        var url = base + "/api/v1/query?query=" + Self.percentEncoded(query)
        if let time = invocation.string("time"), !time.isEmpty { url += "&time=" + Self.percentEncoded(time) }
        url += "&timeout=" + Self.percentEncoded(Value.double((timeout * 1000).rounded() / 1000).interpolationText)

        let masker = invocation.context.masker
        let label = masker.mask("prometheus at \(base)")
        var emptyOutputs: [String: Value] = ["value": .null, "series": .list([]), "empty": .bool(true)]
        let exchange = try await HTTPExchange.perform(method: "GET", url: url, body: nil, contentType: nil,
                                                      invocation: invocation, transport: transport,
                                                      maxBodyBytes: Self.maxResponseBytes)
        let response: HTTPTransportResponse
        switch exchange.result {
        case .failure(.timedOut):
            throw ActionFailure("\(label): query timed out after \(RunbookDuration(seconds: exchange.timeout))",
                                outputs: emptyOutputs)
        case .failure(.connectionRefused):
            throw ActionFailure("\(label): connection refused", outputs: emptyOutputs)
        case .failure(.tooManyRedirects):
            throw ActionFailure("\(label): more than \(AsyncHTTPTransport.maxRedirects) redirects, or a redirect loop",
                                outputs: emptyOutputs)
        case .failure(.failed(let why)):
            throw ActionFailure("\(label): \(masker.maskedPrefix(why, characters: HTTPExchange.quotedErrorCharacters, firstLine: true))",
                                outputs: emptyOutputs)
        case .success(let r):
            response = r
        }

        let result: PrometheusResult
        do {
            result = try PrometheusResult.decode(response, masker: masker)
        } catch let problem as PrometheusResult.Problem {
            throw ActionFailure(masker.mask("\(label): \(problem.description)"), outputs: emptyOutputs)
        }
        let seriesValue = Value.list(result.series.map { series in
            .map(["labels": .map(series.labels.mapValues(Value.string)), "value": .double(series.value)])
        })
        emptyOutputs = [
            "value": result.series.first.map { .double($0.value) } ?? .null,
            "series": seriesValue,
            "empty": .bool(result.series.isEmpty),
        ]
        let outputs = emptyOutputs
        if requireValue {
            if result.series.isEmpty {
                throw ActionFailure(masker.mask("\(label): query '\(query)' returned no series"), outputs: outputs)
            }
            if result.series.count > 1 {
                throw ActionFailure(masker.mask(
                    "\(label): query '\(query)' returned \(result.series.count) series; require_value needs one, "
                        + "so aggregate it (sum, max, ...) or select one series with labels"), outputs: outputs)
            }
        }
        let summary: String
        switch result.series.count {
        case 0: summary = "no series"
        case 1: summary = "value \(Value.double(result.series[0].value).interpolationText)"
        default: summary = "\(result.series.count) series"
        }
        return ActionResult(outputs: outputs, summary: summary)
    }

    /// With `require_value`, a scenario's empty answer (`empty: true`, or `value: null` beside
    /// `series`) fails as a real one does.
    public func judge(simulated outputs: [String: Value], arguments: [String: Value]) -> String? {
        guard arguments["require_value"] == .bool(true) else { return nil }
        if case .list(let series)? = outputs["series"] {
            if series.isEmpty { return "the query returned no series (require_value)" }
            if series.count > 1 { return "the query returned \(series.count) series; require_value needs one" }
            return nil
        }
        // No `series` given: `empty: true`, or a `value` of null, is an answer without a value.
        if outputs["empty"] == .bool(true) || outputs["value"] == .null {
            return "the query returned no series (require_value)"
        }
        return nil
    }

    /// `url`, else `RUNBOOK_PROMETHEUS_URL`, without a trailing slash.
    static func baseURL(_ invocation: ActionInvocation) throws -> String {
        var base = invocation.string("url") ?? ""
        if base.isEmpty { base = invocation.context.environment[urlVariable] ?? "" }
        guard !base.isEmpty else {
            throw ActionFailure("no prometheus url: set the 'url' parameter or the \(urlVariable) environment variable")
        }
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw ActionFailure(invocation.context.masker.mask("prometheus url '\(base)' must start with http:// or https://"))
        }
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// Everything but RFC 3986 unreserved characters percent-encoded: PromQL is full of `+&=#{}`.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

/// The decoded `data` of a successful instant query.
struct PrometheusResult: Equatable {
    /// One sample of an instant vector (a scalar is one series without labels).
    struct Series: Equatable {
        var labels: [String: String]
        var value: Double

        static func == (a: Series, b: Series) -> Bool {
            a.labels == b.labels && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
        }
    }

    var series: [Series]

    /// Why a response is not a usable result, as a lowercase phrase.
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// Decodes the API envelope (throws `Problem`): `{"status":"success","data":{"resultType":…,"result":…}}` or
    /// `{"status":"error","errorType":…,"error":…}` (sent with 400, 422 or 503).
    /// `masker`: the run's secrets, masked in the excerpt of a body that is not a result.
    static func decode(_ response: HTTPTransportResponse, masker: SecretMasker) throws -> PrometheusResult {
        if response.bodyTruncated {
            throw Problem(description: "the response is larger than \(PrometheusQueryAction.maxResponseBytes / 1024 / 1024) MiB; "
                + "narrow the query")
        }
        guard let envelope = Value.parseJSON(data: Data(response.body)), case .map(let top) = envelope else {
            throw Problem(description: "answered \(response.status) with a body that is not a JSON object"
                + excerpt(response.body, masker: masker) + "; is the url a prometheus server?")
        }
        let status = top["status"]?.stringValue
        if status == "error" || !(200...299).contains(response.status) {
            let type = top["errorType"]?.stringValue ?? "error"
            let message = top["error"]?.stringValue ?? "no error message"
            throw Problem(description: "query failed (\(type), status \(response.status)): \(message)")
        }
        guard status == "success", case .map(let data)? = top["data"], let type = data["resultType"]?.stringValue else {
            throw Problem(description: "malformed response: expected {status: success, data: {resultType, result}}")
        }
        switch type {
        case "scalar":
            guard case .list(let sample)? = data["result"] else { throw malformed("scalar result is not a [time, value] pair") }
            return PrometheusResult(series: [Series(labels: [:], value: try sampleValue(sample))])
        case "vector":
            guard case .list(let items)? = data["result"] else { throw malformed("vector result is not a list") }
            var series: [Series] = []
            for item in items {
                guard case .map(let entry) = item, case .list(let sample)? = entry["value"] else {
                    throw malformed("a vector element has no 'value' pair")
                }
                var labels: [String: String] = [:]
                if case .map(let metric)? = entry["metric"] {
                    for (name, value) in metric { labels[name] = value.stringValue ?? value.interpolationText }
                }
                series.append(Series(labels: labels, value: try sampleValue(sample)))
            }
            return PrometheusResult(series: series)
        case "matrix":
            throw Problem(description: "the query returned a range vector; an instant query needs an instant vector "
                + "(wrap the range in a function such as rate(), max_over_time() or last_over_time())")
        case "string":
            throw Problem(description: "the query returned a string, not a number")
        default:
            throw malformed("unknown resultType '\(type)'")
        }
    }

    private static func malformed(_ what: String) -> Problem {
        Problem(description: "malformed response: \(what)")
    }

    /// `[1712345678.123, "0.42"]` → 0.42; "NaN", "+Inf" and "-Inf" as Prometheus writes them.
    private static func sampleValue(_ sample: [Value]) throws -> Double {
        guard sample.count == 2, case .string(let text) = sample[1] else {
            throw malformed("a sample is not a [time, \"value\"] pair")
        }
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard let value = Double(text) else { throw malformed("sample value '\(text)' is not a number") }
            return value
        }
    }

    /// ": <first 120 characters>" of a body, or "" when it is empty. Masked before it is
    /// shortened, and the bytes read stop before a secret that crosses 400, not inside it: a
    /// piece of a secret would pass the masking.
    private static func excerpt(_ body: [UInt8], masker: SecretMasker) -> String {
        let head = body.prefix(masker.safePrefixLength(body, limit: 400))
        let text = masker.mask(String(decoding: head, as: UTF8.self))
            .split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return " (empty)" }
        return " ('" + (text.count > 120 ? String(text.prefix(120)) + "…" : text) + "')"
    }
}

extension String {
    /// Zero-padded on the left to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
