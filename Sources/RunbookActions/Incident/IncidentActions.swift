// Incidents with a timeline, kept in the state store (`runbook incident ...` reads the same store).
// They are local records, so they do not `notify`; they are mutating because they outlive the run.
import RunbookKit

/// `incident.create`, `incident.note`, `incident.resolve`.
public enum IncidentActions {
    static let severity: ValueType = .enumeration(["sev1", "sev2", "sev3", "sev4"])
    static let id = ParameterDescriptor("id", .string, required: true, "Incident id, e.g. INC-0001")

    /// Open an incident; its timeline then records the run's steps and confirmations.
    public static let create = ActionDescriptor(
        id: "incident.create",
        summary: "Open an incident in the state store; the run's later steps and confirmations go to its timeline",
        parameters: [
            ParameterDescriptor("title", .string, required: true, "One-line title"),
            ParameterDescriptor("description", .string, "What happened and what the automation did (Markdown)"),
            ParameterDescriptor("severity", severity, "Severity (default: the runbook's)"),
            ParameterDescriptor("components", .list(.string), "Affected components (default: the runbook's)"),
        ],
        outputs: [
            OutputDescriptor("id", .string, "The new incident's id: INC-0001, INC-0002, ..."),
            OutputDescriptor("created_at", .string, "RFC 3339 creation time"),
        ],
        mutating: true, idempotent: false, dryRun: .skipped, defaultTimeout: 10,
        messageParameters: ["title", "description", "components"],
        examples: [
            """
            - id: open_incident
              action: incident.create
              with:
                title: Qwen LLM Failure - Downshifted to Balanced
                description: Qwen model not responding. Auto-downshifted.
                severity: sev2
                components: [LLM, Qwen]
              rollback: none
              on_failure: continue

            """,
        ]
    )

    /// Add a line to an incident's timeline.
    public static let note = ActionDescriptor(
        id: "incident.note",
        summary: "Add `text` to an incident's timeline",
        parameters: [
            id,
            ParameterDescriptor("text", .string, required: true, "Timeline entry (Markdown)"),
        ],
        outputs: [
            OutputDescriptor("id", .string, "The incident's id, normalized (the run's timeline is recorded there too)"),
            OutputDescriptor("at", .string, "RFC 3339 time of the entry"),
        ],
        mutating: true, idempotent: false, dryRun: .skipped, defaultTimeout: 10,
        messageParameters: ["text"],
        examples: [
            """
            - id: open_incident
              action: incident.create
              with: {title: Cache bypass enabled, severity: sev3}
              rollback: none
            - id: note_bypass
              action: incident.note
              with:
                id: "${{ steps.open_incident.outputs.id }}"
                text: Redis restarted; cache bypass still on
              rollback: none

            """,
        ]
    )

    /// Resolve an incident (an unknown id fails the step).
    public static let resolve = ActionDescriptor(
        id: "incident.resolve",
        summary: "Resolve an open incident with a `resolution`; an unknown id fails, an already resolved one is left as it is",
        parameters: [
            id,
            ParameterDescriptor("resolution", .string, required: true, "How it was resolved"),
        ],
        outputs: [
            OutputDescriptor("id", .string, "The incident's id, normalized (the run's timeline is recorded there too)"),
            OutputDescriptor("resolved_at", .string, "RFC 3339 time of resolution (the earlier one when already resolved)"),
        ],
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 10,
        messageParameters: ["resolution"],
        examples: [
            """
            - id: open_incident
              action: incident.create
              with: {title: Drill, severity: sev4}
              rollback: none
            - id: close_incident
              action: incident.resolve
              with:
                id: "${{ steps.open_incident.outputs.id }}"
                resolution: Drill finished
              rollback: none

            """,
        ]
    )

    /// Every incident action, in registration order.
    static let all = [create, note, resolve]
}
