/// An automatic Sev1 runbook must page a human (a `notify.pagerduty` trigger step).
public struct PagingRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("sev1-pages-nobody", .warning, "an automatic Sev1 runbook has no notify.pagerduty step")]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        guard runbook.severity.value == .sev1, runbook.automation.value == .automatic else { return [] }
        // A page from the rollback list counts: it reaches a human when the automation fails.
        if runbook.steps.contains(where: Self.pages) || runbook.rollback.contains(where: Self.pages) { return [] }
        return [.warning("sev1-pages-nobody", "automatic Sev1 runbook pages nobody: no step or rollback step runs 'notify.pagerduty' to trigger an incident; "
                         + "add one (paging through another tool, e.g. notify.webhook: silence this rule for the file)",
                         at: runbook.severity.location)]
    }

    /// A step that can page someone: a `notify.pagerduty` that may run (not `when: false`) and
    /// triggers an incident (not a written `event_action: resolve` or `acknowledge`).
    static func pages(_ step: Step) -> Bool {
        guard step.action.value == "notify.pagerduty", step.when?.template.isConstantFalse != true else { return false }
        if case .literal(.string(let action), _)? = step.argument("event_action")?.value { return action == "trigger" }
        return true
    }
}
