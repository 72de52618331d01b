// Lint-time checks of what an expression does with the kinds of the values it reads: a part that
// fails whenever it is evaluated (`1 < 'a'`, `params.replicas[0]`, `5 / 0`, a `format` pattern
// that cannot work), or a comparison that never holds (`steps.x.status == 'success'`), whatever
// the values. Kinds come from `ExpressionTyping`: literals, declared param and output types and
// operator results; whatever it cannot know (`env`, `trigger`, `from_json(...)`, an output of
// type any) is never reported. A part that reads nothing is evaluated, so its error is the run's.

extension Expression {
    /// The problems `ExpressionKindChecker` finds; offsets as in `Template`.
    func checkKinds(_ typing: inout ExpressionTyping) -> [ExpressionIssue] {
        // Most expressions only read a value (`params.x`, `steps.a.outputs.b`): nothing there
        // can fail or never hold, and they need no checker.
        if Self.isPlainRead(root) { return [] }
        var checker = ExpressionKindChecker(expression: self, typing: typing)
        checker.checkRoot()
        typing = checker.typing
        return checker.issues
    }
}

extension Expression {
    /// `params.x`, `env.X`, `run.id`, `steps.a.status`, `steps.a.outputs.b`: a context and the
    /// names that lead to a value (a field read past those is checked, it may hit a scalar).
    static func isPlainRead(_ node: ExprNode) -> Bool {
        var depth = 0
        var current = node
        while case .member(let base, _, _) = current.kind {
            depth += 1
            current = base
        }
        guard case .context(let name) = current.kind else { return false }
        return depth <= (name == "steps" ? 3 : 1)
    }
}

extension Template {
    /// `Expression.checkKinds` for every expression of the template.
    func checkKinds(_ typing: inout ExpressionTyping) -> [ExpressionIssue] {
        expressions.flatMap { $0.checkKinds(&typing) }
    }
}

/// Walks one expression bottom up, once: each node's kind comes from its operands' kinds.
struct ExpressionKindChecker {
    let expression: Expression
    var typing: ExpressionTyping
    var issues: [ExpressionIssue] = []
    /// Evaluates the parts that read nothing and words messages as the run does.
    private let evaluator: ExpressionEvaluator

    init(expression: Expression, typing: ExpressionTyping) {
        self.expression = expression
        self.typing = typing
        evaluator = ExpressionEvaluator(expression: expression, context: EvaluationContext(root: [:]))
    }

    /// What the walk knows of a node: its kind, or that it reads nothing (then it is evaluated
    /// once, as the largest such part, and its kind is its value's).
    private enum Fact {
        case constant
        case kind(StaticKind?)
    }

    mutating func checkRoot() {
        if case .constant = check(expression.root) { _ = evaluate(expression.root) }
    }

    /// The kind of a node whose `Fact` is known: a constant node is evaluated here.
    private mutating func kind(_ node: ExprNode, _ fact: Fact) -> StaticKind? {
        switch fact {
        case .constant: evaluate(node)
        case .kind(let kind): kind
        }
    }

    /// Evaluates a part that reads nothing: its error is reported as the run words it.
    private mutating func evaluate(_ node: ExprNode) -> StaticKind? {
        do {
            return StaticKind(try evaluator.evaluate(node))
        } catch {
            issues.append(ExpressionIssue(ruleID: ExpressionIssue.Rule.expressionType, message: error.message, offset: error.offset))
            return nil
        }
    }

    private mutating func check(_ node: ExprNode) -> Fact {
        switch node.kind {
        case .literal:
            return .constant
        case .context:
            return .kind(nil)
        case .member(let base, let name, _):
            let baseFact = check(base)
            if case .constant = baseFact { return .constant }
            if let baseKind = kind(base, baseFact), baseKind != .map, !Self.mayBeNull(base) {
                report(ExpressionIssue.Rule.expressionType, "'\(evaluator.source(base))' is always \(baseKind.runPhrase), which has no field '\(name)'", at: node)
            }
            return .kind(typing.kind(of: node, operands: nil, nil))
        case .index(let base, let index):
            let (baseFact, indexFact) = (check(base), check(index))
            if case .constant = baseFact, case .constant = indexFact { return .constant }
            let baseKind = kind(base, baseFact)
            _ = kind(index, indexFact)
            if let baseKind, baseKind != .map, baseKind != .list, !Self.mayBeNull(base) {
                report(ExpressionIssue.Rule.expressionType, "'\(evaluator.source(base))' is always \(baseKind.runPhrase) and cannot be indexed", at: node)
            }
            return .kind(nil)
        case .unary(let op, let operand):
            let operandFact = check(operand)
            if case .constant = operandFact { return .constant }
            let operandKind = kind(operand, operandFact)
            if op == .negate, let operandKind, !operandKind.isNumber {
                report(ExpressionIssue.Rule.expressionType, "cannot negate \(operandKind.runName)", at: node)
            }
            return .kind(typing.kind(of: node, operands: operandKind, nil))
        case .binary(let op, let lhs, let rhs):
            let (lhsFact, rhsFact) = (check(lhs), check(rhs))
            if case .constant = lhsFact, case .constant = rhsFact { return .constant }
            let (lhsKind, rhsKind) = (kind(lhs, lhsFact), kind(rhs, rhsFact))
            switch op {
            case .equal, .notEqual: checkEquality(op, lhs, lhsKind, rhs, rhsKind)
            case .less, .lessOrEqual, .greater, .greaterOrEqual: checkOrder(node, lhs, lhsKind, rhs, rhsKind)
            case .add, .subtract, .multiply, .divide:
                checkArithmetic(op, node, lhsKind, rhsKind)
                // `params.n / 0`: whatever the dividend, a divisor that reads nothing and is 0 fails.
                if op == .divide, case .constant = rhsFact, lhsKind?.isNumber != false,
                   let divisor = try? evaluator.evaluate(rhs), divisor.numberValue == 0 {
                    report(ExpressionIssue.Rule.expressionType, "division by zero: '\(evaluator.source(rhs))' is 0", at: rhs)
                }
            case .and, .or: break
            }
            return .kind(typing.kind(of: node, operands: lhsKind, rhsKind))
        case .call(let name, _, let arguments):
            let facts = arguments.map { check($0) }
            // A call lint reports (unknown-function, wrong-arity) is not evaluated: that would say it twice.
            let wellFormed = ExpressionFunctions.signatures[name]?.accepts(arguments.count) == true
            if wellFormed, facts.allSatisfy({ if case .constant = $0 { true } else { false } }) { return .constant }
            var kinds: [StaticKind?] = []
            for (argument, fact) in zip(arguments, facts) { kinds.append(kind(argument, fact)) }
            if wellFormed, let (index, expected) = Self.argumentProblem(name, kinds), let got = kinds[index] {
                let argument = arguments[index]
                let what = if case .literal(let value) = argument.kind { "\(got.runName) \(value.interpolationText)" }
                    else { "\(got.runName) ('\(evaluator.source(argument))' is always \(got.phrase))" }
                report(ExpressionIssue.Rule.expressionType, "'\(name)' expects \(expected), got \(what)", at: argument)
            }
            if name == "format", let pattern = arguments.first, case .literal(.string(let text)) = pattern.kind,
               case .failure(let problem) = FormatPattern.parse(text, valueCount: arguments.count - 1) {
                report(ExpressionIssue.Rule.expressionType, problem.message, at: pattern)
            }
            return .kind(typing.kind(of: node, operands: nil, nil))
        }
    }

    /// The first argument whose kind the function refuses in every run (as `ExpressionFunctions`
    /// does), with what it expects; nil when every known kind fits.
    static func argumentProblem(_ name: String, _ kinds: [StaticKind?]) -> (index: Int, expected: String)? {
        func first(_ indices: Range<Int>, _ expected: String, fits: (StaticKind) -> Bool) -> (Int, String)? {
            for i in indices where i < kinds.count {
                if let k = kinds[i], !fits(k) { return (i, expected) }
            }
            return nil
        }
        let collection: (StaticKind) -> Bool = { $0.isText || $0 == .list || $0 == .map }
        switch name {
        case "len", "contains": return first(0..<1, "a string, list or map", fits: collection)
        case "starts_with", "ends_with": return first(0..<2, "a string", fits: \.isText)
        case "from_json", "lower", "upper", "format": return first(0..<1, "a string", fits: \.isText)
        case "join": return first(0..<1, "a list", fits: { $0 == .list }) ?? first(1..<2, "a string", fits: \.isText)
        case "keys": return first(0..<1, "a map", fits: { $0 == .map })
        case "abs": return first(0..<1, "a number", fits: \.isNumber)
        case "round": return first(0..<2, "a number", fits: \.isNumber)
        case "min", "max":
            if kinds.count == 1 { return first(0..<1, "numbers or a list of numbers", fits: { $0.isNumber || $0 == .list }) }
            return first(0..<kinds.count, "numbers", fits: \.isNumber)
        default: return nil
        }
    }

    /// `<`, `<=`, `>`, `>=` take two numbers or two strings; anything else fails in the run.
    private mutating func checkOrder(_ node: ExprNode, _ lhs: ExprNode, _ lhsKind: StaticKind?,
                                     _ rhs: ExprNode, _ rhsKind: StaticKind?) {
        guard let lhsKind, let rhsKind, !(lhsKind.isNumber && rhsKind.isNumber), !(lhsKind.isText && rhsKind.isText) else { return }
        var message = "cannot compare \(lhsKind.runName) with \(rhsKind.runName)"
        let why = [(lhs, lhsKind), (rhs, rhsKind)].filter { !Self.isLiteral($0.0) }
            .map { Self.environmentRead($0.0) != nil ? "'\(evaluator.source($0.0))' is always text, or null when unset"
                : "'\(evaluator.source($0.0))' is always \($0.1.phrase)" }
        if !why.isEmpty { message += " (" + why.joined(separator: ", ") + ")" }
        if let read = [lhs, rhs].lazy.compactMap({ Self.environmentRead($0) }).first, lhsKind.isNumber || rhsKind.isNumber {
            message += "; read a number with from_json(\(read))"
        }
        // `0 < x < 10` compares the bool `0 < x` with 10.
        if case .binary(let inner, let low, let middle) = lhs.kind, inner.isOrdering {
            message += "; to test a range, write '\(evaluator.source(low)) \(inner.rawValue) \(evaluator.source(middle)) && "
                + "\(evaluator.source(middle)) \(Self.operatorText(node)) \(evaluator.source(rhs))'"
        }
        report(ExpressionIssue.Rule.expressionType, message, at: node)
    }

    /// Arithmetic takes two numbers; `+` also two strings or two lists.
    private mutating func checkArithmetic(_ op: ExprNode.BinaryOperator, _ node: ExprNode,
                                          _ lhsKind: StaticKind?, _ rhsKind: StaticKind?) {
        guard let lhsKind, let rhsKind, !(lhsKind.isNumber && rhsKind.isNumber) else { return }
        if op == .add, (lhsKind.isText && rhsKind.isText) || (lhsKind == .list && rhsKind == .list) { return }
        let (l, r) = (lhsKind.runName, rhsKind.runName)
        let message = switch op {
        case .add: "cannot add \(l) and \(r)"
        case .subtract: "cannot subtract \(r) from \(l)"
        case .multiply: "cannot multiply \(l) by \(r)"
        default: "cannot divide \(l) by \(r)"
        }
        report(ExpressionIssue.Rule.expressionType, message, at: node)
    }

    /// `==` never fails, but it can never hold: a string that is not one of the values a step
    /// status or an enumerated output can have, or two kinds that are never equal.
    private mutating func checkEquality(_ op: ExprNode.BinaryOperator, _ lhs: ExprNode, _ lhsKind: StaticKind?,
                                        _ rhs: ExprNode, _ rhsKind: StaticKind?) {
        let result = op == .equal ? "always false" : "always true"
        for (side, other) in [(rhs, lhs), (lhs, rhs)] {
            guard case .literal(.string(let text)) = side.kind, let domain = typing.textValues(of: other) else { continue }
            if let stopper = domain.stopper, text == StepStatus.failed.rawValue {
                // Not a typo: a run never gets here after that step failed.
                report(ExpressionIssue.Rule.comparisonAlwaysFalse,
                       "'\(evaluator.source(other))' is never 'failed' here, so '\(op.rawValue)' is \(result): when '\(stopper)' fails "
                       + "the run stops (its on_failure) before this step; give '\(stopper)' 'on_failure: continue' to go on after a failure",
                       severity: .warning, at: side)
                return
            }
            guard !domain.values.contains(text) else { continue }
            let list = domain.values.map { "'\($0)'" }.joined(separator: ", ")
            report(ExpressionIssue.Rule.expressionType, "'\(evaluator.source(other))' is never '\(ExpressionEvaluator.shorten(text, to: 40))', "
                   + "so '\(op.rawValue)' is \(result); \(domain.what) is one of \(list)"
                   + Suggestions.valueHint(for: text, in: domain.values), at: side)
            return
        }
        guard let lhsKind, let rhsKind, lhsKind.equalityClass != rhsKind.equalityClass else { return }
        // Point at the literal when one side is one: it is what was mistyped.
        let literalFirst = Self.isLiteral(lhs) && !Self.isLiteral(rhs)
        let (other, otherKind, second, secondKind) = literalFirst ? (rhs, rhsKind, lhs, lhsKind) : (lhs, lhsKind, rhs, rhsKind)
        var message = "'\(evaluator.source(other))' is \(otherKind.phrase), never "
        if case .literal(let value) = second.kind {
            message += Self.describe(value)
        } else {
            message += "equal to '\(evaluator.source(second))', which is \(secondKind.phrase)"
        }
        message += ": '\(op.rawValue)' is \(result)"
        if case .literal(.string(let text)) = second.kind, let unquoted = Self.unquoted(text, for: otherKind) {
            message += "; write \(unquoted) without quotes"
        }
        report(ExpressionIssue.Rule.comparisonAlwaysFalse, message, severity: .warning, at: Self.isLiteral(second) ? second : lhs)
    }

    // MARK: Helpers

    private mutating func report(_ ruleID: String, _ message: String, severity: DiagnosticSeverity = .error, at node: ExprNode) {
        issues.append(ExpressionIssue(ruleID: ruleID, severity: severity, message: message,
                                      offset: expression.offset + node.range.lowerBound))
    }

    /// `env.X` or `secrets.X` as written, for a node that reads one directly.
    private static func environmentRead(_ node: ExprNode) -> String? {
        guard case .member(let base, let name, _) = node.kind, case .context(let context) = base.kind,
              context == "env" || context == "secrets" else { return nil }
        return "\(context).\(name)"
    }

    private static func isLiteral(_ node: ExprNode) -> Bool {
        if case .literal = node.kind { true } else { false }
    }

    /// Whether a value of a known kind may still be null: what a step, `env`, `secrets` or
    /// `trigger` holds may be missing (and a field or index of null is null, not an error).
    private static func mayBeNull(_ node: ExprNode) -> Bool {
        var base = node
        while true {
            switch base.kind {
            case .member(let inner, _, _), .index(let inner, _): base = inner
            case .context(let name): return name != "params" && name != "run"
            default: return false
            }
        }
    }

    /// `the string '200'`, `the number 5`, `true`.
    private static func describe(_ value: Value) -> String {
        switch value {
        case .string(let s): "the string '\(ExpressionEvaluator.shorten(s, to: 40))'"
        case .int, .double: "the number \(value.interpolationText)"
        default: value.interpolationText
        }
    }

    /// `200` for `'200'` compared with a number, `true` for `'true'` compared with a bool.
    private static func unquoted(_ text: String, for kind: StaticKind) -> String? {
        if kind.isNumber, let number = Value.parseJSON(text), number.numberValue != nil { return text }
        if kind == .bool, text == "true" || text == "false" { return text }
        return nil
    }

    /// The operator of a binary node, as written.
    private static func operatorText(_ node: ExprNode) -> String {
        if case .binary(let op, _, _) = node.kind { op.rawValue } else { "" }
    }
}

extension ExpressionTyping {
    /// The only strings `node` can be when it is text: a step's status, or an output declared as
    /// an enumeration; with how a message names them.
    func textValues(of node: ExprNode) -> (values: [String], what: String, stopper: String?)? {
        guard case .member(let base, let name, _) = node.kind else { return nil }
        if case .context("params") = base.kind, let values = paramEnums[name] {
            return (values, "param '\(name)', by its 'enum',", nil)
        }
        if name == "status", case .member(let root, let step, _) = base.kind, case .context("steps") = root.kind {
            let stopper = inMainStep && steps?[step]?.stopsRunOnFailure == true ? step : nil
            return (StepStatus.allCases.map(\.rawValue), "a step's status", stopper)
        }
        guard let output = Self.output(base, name), case .enumeration(let values)? = steps?[output.step]?.outputTypes?[name] else {
            return nil
        }
        return (values, "output '\(name)' of step '\(output.step)'", nil)
    }
}

extension StaticKind {
    /// How the run names a value of this kind in an error (`cannot compare bool with number`).
    var runName: String {
        switch self {
        case .bool: "bool"
        case .int, .number: "number"
        case .string, .url, .duration: "string"
        case .list: "list"
        case .map: "map"
        }
    }

    /// `a number`, `a string`: the run's name with an article.
    var runPhrase: String {
        "a \(runName)"
    }

    /// Values of different classes are never `==`: numbers equal by value, text by its characters.
    var equalityClass: Int {
        switch self {
        case .int, .number: 0
        case .string, .url, .duration: 1
        case .bool: 2
        case .list: 3
        case .map: 4
        }
    }
}

extension ExprNode.BinaryOperator {
    /// `<`, `<=`, `>`, `>=`.
    var isOrdering: Bool { self == .less || self == .lessOrEqual || self == .greater || self == .greaterOrEqual }
}
