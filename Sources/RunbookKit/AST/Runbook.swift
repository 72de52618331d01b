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

    /// Parses `1h30m`, `90s`, `5m`, `250ms`, `2d`. Units: ms, s, m, h, d; each at most once, largest first.
    public static func parse(_ text: String) -> RunbookDuration? {
        if let parsed = parseASCII(text) { return parsed }
        let units: [(String, Double)] = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1), ("ms", 0.001)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        var lastRank = -1
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !digits.isEmpty, let number = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            guard let rank = units.firstIndex(where: { $0.0 == String(unitText) }), rank > lastRank else { return nil }
            lastRank = rank
            total += number * units[rank].1
            rest = rest.dropFirst(unitText.count)
        }
        guard total.isFinite else { return nil }
        return RunbookDuration(seconds: total)
    }

    /// `parse` over the bytes of text that is ASCII without spaces or tabs (nothing to trim,
    /// one character per byte): nearly every duration. `.some(nil)` is an invalid duration;
    /// nil means the text needs the general `parse`.
    private static func parseASCII(_ text: String) -> RunbookDuration?? {
        var text = text
        return text.withUTF8 { b -> RunbookDuration?? in
            for c in b where c == 0x20 || c == 0x09 || c >= 0x80 { return nil }
            guard !b.isEmpty else { return .some(nil) }
            let seconds: [Double] = [86400, 3600, 60, 1, 0.001]
            var total = 0.0
            var lastRank = -1
            var i = 0
            while i < b.count {
                let start = i
                while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == 0x2E { i += 1 }
                guard i > start,
                      let number = Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
                else { return .some(nil) }
                let unit = i
                while i < b.count, (b[i] | 0x20) >= 0x61 && (b[i] | 0x20) <= 0x7A { i += 1 }
                let rank: Int
                switch (i - unit, b[unit < b.count ? unit : 0]) {
                case (1, UInt8(ascii: "d")): rank = 0
                case (1, UInt8(ascii: "h")): rank = 1
                case (1, UInt8(ascii: "m")): rank = 2
                case (1, UInt8(ascii: "s")): rank = 3
                case (2, UInt8(ascii: "m")) where b[unit + 1] == UInt8(ascii: "s"): rank = 4
                default: return .some(nil)
                }
                guard rank > lastRank else { return .some(nil) }
                lastRank = rank
                total += number * seconds[rank]
            }
            guard total.isFinite else { return .some(nil) }
            return .some(RunbookDuration(seconds: total))
        }
    }

    /// Canonical short text: `1h30m`, `90s` stays `1m30s`, `0.5s` → `500ms`.
    /// Past `longest` (a hundred years): `more than 36500d` (whole units would not fit an integer).
    public var description: String {
        guard seconds.isFinite else { return seconds.isNaN ? "an invalid duration" : "an unbounded time" }
        if seconds <= 0 { return "0s" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds > Self.longest { return "more than \(RunbookDuration(seconds: Self.longest))" }
        var s = Int(seconds.rounded())
        var out = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where s >= size {
            out += "\(s / size)\(unit)"
            s %= size
        }
        return out
    }
}

import Foundation
