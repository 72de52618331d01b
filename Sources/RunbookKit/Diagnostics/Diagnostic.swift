/// How bad a finding is.
public enum DiagnosticSeverity: String, Sendable, Hashable, Comparable, CaseIterable {
    case error
    case warning
    case note

    private var rank: Int {
        switch self {
        case .error: 2
        case .warning: 1
        case .note: 0
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// A secondary message attached to a diagnostic (e.g. "first defined here").
public struct DiagnosticNote: Sendable, Hashable {
    public var message: String
    public var location: SourceLocation?
    public init(_ message: String, at location: SourceLocation?) {
        self.message = message
        self.location = location
    }
}

/// One finding of the front end, lowering or a lint rule.
///
/// Messages are lowercase, without a trailing period, with names in 'quotes'.
public struct Diagnostic: Sendable, Hashable {
    /// Stable rule id, e.g. `yaml-syntax`, `unknown-key`, `mutating-without-undo`.
    public var ruleID: String
    public var severity: DiagnosticSeverity
    public var message: String
    public var location: SourceLocation
    public var notes: [DiagnosticNote]

    public init(_ severity: DiagnosticSeverity, _ ruleID: String, _ message: String,
                at location: SourceLocation, notes: [DiagnosticNote] = []) {
        self.severity = severity
        self.ruleID = ruleID
        self.message = message
        self.location = location
        self.notes = notes
    }

    public static func error(_ ruleID: String, _ message: String, at location: SourceLocation,
                             notes: [DiagnosticNote] = []) -> Diagnostic {
        Diagnostic(.error, ruleID, message, at: location, notes: notes)
    }

    public static func warning(_ ruleID: String, _ message: String, at location: SourceLocation,
                               notes: [DiagnosticNote] = []) -> Diagnostic {
        Diagnostic(.warning, ruleID, message, at: location, notes: notes)
    }
}

/// Collects diagnostics while a stage goes on: emit what can be recovered from.
public struct DiagnosticBag: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []
    public init() {}

    public mutating func append(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
    public mutating func append(contentsOf other: [Diagnostic]) { diagnostics.append(contentsOf: other) }
    public mutating func error(_ ruleID: String, _ message: String, at location: SourceLocation,
                               notes: [DiagnosticNote] = []) {
        diagnostics.append(.error(ruleID, message, at: location, notes: notes))
    }
    public mutating func warning(_ ruleID: String, _ message: String, at location: SourceLocation,
                                 notes: [DiagnosticNote] = []) {
        diagnostics.append(.warning(ruleID, message, at: location, notes: notes))
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}
