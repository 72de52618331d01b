import Foundation

/// A runtime value of the expression language and of action parameters and outputs.
/// JSON maps to it one to one.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case map([String: Value])

    /// The type name used in messages: null, bool, int, number, string, list, map.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .double: "number"
        case .string: "string"
        case .list: "list"
        case .map: "map"
        }
    }

    /// Truthiness for `when`, `until` and `assert`: false, null, 0, "" and empty collections are false.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0 && !d.isNaN
        case .string(let s): !s.isEmpty
        case .list(let l): !l.isEmpty
        case .map(let m): !m.isEmpty
        }
    }

    /// The number a text holds when it is written in decimal (`42`, ` -1.5 `, `2e3`, `.5`),
    /// blanks around it allowed, finite; nil otherwise. The one reading of text where a number
    /// goes (`--param`, a quoted `with:` value), so `0x1p3`, `nan` and `inf`, which Swift's
    /// `Double(_:)` takes, are refused as the schema refuses them.
    public static func decimalNumber(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var digits = 0, i = trimmed.utf8.startIndex
        let bytes = trimmed.utf8
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i = bytes.index(after: i) }
        func skipDigits() { while i < bytes.endIndex, (48...57).contains(bytes[i]) { digits += 1; i = bytes.index(after: i) } }
        skipDigits()
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: ".") { i = bytes.index(after: i); skipDigits() }
        guard digits > 0 else { return nil }
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i = bytes.index(after: i)
            if i < bytes.endIndex, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i = bytes.index(after: i) }
            digits = 0
            skipDigits()
            guard digits > 0 else { return nil }
        }
        guard i == bytes.endIndex, let number = Double(trimmed), number.isFinite else { return nil }
        return number
    }

    /// A number as Double (ints widen), or nil.
    public var numberValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Text for interpolation into a string: strings bare, everything else as compact JSON.
    public var interpolationText: String {
        switch self {
        case .string(let s): s
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): Value.formatDouble(d)
        case .list, .map: jsonText()
        }
    }

    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return String(d)
    }

    /// Compact JSON with sorted keys (stable for journals and golden files).
    public func jsonText(pretty: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(256)
        writeJSON(into: &out, pretty: pretty, indent: 0)
        return out
    }

    private func writeJSON(into out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            // A whole double keeps its ".0" (as Python and JavaScript's JSON.parse see it), so a
            // journal read back on resume gives the double again, not an integer.
            if !d.isFinite { out += "null"; return }
            let text = Value.formatDouble(d)
            out += text
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { out += ".0" }
        case .string(let s): Value.writeJSONString(s, into: &out)
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                item.writeJSON(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "]"
        case .map(let m):
            if m.isEmpty { out += "{}"; return }
            out += "{"
            for (n, (key, value)) in m.sorted(by: { $0.key < $1.key }).enumerated() {
                if n > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                Value.writeJSONString(key, into: &out)
                out += pretty ? ": " : ":"
                value.writeJSON(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    /// Appends `s` as a JSON string literal.
    public static func writeJSONString(_ s: String, into out: inout String) {
        out += "\""
        // Most strings need no escape: append them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// Parses JSON text into a Value (see `parseJSON(data:)`).
    public static func parseJSON(_ text: String) -> Value? {
        parseJSON(data: Data(text.utf8))
    }

    /// Parses JSON bytes into a Value: a number written with a fraction or an exponent (`1.0`,
    /// `1e3`) is a double, one without is an int (a double past the range of Int).
    ///
    /// JSONSerialization, not JSONDecoder: decoding a number as Int succeeds for `1.0`, so the
    /// decoder cannot tell a `1.0` from a `1`; JSONSerialization's numbers keep how they were
    /// written (`objCType` "d" for a fraction or exponent, "c" only for true and false).
    public static func parseJSON(data: Data) -> Value? {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        return Value(jsonObject: object)
    }

    /// A value from what JSONSerialization returns; nil for anything else.
    private init?(jsonObject object: Any) {
        switch object {
        case is NSNull:
            self = .null
        case let string as String:
            self = .string(string)
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B":
                self = .bool(number.boolValue)
            case "d", "f":
                self = .double(number.doubleValue)
            case "Q", "L", "I":
                let unsigned = number.uint64Value
                self = unsigned <= UInt64(Int.max) ? .int(Int(unsigned)) : .double(number.doubleValue)
            default:
                self = .int(number.intValue)
            }
        case let array as [Any]:
            var items: [Value] = []
            items.reserveCapacity(array.count)
            for element in array {
                guard let item = Value(jsonObject: element) else { return nil }
                items.append(item)
            }
            self = .list(items)
        case let dictionary as [String: Any]:
            var map: [String: Value] = [:]
            map.reserveCapacity(dictionary.count)
            for (key, element) in dictionary {
                guard let item = Value(jsonObject: element) else { return nil }
                map[key] = item
            }
            self = .map(map)
        default:
            return nil
        }
    }
}
