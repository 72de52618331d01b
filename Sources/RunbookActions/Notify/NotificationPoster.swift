// What the notification actions share: POSTing JSON through the HTTP transport, retrying with a
// bounded backoff where the receiver allows it, and messages that never show an endpoint's secrets
// (webhook URLs carry their token in the path, so only scheme://host is ever printed).
import Foundation
import RunbookKit

/// How a notification is retried: which answers, how often, how long between tries.
public struct NotificationRetryPolicy: Sendable {
    /// Tries in all, the first included (1: no retries).
    public var attempts: Int
    /// Wait before the second try, doubled before each further one.
    public var initialDelay: Double
    /// Longest wait between tries (a `Retry-After` header is honoured up to this).
    public var maxDelay: Double
    /// Retry on 5xx answers and on network failures (safe only when the receiver deduplicates).
    public var retriesServerErrors: Bool

    /// A policy; 429 is always retried while attempts remain.
    public init(attempts: Int, initialDelay: Double = 1, maxDelay: Double = 8, retriesServerErrors: Bool) {
        self.attempts = max(1, attempts)
        self.initialDelay = max(0, initialDelay)
        self.maxDelay = max(0, maxDelay)
        self.retriesServerErrors = retriesServerErrors
    }

    /// PagerDuty deduplicates by dedup_key, so every transient failure is retried: 4 tries, 1 s, 2 s, 4 s apart.
    public static let pagerDuty = NotificationRetryPolicy(attempts: 4, retriesServerErrors: true)
    /// A Slack message would post twice after a 5xx that was in fact delivered: only 429 is retried.
    public static let slack = NotificationRetryPolicy(attempts: 3, retriesServerErrors: false)
    /// No retries (a step's `retry:` can add them).
    public static let none = NotificationRetryPolicy(attempts: 1, retriesServerErrors: false)
}

/// Sends one notification and describes its endpoint without secrets.
struct NotificationPoster: Sendable {
    let transport: any HTTPTransport
    let policy: NotificationRetryPolicy

    /// The outcome of the last try.
    struct Delivery: Sendable {
        /// The last response, or why there was none.
        var result: Result<HTTPTransportResponse, HTTPTransportError>
        /// How many tries were made.
        var attempts: Int
    }

    /// POSTs `body` as JSON with `headers`, retrying per the policy; stops retrying before the step's
    /// own deadline so that the action reports the last answer. Throws only `CancellationError`.
    /// `label` names the receiver in retry warnings, which pass through `redactor`.
    func post(url: String, body: Value, headers: [(name: String, value: String)] = [], label: String,
              redactor: NotificationRedactor, invocation: ActionInvocation) async throws -> Delivery {
        var fields = headers
        if !fields.contains(where: { $0.name.lowercased() == "content-type" }) {
            fields.append(("Content-Type", "application/json"))
        }
        let timeout = HTTPExchange.effectiveTimeout(invocation)
        let request = HTTPTransportRequest(method: "POST", url: url, headers: fields, body: Array(body.jsonText().utf8),
                                           timeout: timeout, maxBodyBytes: HTTPExchange.readBodyBytes)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(RunbookDuration.milliseconds(invocation.timeout))
        var attempt = 0
        var delay = policy.initialDelay
        while true {
            attempt += 1
            let result = try await transport.sendCapturingFailure(request)
            guard attempt < policy.attempts, let wait = retryDelay(after: result, backoff: delay) else {
                return Delivery(result: result, attempts: attempt)
            }
            // Waiting past the step timeout would only turn the receiver's answer into "timed out".
            if invocation.timeout > 0, clock.now + .milliseconds(RunbookDuration.milliseconds(wait + min(timeout, 1))) > deadline {
                return Delivery(result: result, attempts: attempt)
            }
            invocation.context.emit("warning", redactor.redact("\(label)\(describe(result, redactor: redactor)); retrying in "
                                                               + "\(RunbookDuration(seconds: wait))"))
            try await Task.sleep(for: .milliseconds(RunbookDuration.milliseconds(wait)))
            delay = min(policy.maxDelay, max(delay * 2, 0.001))
        }
    }

    /// Seconds to wait before retrying, or nil when this answer is final.
    func retryDelay(after result: Result<HTTPTransportResponse, HTTPTransportError>, backoff: Double) -> Double? {
        switch result {
        case .success(let response) where response.status == 429:
            let header = response.headers.first { $0.name.lowercased() == "retry-after" }?.value
            let asked = header.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            return min(policy.maxDelay, max(backoff, asked ?? 0))
        case .success(let response) where (500...599).contains(response.status) && policy.retriesServerErrors:
            return min(policy.maxDelay, backoff)
        case .failure(let error) where policy.retriesServerErrors:
            switch error {
            case .timedOut, .connectionRefused: return min(policy.maxDelay, backoff)
            case .failed(let why) where why.contains("reset") || why.contains("closed"): return min(policy.maxDelay, backoff)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// " answered 503" / ": connection refused", to follow a label in retry warnings.
    func describe(_ result: Result<HTTPTransportResponse, HTTPTransportError>, redactor: NotificationRedactor) -> String {
        switch result {
        case .success(let response): " answered \(response.status)"
        case .failure(let error): ": " + Self.phrase(error, redactor: redactor)
        }
    }

    /// A transport error as a phrase; a client's own words redacted, then cut to 200 characters.
    static func phrase(_ error: HTTPTransportError, redactor: NotificationRedactor) -> String {
        switch error {
        case .timedOut: "timed out"
        case .connectionRefused: "connection refused"
        case .tooManyRedirects: "too many redirects"
        case .failed(let why): redactor.shortened(why, characters: HTTPExchange.quotedErrorCharacters, firstLine: true)
        }
    }
}

/// Keeps endpoint secrets out of text: the run's secrets, the values given here, and a URL's path and query.
struct NotificationRedactor: Sendable {
    /// The endpoint's own secrets (its URL, path and query, a routing key).
    let endpoint: SecretMasker
    /// The run's masker and the endpoint's secrets as one.
    let everything: SecretMasker

    /// The masker plus `url`'s full text, path and query, plus `secrets` (a routing key, say).
    init(masker: SecretMasker, url: String?, secrets: [String] = []) {
        var extra = secrets
        if let url {
            extra.append(url)
            if let parts = URLComponents(string: url) {
                if parts.path.count > 1 { extra.append(parts.path) }
                if let query = parts.query { extra.append(query) }
            }
        }
        endpoint = SecretMasker(secrets: extra)
        everything = masker.adding(extra)
    }

    /// Every secret replaced by `***`.
    func redact(_ text: String) -> String {
        everything.mask(text)
    }

    /// Only the endpoint's own secrets (URL, path, query, routing key, credential headers)
    /// replaced by `***`: for an output, whose run secrets the engine masks itself (and then
    /// lists it as having held one).
    func hidingEndpoint(_ text: String) -> String {
        endpoint.mask(text)
    }

    /// `https://hooks.slack.com/***`: only scheme, host and port of a URL.
    static func origin(of url: String) -> String {
        SecretMasker.origin(ofURL: url) ?? "the configured url"
    }

    /// Redacted, then cut to `limit` characters ("…" added when cut). Never the other way
    /// round: a cut inside a secret keeps its start, which redaction (by whole values) misses.
    /// With `firstLine`, only the first line of the redacted text is kept.
    func shortened(_ text: String, characters limit: Int, firstLine: Bool = false) -> String {
        everything.maskedPrefix(text, characters: limit, firstLine: firstLine)
    }

    /// A response body as one short line, secrets removed: the first 2 KiB (ending before a
    /// secret that crosses that point, not inside it) redacted, lines joined, then cut to 200 characters.
    func snippet(_ body: [UInt8]) -> String {
        let head = body.prefix(everything.safePrefixLength(body, limit: 2048))
        let text = redact(String(decoding: head, as: UTF8.self))
            .split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
