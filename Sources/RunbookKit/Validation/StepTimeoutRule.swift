/// A step's `timeout` bounds each try of its action. A `wait` at least as long as that always
/// times out, and an action's own `timeout` parameter longer than it never gets to apply.
public struct StepTimeoutRule: SelfContainedStepLintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("step-timeout-too-short", .error, "a 'wait' is longer than its step's timeout, so every try times out"),
         RuleDescription("action-timeout-exceeds-step", .warning, "an action's 'timeout' parameter is longer than its step's timeout, which cuts it short")]
    }

    public func check(_ step: Step, catalog: ActionCatalog, into out: inout [Diagnostic]) {
        guard let action = catalog[step.action.value], action.id != "confirm" else { return }
        // What bounds one try: the step's timeout, else the action's default.
        let limit = step.timeout?.value.seconds ?? action.defaultTimeout
        // Worded only for a finding: this runs for every step.
        var limitText: String {
            step.timeout.map { "the step's timeout is \($0.value)" }
                ?? "the step's default timeout (of '\(action.id)' steps) is \(RunbookDuration(seconds: action.defaultTimeout))"
        }
        if action.id == "wait", let argument = step.argument("duration"), let d = Self.seconds(argument.value), d > limit {
            out.append(.error("step-timeout-too-short",
                              "step '\(step.id.value)' waits \(RunbookDuration(seconds: d)) but \(limitText), so every try times out; "
                              + "set the step's 'timeout' longer than the wait",
                              at: step.timeout?.location ?? argument.value.location))
        }
        // `process.stop` waits `grace` before its SIGKILL: a step that times out first never sends it.
        if action.id == "process.stop", Self.escalates(step) {
            let grace = step.argument("grace").flatMap { Self.seconds($0.value) }
                ?? action.parameter(named: "grace")?.defaultValue?.stringValue.flatMap { RunbookDuration.parse($0)?.seconds }
            if let grace, grace >= limit {
                out.append(.warning("action-timeout-exceeds-step",
                                    "'grace' of 'process.stop' is \(RunbookDuration(seconds: grace)) but \(limitText), so the step times out "
                                    + "before the SIGKILL that follows the grace; keep the step's 'timeout' longer than 'grace'",
                                    at: step.argument("grace")?.value.location ?? step.timeout?.location ?? step.action.location))
            }
        }
        if action.id != "wait", let argument = step.argument("timeout"), action.parameter(named: "timeout")?.type == .duration,
           let t = Self.seconds(argument.value), t > limit {
            out.append(.warning("action-timeout-exceeds-step",
                                "'timeout' of '\(action.id)' is \(RunbookDuration(seconds: t)) but \(limitText), so the step times out first; "
                                + "keep the step's 'timeout' a little longer than the action's",
                                at: argument.value.location))
        }
    }

    /// A duration written as a literal (`90s`, or a number of seconds), as the budget reads it.
    static func seconds(_ value: TemplateValue) -> Double? {
        TimeoutBudgetRule.staticDuration(value, runbook: nil)
    }

    /// Whether `process.stop` sends SIGKILL after its grace (`escalate` is not written false).
    static func escalates(_ step: Step) -> Bool {
        if case .literal(.bool(false), _)? = step.argument("escalate")?.value { return false }
        return true
    }
}
