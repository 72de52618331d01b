/// A mutating step must be undone by a rollback step (`undoes: [id]`) or say `rollback: none`;
/// `undoes` must name main steps.
public struct UndoCoverageRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [
            RuleDescription("mutating-without-undo", .warning, "a mutating step that no rollback step undoes and that does not say 'rollback: none'"),
            RuleDescription("undoes-unknown-step", .error, "'undoes' names a step that is not in the runbook's main steps"),
        ]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        var out: [Diagnostic] = []
        let mainIDs = runbook.steps.map(\.id.value)
        let mainIDSet = Set(mainIDs)  // membership in O(1); the array (in order) is only for hints
        var undone = Set<String>(minimumCapacity: runbook.rollback.count)
        for step in runbook.rollback {
            for target in step.undoes {
                if mainIDSet.contains(target.value) {
                    undone.insert(target.value)
                } else {
                    out.append(.error("undoes-unknown-step", "'undoes' names '\(target.value)', which is not a main step"
                                      + Suggestions.hint(for: target.value, in: mainIDs), at: target.location))
                }
            }
        }
        for step in runbook.steps {
            guard let action = context.catalog[step.action.value], action.mutating,
                  !step.rollbackNone, !undone.contains(step.id.value) else { continue }
            out.append(.warning("mutating-without-undo",
                                "step '\(step.id.value)' changes the system ('\(action.id)') but no rollback step undoes it; add a rollback step with 'undoes: [\(step.id.value)]' or say 'rollback: none'",
                                at: step.id.location))
        }
        return out
    }
}
