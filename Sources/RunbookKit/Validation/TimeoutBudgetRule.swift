/// The main steps' worst-case time (timeouts × attempts + retry delays) should fit in `expected_recovery`.
/// Confirmation waits are not counted: a human decides how long those take.
public struct TimeoutBudgetRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("timeouts-exceed-recovery", .warning, "step timeouts add up past the runbook's expected_recovery")]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        guard let expected = runbook.expectedRecovery else { return [] }
        var total = 0.0
        // A `confirm` step waits for a human; how long that takes is the human's call, not the budget's.
        for step in runbook.steps where step.action.value != "confirm" {
            total += Self.worstCase(step, catalog: context.catalog)
        }
        guard total > expected.value.seconds else { return [] }
        return [.warning("timeouts-exceed-recovery",
                         "step timeouts add up to \(RunbookDuration(seconds: total)), past expected_recovery \(expected.value)",
                         at: expected.location)]
    }

    /// The longest a step can take: timeout per try (the action's default when unset),
    /// times tries, plus the delays between tries; `wait` counts its duration.
    public static func worstCase(_ step: Step, catalog: ActionCatalog) -> Double {
        var perTry = step.timeout?.value.seconds ?? catalog[step.action.value]?.defaultTimeout ?? 60
        if step.action.value == "wait", case .literal(.string(let s), _)? = step.argument("duration")?.value,
           let d = RunbookDuration.parse(s), step.timeout == nil {
            perTry = d.seconds
        }
        let tries = Double(step.retry?.attempts.value ?? 1)
        return perTry * tries + (step.retry?.totalDelay ?? 0)
    }
}
