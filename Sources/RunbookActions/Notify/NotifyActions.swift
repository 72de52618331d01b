// Messages to people. Notifications are not "mutating" (there is nothing to undo) but `notifies`:
// dry-run never sends them, and lint checks that no secret flows into their text.
import RunbookKit

/// `notify.slack`, `notify.pagerduty`, `notify.webhook`.
public enum NotifyActions {
    /// Post to a Slack incoming webhook.
    public static let slack = ActionDescriptor(
        id: "notify.slack",
        summary: "Post `text` (and optional `blocks`) to a Slack incoming webhook "
            + "(`webhook_url`, default: env RUNBOOK_SLACK_WEBHOOK_URL)",
        parameters: [
            ParameterDescriptor("webhook_url", .url, secret: true,
                                "Incoming-webhook URL; pass secrets.* (default: env RUNBOOK_SLACK_WEBHOOK_URL)"),
            ParameterDescriptor("text", .string, required: true, "Message text (Slack mrkdwn); also the fallback text"),
            ParameterDescriptor("blocks", .list(.any), "Block Kit blocks"),
            ParameterDescriptor("channel", .string, "Channel override, e.g. #artisan-oncall (legacy webhooks only)"),
            ParameterDescriptor("username", .string, "Sender name override (legacy webhooks only)"),
            StandardParameters.timeout(default: "10s", "Give up on the request after this long"),
        ],
        outputs: [
            OutputDescriptor("status", .int, "HTTP status Slack answered"),
        ],
        mutating: false, idempotent: false, notifies: true, dryRun: .skipped, defaultTimeout: 30,
        messageParameters: ["text", "blocks", "channel", "username"],
        examples: [
            """
            - id: tell_slack
              action: notify.slack
              with:
                webhook_url: "${{ secrets.slack_webhook }}"
                text: "Qwen failure; automatically downshifted to balanced; on-call action needed"
              on_failure: continue

            """,
        ]
    )

    /// Send an event to PagerDuty Events API v2.
    public static let pagerduty = ActionDescriptor(
        id: "notify.pagerduty",
        summary: "Send a trigger/acknowledge/resolve event to PagerDuty Events API v2 at `url` "
            + "(default: env RUNBOOK_PAGERDUTY_URL; the engine has no built-in endpoint)",
        parameters: [
            ParameterDescriptor("routing_key", .string, required: true, secret: true,
                                "Integration (routing) key of the PagerDuty service; pass secrets.*"),
            ParameterDescriptor("event_action", .enumeration(["trigger", "acknowledge", "resolve"]),
                                default: .string("trigger"), "Event type"),
            ParameterDescriptor("summary", .string, "Alert summary (required by PagerDuty for trigger, max 1024 chars)"),
            ParameterDescriptor("severity", .enumeration(["critical", "error", "warning", "info"]),
                                default: .string("error"), "Alert severity"),
            ParameterDescriptor("source", .string, "Affected system (default: runbook/<runbook id>)"),
            ParameterDescriptor("component", .string, "Affected component"),
            ParameterDescriptor("dedup_key", .string,
                                "Deduplication key (default: runbook/<runbook id>/<run id>: one alert per run)"),
            ParameterDescriptor("details", .map(.any), "custom_details shown on the alert"),
            ParameterDescriptor("url", .url,
                                "Events API endpoint, e.g. https://events.pagerduty.com/v2/enqueue "
                                    + "(default: env RUNBOOK_PAGERDUTY_URL)"),
            StandardParameters.timeout(default: "10s", "Give up on the request after this long"),
        ],
        outputs: [
            OutputDescriptor("dedup_key", .string, "The alert's dedup key (for a later acknowledge/resolve)"),
            OutputDescriptor("status", .int, "HTTP status PagerDuty answered"),
        ],
        mutating: false, idempotent: true, notifies: true, dryRun: .skipped, defaultTimeout: 30,
        messageParameters: ["summary", "details", "source", "component"],
        // PagerDutyNotifyAction: "parameter 'summary' is required for a trigger event".
        constraints: [.requires(.equals("event_action", .string("trigger")), .given("summary"))],
        examples: [
            """
            - id: page_oncall
              action: notify.pagerduty
              with:
                routing_key: "${{ secrets.pagerduty_routing_key }}"
                url: https://events.pagerduty.com/v2/enqueue
                summary: Database connection failure on Artisan
                severity: critical
                component: postgres
              on_failure: continue

            """,
        ]
    )

    /// POST JSON to any URL.
    public static let webhook = ActionDescriptor(
        id: "notify.webhook",
        summary: "POST `json` to `url` (a chat bridge, a status page, an incident tool)",
        parameters: [
            ParameterDescriptor("url", .url, required: true, "Webhook URL"),
            ParameterDescriptor("json", .map(.any), required: true, "Payload, sent as JSON"),
            StandardParameters.headers,
            StandardParameters.expectStatus(),
            StandardParameters.timeout(default: "10s", "Give up on the request after this long"),
        ],
        outputs: [
            OutputDescriptor("status", .int, "HTTP status the webhook answered"),
            OutputDescriptor("body", .string, "Response body as text (truncated to 64 KiB)"),
        ],
        mutating: false, idempotent: false, notifies: true, dryRun: .skipped, defaultTimeout: 30,
        messageParameters: ["json"],
        constraints: [.nonEmpty("expect_status")],
        examples: [
            """
            - id: status_page
              action: notify.webhook
              with:
                url: http://localhost:8080/hooks/status
                json: {component: cache, status: degraded}
              on_failure: continue

            """,
        ]
    )

    /// Every notification action, in registration order.
    static let all = [slack, pagerduty, webhook]
}
