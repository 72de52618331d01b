// Circuit breakers and feature flags held in the run's state store (`.runbook/` by default), which
// the served application reads. Every change records its previous value so that a rollback, or
// `feature_flag.restore`, can put it back.
import RunbookKit

/// `circuit_breaker.open/.close/.status`.
public enum CircuitBreakerActions {
    static let breakerState: ValueType = .enumeration(["closed", "open"])
    static let name = ParameterDescriptor("name", .string, required: true, "Breaker name, e.g. qwen")
    /// Opening a breaker and its undo: the example both `open` and `close` show.
    static let openAndUndo =
            """
            - id: open_breaker
              action: circuit_breaker.open
              with: {name: qwen, reason: Qwen health check failing}
            # and in the runbook's rollback list:
            - id: close_breaker
              action: circuit_breaker.close
              with: {name: qwen}
              undoes: [open_breaker]
              # Only what this run opened: a breaker someone had opened already stays open.
              when: "${{ steps.open_breaker.status == 'succeeded' && steps.open_breaker.outputs.previous == 'closed' }}"

            """

    static let changeOutputs = [
        OutputDescriptor("state", breakerState, "The breaker's state after the step"),
        OutputDescriptor("previous", breakerState, "The breaker's state before the step"),
    ]

    /// Force a breaker open: calls through it are blocked and its fallback path takes over.
    public static let open = ActionDescriptor(
        id: "circuit_breaker.open",
        summary: "Force the named breaker open in the state store: calls are blocked and the fallback path is used",
        parameters: [name, StandardParameters.reason],
        outputs: changeOutputs,
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 10,
        messageParameters: ["reason"], storedParameters: ["name"],
        examples: [openAndUndo]
    )

    /// Close a breaker: calls flow again.
    public static let close = ActionDescriptor(
        id: "circuit_breaker.close",
        summary: "Close the named breaker in the state store: calls flow again",
        parameters: [name, StandardParameters.reason],
        outputs: changeOutputs,
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 10,
        messageParameters: ["reason"], storedParameters: ["name"],
        examples: [openAndUndo]
    )

    /// Read a breaker's state (an unknown breaker is closed).
    public static let status = ActionDescriptor(
        id: "circuit_breaker.status",
        summary: "Read the named breaker's state (a breaker never set is closed)",
        parameters: [name],
        outputs: [
            OutputDescriptor("state", breakerState, "Current state"),
            OutputDescriptor("since", .string, "RFC 3339 time of the last change; null when never set"),
            OutputDescriptor("reason", .string, "Reason recorded with the last change; null when none"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 10,
        examples: [
            """
            - id: qwen_breaker
              action: circuit_breaker.status
              with: {name: qwen}

            """,
        ]
    )

    /// Every circuit-breaker action, in registration order.
    static let all = [open, close, status]
}

/// `feature_flag.get/.set/.downshift/.restore`.
///
/// A downshift routes a mode's traffic to another mode by writing the route flag
/// `<from>_mode_route` (e.g. `creative_mode_route: balanced`); restoring the mode puts that flag
/// back to what it was before the downshift (usually unset: the mode serves itself).
public enum FeatureFlagActions {
    /// Downshifting a mode and restoring it: the example both `downshift` and `restore` show.
    static let downshiftAndRestore =
            """
            - id: downshift_creative
              name: Route creative-mode requests to balanced mode
              action: feature_flag.downshift
              with: {from: creative, to: balanced}
            # and in the runbook's rollback list:
            - id: restore_creative
              name: Restore creative mode
              action: feature_flag.restore
              with: {mode: creative}
              undoes: [downshift_creative]
              when: "${{ steps.downshift_creative.status == 'succeeded' }}"

            """

    static let name = ParameterDescriptor("name", .string, required: true, "Flag name, e.g. cache_bypass")

    /// Read a flag.
    public static let get = ActionDescriptor(
        id: "feature_flag.get",
        summary: "Read a flag's value from the state store",
        parameters: [name],
        outputs: [
            OutputDescriptor("value", .any, "Current value; null when unset"),
            OutputDescriptor("is_set", .bool, "Whether the flag has a value"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 10,
        examples: [
            """
            - id: bypass_state
              action: feature_flag.get
              with: {name: cache_bypass}

            """,
        ]
    )

    /// Set a flag to any JSON value, remembering the previous one.
    public static let set = ActionDescriptor(
        id: "feature_flag.set",
        summary: "Set a flag to `value` in the state store (the previous value is recorded for feature_flag.restore)",
        parameters: [
            name,
            ParameterDescriptor("value", .any, required: true, "New value: bool, number, string, list or mapping"),
            StandardParameters.reason,
        ],
        outputs: [
            OutputDescriptor("previous", .any, "Value before the step; null when unset"),
            OutputDescriptor("value", .any, "Value after the step"),
        ],
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 10,
        messageParameters: ["reason"], storedParameters: ["name", "value"],
        examples: [
            """
            - id: enable_bypass
              action: feature_flag.set
              with: {name: cache_bypass, value: true, reason: Redis unreachable}
            # and in the runbook's rollback list:
            - id: bypass_off
              action: feature_flag.set
              with: {name: cache_bypass, value: false}
              undoes: [enable_bypass]
              when: "${{ steps.enable_bypass.status == 'succeeded' }}"

            """,
        ]
    )

    /// Route one mode's requests to another mode.
    public static let downshift = ActionDescriptor(
        id: "feature_flag.downshift",
        summary: "Route requests for mode `from` to mode `to` (writes the route flag `<from>_mode_route`); "
            + "undo with feature_flag.restore {mode: <from>}",
        parameters: [
            ParameterDescriptor("from", .string, required: true, "Mode whose requests move, e.g. creative"),
            ParameterDescriptor("to", .string, required: true, "Mode that serves them instead, e.g. balanced"),
            ParameterDescriptor("flag", .string, "Route flag to write (default: <from>_mode_route)"),
            StandardParameters.reason,
        ],
        outputs: [
            OutputDescriptor("flag", .string, "The route flag written"),
            OutputDescriptor("previous", .any, "The flag's value before the step; null when the mode served itself"),
            OutputDescriptor("route", .string, "Mode now serving `from` requests (equals `to`)"),
        ],
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 10,
        messageParameters: ["reason"], storedParameters: ["from", "to", "flag"],
        examples: [downshiftAndRestore]
    )

    /// Put a downshifted mode or a flag back.
    public static let restore = ActionDescriptor(
        id: "feature_flag.restore",
        summary: "Restore a downshifted `mode` (its route flag) or a flag `name` to the value recorded before the "
            + "last downshift/set, or to an explicit `value`; give `mode` or `name`",
        parameters: [
            ParameterDescriptor("mode", .string, "Mode to restore, e.g. creative (its flag <mode>_mode_route)"),
            ParameterDescriptor("name", .string, "Flag to restore, when not restoring a mode"),
            ParameterDescriptor("value", .any, "Value to set instead of the recorded previous one (null: unset)"),
            StandardParameters.reason,
        ],
        outputs: [
            OutputDescriptor("previous", .any, "Value before the step"),
            OutputDescriptor("value", .any, "Value after the step; null when the flag is now unset"),
        ],
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 10,
        messageParameters: ["reason"], storedParameters: ["mode", "name", "value"],
        // FlagRestoreAction: "give 'mode' (a downshifted mode) or 'name' (a flag)", not both.
        constraints: [.exactlyOne(["mode", "name"]), .nonEmpty("mode"), .nonEmpty("name")],
        examples: [downshiftAndRestore]
    )

    /// Every feature-flag action, in registration order.
    static let all = [get, set, downshift, restore]
}
