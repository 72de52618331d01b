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
/// expression. Where the kind depends on data (a step output, `from_json`, an index) it says
/// nothing: lint reports only what is wrong in every run.
struct ExpressionTyping {
    /// The runbook's params and their declared types; nil when not known yet (a `params:`
    /// written after the steps, while lint reads a large file).
    let paramTypes: [String: ParamType]?
    /// Set when the kind depends on a param whose type is not known yet.
    private(set) var undecided = false

    init(paramTypes: [String: ParamType]?) { self.paramTypes = paramTypes }

    mutating func kind(of node: ExprNode) -> StaticKind? {
        switch node.kind {
        case .literal(let value):
            switch value {
            case .bool: return .bool
            case .int: return .int
            case .double: return .number
            case .string: return .string
            case .list: return .list
            case .map: return .map
            case .null: return nil
            }
        case .context:
            return nil
        case .member(let base, let name, _):
            guard case .context(let context) = base.kind else {
                // steps.X.status is text; other fields (outputs) depend on the action's run.
                if name == "status", case .member(let root, _, _) = base.kind, case .context("steps") = root.kind {
                    return .string
                }
                return nil
            }
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
            case "env", "secrets": return .string
            case "run": return name == "dry_run" ? .bool : ExpressionContext.runFields.contains(name) ? .string : nil
            default: return nil
            }
        case .index:
            return nil
        case .unary(.not, _):
            return .bool
        case .unary(.negate, let operand):
            let k = kind(of: operand)
            return k == .int || k == .number ? k : nil
        case .binary(let op, let lhs, let rhs):
            switch op {
            case .or, .and, .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
                return .bool
            case .add, .subtract, .multiply, .divide:
                let a = kind(of: lhs), b = kind(of: rhs)
                if op == .add, a?.isText == true, b?.isText == true { return .string }
                if op == .add, a == .list, b == .list { return .list }
                guard let a, let b, a == .int || a == .number, b == .int || b == .number else { return nil }
                // `/` gives an int when exact, so only a number is certain.
                return a == .int && b == .int && op != .divide ? .int : .number
            }
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
    /// A string of any sort.
    var isText: Bool { self == .string || self == .url || self == .duration }
}
