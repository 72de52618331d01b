/// Small typed readers over YAML nodes that turn every surprise into a located diagnostic.
struct NodeReader {
    var bag = DiagnosticBag()
    let source: SourceText?

    init(source: SourceText?) { self.source = source }

    mutating func error(_ rule: String, _ message: String, _ node: YAMLNode, notes: [DiagnosticNote] = []) {
        bag.error(rule, message, at: node.reportLocation, notes: notes + node.aliasNotes)
    }

    mutating func warning(_ rule: String, _ message: String, _ node: YAMLNode, notes: [DiagnosticNote] = []) {
        bag.warning(rule, message, at: node.reportLocation, notes: notes + node.aliasNotes)
    }

    /// A mapping's pairs keyed by scalar key text, with unknown keys reported.
    mutating func mapping(_ node: YAMLNode, what: String, allowed: [String]) -> Mapping? {
        guard let pairs = node.mapping else {
            error("wrong-type", "\(what) must be a mapping, found \(node.kindDescription)", node)
            return nil
        }
        var map = Mapping(node: node)
        map.entries.reserveCapacity(pairs.count)
        for pair in pairs {
            guard let key = pair.key.scalar?.text else { continue }
            if !allowed.contains(where: { sameKey($0, key) }) {
                // `{description: a host, e.g. pg-2}`: the comma ended the value, and the rest became a key.
                let commaHint = key.contains(" ") && pair.value.scalar.map({ YAMLNode.resolvePlain($0) == .null }) == true
                    && isFlowMapping(node) ? "; in { } a ',' ends a value: quote the value before it" : ""
                error("unknown-key", "unknown key '\(key)' in \(what)" + Suggestions.hint(for: key, in: allowed) + commaHint, pair.key)
                continue
            }
            map.entries.append((key, pair.key, pair.value))
        }
        return map
    }

    /// Whether the mapping is written `{ ... }` (its source starts with a brace).
    func isFlowMapping(_ node: YAMLNode) -> Bool {
        guard let source, node.location.offset >= 0, node.location.offset < source.contents.count else { return false }
        return source.contents[node.location.offset] == UInt8(ascii: "{")
    }

    mutating func requireKey(_ map: Mapping, _ key: String, what: String) -> YAMLNode? {
        if let v = map[key] { return v }
        error("missing-key", "\(what) is missing required key '\(key)'", map.node)
        return nil
    }

    mutating func string(_ node: YAMLNode, what: String) -> Located<String>? {
        guard let s = node.scalar else {
            error("wrong-type", "\(what) must be a string, found \(node.kindDescription)", node)
            return nil
        }
        switch YAMLNode.resolvePlain(s) {
        case .string:
            return Located(s.text, at: node.reportLocation)
        case .null:
            error("wrong-type", "\(what) must be a string, found null", node)
        default:
            // `owner: 5`, `name: true`: the schema says string; quoting says it is meant as text.
            error("wrong-type", "\(what) must be a string, found \(node.kindDescription); quote it if it is meant as text", node)
        }
        return nil
    }

    /// A string shown to people as written (a title, a name, a description): a `${{ }}` in it
    /// is not evaluated, which a warning says (`expression-not-evaluated`).
    mutating func text(_ node: YAMLNode, what: String) -> Located<String>? {
        guard let s = string(node, what: what) else { return nil }
        if Template.containsExpressionOpener(s.value) {
            warning("expression-not-evaluated", "\(what) is used as written: its ${{ }} is not evaluated (expressions work in "
                    + "'with', 'when', 'until', confirmations, step names and the url and query of trigger probes)", node)
        }
        return s
    }

    /// A `${{ }}` where only a literal goes (`retry`, a step's `timeout`, thresholds): reported as
    /// that (`wrong-type`), not as a string of the wrong type or a malformed duration, which
    /// would leave the author wondering why `"${{ params.n }}"` is "a string". `place` names where
    /// expressions are not allowed (default: `what`).
    mutating func expressionInLiteral(_ node: YAMLNode, what: String, expected: String, place: String?) -> Bool {
        guard let s = node.scalar, Template.containsExpressionOpener(s.text) else { return false }
        error("wrong-type", "\(what) must be \(expected), not an expression: expressions are not allowed in \(place ?? what); "
              + "write the value", node)
        return true
    }

    mutating func int(_ node: YAMLNode, what: String, literalIn place: String? = nil) -> Located<Int>? {
        if let s = node.scalar, case .int(let i) = YAMLNode.resolvePlain(s) { return Located(i, at: node.reportLocation) }
        if expressionInLiteral(node, what: what, expected: "a literal integer", place: place) { return nil }
        error("wrong-type", "\(what) must be an integer, found \(node.kindDescription)", node)
        return nil
    }

    mutating func number(_ node: YAMLNode, what: String, literalIn place: String? = nil) -> Located<Double>? {
        if let s = node.scalar {
            switch YAMLNode.resolvePlain(s) {
            case .int(let i): return Located(Double(i), at: node.reportLocation)
            case .double(let d) where d.isFinite: return Located(d, at: node.reportLocation)
            case .double(let d):
                // .inf, .nan, 1e400: YAML numbers, but none a threshold or a factor can be.
                error("wrong-type", "\(what) must be a finite number, found \(Value.formatDouble(d))", node)
                return nil
            default: break
            }
        }
        // `above: "${{ params.threshold }}"`: only probes' url and query are evaluated.
        if expressionInLiteral(node, what: what, expected: "a literal number", place: place) { return nil }
        error("wrong-type", "\(what) must be a number, found \(node.kindDescription)", node)
        return nil
    }

    mutating func bool(_ node: YAMLNode, what: String) -> Located<Bool>? {
        if let s = node.scalar {
            switch YAMLNode.resolvePlain(s) {
            case .bool(let b): return Located(b, at: node.reportLocation)
            case .string(let t) where Self.boolLike.contains(t.lowercased()):
                warning("yaml11-bool", "'\(t)' is a string in YAML 1.2, not a boolean; write true or false for \(what)", node)
                return nil
            default: break
            }
        }
        error("wrong-type", "\(what) must be true or false, found \(node.kindDescription)", node)
        return nil
    }

    static let boolLike: Set<String> = ["yes", "no", "on", "off", "y", "n"]

    mutating func duration(_ node: YAMLNode, what: String, literalIn place: String? = nil) -> Located<RunbookDuration>? {
        if expressionInLiteral(node, what: what, expected: "a literal duration such as '90s', '5m' or '1h30m'", place: place) {
            return nil
        }
        guard let s = node.scalar else {
            error("wrong-type", "\(what) must be a duration such as '90s', '5m' or '1h30m', found \(node.kindDescription)", node)
            return nil
        }
        if case .string = YAMLNode.resolvePlain(s), let d = RunbookDuration.parse(s.text) {
            return Located(d, at: node.reportLocation)
        }
        if YAMLNode.resolvePlain(s) == .null {
            // `timeout: ~` or `timeout:` left empty: not a malformed duration, a missing one.
            error("wrong-type", "\(what) must be a duration such as '90s', '5m' or '1h30m', found null; give one or remove the key", node)
            return nil
        }
        error("invalid-duration", "invalid duration '\(s.text)' for \(what); write e.g. '90s', '5m' or '1h30m'", node)
        return nil
    }

    /// `duration`, which must be greater than zero (a timeout): `out-of-range` otherwise, and
    /// the value is kept (the finding is the error).
    mutating func positiveDuration(_ node: YAMLNode, what: String, literalIn place: String? = nil) -> Located<RunbookDuration>? {
        let d = duration(node, what: what, literalIn: place)
        if let d, d.value.seconds <= 0 { bag.error("out-of-range", "\(what) must be greater than zero", at: d.location) }
        return d
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, _: E.Type, what: String) -> Located<E>?
    where E.RawValue == String {
        guard let s = string(node, what: what) else { return nil }
        if let e = E(rawValue: s.value) { return Located(e, at: s.location) }
        let allowed = E.allCases.map(\.rawValue)
        error("invalid-enum", "invalid \(what) '\(s.value)'; expected one of " + allowed.map { "'\($0)'" }.joined(separator: ", ")
              + Suggestions.hint(for: s.value, in: allowed), node)
        return nil
    }

    mutating func list(_ node: YAMLNode, what: String) -> [YAMLNode]? {
        guard let items = node.sequence else {
            error("wrong-type", "\(what) must be a list, found \(node.kindDescription)", node)
            return nil
        }
        return items
    }

    mutating func stringList(_ node: YAMLNode, what: String) -> [Located<String>] {
        guard let items = list(node, what: what) else { return [] }
        return items.compactMap { string($0, what: "each item of \(what)") }
    }

    /// A list of texts used as written (`components`, `prevention`): see `text`.
    mutating func textList(_ node: YAMLNode, what: String) -> [Located<String>] {
        guard let items = list(node, what: what) else { return [] }
        return items.compactMap { text($0, what: "each item of \(what)") }
    }

    static func idPattern(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    mutating func identifier(_ node: YAMLNode, what: String) -> Located<String>? {
        guard let s = string(node, what: what) else { return nil }
        if !Self.idPattern(s.value) {
            error("invalid-id", "invalid \(what) '\(s.value)': use lowercase letters, digits and '_', starting with a letter", node)
        }
        return s
    }

    /// A plain YAML value (no templates): scalars resolved, collections recursively.
    func value(of node: YAMLNode) -> Value {
        switch node.content {
        case .scalar(let s):
            switch YAMLNode.resolvePlain(s) {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let t): return .string(t)
            }
        case .sequence(let items): return .list(items.map { value(of: $0) })
        case .mapping(let pairs):
            var m: [String: Value] = [:]
            for p in pairs { if let k = p.key.scalar?.text { m[k] = value(of: p.value) } }
            return .map(m)
        }
    }

    // MARK: templates

    /// Parses a string scalar that may hold `${{ }}` parts; issues become diagnostics at exact columns.
    mutating func template(_ node: YAMLNode, text: String) -> LocatedTemplate? {
        let positions = positionsOfContent(node)
        let (template, issues) = Template.parse(text)
        for issue in issues {
            let at = positions.location(ofOffset: issue.offset)
            bag.append(Diagnostic(issue.severity, issue.ruleID, issue.message, at: at, notes: node.aliasNotes))
        }
        guard let template else { return nil }
        return LocatedTemplate(template: template, location: node.reportLocation, positions: positions)
    }

    /// A condition (`when`, `until`): `${{ expr }}`, a bare expression, or true/false.
    mutating func condition(_ node: YAMLNode, what: String) -> LocatedTemplate? {
        guard let s = node.scalar else {
            error("wrong-type", "\(what) must be an expression string, found \(node.kindDescription)", node)
            return nil
        }
        var bareText = s.text
        switch YAMLNode.resolvePlain(s) {
        case .bool(let b):
            bareText = b ? "true" : "false"  // `True`, `TRUE`: YAML booleans, the expression's literal
        case .string(let text) where s.style == .plain && Self.boolLike.contains(text.lowercased()):
            // `when: no` means false to whoever wrote it (YAML 1.1, Ansible): taken so, with a
            // warning, rather than as a string (always true) or a failing step.
            let value = ["yes", "on", "y"].contains(text.lowercased())
            warning("yaml11-bool", "'\(text)' is a string in YAML 1.2, not a boolean; \(what) takes it as \(value), as YAML 1.1 "
                    + "would: write \(value)", node)
            bareText = value ? "true" : "false"
        case .string:
            break
        default:
            error("wrong-type", "\(what) must be an expression or true/false, found \(node.kindDescription)", node)
            return nil
        }
        // Only a condition that starts with `${{` is one: `contains(params.msg, '${{')` is a bare
        // expression whose string holds the characters.
        if s.text.unicodeScalars.drop(while: \.properties.isWhitespace).starts(with: "${{".unicodeScalars) {
            guard let located = template(node, text: s.text) else { return nil }
            if !located.template.isSingleExpression {
                // Text around `${{ }}` makes a string, and any non-empty string is true.
                error("wrong-type", "\(what) must be one ${{ }} expression with nothing around it (or a bare expression); "
                      + "text around it makes a string, which is always true", node)
                return nil
            }
            return located
        }
        // A bare expression: wrap it so evaluation keeps its type, and shift positions back by "${{".
        let positions = positionsOfContent(node).prefixed(by: 3)
        let (template, issues) = Template.parse("${{" + bareText + "}}")
        for issue in issues {
            let at = positions.location(ofOffset: issue.offset)
            // A `${{` further in: the condition did not start with one, so it is all one bare expression.
            let message = issue.message == ExpressionLexer.nestedOpenerMessage
                ? "unexpected '${{' inside \(what): a condition that does not start with '${{' is one bare expression; "
                    + "write it without '${{ }}', or as one '${{ }}' with nothing around it"
                : issue.message
            bag.append(Diagnostic(issue.severity, issue.ruleID, message, at: at, notes: node.aliasNotes))
        }
        guard let template else { return nil }
        if !template.isSingleExpression {
            // A `}}` inside the bare text closed the wrapping early (`params.flag }}`, `x}`): the
            // rest is text after the expression, which would make an always-true string.
            // The wrapped text starts with the expression; its `}}` sits right after it.
            let closing = 3 + (template.expressions.first?.text.unicodeScalars.count ?? 0)
            bag.append(Diagnostic(.error, "expression-syntax",
                                  "unexpected '}' in \(what): it ends the expression, and the text after it would make the condition an always-true string",
                                  at: positions.location(ofOffset: closing), notes: node.aliasNotes))
            return nil
        }
        return LocatedTemplate(template: template, location: node.reportLocation, positions: positions)
    }

    /// Where each character of a scalar's value was written (see `ScalarPositions`): the content
    /// start plus an offset for a one-line scalar without escapes, else a walk of the source.
    func positionsOfContent(_ node: YAMLNode) -> TemplatePositions {
        // Aliased text: findings point at the alias, not at the anchor's columns.
        if let origin = node.aliasOrigin { return TemplatePositions(contentStart: origin.aliasLocation, pinned: true) }
        var start = node.location
        guard let s = node.scalar else { return TemplatePositions(contentStart: start) }
        // `&anchor` and `!tag` come before the text: libyaml's start is theirs.
        if let source, let after = ScalarPositions.startAfterProperties(start, source: source) { start = after }
        if let source,
           let positions = ScalarPositions.positions(text: s.text, style: s.style, start: start, end: node.endLocation,
                                                     source: source) {
            return positions
        }
        switch s.style {
        case .singleQuoted, .doubleQuoted: return TemplatePositions(contentStart: start.advanced(byColumns: 1))
        case .plain, .literal, .folded: return TemplatePositions(contentStart: start)
        }
    }

    /// A `with:` value: strings become templates, collections recurse.
    mutating func templateValue(_ node: YAMLNode) -> TemplateValue? {
        switch node.content {
        case .scalar(let s):
            if case .string(let text) = YAMLNode.resolvePlain(s), Template.containsExpressionOpener(text) {
                // A template that does not parse was reported; keep the argument so no
                // "missing parameter" follows from the same mistake.
                return template(node, text: text).map(TemplateValue.template) ?? .literal(.string(text), node.reportLocation)
            }
            return .literal(value(of: node), node.reportLocation)
        case .sequence(let items):
            return .list(items.compactMap { templateValue($0) }, node.reportLocation)
        case .mapping(let pairs):
            var out: [(key: Located<String>, value: TemplateValue)] = []
            for p in pairs {
                guard let k = p.key.scalar?.text, let v = templateValue(p.value) else { continue }
                if Template.containsExpressionOpener(k) {
                    warning("expression-not-evaluated", "the key '\(k)' is used as written: a ${{ }} in a mapping key is not "
                            + "evaluated (only values are)", p.key)
                }
                out.append((Located(k, at: p.key.reportLocation), v))
            }
            return .map(out, node.reportLocation)
        }
    }
}

/// A mapping's known entries by key.
///
/// Looked up by a linear scan: runbook mappings have a handful of keys, and the front end has
/// already dropped repeated keys, so this is cheaper than hashing every key into a dictionary.
struct Mapping {
    /// The mapping's node without its pairs (for where to report a missing key): the pairs
    /// live in `entries` only, so `take` can hand a value's subtree over to its only owner.
    let node: YAMLNode
    var entries: [(name: String, key: YAMLNode, value: YAMLNode)] = []
    init(node: YAMLNode) {
        var header = node
        header.content = .mapping([])
        self.node = header
    }
    subscript(key: String) -> YAMLNode? { entries.last { sameKey($0.name, key) }?.value }
    func keyNode(_ key: String) -> YAMLNode? { entries.last { sameKey($0.name, key) }?.key }

    /// Removes and returns the value of `key`, so the caller holds the only reference to it
    /// (once the mapping's own node is gone) and can free its subtree piece by piece.
    mutating func take(_ key: String) -> YAMLNode? {
        guard let index = entries.lastIndex(where: { sameKey($0.name, key) }) else { return nil }
        return entries.remove(at: index).value
    }
}

/// `a == b`, deciding most unequal keys by their length: `==` on two different short strings
/// is an out-of-line call, and key lookups compare a key with every allowed or present key.
@inline(__always)
func sameKey(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a == b
}
