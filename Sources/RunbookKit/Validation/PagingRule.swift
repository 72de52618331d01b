/// An automatic Sev1 runbook must page a human (a `notify.pagerduty` trigger step).
public struct PagingRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("sev1-pages-nobody", .warning, "an automatic Sev1 runbook has no notify.pagerduty step")]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        guard runbook.severity.value == .sev1, runbook.automation.value == .automatic else { return [] }
        if runbook.steps.contains(where: { $0.action.value == "notify.pagerduty" }) { return [] }
        return [.warning("sev1-pages-nobody", "automatic Sev1 runbook pages nobody; add a 'notify.pagerduty' step",
                         at: runbook.severity.location)]
    }
}
