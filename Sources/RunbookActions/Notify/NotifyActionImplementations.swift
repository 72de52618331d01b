// `notify.slack`, `notify.pagerduty` and `notify.webhook` over the HTTP transport. Endpoints come
// from parameters or the environment, never from the engine; failure messages never show a secret
// (routing keys, webhook URL paths). Payloads and retries are documented in docs/notifications.md.
import Foundation
import RunbookKit

extension NotifyActions {
    /// Environment variable holding the Slack webhook URL when `webhook_url` is not given.
    public static let slackWebhookVariable = "RUNBOOK_SLACK_WEBHOOK_URL"
    /// Environment variable holding the PagerDuty Events API endpoint when `url` is not given.
    public static let pagerDutyURLVariable = "RUNBOOK_PAGERDUTY_URL"

    /// The implementations of every notification action.
    public static func implementations(transport: any HTTPTransport = AsyncHTTPTransport()) -> [any Action] {
        [SlackNotifyAction(transport: transport), PagerDutyNotifyAction(transport: transport),
         WebhookNotifyAction(transport: transport)]
    }

    /// A parameter, else the environment variable, else nil (empty counts as absent).
    static func endpoint(_ invocation: ActionInvocation, parameter: String, variable: String) -> String? {
        if let given = invocation.string(parameter), !given.isEmpty { return given }
        if let fromEnvironment = invocation.context.environment[variable], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return nil
    }
}

/// `notify.slack`: an incoming-webhook message.
public struct SlackNotifyAction: Action {
    /// The declaration this implements.
    public let descriptor = NotifyActions.slack
    private let poster: NotificationPoster

    /// The action on the given transport and retry policy (default: 429 retried twice).
    public init(transport: any HTTPTransport = AsyncHTTPTransport(), retry: NotificationRetryPolicy = .slack) {
        poster = NotificationPoster(transport: transport, policy: retry)
    }

    /// The JSON Slack receives: `text`, then `blocks`, `channel`, `username` when given.
    static func payload(_ invocation: ActionInvocation) throws -> Value {
        var payload: [String: Value] = ["text": .string(try invocation.requireString("text"))]
        if let blocks = invocation.arguments["blocks"], blocks != .null {
            guard case .list = blocks else { throw ActionFailure("parameter 'blocks' must be a list of Block Kit blocks") }
            payload["blocks"] = blocks
        }
        for key in ["channel", "username"] {
            if let value = invocation.string(key), !value.isEmpty { payload[key] = .string(value) }
        }
        return .map(payload)
    }

    /// Posts the message; Slack answers 200 "ok", or an error code as text ("invalid_payload", "no_service").
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        guard let url = NotifyActions.endpoint(invocation, parameter: "webhook_url",
                                               variable: NotifyActions.slackWebhookVariable) else {
            throw ActionFailure("no slack webhook: pass 'webhook_url' (e.g. secrets.slack_webhook) or set "
                                + NotifyActions.slackWebhookVariable)
        }
        let payload = try Self.payload(invocation)
        let redactor = NotificationRedactor(masker: invocation.context.masker, url: url)
        let label = "slack webhook at \(NotificationRedactor.origin(of: url))"
        let delivery = try await poster.post(url: url, body: payload, label: label, redactor: redactor,
                                             invocation: invocation)
        switch delivery.result {
        case .failure(let error):
            throw ActionFailure(redactor.redact("\(label): \(NotificationPoster.phrase(error, redactor: redactor))"),
                                outputs: ["status": .int(0)])
        case .success(let response):
            let outputs: [String: Value] = ["status": .int(response.status)]
            guard (200...299).contains(response.status) else {
                let body = redactor.snippet(response.body)
                let tries = delivery.attempts > 1 ? " after \(delivery.attempts) tries" : ""
                throw ActionFailure("\(label) answered \(response.status)\(tries)" + (body.isEmpty ? "" : ": \(body)"),
                                    outputs: outputs)
            }
            return ActionResult(outputs: outputs, summary: "posted to slack (\(response.status))")
        }
    }
}

/// `notify.pagerduty`: an Events API v2 event.
public struct PagerDutyNotifyAction: Action {
    /// The declaration this implements.
    public let descriptor = NotifyActions.pagerduty
    private let poster: NotificationPoster

    /// PagerDuty's limit on `summary`.
    static let maxSummaryLength = 1024

    /// The action on the given transport and retry policy (default: 429, 5xx and network failures
    /// retried, 4 tries in all).
    public init(transport: any HTTPTransport = AsyncHTTPTransport(), retry: NotificationRetryPolicy = .pagerDuty) {
        poster = NotificationPoster(transport: transport, policy: retry)
    }

    /// `runbook/<runbook id>/<run id>`: one alert per run.
    static func defaultDedupKey(_ context: ActionContext) -> String { "runbook/\(context.runbookID)/\(context.runID)" }

    /// The event: routing_key, event_action, dedup_key, and for a trigger the payload
    /// (summary, source, severity, component, custom_details).
    static func event(_ invocation: ActionInvocation, routingKey: String) throws -> (event: Value, dedupKey: String) {
        let action = invocation.string("event_action") ?? "trigger"
        guard ["trigger", "acknowledge", "resolve"].contains(action) else {
            throw ActionFailure("parameter 'event_action' must be trigger, acknowledge or resolve, got '\(action)'")
        }
        let dedupKey = invocation.string("dedup_key").flatMap { $0.isEmpty ? nil : $0 }
            ?? defaultDedupKey(invocation.context)
        var event: [String: Value] = [
            "routing_key": .string(routingKey), "event_action": .string(action), "dedup_key": .string(dedupKey),
        ]
        if action == "trigger" {
            guard var summary = invocation.string("summary"), !summary.isEmpty else {
                throw ActionFailure("parameter 'summary' is required for a trigger event")
            }
            if summary.count > maxSummaryLength { summary = String(summary.prefix(maxSummaryLength - 1)) + "…" }
            var payload: [String: Value] = [
                "summary": .string(summary),
                "source": .string(invocation.string("source").flatMap { $0.isEmpty ? nil : $0 }
                    ?? "runbook/\(invocation.context.runbookID)"),
                "severity": .string(invocation.string("severity") ?? "error"),
            ]
            if let component = invocation.string("component"), !component.isEmpty {
                payload["component"] = .string(component)
            }
            if let details = invocation.arguments["details"], details != .null {
                payload["custom_details"] = details
            }
            event["payload"] = .map(payload)
        }
        return (.map(event), dedupKey)
    }

    /// Sends the event; PagerDuty answers 202 {status, message, dedup_key}.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let routingKey = try invocation.requireString("routing_key")
        guard let url = NotifyActions.endpoint(invocation, parameter: "url", variable: NotifyActions.pagerDutyURLVariable)
        else {
            throw ActionFailure("no pagerduty endpoint: pass 'url' (e.g. https://events.pagerduty.com/v2/enqueue) or set "
                                + NotifyActions.pagerDutyURLVariable)
        }
        let (event, dedupKey) = try Self.event(invocation, routingKey: routingKey)
        let redactor = NotificationRedactor(masker: invocation.context.masker, url: nil, secrets: [routingKey])
        let label = redactor.redact("pagerduty at \(Self.printable(url))")
        var outputs: [String: Value] = ["dedup_key": .string(dedupKey), "status": .int(0)]

        let delivery = try await poster.post(url: url, body: event, label: label, redactor: redactor,
                                             invocation: invocation)
        let tries = delivery.attempts > 1 ? " after \(delivery.attempts) tries" : ""
        switch delivery.result {
        case .failure(let error):
            throw ActionFailure(redactor.redact("\(label): \(NotificationPoster.phrase(error, redactor: redactor))\(tries)"), outputs: outputs)
        case .success(let response):
            outputs["status"] = .int(response.status)
            let json = Value.parseJSON(data: Data(response.body))
            guard (200...299).contains(response.status) else {
                throw ActionFailure(redactor.redact("\(label) answered \(response.status)\(tries): "
                                                    + Self.reason(json, body: response.body, redactor: redactor)),
                                    outputs: outputs)
            }
            if case .map(let answer)? = json, case .string(let key)? = answer["dedup_key"], !key.isEmpty {
                outputs["dedup_key"] = .string(key)
            }
            let action = invocation.string("event_action") ?? "trigger"
            return ActionResult(outputs: outputs,
                                summary: redactor.redact("\(action) sent (\(response.status)), dedup_key "
                                                         + (outputs["dedup_key"]?.interpolationText ?? dedupKey)))
        }
    }

    /// PagerDuty's own words: `message` and `errors` of its JSON answer, else the body.
    static func reason(_ json: Value?, body: [UInt8], redactor: NotificationRedactor) -> String {
        if case .map(let answer)? = json {
            var parts: [String] = []
            if case .string(let message)? = answer["message"] { parts.append(message) }
            if case .list(let errors)? = answer["errors"] {
                parts.append("(" + errors.map(\.interpolationText).joined(separator: "; ") + ")")
            }
            if !parts.isEmpty { return redactor.snippet(Array(parts.joined(separator: " ").utf8)) }
        }
        let text = redactor.snippet(body)
        return text.isEmpty ? "no details" : text
    }

    /// The endpoint without its query (where a key could hide).
    static func printable(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else { return "the configured url" }
        parts.query = nil
        parts.user = nil
        parts.password = nil
        return parts.string ?? "the configured url"
    }
}

/// `notify.webhook`: POST JSON to any URL.
public struct WebhookNotifyAction: Action {
    /// The declaration this implements.
    public let descriptor = NotifyActions.webhook
    private let poster: NotificationPoster

    /// The action on the given transport; no retries of its own (default), a step's `retry:` adds them.
    public init(transport: any HTTPTransport = AsyncHTTPTransport(), retry: NotificationRetryPolicy = .none) {
        poster = NotificationPoster(transport: transport, policy: retry)
    }

    /// Posts `json` with `headers` and judges the status against `expect_status`.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let url = try invocation.requireString("url")
        guard let json = invocation.arguments["json"], json != .null else {
            throw ActionFailure("parameter 'json' is required")
        }
        let expected = try StatusExpectation(invocation)
        var headers: [(name: String, value: String)] = []
        if case .map(let given)? = invocation.arguments["headers"] {
            for name in given.keys.sorted() { headers.append((name, given[name]?.interpolationText ?? "")) }
        }
        // Credentials in headers are secrets too, even when they did not come from secrets.*.
        let credentials = headers.filter { SecretMasker.isCredentialHeader($0.name) }
        let redactor = NotificationRedactor(masker: invocation.context.masker, url: url,
                                            secrets: credentials.map(\.value))
        let label = "webhook at \(NotificationRedactor.origin(of: url))"
        var outputs: [String: Value] = ["status": .int(0), "body": .string("")]
        let delivery = try await poster.post(url: url, body: json, headers: headers, label: label, redactor: redactor,
                                             invocation: invocation)
        switch delivery.result {
        case .failure(let error):
            throw ActionFailure(redactor.redact("\(label): \(NotificationPoster.phrase(error, redactor: redactor))"), outputs: outputs)
        case .success(let response):
            outputs["status"] = .int(response.status)
            // A receiver that echoes the request (an error page quoting the path) would put the
            // webhook's token in the output, and from there in the journal.
            let body = HTTPExchange.bodyOutputs(response, masker: redactor.everything).body
            outputs["body"] = .string(redactor.hidingEndpoint(body.stringValue ?? ""))
            guard expected.accepts(response.status) else {
                let body = redactor.snippet(response.body)
                throw ActionFailure("\(label): expected status \(expected), got \(response.status)"
                                    + (body.isEmpty ? "" : ": \(body)"), outputs: outputs)
            }
            return ActionResult(outputs: outputs, summary: "\(response.status) from \(label)")
        }
    }
}
