// Actions that act only on the run itself: checks, pauses, questions and log lines.
import RunbookKit

/// `assert`, `wait`, `confirm`, `log`.
public enum CoreActions {
    /// Fail unless every expression holds.
    public static let assert = ActionDescriptor(
        id: "assert",
        summary: "Pass when every `${{ }}` expression in `that` (one or a list) is true, else fail with `message`",
        parameters: [
            ParameterDescriptor("that", .oneOf([.bool, .list(.bool)]), required: true,
                                "One `${{ }}` condition or a list of them; all must hold"),
            ParameterDescriptor("message", .string, "Failure message (default: the first condition that failed)"),
        ],
        outputs: [],
        mutating: false, idempotent: true, dryRun: .checks, defaultTimeout: 5,
        messageParameters: ["message"],
        examples: [
            """
            - id: reward_runaway
              action: assert
              with:
                that:
                  - "${{ 150 > 100 }}"
                  - "${{ 60 > 50 }}"
                message: Reward is not running away

            """,
        ]
    )

    /// Sleep (instant in dry-run). Its step timeout should exceed `duration`; lint budgets `duration`.
    public static let wait = ActionDescriptor(
        id: "wait",
        summary: "Sleep for `duration` (instant in dry-run); lint counts `duration` toward expected_recovery",
        parameters: [
            ParameterDescriptor("duration", .duration, required: true, "How long to wait"),
            ParameterDescriptor("reason", .string, "Shown while waiting, e.g. let new pods take traffic"),
        ],
        outputs: [],
        mutating: false, idempotent: true, dryRun: .instant, defaultTimeout: 3600,
        messageParameters: ["reason"],
        examples: [
            """
            - id: settle
              action: wait
              with: {duration: 45s, reason: let the new pods take traffic}

            """,
        ]
    )

    /// A confirmation on its own. In dry-run it is asked like in a real run (answered by --yes,
    /// --approve or the scenario): it changes nothing, and the plan must show where a run would pause.
    public static let confirm = ActionDescriptor(
        id: "confirm",
        summary: "Ask a person to approve `message`; declined or unanswered within `timeout` fails the step. "
            + "Dry-run asks too (--yes, --approve or the scenario answer)",
        parameters: [
            ParameterDescriptor("message", .string, required: true, "The question, with what approving does"),
            ParameterDescriptor("timeout", .duration,
                                "Unanswered after this long counts as declined (default: the step timeout, 30m)"),
        ],
        outputs: [
            OutputDescriptor("approved", .bool, "Whether it was approved (false: declined or expired)"),
            OutputDescriptor("answered_by", .string, "Who answered; null when it expired"),
            OutputDescriptor("answered_at", .string, "RFC 3339 time of the answer; null when it expired"),
        ],
        mutating: false, idempotent: true, dryRun: .runs, defaultTimeout: 1800,
        messageParameters: ["message"],
        examples: [
            """
            - id: go_ahead
              action: confirm
              with:
                message: Restart the primary database now?
                timeout: 10m

            """,
        ]
    )

    /// Write a line to the run's output and journal.
    public static let log = ActionDescriptor(
        id: "log",
        summary: "Write `message` to the run's output and journal at `level`",
        parameters: [
            ParameterDescriptor("message", .string, required: true, "The line to write"),
            ParameterDescriptor("level", .enumeration(["info", "warning", "error"]), default: .string("info"),
                                "Log level"),
        ],
        outputs: [],
        mutating: false, idempotent: true, dryRun: .runs, defaultTimeout: 5,
        messageParameters: ["message"],
        examples: [
            """
            - id: note
              action: log
              with: {message: Scaling artisan-api to 8 replicas, level: info}

            """,
        ]
    )

    /// Every core action, in registration order.
    static let all = [assert, wait, confirm, log]
}
