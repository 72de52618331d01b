/// A string value with embedded `${{ expr }}` parts.
///
/// There is no escape for a literal `${{`; write `${{ '${{' }}` instead.
public struct Template: Sendable, Hashable {
    /// A run of literal text or one embedded expression.
    public enum Segment: Sendable, Hashable {
        /// Literal text, copied as is.
        case text(String)
        /// One `${{ }}`.
        case expression(Expression)
    }

    /// The string as written.
    public let source: String
    /// Text and expressions in order; adjacent text is merged, empty text left out.
    public let segments: [Segment]

    /// Whether any `${{ }}` occurs.
    public var hasExpressions: Bool {
        segments.contains { if case .expression = $0 { true } else { false } }
    }

    /// The whole string is exactly one `${{ }}` (surrounding whitespace allowed): evaluation keeps the type.
    public var isSingleExpression: Bool { singleExpression != nil }

    /// The whole string is the literal `false` (`when: false`, `${{ false }}`): a step it
    /// guards never runs.
    public var isConstantFalse: Bool {
        guard let e = singleExpression, case .literal(.bool(false)) = e.root.kind else { return false }
        return true
    }

    /// `NAME` when the whole string is `${{ params.NAME }}`, else nil.
    public var singleParamReference: String? {
        guard let e = singleExpression, case .member(let base, let name, _) = e.root.kind,
              case .context("params") = base.kind else { return nil }
        return name
    }

    /// The expressions in order of appearance.
    public var expressions: [Expression] {
        segments.compactMap { if case .expression(let e) = $0 { e } else { nil } }
    }

    /// The only expression when the string is exactly one `${{ }}` (whitespace around it ignored).
    var singleExpression: Expression? {
        var found: Expression?
        for segment in segments {
            switch segment {
            case .text(let t):
                if !t.unicodeScalars.allSatisfy(\.properties.isWhitespace) { return nil }
            case .expression(let e):
                if found != nil { return nil }
                found = e
            }
        }
        return found
    }

    /// A template of plain text (no expressions), e.g. for values built by code.
    public init(text: String) {
        source = text
        segments = text.isEmpty ? [] : [.text(text)]
    }

    private init(source: String, segments: [Segment]) {
        self.source = source
        self.segments = segments
    }

    /// Parses; never throws: syntax problems come back as issues (rule `expression-syntax`,
    /// `expression-too-long`), template nil if any. Issue offsets are Unicode-scalar offsets in `text`.
    public static func parse(_ text: String) -> (template: Template?, issues: [ExpressionIssue]) {
        // No `${{`, no expression: the common case of plain text skips the scalar-by-scalar scan.
        if !containsExpressionOpener(text) { return (Template(text: text), []) }
        let s = ExpressionLexer.scalars(of: text)
        var segments: [Segment] = []
        var issues: [ExpressionIssue] = []
        var textStart = 0
        var i = 0
        var count = 0

        func appendText(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            let piece = ExpressionLexer.text(s, range)
            if case .text(let previous)? = segments.last {
                segments[segments.count - 1] = .text(previous + piece)
            } else {
                segments.append(.text(piece))
            }
        }

        scanning: while i < s.count {
            guard s[i] == "$", i + 2 < s.count, s[i + 1] == "{", s[i + 2] == "{" else {
                i += 1
                continue
            }
            let open = i
            let start = i + 3
            count += 1
            if count > Expression.maximumPerValue {
                issues = [ExpressionIssue(ruleID: ExpressionIssue.Rule.expressionTooLong,
                                          message: "a value holds more than \(Expression.maximumPerValue) expressions; "
                                            + "the limit is \(Expression.maximumPerValue) ('${{ }}') per value",
                                          offset: open)]
                break scanning
            }
            // Find the closing `}}` outside quoted strings, so `'}}'` inside the expression does not end it.
            var j = start
            var inString = false
            var close: Int?
            while j < s.count {
                if s[j] == "'" {
                    inString.toggle()
                } else if !inString, s[j] == "}", j + 1 < s.count, s[j + 1] == "}" {
                    close = j
                    break
                }
                j += 1
            }
            guard let close else {
                let hint = inString ? " (a quoted string is not closed)" : ""
                issues.append(ExpressionIssue(ruleID: ExpressionIssue.Rule.expressionSyntax,
                                              message: "'${{' is not closed by '}}'\(hint)", offset: open))
                break scanning
            }
            appendText(textStart..<open)
            let (expression, found) = Expression.parse(ExpressionLexer.text(s, start..<close),
                                                       scalars: Array(s[start..<close]), offset: start)
            if let expression {
                segments.append(.expression(expression))
            } else {
                // A too-long expression is reported at its `${{`, where the reader starts looking.
                issues += found.map { issue in
                    var issue = issue
                    if issue.ruleID == ExpressionIssue.Rule.expressionTooLong { issue.offset = open }
                    return issue
                }
            }
            i = close + 2
            textStart = i
        }
        if issues.isEmpty {
            appendText(textStart..<s.count)
            return (Template(source: text, segments: segments), [])
        }
        return (nil, issues)
    }

    /// Whether `text` contains `${{` (a byte scan; `String.contains(_:)` goes through Foundation).
    static func containsExpressionOpener(_ text: String) -> Bool { contains(text, "${{") }

    /// Whether the template's source contains `word`, as a cheap test before walking its
    /// expressions: a context or field name an expression reads is written in its source.
    func mentions(_ word: StaticString) -> Bool { Self.contains(source, word) }

    /// Whether `needle`'s bytes occur in `text`.
    static func contains(_ text: String, _ needle: StaticString) -> Bool {
        var text = text
        return text.withUTF8 { ByteSearch.firstOffset(of: needle, in: $0) != nil }
    }

    /// Every context path referenced, in order of first appearance, e.g. `["secrets", "slack_webhook"]`,
    /// `["steps", "verify", "outputs", "json", "reward_mean"]`: static member and string-literal index
    /// chains only, cut at the first computed index.
    public var references: [[String]] {
        var seen = Set<[String]>()
        var result: [[String]] = []
        for expression in expressions {
            for path in expression.references where seen.insert(path).inserted {
                result.append(path)
            }
        }
        return result
    }

    /// Checks every expression against what is visible at this point of the runbook.
    public func check(in scope: ExpressionScope) -> [ExpressionIssue] {
        expressions.flatMap { $0.check(in: scope) }
    }

    /// Evaluates: a single expression keeps its type; otherwise the parts are joined as text
    /// (`Value.interpolationText`) into a `.string`. Error offsets are within `source`.
    public func evaluate(in context: EvaluationContext) throws(ExpressionError) -> Value {
        if let single = singleExpression {
            return try single.evaluate(in: context)
        }
        var out = ""
        for segment in segments {
            switch segment {
            case .text(let t): out += t
            case .expression(let e): out += try e.evaluate(in: context).interpolationText
            }
        }
        return .string(out)
    }
}
