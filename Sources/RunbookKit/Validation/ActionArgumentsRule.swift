/// Every step calls a registered action with the parameters that action declares:
/// no unknown parameter, no missing required one, literal values of the right type, and no
/// expression whose kind (`ExpressionTyping`) no conversion to the parameter's type accepts.
public struct ActionArgumentsRule: StepLintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [
            RuleDescription("unknown-action", .error, "a step calls an action that is not registered"),
            RuleDescription("unknown-parameter", .error, "a 'with:' key the action does not declare"),
            RuleDescription("missing-parameter", .error, "a required action parameter is not given"),
            RuleDescription("parameter-type", .error, "a 'with:' value does not fit the parameter's type: a literal, or an expression that always gives another kind of value (e.g. a comparison for an integer); or it is empty where the action needs a value"),
            RuleDescription("conflicting-parameters", .error, "'with:' gives parameters that exclude each other (e.g. both 'json' and 'body')"),
            RuleDescription("secret-literal", .warning, "a secret parameter is written in clear text instead of '${{ secrets.NAME }}'"),
        ]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let paramTypes = context.runbook.paramTypes
        for step in [context.runbook.steps, context.runbook.rollback].joined() where !step.isSummary {  // no copy of the steps
            _ = check(step, catalog: context.catalog, paramTypes: paramTypes, into: &out)
        }
        return out
    }

    public func check(step: Step, scope: StepScope) -> [Diagnostic]? {
        var out: [Diagnostic] = []
        // An expression reading a param whose type is not known yet is judged with the whole runbook.
        return check(step, catalog: scope.catalog, paramTypes: scope.paramTypes, into: &out) ? out : nil
    }

    /// Checks one step; false when an expression's kind depends on a param not known yet.
    func check(_ step: Step, catalog: ActionCatalog, paramTypes: [String: ParamType]?, into out: inout [Diagnostic]) -> Bool {
        guard let action = catalog[step.action.value] else {
            out.append(.error("unknown-action", "unknown action '\(step.action.value)'"
                              + Suggestions.hint(for: step.action.value, in: catalog.ids), at: step.action.location))
            return true
        }
        var typing = ExpressionTyping(paramTypes: paramTypes)
        for argument in step.with {
            guard let parameter = action.parameter(named: argument.name.value) else {
                let name = argument.name.value
                // A step key indented one level too deep lands in `with:`.
                let hint = Suggestions.closest(to: name, in: action.parameters.map(\.name)) == nil
                    && RunbookLowering.stepKeys.contains(name) && name != "with"
                    ? "; '\(name)' is a key of the step: write it beside 'with:' (same indentation), not inside it"
                    : Suggestions.hint(for: name, in: action.parameters.map(\.name))
                out.append(.error("unknown-parameter", "action '\(action.id)' has no parameter '\(name)'" + hint,
                                  at: argument.name.location))
                continue
            }
            // Where any value is taken, a plain `off` is the text "off" (type-checked as usual below).
            if parameter.type.holdsAny {
                for found in argument.plainYAML11Bools {
                    let text = found.value
                    let meant = ["yes", "on", "y"].contains(text.lowercased())
                    out.append(.warning("yaml11-bool", "'\(text)' is a string in YAML 1.2, not a boolean: '\(parameter.name)' of '\(action.id)' "
                                        + "gets the text \"\(text)\", which most programs read as true; write \(meant) for a boolean, "
                                        + "or quote it ('\(text)') if the text is meant", at: found.location))
                }
            }
            if parameter.type == .bool, case .literal(.string(let text), let location) = argument.value,
               NodeReader.boolLike.contains(text.lowercased()) {
                out.append(.warning("yaml11-bool", "'\(text)' is a string in YAML 1.2, not a boolean; write true or false for '\(parameter.name)'",
                                    at: location))
            } else if let problem = TypeCheck.problem(argument.value, against: parameter.type, typing: &typing) {
                out.append(.error("parameter-type", "parameter '\(parameter.name)' of '\(action.id)' \(problem.message)",
                                  at: problem.location))
            } else if parameter.hasRange {
                RangeCheck.check(argument.value, parameter, step: step.id.value, into: &out)
            } else if parameter.required, parameter.type == .string, case .literal(.string(let text), let location) = argument.value,
                      text.allSatisfy(\.isWhitespace), !action.constraints.contains(.nonEmpty(parameter.name)) {
                // A required text left empty is as good as missing: the action refuses it.
                out.append(.error("parameter-type", "parameter '\(parameter.name)' of '\(action.id)' must not be empty", at: location))
            }
            if parameter.secret, let location = Self.clearTextSecret(argument.value, parameter: parameter.name) {
                out.append(.warning("secret-literal", "parameter '\(parameter.name)' is a secret; pass it as '${{ secrets.NAME }}' instead of clear text",
                                    at: location))
            } else if parameter.secret, let location = Self.secretFromParam(argument.value, parameter: parameter.name) {
                out.append(.warning("secret-literal", "parameter '\(parameter.name)' is a secret, but its value comes from a param, "
                                    + "which the run's header, its journal and 'runbook history' show; pass it as '${{ secrets.NAME }}'",
                                    at: location))
            }
            // A notification's URL is hidden in the run's messages and plans (its path or query is
            // often the token), but a param's value is shown in clear in the run's header, its
            // journal, `history` and `show`. Only where the URL is the notification's credential
            // (`notify.webhook url`); PagerDuty's endpoint is none (its routing key is the secret).
            if !parameter.secret, action.notifies, parameter.type == .url, !action.parameters.contains(where: \.secret),
               let location = Self.secretFromParam(argument.value, parameter: parameter.name) {
                out.append(.warning("secret-literal", "parameter '\(parameter.name)' of '\(action.id)' is a notification URL, which the run's "
                                    + "messages hide (its path or query is often the token), but its value comes from a param, which the "
                                    + "run's header, its journal, 'history' and 'show' print in clear; pass it as '${{ secrets.NAME }}'",
                                    at: location))
            }
            // A URL with its password written in clear (`http://svc:pw@host/`): it is sent as Basic
            // auth, and the runbook file, `docs` and the params table are read by many.
            if !parameter.secret, parameter.type == .url, let location = Self.clearTextSecret(argument.value, parameter: "dsn") {
                out.append(.warning("secret-literal", "parameter '\(parameter.name)' holds a URL password in clear text; "
                                    + "pass the URL as '${{ secrets.NAME }}'", at: location))
            }
            // A credential header (`Authorization`, `X-Api-Key`) written in clear, or from a param.
            if parameter.name == "headers", case .map(let fields, _) = argument.value {
                for field in fields where SecretMasker.isCredentialHeader(field.key.value) {
                    if case .literal(.string(let text), let location) = field.value, !text.isEmpty {
                        out.append(.warning("secret-literal", "header '\(field.key.value)' holds a credential; pass it as "
                                            + "'${{ secrets.NAME }}' instead of clear text", at: location))
                    } else if let location = Self.secretFromParam(field.value, parameter: "headers") {
                        out.append(.warning("secret-literal", "header '\(field.key.value)' holds a credential, but its value comes "
                                            + "from a param, which the run's header, its journal and 'runbook history' show; "
                                            + "pass it as '${{ secrets.NAME }}'", at: location))
                    }
                }
            }
        }
        for parameter in action.parameters where parameter.required && step.argument(parameter.name) == nil {
            out.append(.error("missing-parameter", "step '\(step.id.value)' does not give required parameter '\(parameter.name)' of '\(action.id)'",
                              at: step.action.location))
        }
        if !action.constraints.isEmpty { ParameterConstraintCheck.check(step, action, into: &out) }
        return !typing.undecided
    }
}

extension ActionArgumentsRule {
    /// Where a secret parameter's value is written in clear text: a literal, or text around a
    /// `${{ }}` that holds a password (`postgres://app:hunter2@${{ params.host }}`). A DSN with no
    /// password in it (peer or socket authentication) holds no secret.
    static func clearTextSecret(_ value: TemplateValue, parameter: String) -> SourceLocation? {
        switch value {
        case .literal(.string(let text), let location):
            if parameter == "dsn", !hasPassword(text) { return nil }
            return location
        case .template(let t):
            guard !t.template.mentions("secrets") else { return nil }
            let text = t.template.segments.map { if case .text(let s) = $0 { s } else { "x" } }.joined()
            return hasPassword(text) ? t.location : nil
        default:
            return nil
        }
    }

    /// Where a secret parameter's value is read from a param (params are shown everywhere) and
    /// not from `secrets`. A DSN counts only when a param gives all of it: `postgres://app@${{
    /// params.host }}/db` has no password to show.
    static func secretFromParam(_ value: TemplateValue, parameter: String) -> SourceLocation? {
        guard case .template(let t) = value, !t.template.mentions("secrets"), t.template.mentions("params") else { return nil }
        if parameter == "dsn", t.template.segments.contains(where: { if case .text = $0 { true } else { false } }) { return nil }
        return t.location
    }

    /// `scheme://user:password@host` or `password=...` (a libpq keyword DSN). Read on the bytes:
    /// lint asks it of every param default and secret parameter.
    static func hasPassword(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            // `password=` in any case: each `=` whose eight bytes before spell it.
            var from = 0
            while let equals = ByteSearch.firstOffset(of: "=", in: bytes, from: from) {
                if equals >= 8, zip(bytes[(equals - 8)..<equals], "password".utf8).allSatisfy({ $0 | 0x20 == $1 }) { return true }
                from = equals + 1
            }
            // The password of `scheme://user:password@host`, found as the masker finds it.
            return SecretMasker.urlPasswordRange(in: bytes).map { !$0.isEmpty } ?? false
        }
    }
}

/// Lint of an action's `ParameterConstraint`s on one step. A constraint is only judged on what
/// is known before the run: a parameter written as an expression counts as given, and a
/// condition on its value is left to the run.
enum ParameterConstraintCheck {
    /// Whether a condition holds: nil when it depends on an expression's value.
    private static func holds(_ condition: ParameterCondition, _ step: Step, _ action: ActionDescriptor) -> Bool? {
        switch condition {
        case .given(let name):
            return isGiven(name, step)
        case .equals(let name, let expected):
            guard let argument = step.argument(name), !isNull(argument.value) else {
                return action.parameter(named: name)?.defaultValue == expected
            }
            guard case .literal(let value, _) = argument.value else {
                return argument.value.staticValue.map { $0 == expected }
            }
            return value == expected
        }
    }

    private static func isNull(_ value: TemplateValue) -> Bool {
        if case .literal(.null, _) = value { return true }
        return false
    }

    /// Given: present in `with:` and not a literal null (the actions read null as absent).
    private static func isGiven(_ name: String, _ step: Step) -> Bool {
        guard let argument = step.argument(name) else { return false }
        return !isNull(argument.value)
    }

    static func check(_ step: Step, _ action: ActionDescriptor, into out: inout [Diagnostic]) {
        let whole = step.withLocation ?? step.action.location
        // Worded only when there is a finding: this runs for nearly every step.
        var what: String { "step '\(step.id.value)'" }
        func quoted(_ names: [String]) -> String {
            let q = names.map { "'\($0)'" }
            return q.count <= 2 ? q.joined(separator: " and ") : q.dropLast().joined(separator: ", ") + " and " + q.last!
        }
        func either(_ names: [String]) -> String {
            let q = names.map { "'\($0)'" }
            return q.count <= 2 ? q.joined(separator: " or ") : q.dropLast().joined(separator: ", ") + " or " + q.last!
        }
        func conflict(_ names: [String]) {
            let given = names.filter { isGiven($0, step) }
            guard given.count > 1, let second = step.argument(given[1]) else { return }
            out.append(.error("conflicting-parameters", "\(what) gives \(quoted(given)) of '\(action.id)'; give only one of them",
                              at: second.name.location))
        }
        // Parameters already reported missing as part of a group: a `requires` on them says nothing new.
        var reportedMissing = Set<String>()
        for constraint in action.constraints {
            switch constraint {
            case .exactlyOne(let names), .atLeastOne(let names):
                if !names.contains(where: { isGiven($0, step) }) {
                    let how = if case .exactlyOne = constraint { "one of" } else { "at least one of" }
                    out.append(.error("missing-parameter", "\(what) gives none of \(either(names)); '\(action.id)' needs \(how) them",
                                      at: whole))
                    reportedMissing.formUnion(names)
                } else if case .exactlyOne = constraint {
                    conflict(names)
                }
            case .atMostOne(let names):
                conflict(names)
            case .requires(let condition, let needed):
                guard holds(condition, step, action) == true, holds(needed, step, action) == false,
                      !reportedMissing.contains(needed.parameter) else { continue }
                let at = step.argument(condition.parameter)?.name.location ?? whole
                if let given = step.argument(needed.parameter), !isNull(given.value) {
                    out.append(.error("conflicting-parameters", "\(what): \(condition) of '\(action.id)' requires \(needed)",
                                      at: given.name.location))
                } else {
                    out.append(.error("missing-parameter", "\(what): \(condition) of '\(action.id)' requires \(needed)", at: at))
                }
            case .ordered(let low, let high):
                // A quoted number counts as the run converts it (`"20.5"`).
                func number(_ v: Value) -> Double? { v.numberValue ?? v.stringValue.flatMap(Value.decimalNumber) }
                guard case .literal(let a, _)? = step.argument(low)?.value, let lowValue = number(a),
                      case .literal(let b, let location)? = step.argument(high)?.value, let highValue = number(b),
                      lowValue > highValue else { continue }
                out.append(.error("conflicting-parameters", "\(what): '\(low)' (\(a.interpolationText)) is above '\(high)' "
                                  + "(\(b.interpolationText)) of '\(action.id)'; nothing can be in between", at: location))
            case .headerNames(let name):
                guard case .map(let pairs, _)? = step.argument(name)?.value else { continue }
                for pair in pairs where !ParameterConstraint.isHeaderName(pair.key.value) {
                    out.append(.error("parameter-type", "parameter '\(name)' of '\(action.id)': '\(pair.key.value)' is not an HTTP "
                                      + "header name (letters, digits and !#$%&'*+-.^_`|~ only)", at: pair.key.location))
                }
            case .positive(let name):
                // A literal, or a `${{ }}` that reads nothing (`${{ '0s' }}`), as the run converts it.
                let given = step.argument(name)?.value
                let known: (Value, SourceLocation)? = switch given {
                case .literal(let v, let l)?: (v, l)
                case .template(let t)?: TypeCheck.constantValue(t, as: .duration).map { ($0, t.location) }
                default: nil
                }
                guard let (value, location) = known,
                      let seconds = ParameterConstraint.durationSeconds(value), seconds <= 0 else { continue }
                out.append(.error("out-of-range", "parameter '\(name)' of '\(action.id)' must be longer than 0s: "
                                  + "nothing finishes in no time", at: location))
            case .regex(let name):
                guard case .literal(.string(let pattern), let location)? = step.argument(name)?.value,
                      let problem = ParameterConstraint.regexProblem(pattern) else { continue }
                out.append(.error("parameter-type", "parameter '\(name)' of '\(action.id)': \(problem)", at: location))
            case .systemText(let name):
                guard let argument = step.argument(name) else { continue }
                TypeCheck.checkSystemText(argument.value, what: "parameter '\(name)' of '\(action.id)'", into: &out)
            case .nonEmpty(let name):
                guard let argument = step.argument(name) else { continue }
                switch argument.value {
                case .literal(.string(let text), let location) where text.allSatisfy(\.isWhitespace):
                    out.append(.error("parameter-type", "parameter '\(name)' of '\(action.id)' must not be empty", at: location))
                case .list(let items, let location) where items.isEmpty:
                    out.append(.error("parameter-type", "parameter '\(name)' of '\(action.id)' must not be empty", at: location))
                default:
                    break
                }
            }
        }
    }
}

/// Lint of a parameter's `minimum`/`maximum` on a value that fits its type: a literal number, each
/// number of a list (at the item), and a `${{ }}` that reads nothing (`${{ 0 - 3 }}`, judged by the
/// value it gives). Any other expression is judged when the run converts its value.
enum RangeCheck {
    static func check(_ value: TemplateValue, _ parameter: ParameterDescriptor, step: String,
                      into out: inout [Diagnostic]) {
        func visit(_ value: TemplateValue, as type: ValueType, isItem: Bool) {
            let found: Value, location: SourceLocation
            switch value {
            case .literal(let v, let at):
                // A quoted number (`port: "70000"`) is converted by the run, so its range counts too.
                if case .string(let s) = v, let d = Value.decimalNumber(s) {
                    (found, location) = (.double(d), at)
                } else {
                    (found, location) = (v, at)
                }
            case .template(let t):
                guard let v = TypeCheck.constantValue(t, as: type) else { return }
                (found, location) = (v, t.location)
            case .list(let items, _):
                // One level: the items of a list parameter, or of "X or a list of X".
                guard !isItem, let element = elementType(of: type) else { return }
                for item in items { visit(item, as: element, isItem: true) }
                return
            case .map:
                return
            }
            for (number, inList) in ParameterDescriptor.numbers(in: found) where !parameter.inRange(number) {
                let what = (isItem || inList ? "each item of " : "") + "'\(parameter.name)' of step '\(step)'"
                out.append(.error("out-of-range", "\(what) must be \(parameter.rangeDescription ?? ""), found \(Value.formatDouble(number))",
                                  at: location))
            }
        }
        visit(value, as: parameter.type, isItem: false)
    }

    /// The item type of a list type, or of the list in "X or a list of X".
    private static func elementType(of type: ValueType) -> ValueType? {
        switch type {
        case .list(let element): element
        case .oneOf(let types): types.lazy.compactMap(elementType(of:)).first
        default: nil
        }
    }
}

/// Static type checks of `with:` values against declared parameter types.
/// Values computed by expressions are checked at run time.
public enum TypeCheck {
    public struct Problem: Sendable {
        public var message: String
        public var location: SourceLocation
    }

    public static func problem(_ value: TemplateValue, against type: ValueType) -> Problem? {
        var typing = ExpressionTyping(paramTypes: [:])
        return problem(value, against: type, typing: &typing)
    }

    /// `problem`, judging a value written as one expression by the kind `typing` infers for it.
    static func problem(_ value: TemplateValue, against type: ValueType, typing: inout ExpressionTyping) -> Problem? {
        if case .any = type { return nonFinite(in: value) }
        switch value {
        case .template(let t):
            if let expression = t.template.singleExpression {
                // An expression that reads nothing (`${{ 'abc' }}`, `${{ 5 / 2 }}`) has one value: check it as a literal.
                // A function's result is left to the run; an error (`${{ 5 / 0 }}`) is expression-type's.
                if expression.root.readsNothing(callingFunctions: false) {
                    guard let value = try? expression.evaluate(in: EvaluationContext(root: [:])) else { return nil }
                    // Judged as the run converts it (a whole 5.0 is a fine integer there).
                    guard (try? ArgumentConversion.convert(value, to: type, name: "", action: "")) == nil else { return nil }
                    guard let problem = literalProblem(value, type, t.location) else {
                        return Problem(message: "must be \(describe(type)), but '\(trimmed(expression.text))' is \(RunbookLowering.describe(value))",
                                       location: t.location)
                    }
                    if case .string = value { return problem }  // the message quotes the text
                    return Problem(message: problem.message + " ('\(trimmed(expression.text))' is \(value.interpolationText))",
                                   location: problem.location)
                }
                guard let kind = typing.kind(of: expression.root), ExpressionTyping.neverFits(kind, type) else { return nil }
                return Problem(message: "must be \(describe(type)), but '\(trimmed(expression.text))' is always \(kind.phrase)",
                               location: t.location)
            }
            // Interpolated text is a string: fine wherever text goes.
            switch type {
            case .string, .url, .duration, .any, .enumeration: return nil
            case .oneOf(let types) where types.contains(where: { [.string, .url, .duration, .any].contains($0) }): return nil
            default: return Problem(message: "must be \(describe(type)), found a string", location: t.location)
            }
        case .literal(let v, let location):
            return literalProblem(v, type, location)
        case .list(let items, let location):
            switch type {
            case .any: return nil
            case .list(let element):
                for item in items { if let p = problem(item, against: element, typing: &typing) { return p } }
                return nil
            case .oneOf(let types):
                if types.contains(where: { problem(value, against: $0, typing: &typing) == nil }) { return nil }
                // "an integer or a list of int" given a list: the list form is meant; name its bad item.
                if let listType = types.first(where: { if case .list = $0 { true } else { false } }),
                   let itemProblem = problem(value, against: listType, typing: &typing) {
                    return itemProblem
                }
                return Problem(message: "must be \(describe(type)), found a list", location: location)
            default: return Problem(message: "must be \(describe(type)), found a list", location: location)
            }
        case .map(let pairs, let location):
            switch type {
            case .any: return nil
            case .map(let element):
                for pair in pairs {
                    // `headers: {X-Flag: true}`: the entry is named, not only the parameter.
                    if var p = problem(pair.value, against: element, typing: &typing) {
                        p.message = "at key '\(pair.key.value)' " + p.message
                        return p
                    }
                }
                return nil
            case .oneOf(let types):
                return types.contains { problem(value, against: $0, typing: &typing) == nil } ? nil
                    : Problem(message: "must be \(describe(type)), found a mapping", location: location)
            default: return Problem(message: "must be \(describe(type)), found a mapping", location: location)
            }
        }
    }

    /// A literal `.inf` or `.nan` anywhere in a value of any type (a mapping sent as JSON, a flag value).
    private static func nonFinite(in value: TemplateValue) -> Problem? {
        switch value {
        case .template: return nil
        case .literal(let v, let location): return nonFiniteProblem(v, location)
        case .list(let items, _): return items.lazy.compactMap(nonFinite(in:)).first
        case .map(let pairs, _): return pairs.lazy.compactMap { nonFinite(in: $0.value) }.first
        }
    }

    /// .inf and .nan become null on the way to an action (JSON has neither): wrong for every type.
    private static func nonFiniteProblem(_ v: Value, _ location: SourceLocation) -> Problem? {
        firstNonFinite(v).map {
            Problem(message: "must not hold \(Value.formatDouble($0)) (.inf, .nan and numbers past 1.8e308 are not numbers a step can use)",
                    location: location)
        }
    }

    /// The first non-finite number in a literal, searching lists and maps.
    private static func firstNonFinite(_ v: Value) -> Double? {
        switch v {
        case .double(let d): return d.isFinite ? nil : d
        case .list(let items): return items.lazy.compactMap(firstNonFinite).first
        case .map(let m): return m.values.lazy.compactMap(firstNonFinite).first
        default: return nil
        }
    }

    private static func trimmed(_ text: String) -> Substring {
        var text = Substring(text)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }

    /// The value of a `${{ }}` that reads nothing and calls no function, converted to `type` as the
    /// run converts it; nil for any other template, or when the value does not convert.
    static func constantValue(_ t: LocatedTemplate, as type: ValueType) -> Value? {
        guard let expression = t.template.singleExpression, expression.root.readsNothing(callingFunctions: false),
              let value = try? expression.evaluate(in: EvaluationContext(root: [:])) else { return nil }
        return try? ArgumentConversion.convert(value, to: type, name: "", action: "")
    }

    /// Whether literal `v` fits `type` (no message built).
    static func literalFits(_ v: Value, _ type: ValueType) -> Bool {
        literalProblem(v, type, SourceLocation(fileID: 0, line: 0, column: 0)) == nil
    }

    private static func literalProblem(_ v: Value, _ type: ValueType, _ location: SourceLocation) -> Problem? {
        if let problem = nonFiniteProblem(v, location) { return problem }
        func fail(_ extra: String = "") -> Problem {
            Problem(message: "must be \(describe(type)), found \(RunbookLowering.describe(v))\(extra)", location: location)
        }
        switch (type, v) {
        case (.any, _), (.string, .string), (.int, .int), (.number, .int), (.number, .double), (.bool, .bool):
            return nil  // a non-finite double was refused above
        case (.string, .int), (.string, .double):
            return nil // a number where text goes is fine (e.g. a label value)
        case (.int, .double(let d)) where d == d.rounded() && abs(d) < 1e15:
            return nil // `replicas: 3.0`: the run reads a whole number as the integer
        case (_, .string(let s)) where Template.containsExpressionOpener(s):
            return nil // a `${{` that did not parse: reported as expression-syntax, not twice
        case (.int, .string(let s)) where Int(s.trimmingCharacters(in: .whitespaces)) != nil:
            return nil // `port: "6379"`: a quoted number the run converts
        case (.number, .string(let s)) where Value.decimalNumber(s) != nil:
            return nil
        case (.bool, .string("true")), (.bool, .string("false")):
            return nil
        case (.bool, .string(let s)) where NodeReader.boolLike.contains(s.lowercased()):
            return fail(" (YAML 1.2 reads it as a string; write true or false)")
        case (.duration, .int(let i)) where i >= 0:
            return nil // seconds, as the engine converts them
        case (.duration, .double(let d)) where d >= 0 && d.isFinite:
            return nil
        case (.duration, .int), (.duration, .double):
            // The number is the wrong sign, not the wrong type.
            return Problem(message: "must be a duration or a non-negative number of seconds, found \(v.interpolationText)",
                           location: location)
        case (.duration, .string(let s)):
            return RunbookDuration.parse(s) == nil ? fail("; write e.g. '90s', '5m' or '1h30m'") : nil
        case (.url, .string(let s)):
            return URLCheck.isValid(s) ? nil : fail(URLCheck.portProblem(s).map { "; \($0)" } ?? "; expected an absolute http(s) URL")
        case (.enumeration(let allowed), .string(let s)):
            return allowed.contains(s) ? nil : fail(Suggestions.hint(for: s, in: allowed))
        case (.list(let element), .list(let items)):
            for item in items { if let p = literalProblem(item, element, location) { return p } }
            return nil
        case (.map(let element), .map(let m)):
            for (_, item) in m { if let p = literalProblem(item, element, location) { return p } }
            return nil
        case (.oneOf(let types), _):
            return types.contains { literalProblem(v, $0, location) == nil } ? nil : fail()
        default:
            return fail()
        }
    }

    /// `systemText`: every literal piece of `value` is checked where it is written; `what` names
    /// it ("parameter 'env' of 'exec'", then "…: 'PATH'" for a value in a mapping).
    static func checkSystemText(_ value: TemplateValue, what: String, into out: inout [Diagnostic]) {
        switch value {
        case .template(let t):
            // The value is known at run time (the action refuses it then), but a NUL in the
            // template's own text is in every value it gives.
            if t.template.segments.contains(where: { if case .text(let s) = $0 { s.utf8.contains(0) } else { false } }) {
                out.append(.error("parameter-type", "\(what): the text holds a NUL character; "
                                  + "the operating system would cut the text there and run something else", at: t.location))
            }
        case .literal(let v, let location):
            if let problem = ParameterConstraint.systemTextProblem(in: v) {
                out.append(.error("parameter-type", "\(what): \(problem); "
                                  + "the operating system would cut the text there and run something else", at: location))
            }
        case .list(let items, _):
            for item in items { checkSystemText(item, what: what, into: &out) }
        case .map(let pairs, _):
            for pair in pairs {
                if let problem = ParameterConstraint.systemNameProblem(pair.key.value) {
                    out.append(.error("parameter-type", "\(what): \(problem)", at: pair.key.location))
                }
                checkSystemText(pair.value, what: "\(what): '\(pair.key.value)'", into: &out)
            }
        }
    }

    static func describe(_ type: ValueType) -> String {
        switch type {
        case .int: "an integer"
        case .number: "a number"
        case .bool: "true or false"
        case .string: "a string"
        case .duration: "a duration"
        case .url: "a URL"
        case .list(let t): "a list of \(t)"
        case .map: "a mapping"
        case .enumeration(let vs): "one of " + vs.map { "'\($0)'" }.joined(separator: ", ")
        case .oneOf(let ts): ts.map(describe).joined(separator: " or ")
        case .any: "any value"
        }
    }
}
