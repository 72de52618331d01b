/// An expression that fails whenever it is evaluated, or a comparison that can never hold,
/// whatever the values: judged by the kinds of values lint knows before the run (literals, the
/// params' declared types, the outputs' declared types, operator results; see
/// `ExpressionKindChecker`), in every expression of a step and of the triggers.
public struct ExpressionKindsRule: StepLintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [
            RuleDescription(ExpressionIssue.Rule.expressionType, .error,
                            "an expression that fails or is always false on every run, whatever the values: a bool or a string compared with '<' to a number, a field or index of a number, 5 / 0, a format pattern that cannot work, a step status or an enumerated output compared with a value it never has"),
            RuleDescription(ExpressionIssue.Rule.comparisonAlwaysFalse, .warning,
                            "'==' between values that are never equal, such as an integer output and a quoted number: always false ('!=' always true)"),
        ]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        var out: [Diagnostic] = []
        var typing = Self.typing(paramTypes: runbook.paramTypes)
        typing.paramEnums = runbook.paramEnums
        let allSteps = [runbook.steps, runbook.rollback].joined()  // no copy of the steps
        if allSteps.contains(where: { !$0.isSummary }) {
            // Output types only: whether a step has run is the business of step-not-run-yet.
            var table = StepTable()
            for step in allSteps { _ = table.add(step, catalog: context.catalog) }
            typing.steps = table.steps
            for step in allSteps where !step.isSummary { Self.check(step, &typing, into: &out) }
        }
        if let triggers = runbook.triggers {
            typing.steps = [:]
            Self.check(triggers.templates, &typing, into: &out)
        }
        return out
    }

    public func check(step: Step, scope: StepScope) -> [Diagnostic]? {
        var typing = Self.typing(paramTypes: scope.paramTypes)
        typing.paramEnums = scope.paramEnums ?? [:]
        typing.steps = scope.steps
        typing.knowsAllSteps = scope.knowsAllSteps
        var out: [Diagnostic] = []
        Self.check(step, &typing, into: &out)
        // A param whose type is not known yet, or a step not read yet: judged with the whole runbook.
        return typing.undecided ? nil : out
    }

    /// `env` and `secrets` count as text: they are text when set and null when not, so either
    /// way `env.PORT > 1000` fails and `env.PORT == 8080` never holds (a field of them is not
    /// judged: null has none).
    private static func typing(paramTypes: [String: ParamType]?) -> ExpressionTyping {
        ExpressionTyping(paramTypes: paramTypes)
    }

    private static func check(_ step: Step, _ typing: inout ExpressionTyping, into out: inout [Diagnostic]) {
        typing.inMainStep = !step.isRollbackStep
        defer { typing.inMainStep = false }
        step.forEachTemplate { t in
            for issue in t.template.checkKinds(&typing) { out.append(t.diagnostic(issue)) }
        }
    }

    private static func check(_ templates: [LocatedTemplate], _ typing: inout ExpressionTyping, into out: inout [Diagnostic]) {
        for t in templates {
            for issue in t.template.checkKinds(&typing) {
                out.append(t.diagnostic(issue))
            }
        }
    }
}
