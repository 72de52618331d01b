import Foundation

/// The static type of a parameter, output or expression, as lint and the schema know it.
public indirect enum ValueType: Sendable, Hashable, CustomStringConvertible {
    /// Whether a value of this type may hold values of any type somewhere (`any`, `map(any)`,
    /// a list of them): where a YAML 1.1 `off` is taken as the text it is in YAML 1.2.
    public var holdsAny: Bool {
        switch self {
        case .any: true
        case .list(let element), .map(let element): element.holdsAny
        case .oneOf(let types): types.contains { $0.holdsAny }
        default: false
        }
    }

    case string
    case int
    case number
    case bool
    /// A duration string such as `90s`, `5m`, `1h30m` (or a number of seconds).
    case duration
    case url
    case list(ValueType)
    /// A mapping with string keys and values of the given type.
    case map(ValueType)
    /// Any of the given types (e.g. one status code or a list of them).
    case oneOf([ValueType])
    /// A string restricted to these values.
    case enumeration([String])
    /// Anything (e.g. a parsed JSON body).
    case any

    public var description: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .number: "number"
        case .bool: "bool"
        case .duration: "duration"
        case .url: "url"
        case .list(let t): "list of \(t)"
        case .map(let t): t == .any ? "mapping" : "mapping of \(t)"
        case .oneOf(let ts): ts.map(\.description).joined(separator: " or ")
        case .enumeration(let vs): "one of " + vs.map { "'\($0)'" }.joined(separator: ", ")
        case .any: "any"
        }
    }
}

/// One parameter of an action's `with:` block.
public struct ParameterDescriptor: Sendable, Hashable {
    public var name: String
    public var type: ValueType
    public var required: Bool
    /// The default applied when the parameter is absent (nil: none).
    public var defaultValue: Value?
    public var summary: String
    /// A secret parameter's value is masked everywhere; lint warns when it is not a `secrets.*` reference.
    public var secret: Bool
    /// The smallest number the parameter takes (inclusive), nil: no lower bound. It applies to the
    /// value when it is a number, and to each number of a list (one status code or a list of them).
    public var minimum: Double?
    /// The largest number the parameter takes (inclusive), nil: no upper bound.
    public var maximum: Double?

    public init(_ name: String, _ type: ValueType, required: Bool = false, default defaultValue: Value? = nil,
                secret: Bool = false, minimum: Double? = nil, maximum: Double? = nil, _ summary: String) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.summary = summary
        self.secret = secret
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Whether the parameter declares a lower or an upper bound.
    public var hasRange: Bool { minimum != nil || maximum != nil }

    /// The range in words: `between 1 and 65535`, `at least 0`, `at most 1`; nil without bounds.
    public var rangeDescription: String? {
        describeRange(between: { "between \($0) and \($1)" }, atLeast: "at least ", atMost: "at most ")
    }

    /// The range for a table: `1–65535`, `≥ 0`, `≤ 1`; nil without bounds.
    public var rangeSymbol: String? { describeRange(between: { "\($0)–\($1)" }, atLeast: "≥ ", atMost: "≤ ") }

    private func describeRange(between: (String, String) -> String, atLeast: String, atMost: String) -> String? {
        switch (minimum.map(Value.formatDouble), maximum.map(Value.formatDouble)) {
        case let (low?, high?): between(low, high)
        case let (low?, nil): atLeast + low
        case let (nil, high?): atMost + high
        case (nil, nil): nil
        }
    }

    /// Whether `number` is inside the parameter's bounds.
    public func inRange(_ number: Double) -> Bool {
        if let minimum, !(number >= minimum) { return false }
        if let maximum, !(number <= maximum) { return false }
        return true
    }

    /// The numbers in a converted value that the bounds apply to, each with whether it is an
    /// item of a list: the value itself when it is a number, or the numbers in a list.
    public static func numbers(in value: Value) -> [(number: Double, isItem: Bool)] {
        switch value {
        case .int(let i): [(Double(i), false)]
        case .double(let d): [(d, false)]
        case .list(let items): items.compactMap { $0.numberValue.map { ($0, true) } }
        default: []
        }
    }
}

/// A condition on one parameter of a `with:` block, as a parameter constraint reads it.
public enum ParameterCondition: Sendable, Hashable, CustomStringConvertible {
    /// The parameter is given (an expression counts as given; a literal null does not).
    case given(String)
    /// The parameter is this value (its default when it is not given).
    case equals(String, Value)

    /// The parameter the condition is about.
    public var parameter: String {
        switch self {
        case .given(let name), .equals(let name, _): name
        }
    }

    public var description: String { quoted(with: "'") }

    /// `'name'` or `'name: value'`, with `quote` around it (docs use a backtick).
    public func quoted(with quote: String) -> String {
        switch self {
        case .given(let name): quote + name + quote
        case .equals(let name, let value): quote + "\(name): \(value.interpolationText)" + quote
        }
    }
}

/// A rule over several parameters of one action (or one parameter's value beyond its type),
/// mirroring what the action checks when it runs, so lint, the schema and the docs know it.
public enum ParameterConstraint: Sendable, Hashable, CustomStringConvertible {
    /// Exactly one of these parameters is given.
    case exactlyOne([String])
    /// At least one of these parameters is given.
    case atLeastOne([String])
    /// At most one of these parameters is given (they conflict).
    case atMostOne([String])
    /// When the first condition holds, the second must hold too.
    case requires(ParameterCondition, ParameterCondition)
    /// The parameter, when given as a literal, is not empty (a string or a list).
    case nonEmpty(String)
    /// The parameter's text goes to the operating system as C strings (a program argument, a
    /// path, an environment variable): no NUL character anywhere in it, and, for a mapping (an
    /// environment), names that are not empty and hold no `=`. The OS would cut the text at the
    /// NUL and run something else than the plan shows.
    case systemText(String)
    /// The parameter is a regular expression (ICU syntax, as `NSRegularExpression` reads it).
    case regex(String)
    /// The duration parameter, when given, is longer than zero.
    case positive(String)
    /// The first number, when both are given, is not above the second (a lower and an upper bound).
    case ordered(String, String)
    /// The mapping's names are HTTP header names (RFC 9110 tokens: no blanks, no `:`).
    case headerNames(String)

    /// One line for people, names in backticks (docs/actions.md).
    public var description: String { quoted(with: "`") }

    /// The same line with `quote` around names (a terminal message uses `'`).
    public func quoted(with quote: String) -> String {
        func names(_ ps: [String]) -> String { ps.map { quote + $0 + quote }.joined(separator: ", ") }
        switch self {
        case .exactlyOne(let ps): return "exactly one of \(names(ps))"
        case .atLeastOne(let ps): return "at least one of \(names(ps))"
        case .atMostOne(let ps): return "at most one of \(names(ps)) (they conflict)"
        case .requires(let a, let b): return "\(a.quoted(with: quote)) requires \(b.quoted(with: quote))"
        case .nonEmpty(let p): return "\(quote)\(p)\(quote) must not be empty"
        case .systemText(let p):
            // Only a mapping (an environment) has names.
            return "\(quote)\(p)\(quote) must not hold a NUL character" + (p == "env" ? " (nor a name that is empty or holds '=')" : "")
        case .regex(let p): return "\(quote)\(p)\(quote) must be a valid regular expression"
        case .positive(let p): return "\(quote)\(p)\(quote) must be longer than 0s"
        case .ordered(let low, let high): return "\(quote)\(low)\(quote) must not be above \(quote)\(high)\(quote)"
        case .headerNames(let p): return "the names in \(quote)\(p)\(quote) must be HTTP header names (letters, digits and !#$%&'*+-.^_`|~ only)"
        }
    }
}

/// One output an action sets under `steps.<id>.outputs`.
public struct OutputDescriptor: Sendable, Hashable {
    public var name: String
    public var type: ValueType
    public var summary: String
    public init(_ name: String, _ type: ValueType, _ summary: String) {
        self.name = name
        self.type = type
        self.summary = summary
    }
}

/// How an action behaves under `--dry-run`. Fails closed: anything that changes the world is never run.
public enum DryRunBehavior: String, Sendable, Hashable {
    /// Pure, local and side-effect free (log, assert): runs as usual.
    case runs
    /// Reads the world: returns simulated outputs (from the scenario, else declared defaults).
    case simulated
    /// Changes the world or notifies someone: never executed; the plan shows what it would do.
    case skipped
    /// Waits: completes instantly.
    case instant
    /// Checks run data (assert): evaluated under `--scenario`, only planned without one,
    /// since simulated outputs are unknown.
    case checks
}

/// Self-description of an action: lint, `runbook schema`, `runbook docs` and the tests all read it.
public struct ActionDescriptor: Sendable, Hashable {
    /// Dotted id, e.g. `http.check`.
    public var id: String
    public var summary: String
    public var parameters: [ParameterDescriptor]
    public var outputs: [OutputDescriptor]
    /// Changes something outside the run (lint wants an undo or `rollback: none`).
    public var mutating: Bool
    /// Safe to run again after a crash mid-step (resume re-runs it without asking).
    public var idempotent: Bool
    /// Sends a message to people (secrets must not flow into it; dry-run never sends).
    public var notifies: Bool
    public var dryRun: DryRunBehavior
    /// Default step timeout in seconds when the step sets none.
    public var defaultTimeout: Double
    /// YAML snippets of steps using the action; each must lint clean.
    public var examples: [String]
    /// Parameters whose text is shown to people or logs (lint checks secrets do not flow there).
    public var messageParameters: [String]
    /// Parameters whose value the state store keeps as given (the application reads it) and
    /// `runbook state` shows in clear: a flag's name and value, a breaker's name. Lint warns
    /// when a secret flows there.
    public var storedParameters: [String]
    /// Rules over several parameters (e.g. exactly one of `argv`, `command`), as the action
    /// checks them when it runs; lint, the schema and the docs read them.
    public var constraints: [ParameterConstraint]

    public init(id: String, summary: String, parameters: [ParameterDescriptor] = [], outputs: [OutputDescriptor] = [],
                mutating: Bool, idempotent: Bool, notifies: Bool = false, dryRun: DryRunBehavior,
                defaultTimeout: Double = 60, messageParameters: [String] = [], storedParameters: [String] = [],
                constraints: [ParameterConstraint] = [], examples: [String] = []) {
        self.id = id
        self.summary = summary
        self.parameters = parameters
        self.outputs = outputs
        self.mutating = mutating
        self.idempotent = idempotent
        self.notifies = notifies
        self.dryRun = dryRun
        self.defaultTimeout = defaultTimeout
        self.messageParameters = messageParameters
        self.storedParameters = storedParameters
        // A limit of 0s lets nothing finish (every try of `exec` times out, a `confirm` expires
        // unanswered): `timeout` and `max_latency` must be longer, as a step's timeout must.
        self.constraints = constraints + parameters
            .filter { $0.type == .duration && ($0.name == "timeout" || $0.name == "max_latency") }
            .map { ParameterConstraint.positive($0.name) }
        // Request headers: a name with a blank or ':' is refused by the HTTP client on every run.
        self.constraints += parameters.filter { $0.name == "headers" && $0.type == .map(.string) }
            .map { ParameterConstraint.headerNames($0.name) }
        self.examples = examples
    }

    public func parameter(named name: String) -> ParameterDescriptor? {
        parameters.first { $0.name == name }
    }

    public func output(named name: String) -> OutputDescriptor? {
        outputs.first { $0.name == name }
    }
}

/// The set of known actions, keyed by id. Built once from one registration list.
public struct ActionCatalog: Sendable {
    public let descriptors: [ActionDescriptor]
    private let byID: [String: Int]
    private let outputNamesByID: [String: Set<String>]
    private let outputTypesByID: [String: [String: ValueType]]

    /// Builds a catalog; duplicate ids are a programming error reported by `duplicateIDs`.
    public init(_ descriptors: [ActionDescriptor]) {
        self.descriptors = descriptors
        var index: [String: Int] = [:]
        for (n, d) in descriptors.enumerated() where index[d.id] == nil { index[d.id] = n }
        self.byID = index
        outputNamesByID = index.mapValues { Set(descriptors[$0].outputs.map(\.name)) }
        outputTypesByID = index.mapValues { n in
            Dictionary(descriptors[n].outputs.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The names of the outputs action `id` declares, nil for an unknown action (made once per
    /// catalog: lint asks for every step).
    public func outputNames(of id: String) -> Set<String>? { outputNamesByID[id] }

    /// The declared type of each output of action `id`, nil for an unknown action (made once,
    /// like `outputNames(of:)`).
    public func outputTypes(of id: String) -> [String: ValueType]? { outputTypesByID[id] }

    public subscript(id: String) -> ActionDescriptor? {
        byID[id].map { descriptors[$0] }
    }

    public var ids: [String] { descriptors.map(\.id) }

    /// Ids registered more than once (should be empty; a test checks).
    public var duplicateIDs: [String] {
        var seen = Set<String>(), dups: [String] = []
        for d in descriptors where !seen.insert(d.id).inserted { dups.append(d.id) }
        return dups
    }
}

extension ParameterConstraint {
    /// A rule on the values given (not on which parameters are given): the run enforces these
    /// itself before the action starts; the others are the action's own checks.
    public var isValueRule: Bool {
        switch self {
        case .systemText, .regex, .positive, .ordered, .headerNames: true
        case .exactlyOne, .atLeastOne, .atMostOne, .requires, .nonEmpty: false
        }
    }

    /// Whether the constraint holds for arguments already evaluated and converted (a null or
    /// missing value is not given): what a dry run can tell once expressions have values.
    public func holds(for arguments: [String: Value], of action: ActionDescriptor) -> Bool {
        func given(_ name: String) -> Bool { arguments[name].map { $0 != .null } ?? false }
        func holds(_ condition: ParameterCondition) -> Bool {
            switch condition {
            case .given(let name): return given(name)
            case .equals(let name, let expected):
                return (given(name) ? arguments[name] : action.parameter(named: name)?.defaultValue) == expected
            }
        }
        switch self {
        case .exactlyOne(let names): return names.filter(given).count == 1
        case .atLeastOne(let names): return names.contains(where: given)
        case .atMostOne(let names): return names.filter(given).count <= 1
        case .requires(let condition, let needed): return !holds(condition) || holds(needed)
        case .nonEmpty(let name):
            switch arguments[name] {
            case .string(let s)?: return !s.allSatisfy(\.isWhitespace)
            case .list(let items)?: return !items.isEmpty
            default: return true
            }
        case .systemText(let name):
            return arguments[name].map { Self.systemTextProblem(in: $0) == nil } ?? true
        case .regex(let name):
            guard case .string(let pattern)? = arguments[name] else { return true }
            return Self.regexProblem(pattern) == nil
        case .positive(let name):
            return arguments[name].map { Self.durationSeconds($0).map { $0 > 0 } ?? true } ?? true
        case .ordered(let low, let high):
            guard let a = arguments[low]?.numberValue, let b = arguments[high]?.numberValue else { return true }
            return a <= b
        case .headerNames(let name):
            guard case .map(let m)? = arguments[name] else { return true }
            return m.keys.allSatisfy(Self.isHeaderName)
        }
    }

    /// An HTTP field name: one or more token characters (RFC 9110 §5.1).
    public static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    /// A duration value's seconds (text such as `90s`, or a number of seconds), nil for another value.
    public static func durationSeconds(_ value: Value) -> Double? {
        switch value {
        case .string(let s): return RunbookDuration.parse(s)?.seconds
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Why `pattern` is not a regular expression `NSRegularExpression` accepts, or nil.
    public static func regexProblem(_ pattern: String) -> String? {
        // An empty pattern is `nonEmpty`'s business.
        guard !pattern.isEmpty else { return nil }
        do {
            _ = try NSRegularExpression(pattern: pattern)
            return nil
        } catch {
            return "'\(pattern)' is not a valid regular expression"
        }
    }

    /// What makes `value` unfit for `systemText`: "item 2: the text holds a NUL character", or nil.
    public static func systemTextProblem(in value: Value) -> String? {
        switch value {
        case .string(let s): return s.utf8.contains(0) ? "the text holds a NUL character" : nil
        case .list(let items):
            for (n, item) in items.enumerated() {
                if let p = systemTextProblem(in: item) { return "item \(n + 1): \(p)" }
            }
            return nil
        case .map(let m):
            for key in m.keys.sorted() {
                if let p = systemNameProblem(key) { return p }
                if let v = m[key], let p = systemTextProblem(in: v) { return "'\(key)': \(p)" }
            }
            return nil
        default: return nil
        }
    }

    /// What makes `name` unfit as an environment variable's name, or nil.
    public static func systemNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "a name is empty" }
        if name.utf8.contains(0) { return "the name '\(name.replacingOccurrences(of: "\u{0}", with: "\\0"))' holds a NUL character" }
        if name.contains("=") { return "the name '\(name)' holds '=' (an environment name cannot)" }
        return nil
    }
}
