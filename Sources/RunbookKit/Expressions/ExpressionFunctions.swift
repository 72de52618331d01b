// The built-in functions: their arity (checked by lint) and their behaviour (at run time).

/// The functions an expression can call.
public enum ExpressionFunctions {
    /// How many arguments a function takes.
    public struct Signature: Sendable, Hashable {
        /// Fewest arguments.
        public var minimum: Int
        /// Most arguments; nil means any number.
        public var maximum: Int?

        init(_ minimum: Int, _ maximum: Int?) {
            self.minimum = minimum
            self.maximum = maximum
        }

        /// Whether a call with `count` arguments is well formed.
        public func accepts(_ count: Int) -> Bool {
            count >= minimum && (maximum.map { count <= $0 } ?? true)
        }

        /// `1 argument`, `1 or 2 arguments`, `at least 1 argument`.
        public var arityDescription: String {
            func plural(_ n: Int) -> String { n == 1 ? "argument" : "arguments" }
            guard let maximum else { return "at least \(minimum) \(plural(minimum))" }
            if maximum == minimum { return "\(minimum) \(plural(minimum))" }
            if maximum == minimum + 1 { return "\(minimum) or \(maximum) arguments" }
            return "\(minimum) to \(maximum) arguments"
        }
    }

    /// Every function by name.
    public static let signatures: [String: Signature] = [
        "contains": Signature(2, 2),
        "starts_with": Signature(2, 2),
        "ends_with": Signature(2, 2),
        "len": Signature(1, 1),
        "format": Signature(1, nil),
        "to_json": Signature(1, 1),
        "from_json": Signature(1, 1),
        "lower": Signature(1, 1),
        "upper": Signature(1, 1),
        "join": Signature(1, 2),
        "keys": Signature(1, 1),
        "default": Signature(2, 2),
        "abs": Signature(1, 1),
        "min": Signature(1, nil),
        "max": Signature(1, nil),
        "round": Signature(1, 2),
    ]
}

extension ExpressionEvaluator {
    func call(_ name: String, _ args: [Value], _ nodes: [ExprNode], in node: ExprNode) throws(ExpressionError) -> Value {
        guard let signature = ExpressionFunctions.signatures[name] else {
            throw error("unknown function '\(name)'", at: node)
        }
        guard signature.accepts(args.count), args.count == nodes.count else {
            throw error("'\(name)' takes \(signature.arityDescription), got \(args.count)", at: node)
        }

        /// The argument as a string; null and other types are errors naming the argument.
        func string(_ i: Int) throws(ExpressionError) -> String {
            switch args[i] {
            case .string(let s): return s
            case .null: throw error("'\(source(nodes[i]))' is null", at: nodes[i])
            default: throw error("'\(name)' expects a string, got \(describe(args[i], nodes[i]))", at: nodes[i])
            }
        }

        func number(_ i: Int) throws(ExpressionError) -> Value {
            switch args[i] {
            case .int, .double: return args[i]
            case .null: throw error("'\(source(nodes[i]))' is null", at: nodes[i])
            default: throw error("'\(name)' expects a number, got \(describe(args[i], nodes[i]))", at: nodes[i])
            }
        }

        switch name {
        case "contains":
            switch args[0] {
            // A missing haystack contains nothing: `contains(steps.x.outputs.body, 'ok')` is simply false.
            case .null: return .bool(false)
            case .string(let haystack):
                if case .null = args[1] { return .bool(false) }
                let needle = args[1].interpolationText
                return .bool(needle.isEmpty || haystack.contains(needle))
            case .list(let items):
                return .bool(items.contains { Self.equal($0, args[1]) })
            case .map(let m):
                guard case .string(let key) = args[1] else { return .bool(false) }
                return .bool(m[key] != nil)
            default:
                throw error("'contains' expects a string, list or map, got \(describe(args[0], nodes[0]))", at: nodes[0])
            }
        case "starts_with", "ends_with":
            if case .null = args[0] { return .bool(false) }
            let (text, affix) = (try string(0), try string(1))
            return .bool(name == "starts_with" ? text.hasPrefix(affix) : text.hasSuffix(affix))
        case "len":
            switch args[0] {
            case .string(let s): return .int(s.count)
            case .list(let items): return .int(items.count)
            case .map(let m): return .int(m.count)
            case .null: throw error("'\(source(nodes[0]))' is null", at: nodes[0])
            default: throw error("'len' expects a string, list or map, got \(describe(args[0], nodes[0]))", at: nodes[0])
            }
        case "format":
            return .string(try format(try string(0), Array(args.dropFirst()), formatNode: nodes[0]))
        case "to_json":
            return .string(args[0].jsonText())
        case "from_json":
            let text = try string(0)
            guard let value = Value.parseJSON(text) else {
                // A literal shows with its own quotes: `'1e4OO' is not valid JSON`.
                let shown = source(nodes[0])
                throw error("\(shown.hasPrefix("'") ? shown : "'\(shown)'") is not valid JSON", at: nodes[0])
            }
            return value
        case "lower":
            return .string(try string(0).lowercased())
        case "upper":
            return .string(try string(0).uppercased())
        case "join":
            let separator = args.count > 1 ? try string(1) : ","
            switch args[0] {
            case .list(let items): return .string(items.map(\.interpolationText).joined(separator: separator))
            case .null: throw error("'\(source(nodes[0]))' is null", at: nodes[0])
            default: throw error("'join' expects a list, got \(describe(args[0], nodes[0]))", at: nodes[0])
            }
        case "keys":
            switch args[0] {
            case .map(let m): return .list(m.keys.sorted().map(Value.string))
            case .null: throw error("'\(source(nodes[0]))' is null", at: nodes[0])
            default: throw error("'keys' expects a map, got \(describe(args[0], nodes[0]))", at: nodes[0])
            }
        case "default":
            if case .null = args[0] { return args[1] }
            return args[0]
        case "abs":
            switch try number(0) {
            case .int(let n):
                guard n != .min else { throw error("integer overflow in '\(source(node))'", at: node) }
                return .int(Swift.abs(n))
            case .double(let d): return .double(Swift.abs(d))
            default: return .null
            }
        case "min", "max":
            return try extreme(name, args, nodes, in: node)
        case "round":
            return try round(try number(0), digitsArgument: args.count > 1 ? 1 : nil, args, nodes, in: node)
        default:
            throw error("unknown function '\(name)'", at: node)
        }
    }

    /// `min(a, b, ...)` or `min(list)`: the smallest number, keeping its type.
    private func extreme(_ name: String, _ args: [Value], _ nodes: [ExprNode], in node: ExprNode) throws(ExpressionError) -> Value {
        var candidates: [(value: Value, node: ExprNode)] = []
        if args.count == 1, case .list(let items) = args[0] {
            candidates = items.map { ($0, nodes[0]) }
            if items.isEmpty { throw error("'\(name)' of an empty list", at: nodes[0]) }
        } else {
            candidates = Array(zip(args, nodes))
        }
        var best: Value?
        for (value, argumentNode) in candidates {
            guard let x = value.numberValue, !x.isNaN else {
                if case .null = value { throw error("'\(source(argumentNode))' is null", at: argumentNode) }
                throw error("'\(name)' expects numbers, got \(describe(value, argumentNode))", at: argumentNode)
            }
            guard let current = best else { best = value; continue }
            let smaller: Bool
            if case .int(let a) = value, case .int(let b) = current { smaller = a < b }
            else { smaller = x < (current.numberValue ?? x) }
            let greater = !smaller && !Self.equal(value, current)
            if (name == "min" && smaller) || (name == "max" && greater) { best = value }
        }
        return best ?? .null
    }

    /// `round(x)` to a whole number (an int when it fits), `round(x, digits)` to that many decimals.
    private func round(_ x: Value, digitsArgument: Int?, _ args: [Value], _ nodes: [ExprNode],
                       in node: ExprNode) throws(ExpressionError) -> Value {
        var digits = 0
        if let i = digitsArgument {
            guard let d = Self.integer(args[i]), (0...15).contains(d) else {
                throw error("'round' expects a number of digits from 0 to 15, got \(describe(args[i], nodes[i]))", at: nodes[i])
            }
            digits = d
        }
        guard case .double(let d) = x else { return x }
        if digitsArgument == nil {
            let whole = d.rounded(.toNearestOrAwayFromZero)
            if let n = Self.integer(.double(whole)) { return .int(n) }
            return .double(whole)
        }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = d * scale
        // Too large to carry that many decimals: the value is already as precise as a double can be.
        guard scaled.isFinite, Swift.abs(scaled) < 1e17 else { return .double(d) }
        return .double(scaled.rounded(.toNearestOrAwayFromZero) / scale)
    }

    /// `{0}`, `{1}`… are replaced by arguments; `{{` and `}}` are literal braces.
    private func format(_ pattern: String, _ values: [Value], formatNode: ExprNode) throws(ExpressionError) -> String {
        let pieces: [FormatPattern.Piece]
        switch FormatPattern.parse(pattern, valueCount: values.count) {
        case .success(let parsed): pieces = parsed
        case .failure(let problem): throw error(problem.message, at: formatNode)
        }
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .value(let number): out += values[number].interpolationText
            }
        }
        return out
    }
}

/// The pattern of `format(pattern, values...)`: `{0}`, `{1}`… stand for the values, `{{` and `}}`
/// are literal braces. The run reads it with the values at hand, and lint reads a pattern written
/// as a literal with the number of values the call gives, so both refuse the same patterns with
/// the same words.
enum FormatPattern {
    /// A run of literal text, or the value at a position.
    enum Piece: Equatable {
        case text(String)
        case value(Int)
    }

    /// Why a pattern cannot be used.
    struct Problem: Error, Equatable {
        /// Lowercase, as the run prints it.
        var message: String
    }

    /// The pieces of `pattern`, or why it does not work with `valueCount` values.
    static func parse(_ pattern: String, valueCount: Int) -> Result<[Piece], Problem> {
        var pieces: [Piece] = []
        var text = ""
        let s = Array(pattern.unicodeScalars)
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "{" {
                if i + 1 < s.count, s[i + 1] == "{" { text += "{"; i += 2; continue }
                var j = i + 1
                var number = 0
                var digits = 0
                while j < s.count, ExpressionLexer.isDigit(s[j]), digits < 6 {
                    number = number * 10 + Int(s[j].value - 48)
                    digits += 1
                    j += 1
                }
                guard digits > 0, j < s.count, s[j] == "}" else {
                    return .failure(Problem(message: "'format' pattern has a '{' that is not '{N}' (write '{{' for a literal brace)"))
                }
                guard number < valueCount else {
                    return .failure(Problem(message: "'format' pattern uses {\(number)} but only \(valueCount) value\(valueCount == 1 ? " was" : "s were") given"))
                }
                if !text.isEmpty { pieces.append(.text(text)); text = "" }
                pieces.append(.value(number))
                i = j + 1
            } else if c == "}" {
                guard i + 1 < s.count, s[i + 1] == "}" else {
                    return .failure(Problem(message: "'format' pattern has a lone '}' (write '}}' for a literal brace)"))
                }
                text += "}"
                i += 2
            } else {
                text.unicodeScalars.append(c)
                i += 1
            }
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        return .success(pieces)
    }
}