// Precedence climbing over the token list.
//
// Both the recursion of the parser and the depth of the tree it builds are capped at
// `Expression.maximumNesting`: a runbook must never be able to overflow the stack of lint,
// of the evaluator, or of the synthesized `Hashable` conformance that walks the tree.

/// Parses tokens into an `ExprNode` tree; the first syntax error stops it.
struct ExpressionParser {
    /// The first syntax error, as an issue with an offset within the expression text.
    struct Failure: Error {
        var issue: ExpressionIssue
        init(_ message: String, at offset: Int) {
            issue = ExpressionIssue(ruleID: ExpressionIssue.Rule.expressionSyntax, severity: .error,
                                    message: message, offset: offset)
        }
    }

    /// A node with the depth of its tree.
    private struct Parsed {
        var node: ExprNode
        var depth: Int
    }

    private let scalars: [Unicode.Scalar]
    private let tokens: [ExpressionToken]
    private var position = 0
    /// How many `parseUnary` calls are active; every recursive path passes through it.
    private var recursion = 0

    static func parse(_ scalars: [Unicode.Scalar]) -> Result<ExprNode, Failure> {
        let tokens: [ExpressionToken]
        switch ExpressionLexer.tokenize(scalars) {
        case .success(let t): tokens = t
        case .failure(let f): return .failure(f)
        }
        if tokens.count == 1 {
            return .failure(Failure("empty expression", at: 0))
        }
        var parser = ExpressionParser(scalars: scalars, tokens: tokens)
        do {
            let parsed = try parser.parseBinary(minimumPrecedence: 1)
            let rest = parser.current
            if rest.kind != .end {
                return .failure(Failure("expected the end of the expression, found \(rest.describe(in: scalars))", at: rest.range.lowerBound))
            }
            return .success(parsed.node)
        } catch {
            return .failure(error)
        }
    }

    private init(scalars: [Unicode.Scalar], tokens: [ExpressionToken]) {
        self.scalars = scalars
        self.tokens = tokens
    }

    private var current: ExpressionToken { tokens[min(position, tokens.count - 1)] }

    private mutating func advance() -> ExpressionToken {
        let token = current
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    /// Whether the current token is `symbol`: decided by the first byte for nearly every token
    /// (this runs several times per token, and `==` on unequal strings is an out-of-line call).
    private func isSymbol(_ symbol: StaticString) -> Bool {
        guard case .symbol(let s) = current.kind, s.utf8.first == symbol.utf8Start.pointee else { return false }
        return s.utf8.count == symbol.utf8CodeUnitCount && s == symbol.description
    }

    private func tooDeep(at offset: Int) -> Failure {
        Failure("expression is nested too deeply (the limit is \(Expression.maximumNesting) levels)", at: offset)
    }

    private func checked(_ node: ExprNode, depth: Int, at offset: Int) throws(Failure) -> Parsed {
        if depth > Expression.maximumNesting { throw tooDeep(at: offset) }
        return Parsed(node: node, depth: depth)
    }

    private var binaryOperator: ExprNode.BinaryOperator? {
        guard case .symbol(let s) = current.kind else { return nil }
        return ExprNode.BinaryOperator(rawValue: s)
    }

    private mutating func parseBinary(minimumPrecedence: Int) throws(Failure) -> Parsed {
        var left = try parseUnary()
        while let op = binaryOperator, op.precedence >= minimumPrecedence {
            let opToken = advance()
            // Left-associative: the right side only takes operators that bind tighter.
            let right = try parseBinary(minimumPrecedence: op.precedence + 1)
            let node = ExprNode(.binary(op, left.node, right.node),
                                range: left.node.range.lowerBound..<right.node.range.upperBound)
            left = try checked(node, depth: max(left.depth, right.depth) + 1, at: opToken.range.lowerBound)
        }
        return left
    }

    private mutating func parseUnary() throws(Failure) -> Parsed {
        recursion += 1
        defer { recursion -= 1 }
        if recursion > Expression.maximumNesting { throw tooDeep(at: current.range.lowerBound) }
        let op: ExprNode.UnaryOperator? = isSymbol("!") ? .not : isSymbol("-") ? .negate : nil
        if let op {
            let opToken = advance()
            let operand = try parseUnary()
            let node = ExprNode(.unary(op, operand.node), range: opToken.range.lowerBound..<operand.node.range.upperBound)
            return try checked(node, depth: operand.depth + 1, at: opToken.range.lowerBound)
        }
        return try parsePostfix()
    }

    private mutating func parsePostfix() throws(Failure) -> Parsed {
        var base = try parsePrimary()
        while true {
            if isSymbol(".") {
                let dot = advance()
                let nameToken = advance()
                guard case .identifier(let name) = nameToken.kind else {
                    throw Failure("expected a field name after '.', found \(nameToken.describe(in: scalars))",
                                  at: nameToken.range.lowerBound)
                }
                let node = ExprNode(.member(base.node, name: name, nameRange: nameToken.range),
                                    range: base.node.range.lowerBound..<nameToken.range.upperBound)
                base = try checked(node, depth: base.depth + 1, at: dot.range.lowerBound)
            } else if isSymbol("[") {
                let open = advance()
                if isSymbol("]") {
                    throw Failure("expected an index between '[' and ']'", at: current.range.lowerBound)
                }
                let index = try parseBinary(minimumPrecedence: 1)
                guard isSymbol("]") else {
                    throw Failure("expected ']' to close '[', found \(current.describe(in: scalars))",
                                  at: current.range.lowerBound)
                }
                let close = advance()
                let node = ExprNode(.index(base.node, index.node),
                                    range: base.node.range.lowerBound..<close.range.upperBound)
                base = try checked(node, depth: max(base.depth, index.depth) + 1, at: open.range.lowerBound)
            } else if isSymbol("(") {
                throw Failure("only functions can be called, e.g. 'len(x)'", at: current.range.lowerBound)
            } else {
                return base
            }
        }
    }

    private mutating func parsePrimary() throws(Failure) -> Parsed {
        let token = advance()
        switch token.kind {
        case .integer(let n):
            return Parsed(node: ExprNode(.literal(.int(n)), range: token.range), depth: 1)
        case .decimal(let d):
            return Parsed(node: ExprNode(.literal(.double(d)), range: token.range), depth: 1)
        case .string(let s):
            return Parsed(node: ExprNode(.literal(.string(s)), range: token.range), depth: 1)
        case .identifier(let name):
            switch name {
            case "true": return Parsed(node: ExprNode(.literal(.bool(true)), range: token.range), depth: 1)
            case "false": return Parsed(node: ExprNode(.literal(.bool(false)), range: token.range), depth: 1)
            case "null": return Parsed(node: ExprNode(.literal(.null), range: token.range), depth: 1)
            default: break
            }
            guard isSymbol("(") else {
                return Parsed(node: ExprNode(.context(name), range: token.range), depth: 1)
            }
            let open = advance()
            var arguments: [ExprNode] = []
            var depth = 1
            if !isSymbol(")") {
                while true {
                    let argument = try parseBinary(minimumPrecedence: 1)
                    arguments.append(argument.node)
                    depth = max(depth, argument.depth + 1)
                    if isSymbol(",") { _ = advance(); continue }
                    if isSymbol(")") { break }
                    throw Failure("expected ',' or ')' in the arguments of '\(name)', found \(current.describe(in: scalars))",
                                  at: current.range.lowerBound)
                }
            }
            let close = advance()
            let node = ExprNode(.call(name: name, nameRange: token.range, arguments: arguments),
                                range: token.range.lowerBound..<close.range.upperBound)
            return try checked(node, depth: depth, at: open.range.lowerBound)
        case .symbol("("):
            let inner = try parseBinary(minimumPrecedence: 1)
            guard isSymbol(")") else {
                throw Failure("expected ')' to close '(', found \(current.describe(in: scalars))",
                              at: current.range.lowerBound)
            }
            let close = advance()
            // The range takes in the parentheses so an operand's source text reads as written.
            return Parsed(node: ExprNode(inner.node.kind, range: token.range.lowerBound..<close.range.upperBound),
                          depth: inner.depth)
        case .end:
            throw Failure("expected an expression, found end of expression", at: token.range.lowerBound)
        default:
            throw Failure("expected an expression, found \(token.describe(in: scalars))", at: token.range.lowerBound)
        }
    }
}
