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
    /// The steps seen so far.
    private var table = StepTable()
    /// Findings on the steps that were reduced to summaries.
    private var diagnostics: [Diagnostic] = []
    /// The params every step seen here reads (summaries no longer hold their expressions).
    private(set) var paramsRead = ParamsRead()

    init(catalog: ActionCatalog, rules: [any StepLintRule]) {
        self.catalog = catalog
        self.rules = rules
    }

    /// The findings, once the file is read; the step table is let go.
    func finish() -> [Diagnostic] {
        table = StepTable()
        defer { diagnostics = [] }
        return diagnostics
    }

    func process(_ step: Step, _ context: RunbookLowering.StepStream.ListContext) -> Step {
        let first = table.add(step, catalog: catalog)
        paramsRead.add(step)
        let kept = check(step, context)
        table.passed(step, first: first)
        return kept
    }

    private func check(_ step: Step, _ context: RunbookLowering.StepStream.ListContext) -> Step {
        guard context.inOrder else { return step }
        let scope = StepScope(catalog: catalog, params: context.paramNames, steps: table.steps, knowsAllSteps: false,
                              paramTypes: context.paramTypes, paramEnums: context.paramEnums)
        var found: [Diagnostic] = []
        for rule in rules {
            guard let diagnostics = rule.check(step: step, scope: scope) else { return step }
            found += diagnostics
        }
        diagnostics += found
        return step.summary(keeping: TimeoutBudgetRule.argumentsRead)
    }
}
