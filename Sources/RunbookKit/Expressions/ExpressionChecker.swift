// Lint-time checks of expressions: names of contexts, params, steps, outputs, fields and functions,
// and whether a step can have run at the point where it is read.

/// What an expression may see at one point of a runbook (lint time).
public struct ExpressionScope: Sendable {
    /// What lint knows about one step of the runbook.
    public struct StepInfo: Sendable {
        /// The outputs its action declares; nil when the action is unknown (any output name is accepted).
        public var outputs: Set<String>?
        /// The declared type of each output; nil when the action is unknown (or not told).
        public var outputTypes: [String: ValueType]?
        /// Whether the step has run (or been skipped) before the point being checked.
        public var hasRun: Bool
        /// The step is in the runbook's `rollback:` list; `inRollback` does not make it readable early.
        public var isRollbackStep: Bool
        /// A main step whose failure stops the run (`on_failure` rollback or abort): no main step
        /// after it ever sees it `failed`.
        public var stopsRunOnFailure = false

        /// Creates step information.
        public init(outputs: Set<String>?, hasRun: Bool, isRollbackStep: Bool = false,
                    outputTypes: [String: ValueType]? = nil) {
            self.outputs = outputs
            self.outputTypes = outputTypes
            self.hasRun = hasRun
            self.isRollbackStep = isRollbackStep
        }
    }

    /// The runbook's declared params.
    public var params: Set<String>
    /// Every step id of the runbook (main steps and rollback steps).
    public var steps: [String: StepInfo]
    /// The step whose field is being checked, if any.
    public var currentStep: String?
    /// True for `until:` (a step may read its own outputs there).
    public var allowOwnOutputs: Bool
    /// In rollback steps every main step is readable (its status may be skipped or failed).
    public var inRollback: Bool
    /// In a trigger condition, which is evaluated before any step runs: no step can be read.
    public var inTrigger: Bool

    /// Creates a scope.
    public init(params: Set<String> = [], steps: [String: StepInfo] = [:], currentStep: String? = nil,
                allowOwnOutputs: Bool = false, inRollback: Bool = false, inTrigger: Bool = false) {
        self.params = params
        self.steps = steps
        self.currentStep = currentStep
        self.allowOwnOutputs = allowOwnOutputs
        self.inRollback = inRollback
        self.inTrigger = inTrigger
    }
}

/// The root names an expression may start with.
public enum ExpressionContext {
    /// `params`, `steps`, `env`, `secrets`, `run`, `trigger`.
    public static let names = ["params", "steps", "env", "secrets", "run", "trigger"]
    /// The fields of `run`.
    public static let runFields = ["id", "runbook", "dry_run", "started_at"]
    /// The fields of `trigger`; anything below them is free.
    public static let triggerFields = ["labels", "annotations"]
    /// The fields of `steps.<id>`.
    public static let stepFields = ["status", "outputs", "error"]
}

extension Expression {
    /// Checks names and step order against what is visible at this point; offsets as in `Template`.
    public func check(in scope: ExpressionScope) -> [ExpressionIssue] {
        var checker = ExpressionChecker(scope: scope, base: offset)
        ExpressionWalker.walk(root,
                              onChain: { checker.checkChain($0) },
                              onCall: { checker.checkCall(name: $0, nameRange: $1, argumentCount: $2) })
        return checker.issues
    }

    /// Every context path referenced, in order of first appearance (see `Template.references`).
    public var references: [[String]] {
        var seen = Set<[String]>()
        var result: [[String]] = []
        ExpressionWalker.walk(root, onChain: { chain in
            var path = [chain.root]
            for link in chain.links {
                guard case .name(let name, _) = link else { break }
                path.append(name)
            }
            if seen.insert(path).inserted { result.append(path) }
        }, onCall: { _, _, _ in })
        return result
    }
}

/// A member/index chain that starts at a context, e.g. `steps.verify.outputs['json']`.
struct ContextChain {
    enum Link {
        /// `.name` or `['name']`.
        case name(String, range: Range<Int>)
        /// `[0]`.
        case position(Int, range: Range<Int>)
        /// Any other index: lint cannot follow it.
        case computed(ExprNode)
    }

    var root: String
    var rootRange: Range<Int>
    var links: [Link]
}

/// Visits chains rooted at contexts and function calls, each chain once (at its outermost node).
enum ExpressionWalker {
    static func walk(_ node: ExprNode, onChain: (ContextChain) -> Void,
                     onCall: (String, Range<Int>, Int) -> Void) {
        switch node.kind {
        case .literal:
            return
        case .context, .member, .index:
            // Unwind the chain iteratively, outermost link first, then reverse.
            var links: [ContextChain.Link] = []
            var base = node
            while true {
                if case .member(let inner, let name, let nameRange) = base.kind {
                    links.append(.name(name, range: nameRange))
                    base = inner
                } else if case .index(let inner, let index) = base.kind {
                    switch index.kind {
                    case .literal(.string(let s)): links.append(.name(s, range: index.range))
                    case .literal(.int(let n)): links.append(.position(n, range: index.range))
                    default: links.append(.computed(index))
                    }
                    base = inner
                } else {
                    break
                }
            }
            links.reverse()
            if case .context(let name) = base.kind {
                onChain(ContextChain(root: name, rootRange: base.range, links: links))
            } else {
                walk(base, onChain: onChain, onCall: onCall)
            }
            for case .computed(let index) in links {
                walk(index, onChain: onChain, onCall: onCall)
            }
        case .unary(_, let operand):
            walk(operand, onChain: onChain, onCall: onCall)
        case .binary(_, let lhs, let rhs):
            walk(lhs, onChain: onChain, onCall: onCall)
            walk(rhs, onChain: onChain, onCall: onCall)
        case .call(let name, let nameRange, let arguments):
            onCall(name, nameRange, arguments.count)
            for argument in arguments { walk(argument, onChain: onChain, onCall: onCall) }
        }
    }
}

/// Collects issues for one expression.
struct ExpressionChecker {
    let scope: ExpressionScope
    /// Offset of the expression text in the template source.
    let base: Int
    var issues: [ExpressionIssue] = []

    init(scope: ExpressionScope, base: Int) {
        self.scope = scope
        self.base = base
    }

    private mutating func report(_ rule: String, _ message: String, at range: Range<Int>) {
        issues.append(ExpressionIssue(ruleID: rule, severity: .error, message: message, offset: base + range.lowerBound))
    }

    mutating func checkCall(name: String, nameRange: Range<Int>, argumentCount: Int) {
        guard let signature = ExpressionFunctions.signatures[name] else {
            let hint = ExpressionSpelling.suggestion(for: name, among: ExpressionFunctions.signatures.keys)
            report(ExpressionIssue.Rule.unknownFunction, "unknown function '\(name)'\(hint)", at: nameRange)
            return
        }
        if !signature.accepts(argumentCount) {
            report(ExpressionIssue.Rule.wrongArity,
                   "'\(name)' takes \(signature.arityDescription), got \(argumentCount)", at: nameRange)
        }
    }

    mutating func checkChain(_ chain: ContextChain) {
        func name(at index: Int) -> (String, Range<Int>)? {
            guard index < chain.links.count, case .name(let n, let range) = chain.links[index] else { return nil }
            return (n, range)
        }
        switch chain.root {
        case "params":
            if let (param, range) = name(at: 0), !scope.params.contains(param) {
                let hint = ExpressionSpelling.suggestion(for: param, among: scope.params)
                report(ExpressionIssue.Rule.unknownParam, "unknown param '\(param)'\(hint)", at: range)
            }
        case "steps":
            if scope.inTrigger {
                // Whatever the step, it cannot have run: "unknown step" would send people looking for it.
                let (shown, range) = name(at: 0).map { ("steps.\($0.0)", $0.1) } ?? ("steps", chain.rootRange)
                report(ExpressionIssue.Rule.stepNotRunYet,
                       "steps are not available in triggers (triggers are evaluated before any step runs); "
                           + "'\(shown)' cannot be read here", at: range)
                return
            }
            guard let (id, idRange) = name(at: 0) else { return }
            guard let info = scope.steps[id] else {
                let hint = ExpressionSpelling.suggestion(for: id, among: scope.steps.keys)
                report(ExpressionIssue.Rule.unknownStep, "unknown step '\(id)'\(hint)", at: idRange)
                return
            }
            let field = name(at: 1)
            if id == scope.currentStep {
                if let (f, range) = field, f == "status" {
                    report(ExpressionIssue.Rule.stepNotRunYet, "step '\(id)' cannot read its own 'status'", at: range)
                } else if !scope.allowOwnOutputs {
                    report(ExpressionIssue.Rule.stepNotRunYet,
                           "step '\(id)' cannot read itself here (only its 'until' can read its own outputs)", at: idRange)
                }
            } else if info.isRollbackStep && !scope.inRollback {
                report(ExpressionIssue.Rule.stepNotRunYet,
                       "'\(id)' is a rollback step: it runs only after a failure, so a main step cannot read it", at: idRange)
            } else if !info.hasRun, !(scope.inRollback && !info.isRollbackStep) {
                report(ExpressionIssue.Rule.stepNotRunYet, "step '\(id)' has not run yet at this point", at: idRange)
            }
            guard let (f, fieldRange) = field else { return }
            guard ExpressionContext.stepFields.contains(f) else {
                let hint = ExpressionSpelling.suggestion(for: f, among: ExpressionContext.stepFields)
                report(ExpressionIssue.Rule.unknownField,
                       "step '\(id)' has no field '\(f)'\(hint); it has 'status', 'outputs' and 'error'", at: fieldRange)
                return
            }
            if f == "outputs", let outputs = info.outputs, let (output, range) = name(at: 2), !outputs.contains(output) {
                let detail: String
                if outputs.isEmpty {
                    detail = "; its action has no outputs"
                } else if let hint = ExpressionSpelling.closest(to: output, among: outputs) {
                    detail = " (did you mean '\(hint)'?)"
                } else {
                    detail = "; its action declares " + outputs.sorted().map { "'\($0)'" }.joined(separator: ", ")
                }
                report(ExpressionIssue.Rule.unknownOutput, "step '\(id)' has no output '\(output)'\(detail)", at: range)
            }
        case "run" where scope.inTrigger, "trigger" where scope.inTrigger:
            report(ExpressionIssue.Rule.unknownContext,
                   "'\(chain.root)' is not available in triggers (a trigger is evaluated before there is a run or an alert); "
                       + "triggers can read params, env and secrets", at: chain.rootRange)
        case "run":
            checkField(of: "run", name(at: 0), among: ExpressionContext.runFields)
        case "trigger":
            checkField(of: "trigger", name(at: 0), among: ExpressionContext.triggerFields)
        case "env", "secrets":
            return
        default:
            let hint: String
            if let near = ExpressionSpelling.closest(to: chain.root, among: ExpressionContext.names) {
                hint = " (did you mean '\(near)'?)"
            } else if chain.links.isEmpty {
                hint = " (a string is written in single quotes: '\(chain.root)')"
            } else {
                hint = "; expected " + ExpressionContext.names.map { "'\($0)'" }.joined(separator: ", ")
            }
            report(ExpressionIssue.Rule.unknownContext, "unknown context '\(chain.root)'\(hint)", at: chain.rootRange)
        }
    }

    private mutating func checkField(of context: String, _ field: (String, Range<Int>)?, among known: [String]) {
        guard let (f, range) = field, !known.contains(f) else { return }
        let hint = ExpressionSpelling.suggestion(for: f, among: known)
        let list = known.map { "'\($0)'" }.joined(separator: ", ")
        report(ExpressionIssue.Rule.unknownField, "'\(context)' has no field '\(f)'\(hint); it has \(list)", at: range)
    }
}

/// "Did you mean" hints for misspelled names.
enum ExpressionSpelling {
    /// ` (did you mean 'x'?)` or the empty string.
    static func suggestion(for name: String, among candidates: some Sequence<String>) -> String {
        closest(to: name, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// The candidate within a small edit distance of `name` (closest first, then alphabetical).
    static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let target = Array(name.lowercased().unicodeScalars)
        // Names are short; cap the work so a huge identifier costs nothing.
        guard target.count <= 64 else { return nil }
        let limit = max(1, min(3, target.count / 3))
        var best: (distance: Int, name: String)?
        for candidate in candidates {
            let d = distance(target, Array(candidate.lowercased().unicodeScalars))
            guard d <= limit, d < target.count else { continue }
            if let current = best, d > current.distance || (d == current.distance && candidate >= current.name) {
                continue
            }
            best = (d, candidate)
        }
        return best?.name
    }

    private static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var row = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }
}
