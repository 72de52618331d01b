// Does a literal value fit a declared type? Used for declared defaults (a registry test) and,
// later, by lint for literal `with:` values. Expressions are checked elsewhere: a `${{ }}`
// string is only a literal here.
import Foundation

extension ValueType {
    /// Whether a literal `value` (no expressions left in it) is acceptable where this type is declared.
    ///
    /// Ints widen to numbers; a duration is a non-negative number of seconds or a string such as
    /// `90s`, `5m`, `1h30m`, `250ms`; a url is an absolute URL with a scheme and a host.
    /// `null` is accepted only by `any`.
    public func accepts(_ value: Value) -> Bool {
        switch (self, value) {
        case (.any, _): return true
        case (.string, .string): return true
        case (.int, .int): return true
        case (.number, .int), (.number, .double): return true
        case (.bool, .bool): return true
        case (.duration, .int(let i)): return i >= 0
        case (.duration, .double(let d)): return d >= 0 && d.isFinite
        case (.duration, .string(let s)): return ValueType.parseDurationLiteral(s) != nil
        case (.url, .string(let s)): return ValueType.isAbsoluteURL(s)
        case (.enumeration(let allowed), .string(let s)): return allowed.contains(s)
        case (.list(let element), .list(let items)): return items.allSatisfy { element.accepts($0) }
        case (.map(let element), .map(let entries)): return entries.values.allSatisfy { element.accepts($0) }
        case (.oneOf(let types), _): return types.contains { $0.accepts(value) }
        default: return false
        }
    }

    /// Seconds in a duration literal such as `90s`, `5m`, `1h30m`, `1.5s` or `250ms`; nil when malformed.
    /// The one duration grammar is `RunbookDuration.parse`'s.
    public static func parseDurationLiteral(_ text: String) -> Double? {
        RunbookDuration.parse(text)?.seconds
    }

    private static func isAbsoluteURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme, !scheme.isEmpty,
              let host = url.host, !host.isEmpty else { return false }
        return true
    }
}
