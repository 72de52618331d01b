/// A typed input of a runbook (`params:`), bound from `--param name=value`.
public struct Param: Sendable {
    public var name: Located<String>
    public var type: ParamType
    public var defaultValue: Located<Value>?
    public var required: Bool
    public var enumValues: [Value]?
    public var description: String?
    public var location: SourceLocation

    public init(name: Located<String>, type: ParamType, defaultValue: Located<Value>? = nil, required: Bool,
                enumValues: [Value]? = nil, description: String? = nil, location: SourceLocation) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.required = required
        self.enumValues = enumValues
        self.description = description
        self.location = location
    }

    /// Whether `value` is one of `allowed`: numbers compare by value (`2` is `2.0`), as
    /// everywhere in expressions.
    public static func enumAllows(_ allowed: [Value], _ value: Value) -> Bool {
        allowed.contains(value) || (value.numberValue != nil && allowed.contains { $0.numberValue == value.numberValue })
    }
}

/// The type of a runbook parameter.
public enum ParamType: String, Sendable, CaseIterable {
    case string, int, number, bool, duration, url

    /// The static type expressions see.
    public var valueType: ValueType {
        switch self {
        case .string: .string
        case .int: .int
        case .number: .number
        case .bool: .bool
        case .duration: .duration
        case .url: .url
        }
    }

    /// Converts command-line text to a value of this type, or explains why it can't.
    public func convert(_ text: String) -> Result<Value, ParamConversionError> {
        switch self {
        case .string:
            return .success(.string(text))
        case .int:
            guard let i = Int(text.trimmingCharacters(in: .whitespaces)) else {
                return .failure(ParamConversionError("expected an integer, got '\(text)'"))
            }
            return .success(.int(i))
        case .number:
            guard let d = Value.decimalNumber(text) else {
                return .failure(ParamConversionError("expected a number, got '\(text)'"))
            }
            return .success(.double(d))
        case .bool:
            switch text {
            case "true": return .success(.bool(true))
            case "false": return .success(.bool(false))
            default: return .failure(ParamConversionError("expected 'true' or 'false', got '\(text)'"))
            }
        case .duration:
            guard RunbookDuration.parse(text) != nil else {
                return .failure(ParamConversionError("expected a duration such as '90s', '5m' or '1h30m', got '\(text)'"))
            }
            return .success(.string(text))
        case .url:
            guard URLCheck.isValid(text) else {
                return .failure(ParamConversionError("expected an http(s) URL, got '\(text)'" + URLCheck.portHint(text)))
            }
            return .success(.string(text))
        }
    }
}

/// Why a parameter value was refused.
public struct ParamConversionError: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// URL syntax check shared by params, lint and actions.
public enum URLCheck {
    /// An absolute http or https URL with a host, and a port (when it has one) from 1 to 65535.
    public static func isValid(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else { return false }
        return portProblem(text) == nil
    }

    /// Why the URL's port cannot be connected to (`http://db:80800/`, a typo for 8080), or nil.
    /// Past 65535 the HTTP client does not fail: it stops the process.
    public static func portProblem(_ text: String) -> String? {
        // Read from the text: a port past Int.max is no port to URLComponents (nil), yet the
        // URL still parses and a client would try it.
        guard let digits = portDigits(text), !digits.isEmpty else { return nil }
        if let port = Int(digits), (1...65_535).contains(port) { return nil }
        return "port \(digits.prefix(24)) is not a TCP port (1-65535)"
    }

    /// The digits after the host's `:` (userinfo and an IPv6 `[...]` skipped), nil without a port.
    ///
    /// Read as UTF-8 bytes: lint checks every URL argument, and walking `Character`s here was
    /// 3 % of linting the benchmark corpus. Every delimiter is ASCII, so byte offsets are safe.
    static func portDigits(_ text: String) -> Substring? {
        var found: (start: Int, end: Int)?
        var text = text
        text.withUTF8 { bytes in
            let n = bytes.count
            // "://"
            var i = 0
            while i + 2 < n, !(bytes[i] == 0x3A && bytes[i + 1] == 0x2F && bytes[i + 2] == 0x2F) { i += 1 }
            guard i + 2 < n else { return }
            var start = i + 3
            var end = start
            while end < n, bytes[end] != 0x2F, bytes[end] != 0x3F, bytes[end] != 0x23 { end += 1 }  // / ? #
            if let at = (start..<end).last(where: { bytes[$0] == 0x40 }) { start = at + 1 }  // @
            if start < end, bytes[start] == 0x5B {  // [
                guard let close = (start..<end).first(where: { bytes[$0] == 0x5D }) else { return }
                start = close + 1
                guard start < end, bytes[start] == 0x3A else { return }
            }
            guard let colon = (start..<end).last(where: { bytes[$0] == 0x3A }) else { return }
            guard (colon + 1..<end).allSatisfy({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }) else { return }
            found = (colon + 1, end)
        }
        guard let found else { return nil }
        let utf8 = text.utf8
        return text[utf8.index(utf8.startIndex, offsetBy: found.start)..<utf8.index(utf8.startIndex, offsetBy: found.end)]
    }

    /// `"; port … is not a TCP port (1-65535)"` when that is what is wrong with `text`, else "":
    /// appended to a message that says a URL is expected.
    public static func portHint(_ text: String) -> String {
        portProblem(text).map { "; \($0)" } ?? ""
    }
}

import Foundation
