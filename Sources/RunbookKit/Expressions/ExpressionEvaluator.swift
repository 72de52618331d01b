// Runtime semantics of the `${{ }}` language.
//
// Reading a missing value gives null (like GitHub Actions), so `when:` can test for it; using null
// where a number or string is needed is an error that names the operand as written, because a
// silently wrong comparison in a runbook is worse than a failed step.

/// The values an expression can read at run time.
public struct EvaluationContext: Sendable {
    /// Keys: `params`, `steps`, `env`, `secrets`, `run`, `trigger`. A missing context reads as null.
    public var root: [String: Value]

    /// Creates a context.
    public init(root: [String: Value]) {
        self.root = root
    }
}

extension Expression {
    /// Evaluates the expression; error offsets are within the template source (or the bare text).
    public func evaluate(in context: EvaluationContext) throws(ExpressionError) -> Value {
        try ExpressionEvaluator(expression: self, context: context).evaluate(root)
    }
}

/// Walks the tree; recursion is bounded because the parser caps the tree depth.
struct ExpressionEvaluator {
    let expression: Expression
    let context: EvaluationContext

    func evaluate(_ node: ExprNode) throws(ExpressionError) -> Value {
        switch node.kind {
        case .literal(let value):
            return value
        case .context(let name):
            guard ExpressionContext.names.contains(name) else {
                throw error("unknown context '\(name)'", at: node)
            }
            return context.root[name] ?? .null
        case .member(let baseNode, let name, _):
            let base = try evaluate(baseNode)
            switch base {
            case .null: return .null
            case .map(let m):
                // Secret names are case-insensitive, as `RUNBOOK_SECRET_API_TOKEN` and a secrets
                // file's `API_TOKEN=` both set `api_token`: `secrets.API_TOKEN` reads it too.
                if case .context("secrets") = baseNode.kind { return m[name.lowercased()] ?? .null }
                return m[name] ?? .null
            default:
                throw error("'\(source(baseNode))' is \(describe(base, baseNode)), which has no field '\(name)'", at: node)
            }
        case .index(let baseNode, let indexNode):
            return try index(baseNode, indexNode, in: node)
        case .unary(.not, let operand):
            return .bool(!(try evaluate(operand).isTruthy))
        case .unary(.negate, let operandNode):
            let operand = try evaluate(operandNode)
            switch operand {
            case .int(let n):
                let (result, overflow) = Int(0).subtractingReportingOverflow(n)
                if overflow { throw error("integer overflow in '\(source(node))'", at: node) }
                return .int(result)
            case .double(let d):
                return .double(-d)
            case .null:
                throw error("'\(source(operandNode))' is null", at: operandNode)
            default:
                throw error("cannot negate \(describe(operand, operandNode))", at: node)
            }
        case .binary(.and, let lhs, let rhs):
            guard try evaluate(lhs).isTruthy else { return .bool(false) }
            return .bool(try evaluate(rhs).isTruthy)
        case .binary(.or, let lhs, let rhs):
            if try evaluate(lhs).isTruthy { return .bool(true) }
            return .bool(try evaluate(rhs).isTruthy)
        case .binary(let op, let lhsNode, let rhsNode):
            let lhs = try evaluate(lhsNode)
            let rhs = try evaluate(rhsNode)
            switch op {
            case .equal: return .bool(Self.equal(lhs, rhs))
            case .notEqual: return .bool(!Self.equal(lhs, rhs))
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                return try compare(op, lhs, lhsNode, rhs, rhsNode)
            default:
                return try arithmetic(op, lhs, lhsNode, rhs, rhsNode, in: node)
            }
        case .call(let name, _, let argumentNodes):
            var arguments: [Value] = []
            arguments.reserveCapacity(argumentNodes.count)
            for argument in argumentNodes { arguments.append(try evaluate(argument)) }
            return try call(name, arguments, argumentNodes, in: node)
        }
    }

    private func index(_ baseNode: ExprNode, _ indexNode: ExprNode, in node: ExprNode) throws(ExpressionError) -> Value {
        let base = try evaluate(baseNode)
        let index = try evaluate(indexNode)
        switch base {
        case .null:
            return .null
        case .list(let items):
            guard let position = Self.integer(index) else {
                throw error("a list index must be a whole number, got \(describe(index, indexNode))", at: indexNode)
            }
            // Out of range reads as null, like a missing key, so `when:` can test for it.
            return items.indices.contains(position) ? items[position] : .null
        case .map(let m):
            guard case .string(let key) = index else {
                throw error("a map key must be a string, got \(describe(index, indexNode))", at: indexNode)
            }
            if case .context("secrets") = baseNode.kind { return m[key.lowercased()] ?? .null }
            return m[key] ?? .null
        default:
            throw error("'\(source(baseNode))' is \(describe(base, baseNode)) and cannot be indexed", at: node)
        }
    }

    /// Equality with numbers compared by value (`1 == 1.0`), recursively through lists and maps.
    static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.int, .double), (.double, .int), (.double, .double):
            return a.numberValue == b.numberValue
        case (.list(let xs), .list(let ys)):
            return xs.count == ys.count && zip(xs, ys).allSatisfy { equal($0, $1) }
        case (.map(let xs), .map(let ys)):
            guard xs.count == ys.count else { return false }
            for (key, x) in xs {
                guard let y = ys[key], equal(x, y) else { return false }
            }
            return true
        default:
            return a == b
        }
    }

    private func compare(_ op: ExprNode.BinaryOperator, _ lhs: Value, _ lhsNode: ExprNode,
                         _ rhs: Value, _ rhsNode: ExprNode) throws(ExpressionError) -> Value {
        if case .null = lhs { throw error("'\(source(lhsNode))' is null", at: lhsNode) }
        if case .null = rhs { throw error("'\(source(rhsNode))' is null", at: rhsNode) }
        let order: Int
        switch (lhs, rhs) {
        case (.int(let x), .int(let y)):
            order = x < y ? -1 : x == y ? 0 : 1
        case (.string(let x), .string(let y)):
            order = x < y ? -1 : x == y ? 0 : 1
        default:
            guard let x = lhs.numberValue, let y = rhs.numberValue else {
                throw error("cannot compare \(describe(lhs, lhsNode)) with \(describe(rhs, rhsNode))", at: lhsNode)
            }
            // NaN is unordered: every ordering comparison with it is false.
            if x.isNaN || y.isNaN { return .bool(false) }
            order = x < y ? -1 : x == y ? 0 : 1
        }
        switch op {
        case .less: return .bool(order < 0)
        case .lessOrEqual: return .bool(order <= 0)
        case .greater: return .bool(order > 0)
        default: return .bool(order >= 0)
        }
    }

    private func arithmetic(_ op: ExprNode.BinaryOperator, _ lhs: Value, _ lhsNode: ExprNode,
                            _ rhs: Value, _ rhsNode: ExprNode, in node: ExprNode) throws(ExpressionError) -> Value {
        if case .null = lhs { throw error("'\(source(lhsNode))' is null", at: lhsNode) }
        if case .null = rhs { throw error("'\(source(rhsNode))' is null", at: rhsNode) }
        switch (op, lhs, rhs) {
        case (.add, .string(let x), .string(let y)):
            return .string(x + y)
        case (.add, .list(let x), .list(let y)):
            return .list(x + y)
        case (_, .int(let x), .int(let y)):
            let result: (partialValue: Int, overflow: Bool)
            switch op {
            case .add: result = x.addingReportingOverflow(y)
            case .subtract: result = x.subtractingReportingOverflow(y)
            case .multiply: result = x.multipliedReportingOverflow(by: y)
            default:
                if y == 0 { throw error("division by zero: '\(source(rhsNode))' is 0", at: rhsNode) }
                result = x.dividedReportingOverflow(by: y)
                // An exact quotient stays an int (e.g. replicas / 2); otherwise the answer is a decimal.
                if !result.overflow, x % y != 0 { return .double(Double(x) / Double(y)) }
            }
            if result.overflow { throw error("integer overflow in '\(source(node))'", at: node) }
            return .int(result.partialValue)
        default:
            guard let x = lhs.numberValue, let y = rhs.numberValue else {
                let (l, r) = (describe(lhs, lhsNode), describe(rhs, rhsNode))
                let message = switch op {
                case .add: "cannot add \(l) and \(r)"
                case .subtract: "cannot subtract \(r) from \(l)"
                case .multiply: "cannot multiply \(l) by \(r)"
                default: "cannot divide \(l) by \(r)"
                }
                throw error(message, at: node)
            }
            let result: Double
            switch op {
            case .add: result = x + y
            case .subtract: result = x - y
            case .multiply: result = x * y
            default:
                if y == 0 { throw error("division by zero: '\(source(rhsNode))' is 0", at: rhsNode) }
                result = x / y
            }
            guard result.isFinite else { throw error("'\(source(node))' is not a finite number", at: node) }
            return .double(result)
        }
    }

    /// An int, or a double without fraction that fits an int.
    static func integer(_ value: Value) -> Int? {
        switch value {
        case .int(let n): return n
        case .double(let d) where d == d.rounded() && abs(d) < 9.0e18: return Int(d)
        default: return nil
        }
    }

    // MARK: Messages

    func error(_ message: String, at node: ExprNode) -> ExpressionError {
        ExpressionError(message: message, offset: expression.offset + node.range.lowerBound)
    }

    /// The operand as written, shortened so a message stays one readable line.
    func source(_ node: ExprNode) -> String {
        Self.shorten(expression.sourceText(of: node), to: 80)
    }

    /// `string 'abc'`, `number 100`, `list of 3 items`; a value read from `secrets` is never shown.
    func describe(_ value: Value, _ node: ExprNode) -> String {
        let secret = Self.readsSecrets(node)
        switch value {
        case .null: return "null"
        case .bool(let b): return secret ? "a secret bool" : "bool \(b)"
        case .int, .double: return secret ? "a secret number" : "number \(value.interpolationText)"
        // A long string is not quoted at all: a cut could keep the start of a secret that came
        // in through a step's output, which masking (by whole values) would then miss.
        case .string(let s):
            if secret { return "a secret string" }
            let count = s.unicodeScalars.count
            return count <= 40 ? "string '\(s)'" : "a string of \(count) characters"
        case .list(let items): return "list of \(items.count) item\(items.count == 1 ? "" : "s")"
        case .map(let m): return "map of \(m.count) key\(m.count == 1 ? "" : "s")"
        }
    }

    static func shorten(_ text: String, to limit: Int) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(limit))
        return String(view) + "…"
    }

    /// Whether any part of `node` reads the `secrets` context (its value must stay out of messages).
    static func readsSecrets(_ node: ExprNode) -> Bool {
        switch node.kind {
        case .literal: false
        case .context(let name): name == "secrets"
        case .member(let base, _, _): readsSecrets(base)
        case .index(let base, let index): readsSecrets(base) || readsSecrets(index)
        case .unary(_, let operand): readsSecrets(operand)
        case .binary(_, let lhs, let rhs): readsSecrets(lhs) || readsSecrets(rhs)
        case .call(_, _, let arguments): arguments.contains { readsSecrets($0) }
        }
    }
}

extension EvaluationContext {
    /// The value at a reference path (`["steps", "drain", "outputs", "depth"]`); null where absent.
    public func value(at path: [String]) -> Value {
        guard let first = path.first, var current = root[first] else { return .null }
        for key in path.dropFirst() {
            guard case .map(let fields) = current, let next = fields[key] else { return .null }
            current = next
        }
        return current
    }
}

extension Template {
    /// What the template's expressions read, for a message that says why a condition did not
    /// hold: `steps.drained.outputs.json.depth = 5000, params.max_depth = 1000`. At most four
    /// references, each value cut to 60 characters; `secrets` are left out (the caller masks
    /// the rest as every message is masked). Empty when nothing was read.
    public func observedValues(in context: EvaluationContext) -> String {
        var shown: [String] = []
        for path in references where path.first != "secrets" {
            if shown.count == 4 { shown.append("…"); break }
            let text = context.value(at: path).jsonText()
            shown.append(path.joined(separator: ".") + " = " + (text.count > 60 ? String(text.prefix(60)) + "…" : text))
        }
        return shown.joined(separator: ", ")
    }
}
