/// An automatic Sev1 runbook must page a human (a `notify.pagerduty` trigger step).
public struct PagingRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("sev1-pages-nobody", .warning, "an automatic Sev1 runbook has no notify.pagerduty step")]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        guard runbook.severity.value == .sev1, runbook.automation.value == .automatic else { return [] }
        // A page only from the rollback list reaches nobody when the automation succeeds (or
        // aborts): a Sev1 must page on its main path.
        if runbook.steps.contains(where: Self.pages) { return [] }
        let which = runbook.rollback.contains(where: Self.pages)
            ? "only a rollback step runs 'notify.pagerduty', and rollback runs only after a failure"
            : "no step runs 'notify.pagerduty' to trigger an incident"
        return [.warning("sev1-pages-nobody", "automatic Sev1 runbook pages nobody on its main path: \(which); "
                         + "add a main step that pages (paging through another tool, e.g. notify.webhook: silence this rule for the file)",
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
