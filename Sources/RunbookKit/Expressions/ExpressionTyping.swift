/// What lint can tell of an expression's value before the run: the kind of value it gives
/// whenever it gives one (any expression may also give null, e.g. a param left unset).
enum StaticKind: Sendable, Hashable {
    case bool, int, number, string, list, map
    /// A string that is always an absolute URL (a `url` param) or a duration (a `duration` param).
    case url, duration

    /// How a message names it.
    var phrase: String {
        switch self {
        case .bool: "true or false"
        case .int: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .url: "a URL"
        case .duration: "a duration"
        case .list: "a list"
        case .map: "a mapping"
        }
    }
}

/// Infers `StaticKind`s from the operators, functions, literals and declared param types of an
/// expression, and the declared types of step outputs when told them. Where the kind depends on
/// data (`from_json`, an index) it says nothing: lint reports only what is wrong in every run.
struct ExpressionTyping {
    /// The runbook's params and their declared types; nil when not known yet (a `params:`
    /// written after the steps, while lint reads a large file).
    let paramTypes: [String: ParamType]?
    /// The steps an expression may read, for the declared types of their outputs; nil: outputs
    /// are not typed (what a value given to a parameter may be is left to the run).
    var steps: [String: ExpressionScope.StepInfo]?
    /// Whether `steps` holds every step of the runbook; if not, an output of a step not in it
    /// makes the kind `undecided`.
    var knowsAllSteps = true
    /// The expression is in a main step (not a rollback step, not a trigger): a main step that
    /// stops the run when it fails is never seen `failed` from there.
    var inMainStep = false
    /// The only values of text params with an `enum` (the run refuses any other).
    var paramEnums: [String: [String]] = [:]
    /// Whether `env.X` and `secrets.X` count as text (they are, when set).
    var typesEnvironment = true
    /// Set when the kind depends on a param whose type is not known yet (or a step not seen yet).
    private(set) var undecided = false

    init(paramTypes: [String: ParamType]?) { self.paramTypes = paramTypes }

    mutating func kind(of node: ExprNode) -> StaticKind? {
        switch node.kind {
        case .unary(.negate, let operand):
            return kind(of: node, operands: kind(of: operand), nil)
        case .binary(let op, let lhs, let rhs) where op.isArithmetic:
            return kind(of: node, operands: kind(of: lhs), kind(of: rhs))
        default:
            return kind(of: node, operands: nil, nil)
        }
    }

    /// The kind of `node` given the kinds of its operands, for a walk that already has them:
    /// those of `-x` (`lhs`) and of arithmetic are used, the others are not needed.
    mutating func kind(of node: ExprNode, operands lhs: StaticKind?, _ rhs: StaticKind?) -> StaticKind? {
        switch node.kind {
        case .literal(let value):
            return StaticKind(value)
        case .context:
            return nil
        case .member(let base, let name, _):
            guard case .context(let context) = base.kind else { return stepFieldKind(base, name) }
            switch context {
            case "params":
                guard let paramTypes else {
                    undecided = true
                    return nil
                }
                switch paramTypes[name] {
                case .string?: return .string
                case .url?: return .url
                case .duration?: return .duration
                case .int?: return .int
                case .number?: return .number
                case .bool?: return .bool
                case nil: return nil  // an unknown param is reported on its own
                }
            case "env", "secrets": return typesEnvironment ? .string : nil
            case "run": return name == "dry_run" ? .bool : ExpressionContext.runFields.contains(name) ? .string : nil
            default: return nil
            }
        case .index:
            return nil
        case .unary(.not, _):
            return .bool
        case .unary(.negate, _):
            return lhs == .int || lhs == .number ? lhs : nil
        case .binary(let op, _, _):
            guard op.isArithmetic else { return .bool }  // a comparison, `&&`, `||`
            if op == .add, lhs?.isText == true, rhs?.isText == true { return .string }
            if op == .add, lhs == .list, rhs == .list { return .list }
            guard let lhs, let rhs, lhs.isNumber, rhs.isNumber else { return nil }
            // `/` gives an int when exact, so only a number is certain.
            return lhs == .int && rhs == .int && op != .divide ? .int : .number
        case .call(let name, _, _):
            switch name {
            case "contains", "starts_with", "ends_with": return .bool
            case "len": return .int
            case "format", "to_json", "lower", "upper", "join": return .string
            case "keys": return .list
            default: return nil  // from_json, default, abs, min, max, round depend on their arguments
            }
        }
    }

    /// `steps.X.status` is text; `steps.X.outputs.Y` is what X's action declares, when told the steps.
    private mutating func stepFieldKind(_ base: ExprNode, _ name: String) -> StaticKind? {
        if name == "status", case .member(let root, _, _) = base.kind, case .context("steps") = root.kind {
            return .string
        }
        guard let steps, let output = ExpressionTyping.output(base, name) else { return nil }
        guard let info = steps[output.step] else {
            if !knowsAllSteps { undecided = true }
            return nil
        }
        return info.outputTypes?[name].flatMap(StaticKind.init)
    }

    /// `(step, output)` when `base.name` is written `steps.step.outputs.output`.
    static func output(_ base: ExprNode, _ name: String) -> (step: String, output: String)? {
        guard case .member(let step, "outputs", _) = base.kind, case .member(let root, let id, _) = step.kind,
              case .context("steps") = root.kind else { return nil }
        return (id, name)
    }

    /// Whether a value of `kind` can never be converted to `type` at run time (see
    /// `ArgumentConversion`): a string may hold a number, and a number may be whole, so only
    /// kinds that no conversion accepts count.
    static func neverFits(_ kind: StaticKind, _ type: ValueType) -> Bool {
        switch type {
        case .any, .string: return false
        // A URL or a duration (`5m`) is never a number or a boolean, nor one the other.
        case .int, .number: return [.bool, .list, .map, .url, .duration].contains(kind)
        case .duration: return [.bool, .list, .map, .url].contains(kind)
        case .bool: return [.int, .number, .list, .map, .url, .duration].contains(kind)
        case .url: return kind != .string && kind != .url
        case .enumeration: return !kind.isText
        case .list: return kind != .list
        case .map: return kind != .map
        case .oneOf(let types): return types.allSatisfy { neverFits(kind, $0) }
        }
    }
}

extension StaticKind {
    /// The kind of a value; nil for null.
    init?(_ value: Value) {
        switch value {
        case .bool: self = .bool
        case .int: self = .int
        case .double: self = .number
        case .string: self = .string
        case .list: self = .list
        case .map: self = .map
        case .null: return nil
        }
    }

    /// The kind a value of a declared type always has (when it is not null); nil when that
    /// depends on the value.
    init?(_ type: ValueType) {
        switch type {
        case .string, .enumeration: self = .string
        case .int: self = .int
        case .number: self = .number
        case .bool: self = .bool
        case .url: self = .url
        case .list: self = .list
        case .map: self = .map
        // A duration may also be a number of seconds.
        case .duration, .oneOf, .any: return nil
        }
    }

    /// A string of any sort.
    var isText: Bool { self == .string || self == .url || self == .duration }
    /// An integer or a decimal.
    var isNumber: Bool { self == .int || self == .number }
}

extension ExprNode.BinaryOperator {
    /// `+`, `-`, `*`, `/`.
    var isArithmetic: Bool { self == .add || self == .subtract || self == .multiply || self == .divide }
}
