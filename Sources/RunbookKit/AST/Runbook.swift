/// The lowered, typed form of one runbook file. Every field keeps where it was written.
public struct Runbook: Sendable {
    /// The file the runbook came from.
    public var file: String
    /// Where the top-level mapping starts.
    public var location: SourceLocation
    public var version: Located<Int>
    public var id: Located<String>
    public var title: Located<String>
    public var description: Located<String>?
    public var severity: Located<Severity>
    public var automation: Located<Automation>
    public var expectedRecovery: Located<RunbookDuration>?
    public var owner: Located<String>?
    public var components: [Located<String>]
    public var params: [Param]
    public var triggers: Triggers?
    public var steps: [Step]
    public var rollback: [Step]
    public var manualRecovery: Located<String>?
    public var prevention: [Located<String>]

    public init(file: String, location: SourceLocation, version: Located<Int>, id: Located<String>,
                title: Located<String>, description: Located<String>? = nil, severity: Located<Severity>,
                automation: Located<Automation>, expectedRecovery: Located<RunbookDuration>? = nil,
                owner: Located<String>? = nil, components: [Located<String>] = [], params: [Param] = [],
                triggers: Triggers? = nil, steps: [Step], rollback: [Step] = [],
                manualRecovery: Located<String>? = nil, prevention: [Located<String>] = []) {
        self.file = file
        self.location = location
        self.version = version
        self.id = id
        self.title = title
        self.description = description
        self.severity = severity
        self.automation = automation
        self.expectedRecovery = expectedRecovery
        self.owner = owner
        self.components = components
        self.params = params
        self.triggers = triggers
        self.steps = steps
        self.rollback = rollback
        self.manualRecovery = manualRecovery
        self.prevention = prevention
    }

    /// Main steps then rollback steps.
    public var allSteps: [Step] { steps + rollback }

    public func step(_ id: String) -> Step? { allSteps.first { $0.id.value == id } }

    public func param(_ name: String) -> Param? { params.first { $0.name.value == name } }

    /// The allowed values of each text param whose `enum` is all text (the first param of a
    /// name): a run never gets another value, so a comparison with one is always false.
    public var paramEnums: [String: [String]] {
        var enums: [String: [String]] = [:]
        for param in params where enums[param.name.value] == nil {
            if let values = param.enumValues.flatMap({ Self.textEnum($0, type: param.type) }) { enums[param.name.value] = values }
        }
        return enums
    }

    /// The values of a non-empty `enum` of a `string` param when all are text.
    static func textEnum(_ values: [Value], type: ParamType) -> [String]? {
        guard type == .string, !values.isEmpty else { return nil }
        var out: [String] = []
        for value in values {
            guard case .string(let text) = value else { return nil }
            out.append(text)
        }
        return out
    }

    /// Each param's declared type (the first param of a name, as lint reads a duplicate).
    public var paramTypes: [String: ParamType] {
        var types: [String: ParamType] = [:]
        for param in params where types[param.name.value] == nil { types[param.name.value] = param.type }
        return types
    }
}

/// Incident severity, Sev1 the worst.
public enum Severity: String, Sendable, CaseIterable, Comparable {
    case sev1, sev2, sev3, sev4
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    /// `Sev2`.
    public var displayName: String { "Sev" + rawValue.dropFirst(3) }
}

/// How much a human is involved.
public enum Automation: String, Sendable, CaseIterable {
    case automatic
    case semiAutomatic = "semi_automatic"
    case manual
}

/// A duration written as `90s`, `5m`, `1h30m`, `500ms` (or a bare number of seconds).
public struct RunbookDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Double
    public init(seconds: Double) { self.seconds = seconds }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.seconds < rhs.seconds }

    /// Parses `1h30m`, `90s`, `5m`, `250ms`, `2d`, `1.5m`: numbers `[0-9]+(.[0-9]+)?`, each with a
    /// unit (ms, s, m, h, d; lowercase; each at most once, largest first), nothing else: no
    /// spaces, no bare number, no `.5s` or `1.s` (docs/format.md; the schema's pattern is the same).
    public static func parse(_ text: String) -> RunbookDuration? {
        var text = text
        return text.withUTF8 { b -> RunbookDuration? in
            guard !b.isEmpty else { return nil }
            let seconds: [Double] = [86400, 3600, 60, 1, 0.001]
            func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
            var total = 0.0
            var lastRank = -1
            var i = 0
            while i < b.count {
                let start = i
                while i < b.count, isDigit(b[i]) { i += 1 }
                guard i > start else { return nil }
                if i < b.count, b[i] == UInt8(ascii: ".") {
                    i += 1
                    let fraction = i
                    while i < b.count, isDigit(b[i]) { i += 1 }
                    guard i > fraction else { return nil }
                }
                guard let number = Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
                else { return nil }
                let rank: Int
                switch (i < b.count ? b[i] : 0, i + 1 < b.count ? b[i + 1] : 0) {
                case (UInt8(ascii: "d"), _): rank = 0
                case (UInt8(ascii: "h"), _): rank = 1
                case (UInt8(ascii: "m"), UInt8(ascii: "s")): rank = 4
                case (UInt8(ascii: "m"), _): rank = 2
                case (UInt8(ascii: "s"), _): rank = 3
                default: return nil
                }
                i += rank == 4 ? 2 : 1
                guard rank > lastRank else { return nil }
                lastRank = rank
                total += number * seconds[rank]
            }
            guard total.isFinite else { return nil }
            return RunbookDuration(seconds: total)
        }
    }

    /// Canonical short text: `1h30m`, `90s` stays `1m30s`, `0.5s` → `500ms`, `1.5s` → `1s500ms`
    /// (milliseconds are kept, not rounded away: `1.5s` is not `2s`).
    /// Past `longest` (a hundred years): `more than 36500d` (whole units would not fit an integer).
    public var description: String {
        guard seconds.isFinite else { return seconds.isNaN ? "an invalid duration" : "an unbounded time" }
        if seconds <= 0 { return "0s" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds > Self.longest { return "more than \(RunbookDuration(seconds: Self.longest))" }
        var ms = Int((seconds * 1000).rounded())
        var out = ""
        for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] where ms >= size {
            out += "\(ms / size)\(unit)"
            ms %= size
        }
        return out
    }
}

import Foundation
