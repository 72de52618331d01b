/// Every `${{ }}` names known contexts, params, steps, outputs and functions, and reads
/// a step only after it has run (rollback steps may read every main step, and the rollback
/// steps before them).
public struct ExpressionReferencesRule: StepLintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [
            RuleDescription("unknown-context", .error, "an expression names a context other than params, steps, env, secrets, run, trigger"),
            RuleDescription("unknown-param", .error, "an expression reads a param the runbook does not declare"),
            RuleDescription("unknown-step", .error, "an expression reads a step the runbook does not have"),
            RuleDescription("step-not-run-yet", .error, "an expression reads a step that has not run at that point"),
            RuleDescription("unknown-output", .error, "an expression reads an output the step's action does not declare"),
            RuleDescription("unknown-function", .error, "an expression calls an unknown function"),
            RuleDescription("wrong-arity", .error, "a function is called with the wrong number of arguments"),
            RuleDescription("unknown-field", .error, "an expression reads a field that does not exist (e.g. run.x, steps.s.x)"),
        ]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        let params = Set(runbook.params.map(\.name.value))
        var out: [Diagnostic] = []
        func report(_ t: LocatedTemplate, _ scope: ExpressionScope) { _ = Self.report(t, scope, into: &out) }
        // Steps that lint already checked while reading the file are summaries with no
        // expressions left; when all are, the step table is not needed.
        if [runbook.steps, runbook.rollback].joined().contains(where: { !$0.isSummary }) {
            checkSteps(runbook, catalog: context.catalog, params: params, into: &out)
        }
        if let triggers = runbook.triggers {
            let scope = ExpressionScope(params: params, inTrigger: true)
            for t in triggers.templates { report(t, scope) }
        }
        return out
    }

    /// Checks the expressions of every step that is not a summary.
    private func checkSteps(_ runbook: Runbook, catalog: ActionCatalog, params: Set<String>, into out: inout [Diagnostic]) {
        // One table of every step, built once; the walk then switches `hasRun` on as it passes
        // main steps. Building the table per step made lint quadratic in the number of steps.
        let allSteps = [runbook.steps, runbook.rollback].joined()  // no copy of the steps
        var table = StepTable()
        let firsts = allSteps.map { table.add($0, catalog: catalog) }
        for (step, first) in zip(allSteps, firsts) {
            if !step.isSummary {
                // Every finding is decided: all steps and params are known.
                _ = Self.check(step, params: params, steps: table.steps, decidable: { _ in true }, into: &out)
            }
            // The table is not held by any scope now, so this updates it in place (no copy).
            table.passed(step, first: first)
        }
    }

    public func check(step: Step, scope: StepScope) -> [Diagnostic]? {
        var out: [Diagnostic] = []
        // With only the steps so far, an unknown step may be a later one (then it is "not run
        // yet"); with params not known yet, an unknown param may still be declared.
        let decided = Self.check(step, params: scope.params ?? [], steps: scope.steps, decidable: { issue in
            switch issue.ruleID {
            case ExpressionIssue.Rule.unknownStep: scope.knowsAllSteps
            case ExpressionIssue.Rule.unknownParam: scope.params != nil
            default: true
            }
        }, into: &out)
        return decided ? out : nil
    }

    /// Checks the expressions of one step; false as soon as an issue is not `decidable`.
    private static func check(_ step: Step, params: Set<String>, steps: [String: ExpressionScope.StepInfo],
                              decidable: (ExpressionIssue) -> Bool, into out: inout [Diagnostic]) -> Bool {
        var decided = true
        func report(_ t: LocatedTemplate, _ scope: ExpressionScope) {
            if !Self.report(t, scope, into: &out).allSatisfy(decidable) { decided = false }
        }
        var scope = ExpressionScope(params: params, steps: steps, currentStep: step.id.value,
                                    allowOwnOutputs: false, inRollback: step.isRollbackStep)
        for argument in step.with {
            switch argument.value {
            case .literal: continue  // nearly every argument: no list built
            case .template(let t): report(t, scope)
            case .list, .map: for t in argument.value.templates { report(t, scope) }
            }
        }
        if let w = step.when { report(w, scope) }
        if let n = step.nameTemplate { report(n, scope) }
        if let c = step.confirm { report(c.message, scope) }
        if let u = step.until {
            scope.allowOwnOutputs = true
            report(u, scope)
        }
        return decided
    }

    /// Checks one template; its issues become diagnostics at their exact columns. Returns them.
    private static func report(_ t: LocatedTemplate, _ scope: ExpressionScope,
                               into out: inout [Diagnostic]) -> [ExpressionIssue] {
        let issues = t.template.check(in: scope)
        for issue in issues {
            out.append(t.diagnostic(issue))
        }
        return issues
    }
}

/// The steps an expression may name, as they stand at one point of a walk over the runbook in
/// its order (main steps, then rollback steps): the first step with an id is the one named, and
/// a step has run for every step after it (rollback steps read every main step anyway). Both
/// the whole-runbook check and the check of steps as the file is read (`StepStreamChecker`)
/// walk with it.
struct StepTable {
    private(set) var steps: [String: ExpressionScope.StepInfo] = [:]

    /// Adds `step` unless its id is taken; whether it was added (the first step with its id).
    mutating func add(_ step: Step, catalog: ActionCatalog) -> Bool {
        // One hash of the id for the test and the insertion (this runs for every step).
        var added = false
        steps.withValue(forKey: step.id.value) { info in
            guard info == nil else { return }
            var new = ExpressionScope.StepInfo(outputs: catalog.outputNames(of: step.action.value), hasRun: false,
                                               isRollbackStep: step.isRollbackStep,
                                               outputTypes: catalog.outputTypes(of: step.action.value))
            new.stopsRunOnFailure = !step.isRollbackStep && step.failureMode != .continue
            info = new
            added = true
        }
        return added
    }

    /// The walk has passed `step`; `first` is what `add` said of it. The step has now run: a
    /// rollback step may read the rollback steps before it (they run in order), not those after.
    mutating func passed(_ step: Step, first: Bool) {
        if first { steps[step.id.value]?.hasRun = true }
    }
}

extension Dictionary {
    /// Runs `body` on the value slot of `key` (nil when absent; setting it inserts), hashing
    /// the key once.
    @inline(__always)
    mutating func withValue(forKey key: Key, _ body: (inout Value?) -> Void) {
        body(&self[key])
    }
}
