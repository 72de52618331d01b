/// A `semi_automatic` or `manual` runbook asks a human somewhere: a step `confirm:` or a `confirm` action.
public struct ConfirmationRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("missing-confirmation", .warning, "a semi_automatic or manual runbook has no confirmation step")]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        guard runbook.automation.value != .automatic else { return [] }
        // A step with `when: false` never runs, so it asks nobody.
        let asks = runbook.steps.contains {
            ($0.confirm != nil || $0.action.value == "confirm") && $0.when?.template.isConstantFalse != true
        }
        if asks { return [] }
        // Rollback steps that ask run only after a failure: the normal path still asks nobody.
        let onlyRollbackAsks = runbook.rollback.contains { $0.confirm != nil || $0.action.value == "confirm" }
        let which = onlyRollbackAsks ? "no main step asks for confirmation (only rollback steps do, and they run only after a failure)"
            : "no step asks for confirmation"
        return [.warning("missing-confirmation",
                         "runbook is '\(runbook.automation.value.rawValue)' but \(which); add 'confirm:' to the step a human must approve",
                         at: runbook.automation.location)]
    }
}
