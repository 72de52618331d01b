/// The YAML node tree produced by the libyaml front end. Every node knows where it was written.
///
/// Only `YAMLParser` builds these; lowering reads them. Aliases are already expanded
/// (bounded by `YAMLLimits`), and merge keys (`<<`) are already applied.
public struct YAMLNode: Sendable {
    /// How a scalar was written; plain scalars are the only ones resolved as bool/int/float/null.
    public enum ScalarStyle: String, Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// A scalar's text, exactly as YAML delivers it, plus how it was written.
    public struct Scalar: Sendable {
        public var text: String
        public var style: ScalarStyle
        /// The explicit tag (e.g. `!!str`), if any.
        public var tag: String?
        public init(text: String, style: ScalarStyle, tag: String? = nil) {
            self.text = text
            self.style = style
            self.tag = tag
        }
    }

    /// One key/value pair of a mapping, in document order.
    public struct Pair: Sendable {
        public var key: YAMLNode
        public var value: YAMLNode
        public init(key: YAMLNode, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    public enum Content: Sendable {
        case scalar(Scalar)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    /// Set on nodes that were copied in by an alias: diagnostics point at the alias
    /// and add a note at the anchor.
    public struct AliasOrigin: Sendable, Hashable {
        public var anchor: String
        public var aliasLocation: SourceLocation
        public var anchorLocation: SourceLocation
        public init(anchor: String, aliasLocation: SourceLocation, anchorLocation: SourceLocation) {
            self.anchor = anchor
            self.aliasLocation = aliasLocation
            self.anchorLocation = anchorLocation
        }
    }

    public var content: Content
    /// Where the node starts (for a scalar: its first character, quote or indicator).
    public var location: SourceLocation
    /// Where the node ends (exclusive), when known.
    public var endLocation: SourceLocation
    /// Non-nil when this node (or an ancestor) was reached through an alias.
    public var aliasOrigin: AliasOrigin? {
        get { aliasOriginBox?.origin }
        set { aliasOriginBox = newValue.map(AliasOriginBox.init) }
    }

    /// Boxed: nearly every node has no alias origin, and inline it took 48 of the node's bytes.
    /// All nodes stamped by one alias share one box.
    private var aliasOriginBox: AliasOriginBox?

    private final class AliasOriginBox: Sendable {
        let origin: AliasOrigin
        init(_ origin: AliasOrigin) { self.origin = origin }
    }

    public init(content: Content, location: SourceLocation, endLocation: SourceLocation? = nil,
                aliasOrigin: AliasOrigin? = nil) {
        self.content = content
        self.location = location
        self.endLocation = endLocation ?? location
        self.aliasOriginBox = aliasOrigin.map(AliasOriginBox.init)
    }

    /// The same node with `other`'s alias origin (sharing its box).
    func withAliasOrigin(of other: YAMLNode) -> YAMLNode {
        var copy = self
        copy.aliasOriginBox = other.aliasOriginBox
        return copy
    }

    /// Where a diagnostic about this node should point: the alias for aliased content.
    public var reportLocation: SourceLocation { aliasOrigin?.aliasLocation ?? location }

    /// The note to attach to diagnostics about aliased content ("anchor 'x' defined here").
    public var aliasNotes: [DiagnosticNote] {
        guard let origin = aliasOrigin else { return [] }
        return [DiagnosticNote("value comes from anchor '\(origin.anchor)' defined here", at: origin.anchorLocation)]
    }

    public var scalar: Scalar? {
        if case .scalar(let s) = content { return s }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let s) = content { return s }
        return nil
    }

    public var mapping: [Pair]? {
        if case .mapping(let m) = content { return m }
        return nil
    }

    /// A short name of the node's kind for messages: "a string", "a list", "a mapping", ...
    public var kindDescription: String {
        switch content {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar(let s):
            switch YAMLNode.resolvePlain(s) {
            case .null: return "null"
            case .bool: return "a boolean"
            case .int: return "an integer"
            case .double: return "a number"
            case .string: return "a string"
            }
        }
    }

    /// The core-schema resolution of a scalar. Only `true`/`false` are booleans; `yes/no/on/off` stay strings.
    public enum ResolvedScalar: Sendable, Equatable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
    }

    private static let coreTagPrefix = "tag:yaml.org,2002:"
    private static let supportedTags =
        "runbooks hold plain YAML values (the tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are read)"

    /// A tag as its author most likely wrote it: `!!int` rather than `tag:yaml.org,2002:int`.
    private static func shownTag(_ tag: String) -> String {
        tag.hasPrefix(coreTagPrefix) ? "!!" + tag.dropFirst(coreTagPrefix.count) : tag
    }

    /// Why a mapping's or sequence's explicit tag cannot be read (nil when it fits): only
    /// `!!map`/`!!seq` on their own kind and the non-specific `!` are understood, so a custom
    /// tag (`!vault {path: ...}`) is never silently read as a plain mapping.
    static func tagProblem(collectionTag tag: String, isMapping: Bool) -> String? {
        let kind = isMapping ? "a mapping" : "a sequence"
        switch tag {
        case "!": return nil
        case coreTagPrefix + "map": return isMapping ? nil : "'!!map' on \(kind), which is not a mapping"
        case coreTagPrefix + "seq": return isMapping ? "'!!seq' on \(kind), which is not a sequence" : nil
        case coreTagPrefix + "str", coreTagPrefix + "int", coreTagPrefix + "float", coreTagPrefix + "bool",
             coreTagPrefix + "null", coreTagPrefix + "merge":
            return "'\(shownTag(tag))' on \(kind), which is not a scalar"
        default: return "tag '\(shownTag(tag))' on \(kind) is not supported: \(supportedTags)"
        }
    }

    /// Why a scalar's explicit tag cannot be read (nil when it has none, or one that fits):
    /// runbooks hold plain values, so only the core schema's tags are understood.
    static func tagProblem(_ s: Scalar) -> String? {
        guard let tag = s.tag else { return nil }
        let core = coreTagPrefix
        let shown = shownTag(tag)
        let value = resolvePlain(Scalar(text: s.text, style: .plain))
        let preview = s.text.count > 40 ? String(s.text.prefix(40)) + "…" : s.text
        switch tag.hasPrefix(core) ? String(tag.dropFirst(core.count)) : "" {
        case "str", "merge": return nil
        case "int": if case .int = value { return nil }; return "'\(shown)' on '\(preview)', which is not an integer"
        case "float":
            switch value {
            case .int, .double: return nil
            default: return "'\(shown)' on '\(preview)', which is not a number"
            }
        case "bool": if case .bool = value { return nil }; return "'\(shown)' on '\(preview)', which is not true or false"
        case "null": if case .null = value { return nil }; return "'\(shown)' on '\(preview)', which is not null"
        case "map", "seq": return "'\(shown)' on '\(preview)', which is a scalar"
        default:
            if tag == "!" { return nil }
            return "tag '\(shown)' is not supported: \(supportedTags)"
        }
    }

    /// Resolves a scalar with the YAML 1.2 core schema, restricted to `true`/`false` for booleans.
    /// Quoted and block scalars, and scalars tagged `!!str`, are always strings.

    public static func resolvePlain(_ s: Scalar) -> ResolvedScalar {
        if let tag = s.tag {
            switch tag {
            case "tag:yaml.org,2002:str", "!!str", "!": return .string(s.text)
            case "tag:yaml.org,2002:float":
                // `!!float 3` is the float 3.0, as `3.0` is: not an integer where one is required.
                let value = resolvePlain(Scalar(text: s.text, style: .plain))
                if case .int(let i) = value { return .double(Double(i)) }
                return value
            case "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null":
                // `!!int "3"`: the core schema's reading of the text, whatever its quotes (a
                // text that does not fit the tag is an `invalid-tag` finding of the front end).
                return resolvePlain(Scalar(text: s.text, style: .plain))
            default: break
            }
        }
        guard s.style == .plain else { return .string(s.text) }
        let t = s.text
        // Null and booleans are at most 5 bytes and start with one of a few letters: most
        // scalars are ruled out here without comparing them to the eleven spellings.
        let utf8 = t.utf8
        if utf8.count <= 5 {
            switch utf8.first {
            case nil, UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"),
                 UInt8(ascii: "f"), UInt8(ascii: "F"):
                switch t {
                case "", "~", "null", "Null", "NULL": return .null
                case "true", "True", "TRUE": return .bool(true)
                case "false", "False", "FALSE": return .bool(false)
                default: break
                }
            default: break
            }
        }
        // Only text starting with a digit, a sign or a dot can be a number: most scalars are
        // words, and this skips the number parsers (and their allocations) for them.
        switch t.utf8.first ?? 0 {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."): break
        default: return .string(t)
        }
        if let i = parseYAMLInt(t) { return .int(i) }
        if let d = parseYAMLFloat(t) { return .double(d) }
        return .string(t)
    }

    private static func parseYAMLInt(_ t: String) -> Int? {
        // Read over the bytes: plain decimal digits with an optional sign (nearly every integer
        // in a runbook) are decided here, and so is anything that cannot be an integer (`20s`,
        // `1.5`); only `0x`/`0o` forms and numbers of 19 digits take the general path.
        var fast = 0
        var digits = 0
        var minus = false
        var general = false
        for (n, byte) in t.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where n == 0, UInt8(ascii: "+") where n == 0:
                minus = byte == UInt8(ascii: "-")
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits < 18 { fast = fast * 10 + Int(byte - UInt8(ascii: "0")) } else { general = true }
                digits += 1
            case UInt8(ascii: "x") where digits == 1 && fast == 0, UInt8(ascii: "o") where digits == 1 && fast == 0:
                general = true
            default:
                if !general { return nil }
            }
            if general { break }
        }
        if !general { return digits > 0 ? (minus ? -fast : fast) : nil }
        var body = Substring(t)
        var negative = false
        if body.first == "-" || body.first == "+" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }
        var radix = 10
        if body.hasPrefix("0x") { radix = 16; body = body.dropFirst(2) }
        else if body.hasPrefix("0o") { radix = 8; body = body.dropFirst(2) }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        guard let v = Int(body, radix: radix) else { return nil }
        return negative ? -v : v
    }

    private static func parseYAMLFloat(_ t: String) -> Double? {
        // The special values are 4 or 5 bytes long and contain a dot: only those are compared.
        if (4...5).contains(t.utf8.count) {
            switch t {
            case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
            case "-.inf", "-.Inf", "-.INF": return -.infinity
            case ".nan", ".NaN", ".NAN": return .nan
            default: break
            }
        }
        // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, matched over the UTF-8 bytes
        // (any non-ASCII byte fails it, as a non-ASCII scalar did).
        var text = t
        let matched: Bool = text.withUTF8 { bytes in
            var i = 0
            func at(_ c: Unicode.Scalar) -> Bool { i < bytes.count && bytes[i] == UInt8(ascii: c) }
            func digits() -> Int {
                let start = i
                while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
                return i - start
            }
            if at("-") || at("+") { i += 1 }
            let intDigits = digits()
            var fracDigits = 0
            if at(".") { i += 1; fracDigits = digits() }
            guard intDigits + fracDigits > 0 else { return false }
            if at("e") || at("E") {
                i += 1
                if at("-") || at("+") { i += 1 }
                guard digits() > 0 else { return false }
            }
            return i == bytes.count
        }
        guard matched else { return nil }
        return Double(t)
    }
}
