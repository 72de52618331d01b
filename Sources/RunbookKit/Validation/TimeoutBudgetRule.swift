/// The main steps' worst-case time (timeouts × attempts + retry delays) should fit in `expected_recovery`.
/// Confirmation waits are not counted: a human decides how long those take.
public struct TimeoutBudgetRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("timeouts-exceed-recovery", .warning, "step timeouts add up past the runbook's expected_recovery")]
    }

    /// The `with:` arguments the whole-runbook rules read, by action (this rule's `wait`
    /// duration, `PagingRule`'s PagerDuty event): a summary of a step must keep them
    /// (`Step.summary(keeping:)`).
    public static let argumentsRead: [String: Set<String>] = ["wait": ["duration"], "notify.pagerduty": ["event_action"]]

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        guard let expected = runbook.expectedRecovery else { return [] }
        var total = 0.0
        // A `confirm` step waits for a human; how long that takes is the human's call, not the budget's.
        // A step with `when: false` never runs: it takes no time.
        for step in runbook.steps where step.action.value != "confirm" && step.when?.template.isConstantFalse != true {
            total += Self.worstCase(step, catalog: context.catalog, runbook: runbook)
        }
        guard total > expected.value.seconds else { return [] }
        return [.warning("timeouts-exceed-recovery",
                         "step timeouts add up to \(RunbookDuration(seconds: total)), past expected_recovery \(expected.value)",
                         at: expected.location)]
    }

    /// The longest a step can take: timeout per try (the action's default when unset),
    /// times tries, plus the delays between tries; `wait` counts its duration.
    public static func worstCase(_ step: Step, catalog: ActionCatalog, runbook: Runbook? = nil) -> Double {
        var perTry = step.timeout?.value.seconds ?? catalog[step.action.value]?.defaultTimeout ?? 60
        // A `wait` takes its duration, or its step timeout when that is shorter (it then fails).
        if step.action.value == "wait", let argument = step.argument("duration"),
           let d = staticDuration(argument.value, runbook: runbook) {
            perTry = min(d, step.timeout?.value.seconds ?? d)
        }
        let tries = Double(step.retry?.attempts.value ?? 1)
        return perTry * tries + (step.retry?.totalDelay ?? 0)
    }

    /// A duration known before the run: a literal, or `${{ params.x }}` with a default.
    static func staticDuration(_ value: TemplateValue, runbook: Runbook?) -> Double? {
        switch value {
        case .literal(let v, _): return ParameterConstraint.durationSeconds(v)
        case .template(let t):
            guard t.template.isSingleExpression, let path = t.template.references.first,
                  t.template.references.count == 1, path.count == 2, path[0] == "params",
                  let d = runbook?.param(path[1])?.defaultValue?.value else { return nil }
            return d.stringValue.flatMap { RunbookDuration.parse($0)?.seconds } ?? d.numberValue
        default: return nil
        }
    }
}
