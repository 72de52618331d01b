// The syntax tree of the `${{ }}` language and the findings and errors it reports.
//
// Offsets throughout are counted in Unicode scalars, like `SourceLocation` columns,
// so a lowering stage can turn them into a column without re-scanning the text.

/// One node of a parsed expression, with the range it was written in.
public struct ExprNode: Sendable, Hashable {
    /// A prefix operator.
    public enum UnaryOperator: String, Sendable, Hashable {
        /// `!x`: true when `x` is not truthy.
        case not = "!"
        /// `-x`: arithmetic negation.
        case negate = "-"
    }

    /// An infix operator; all are left-associative.
    public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
        /// `a || b`: short-circuit, a bool
        case or = "||"
        /// `a && b`: short-circuit, a bool
        case and = "&&"
        /// `a == b`: numbers by value, anything else structurally
        case equal = "=="
        /// `a != b`
        case notEqual = "!="
        /// `a < b`: numbers or strings
        case less = "<"
        /// `a <= b`
        case lessOrEqual = "<="
        /// `a > b`
        case greater = ">"
        /// `a >= b`
        case greaterOrEqual = ">="
        /// `a + b`: numbers, or two strings or two lists joined
        case add = "+"
        /// `a - b`
        case subtract = "-"
        /// `a * b`
        case multiply = "*"
        /// `a / b`: an int when exact, else a decimal
        case divide = "/"

        /// Binding strength: higher binds tighter. Unary operators and postfix forms bind tighter than all.
        public var precedence: Int {
            switch self {
            case .or: 1
            case .and: 2
            case .equal, .notEqual: 3
            case .less, .lessOrEqual, .greater, .greaterOrEqual: 4
            case .add, .subtract: 5
            case .multiply, .divide: 6
            }
        }
    }

    /// What the node is.
    public indirect enum Kind: Sendable, Hashable {
        /// `null`, `true`, `false`, an integer, a decimal or a 'string'.
        case literal(Value)
        /// A root name such as `params` or `steps`.
        case context(String)
        /// `base.name`; `nameRange` is where the name was written.
        case member(ExprNode, name: String, nameRange: Range<Int>)
        /// `base[index]`.
        case index(ExprNode, ExprNode)
        /// `!operand` or `-operand`.
        case unary(UnaryOperator, ExprNode)
        /// `lhs op rhs`.
        case binary(BinaryOperator, ExprNode, ExprNode)
        /// `name(arguments...)`; only built-in functions can be called.
        case call(name: String, nameRange: Range<Int>, arguments: [ExprNode])
    }

    /// What the node is.
    public var kind: Kind
    /// Scalar offsets within `Expression.text` (a parenthesized node includes its parentheses).
    public var range: Range<Int>

    /// Creates a node.
    public init(_ kind: Kind, range: Range<Int>) {
        self.kind = kind
        self.range = range
    }
}

extension ExprNode {
    /// Whether the node reads no context, so it has one value before the run (every function
    /// is pure); `callingFunctions: false` counts a function call as unknown too. A walk of the
    /// tree, without building the list of references.
    func readsNothing(callingFunctions: Bool) -> Bool {
        switch kind {
        case .literal: return true
        case .context: return false
        case .call(_, _, let arguments): return callingFunctions && arguments.allSatisfy { $0.readsNothing(callingFunctions: true) }
        case .member(let base, _, _): return base.readsNothing(callingFunctions: callingFunctions)
        case .index(let a, let b), .binary(_, let a, let b):
            return a.readsNothing(callingFunctions: callingFunctions) && b.readsNothing(callingFunctions: callingFunctions)
        case .unary(_, let a): return a.readsNothing(callingFunctions: callingFunctions)
        }
    }
}

/// A parsed expression: the text between `${{` and `}}`, or a bare expression.
public struct Expression: Sendable, Hashable {
    /// The root of the syntax tree.
    public let root: ExprNode
    /// The text between `${{` and `}}` (or the whole bare expression).
    public let text: String
    /// Offset (in Unicode scalars) of `text` within the template source; 0 for a bare expression.
    public let offset: Int

    init(root: ExprNode, text: String, offset: Int) {
        self.root = root
        self.text = text
        self.offset = offset
    }

    /// The longest expression text accepted, in Unicode scalars (rule `expression-too-long`).
    public static let maximumLength = 4096
    /// The deepest nesting accepted (parentheses, operators, member chains); deeper is `expression-syntax`.
    public static let maximumNesting = 64
    /// Most `${{ }}` in one string value: no runbook needs more, and each is parsed and checked
    /// (and again at every alias of the value), so a hostile file cannot make lint's work and
    /// findings grow with the number of expressions it packs into a value.
    public static let maximumPerValue = 100

    /// Parses a bare expression (written without `${{ }}`, e.g. a `when:` given as plain text).
    ///
    /// Never throws: problems come back as issues with offsets within `text`; the expression is nil if any.
    public static func parse(_ text: String) -> (expression: Expression?, issues: [ExpressionIssue]) {
        parse(text, offset: 0)
    }

    /// Parses `text` found at `offset` of a template; issue offsets are relative to the template.
    static func parse(_ text: String, offset: Int) -> (expression: Expression?, issues: [ExpressionIssue]) {
        parse(text, scalars: ExpressionLexer.scalars(of: text), offset: offset)
    }

    /// `parse(_:offset:)` when the caller already has `text` as scalars.
    static func parse(_ text: String, scalars: [Unicode.Scalar], offset: Int) -> (expression: Expression?, issues: [ExpressionIssue]) {
        if scalars.count > maximumLength {
            let issue = ExpressionIssue(
                ruleID: ExpressionIssue.Rule.expressionTooLong, severity: .error,
                message: "expression is \(scalars.count) characters long; the limit is \(maximumLength)",
                offset: offset)
            return (nil, [issue])
        }
        switch ExpressionParser.parse(scalars) {
        case .success(let root):
            return (Expression(root: root, text: text, offset: offset), [])
        case .failure(let failure):
            var issue = failure.issue
            issue.offset += offset
            return (nil, [issue])
        }
    }

    /// The source text of `node` (used to name operands in messages).
    func sourceText(of node: ExprNode) -> String {
        let scalars = Array(text.unicodeScalars)
        let lower = max(0, min(node.range.lowerBound, scalars.count))
        let upper = max(lower, min(node.range.upperBound, scalars.count))
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[lower..<upper])
        return String(view)
    }
}

/// A problem found while parsing or checking an expression (lint time).
public struct ExpressionIssue: Sendable, Hashable, CustomStringConvertible {
    /// The rule ids this language reports.
    public enum Rule {
        /// Lexical or grammatical error, an unclosed `${{`, or nesting beyond `Expression.maximumNesting`.
        public static let expressionSyntax = "expression-syntax"
        /// An expression longer than `Expression.maximumLength`.
        public static let expressionTooLong = "expression-too-long"
        /// A root name that is not a context (`params`, `steps`, `env`, `secrets`, `run`, `trigger`).
        public static let unknownContext = "unknown-context"
        /// `params.X` where the runbook declares no param `X`.
        public static let unknownParam = "unknown-param"
        /// `steps.X` where the runbook has no step `X`.
        public static let unknownStep = "unknown-step"
        /// A step read before it can have run, or a step reading its own status.
        public static let stepNotRunYet = "step-not-run-yet"
        /// `steps.X.outputs.Y` where the action of `X` declares no output `Y`.
        public static let unknownOutput = "unknown-output"
        /// A call of a function that does not exist.
        public static let unknownFunction = "unknown-function"
        /// A call with too few or too many arguments.
        public static let wrongArity = "wrong-arity"
        /// A field that `steps.X`, `run` or `trigger` does not have.
        public static let unknownField = "unknown-field"
        /// A part of an expression that fails whenever it is evaluated, whatever the values (a
        /// comparison of a bool with a number, a field of a number, `5 / 0`, a `format` pattern
        /// that cannot work), or a comparison with a string a step status or an enumerated
        /// output never is.
        public static let expressionType = "expression-type"
        /// `==` or `!=` between values of kinds that are never equal (a number and a string).
        public static let comparisonAlwaysFalse = "comparison-always-false"

        /// Every rule id, for documentation and `# runbook-lint: ignore` validation.
        public static let all: [String] = [
            expressionSyntax, expressionTooLong, unknownContext, unknownParam, unknownStep,
            stepNotRunYet, unknownOutput, unknownFunction, wrongArity, unknownField, expressionType,
            comparisonAlwaysFalse,
        ]
    }

    /// Stable rule id, one of `Rule.all`.
    public var ruleID: String
    /// How bad it is (all current rules are errors).
    public var severity: DiagnosticSeverity
    /// Lowercase, no trailing period, names in 'quotes'.
    public var message: String
    /// Unicode-scalar offset within the template source (or the text of a bare expression).
    public var offset: Int

    /// Creates an issue.
    public init(ruleID: String, severity: DiagnosticSeverity = .error, message: String, offset: Int) {
        self.ruleID = ruleID
        self.severity = severity
        self.message = message
        self.offset = offset
    }

    /// `offset: message [rule]`, for test failures and debugging.
    public var description: String { "\(offset): \(message) [\(ruleID)]" }

    /// A diagnostic at `start` moved right by `offset` columns.
    ///
    /// Exact only when the string sits on one line and YAML delivered it unchanged (plain or
    /// single-quoted without escapes); otherwise pass the location of the scalar itself.
    public func diagnostic(atStringStart start: SourceLocation) -> Diagnostic {
        Diagnostic(severity, ruleID, message, at: start.advanced(byColumns: offset))
    }
}

/// A runtime failure of an expression, e.g. arithmetic on null or a division by zero.
public struct ExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Lowercase, no trailing period, operands named by their source text in 'quotes'.
    public var message: String
    /// Unicode-scalar offset within the template source (or the bare expression's text).
    public var offset: Int

    /// Creates an error.
    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// The message.
    public var description: String { message }
}

/// Another name for `Expression`: Foundation (macOS 15, swift-foundation) declares an `Expression`
/// type too, so a file importing both modules would otherwise have to write `RunbookKit.Expression`.
public typealias RunbookExpression = Expression
