/// A mutating step must be undone by a rollback step (`undoes: [id]`) or say `rollback: none`;
/// `undoes` must name main steps.
public struct UndoCoverageRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [
            RuleDescription("mutating-without-undo", .warning, "a mutating step that no rollback step undoes and that does not say 'rollback: none'"),
            RuleDescription("undoes-unknown-step", .error, "'undoes' names a step that is not in the runbook's main steps"),
            RuleDescription("undo-mismatch", .warning, "a rollback step cannot undo what it names: its action changes nothing, or the step it names changes nothing or says 'rollback: none'"),
            RuleDescription("ignored-key", .warning, "a key that has no effect where it is written ('on_failure: abort' or 'rollback', or 'rollback: none', on a rollback step)"),
        ]
    }

    /// Read-only actions that still undo something: a human asked to (`confirm`), or the
    /// resolution of a page (`notify.pagerduty`).
    static let undoesByHandOrNotice: Set<String> = ["confirm", "notify.pagerduty"]

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        var out: [Diagnostic] = []
        let mainIDs = runbook.steps.map(\.id.value)
        let mainIDSet = Set(mainIDs)  // membership in O(1); the array (in order) is only for hints
        var undone = Set<String>(minimumCapacity: runbook.rollback.count)
        /// Main steps named only by rollback steps that never run, and the first such step.
        var neverRuns: [String: String] = [:]
        // The main steps a rollback step names, to judge whether there is anything to undo.
        var named: [String: Step] = [:]
        if runbook.rollback.contains(where: { !$0.undoes.isEmpty }) {
            let wanted = Set(runbook.rollback.flatMap { $0.undoes.map(\.value) })
            for step in runbook.steps where wanted.contains(step.id.value) { named[step.id.value] = step }
        }
        for step in runbook.rollback {
            if let onFailure = step.onFailure, onFailure.value != .continue {
                out.append(.warning("ignored-key", "'on_failure: \(onFailure.value.rawValue)' has no effect on a rollback step: every rollback step is tried "
                                    + "whatever the others do, and a failed one fails the rollback; only 'continue' means something here "
                                    + "(this step's failure does not fail the rollback)", at: onFailure.location))
            }
            // `confirm` is a human doing the undo by hand, and a PagerDuty event resolves the page
            // a main step opened; any other read-only action undoes nothing.
            if let first = step.undoes.first, let action = context.catalog[step.action.value], !action.mutating,
               !Self.undoesByHandOrNotice.contains(action.id) {
                out.append(.warning("undo-mismatch", "rollback step '\(step.id.value)' runs '\(action.id)', which changes nothing, "
                                    + "so it does not undo '\(first.value)'; call the action that reverses it, or 'confirm' for a human to do it",
                                    at: step.action.location))
            }
            for target in step.undoes {
                if let main = named[target.value] {
                    if main.rollbackNone {
                        out.append(.warning("undo-mismatch", "'\(target.value)' says 'rollback: none', yet rollback step '\(step.id.value)' undoes it; "
                                            + "drop one of the two", at: target.location))
                    } else if let action = context.catalog[main.action.value], !action.mutating,
                              !(action.id == "notify.pagerduty" && step.action.value == "notify.pagerduty") {
                        out.append(.warning("undo-mismatch", "'\(target.value)' changes nothing ('\(action.id)' is read-only), so there is nothing to undo; "
                                            + "did you mean another step?", at: target.location))
                    }
                }
                if mainIDSet.contains(target.value) {
                    // A rollback step with `when: false` never runs, so it undoes nothing.
                    if step.when?.template.isConstantFalse == true {
                        neverRuns[target.value] = neverRuns[target.value] ?? step.id.value
                    } else {
                        undone.insert(target.value)
                    }
                } else {
                    out.append(.error("undoes-unknown-step", "'undoes' names '\(target.value)', which is not a main step"
                                      + Suggestions.hint(for: target.value, in: mainIDs), at: target.location))
                }
            }
        }
        for step in runbook.steps {
            // A step with `when: false` never runs: it changes nothing.
            guard let action = context.catalog[step.action.value], action.mutating,
                  !step.rollbackNone, !undone.contains(step.id.value), step.when?.template.isConstantFalse != true else { continue }
            let never = neverRuns[step.id.value].map { " ('\($0)' names it but has 'when: false', so it never runs)" } ?? ""
            out.append(.warning("mutating-without-undo",
                                "step '\(step.id.value)' changes the system ('\(action.id)') but no rollback step undoes it\(never); add a rollback step with 'undoes: [\(step.id.value)]' or say 'rollback: none'",
                                at: step.id.location))
        }
        return out
    }
}
