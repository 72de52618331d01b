/// Checks each step with the step rules (`StepLintRule`) as the parser hands it over, and keeps
/// only its summary when every finding could be decided there, so that lint of a huge runbook
/// does not hold every step whole in memory.
///
/// A step is checked on arrival only when every step before it in the runbook's order came
/// through the stream (`StepStream.ListContext.inOrder`); a finding that needs a later step or
/// a param not seen yet keeps the step whole, and the whole-runbook `check` looks at it.
final class StepStreamChecker {
    private let catalog: ActionCatalog
    private let rules: [any StepLintRule]
    /// Steps seen so far, by id (first occurrence), as `ExpressionReferencesRule` sees them.
    private var steps: [String: ExpressionScope.StepInfo] = [:]
    /// Findings on the steps that were reduced to summaries.
    private(set) var diagnostics: [Diagnostic] = []

    init(catalog: ActionCatalog, rules: [any StepLintRule]) {
        self.catalog = catalog
        self.rules = rules
    }

    /// The findings, once the file is read; the step table is let go.
    func finish() -> [Diagnostic] {
        steps = [:]
        defer { diagnostics = [] }
        return diagnostics
    }

    func process(_ step: Step, _ context: RunbookLowering.StepStream.ListContext) -> Step {
        let id = step.id.value
        let isFirst = steps[id] == nil
        if isFirst { steps[id] = ExpressionReferencesRule.info(step, catalog: catalog) }
        let kept = check(step, context)
        // A main step has run for the steps after it.
        if isFirst, !context.isRollback { steps[id]?.hasRun = true }
        return kept
    }

    private func check(_ step: Step, _ context: RunbookLowering.StepStream.ListContext) -> Step {
        guard context.inOrder else { return step }
        let scope = StepScope(catalog: catalog, params: context.paramNames, steps: steps, knowsAllSteps: false)
        var found: [Diagnostic] = []
        for rule in rules {
            guard let diagnostics = rule.check(step: step, scope: scope) else { return step }
            found += diagnostics
        }
        diagnostics += found
        return step.summary()
    }
}
