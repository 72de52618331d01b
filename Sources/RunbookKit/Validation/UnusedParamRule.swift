/// The params a runbook's expressions read: names, or every param (`to_json(params)`).
public struct ParamsRead: Sendable {
    public private(set) var names: Set<String> = []
    /// An expression reads the whole `params` context.
    public private(set) var readsAll = false

    public init() {}

    mutating func add(_ template: LocatedTemplate) {
        guard !readsAll, template.template.mentions("params") else { return }
        // Straight over the syntax trees: lint does this for every template of every step, and
        // `Template.references` builds every path (with a set to drop repeats) to get there.
        for segment in template.template.segments {
            if case .expression(let e) = segment { collect(e.root) }
        }
    }

    /// `params.x` and `params['x']` read x; `params` any other way (`to_json(params)`,
    /// `params[name]`) reads them all.
    private mutating func collect(_ node: ExprNode) {
        switch node.kind {
        case .literal:
            return
        case .context(let name):
            if name == "params" { readsAll = true }
        case .member(let base, let name, _):
            if case .context("params") = base.kind { names.insert(name) } else { collect(base) }
        case .index(let base, let index):
            if case .context("params") = base.kind, case .literal(.string(let name)) = index.kind {
                names.insert(name)
            } else {
                collect(base)
                collect(index)
            }
        case .unary(_, let operand):
            collect(operand)
        case .binary(_, let lhs, let rhs):
            collect(lhs)
            collect(rhs)
        case .call(_, _, let arguments):
            for argument in arguments { collect(argument) }
        }
    }

    mutating func add(_ step: Step) {
        step.forEachTemplate { add($0) }
    }
}

/// A declared param that nothing reads: a leftover after a step was removed, or a typo where it
/// is read (the reference is then an `unknown-param` error). Either way `--param` accepts it and
/// nothing happens.
public struct UnusedParamRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("unused-param", .warning, "a param is declared but no step or trigger reads it")]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        guard !runbook.params.isEmpty else { return [] }
        // Steps lint reduced to summaries as the file was read: what they read was noted then.
        var read = context.streamedParamsRead ?? ParamsRead()
        for step in runbook.steps + runbook.rollback where !step.isSummary { read.add(step) }
        for template in runbook.triggers?.templates ?? [] { read.add(template) }
        guard !read.readsAll else { return [] }
        return runbook.params.filter { !read.names.contains($0.name.value) }.map { param in
            .warning("unused-param", "param '\(param.name.value)' is declared but no step or trigger reads it; "
                     + "read it as '${{ params.\(param.name.value) }}' or remove it", at: param.name.location)
        }
    }
}
