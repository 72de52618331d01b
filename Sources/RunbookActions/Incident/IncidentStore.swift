// Incidents and their timelines. Ids (INC-0001, INC-0002, ...) are allocated by the store inside
// a write transaction, so concurrent runs and `runbook incident create` never share one.
import Foundation
import RunbookKit

/// An incident's life-cycle state.
public enum IncidentStatus: String, Sendable, CaseIterable {
    /// Being worked on.
    case open
    /// Closed with a resolution.
    case resolved
}

/// The severities an incident may have (the runbook format's `severity`).
public enum IncidentSeverity {
    /// `sev1` … `sev4`.
    public static let all = ["sev1", "sev2", "sev3", "sev4"]

    /// `sev2`, `Sev2`, `SEV2` → `sev2`; nil for anything else.
    public static func normalize(_ text: String) -> String? {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        return all.contains(lower) ? lower : nil
    }
}

/// What it takes to open an incident.
public struct IncidentDraft: Sendable, Equatable {
    /// One-line title.
    public var title: String
    /// What happened (Markdown); may be empty.
    public var description: String
    /// `sev1` … `sev4`.
    public var severity: String
    /// Affected components.
    public var components: [String]

    /// Creates a draft.
    public init(title: String, description: String = "", severity: String, components: [String] = []) {
        self.title = title
        self.description = description
        self.severity = severity
        self.components = components
    }
}

/// A stored incident.
public struct Incident: Sendable, Equatable {
    /// `INC-0001`, ...
    public var id: String
    /// One-line title.
    public var title: String
    /// What happened.
    public var description: String
    /// `sev1` … `sev4`.
    public var severity: String
    /// Affected components.
    public var components: [String]
    /// Open or resolved.
    public var status: IncidentStatus
    /// When it was opened.
    public var createdAt: Date
    /// Who opened it: a run id or `manual:<user>`.
    public var createdBy: String
    /// The run that opened it, if a run did.
    public var runID: String?
    /// When it was resolved.
    public var resolvedAt: Date?
    /// Who resolved it.
    public var resolvedBy: String?
    /// How it was resolved.
    public var resolution: String?
}

/// One line of an incident's timeline.
public struct TimelineEntry: Sendable, Equatable {
    /// When it happened.
    public var at: Date
    /// `created`, `note`, `resolved`, `run_started`, `run_resumed`, `step_started`, `step_finished`,
    /// `confirmation_asked`, `confirmation_answered`, `notification_sent`, `rollback_started`,
    /// `run_paused`, `run_finished`.
    public var kind: String
    /// What happened, for people (masked for secrets by the engine before it gets here).
    public var text: String
    /// The run it came from; nil for entries made by hand.
    public var runID: String?
    /// The step it came from.
    public var step: String?
    /// Who made it: a run id or `manual:<user>`.
    public var actor: String

    /// Creates an entry.
    public init(at: Date, kind: String, text: String, runID: String?, step: String?, actor: String) {
        self.at = at
        self.kind = kind
        self.text = text
        self.runID = runID
        self.step = step
        self.actor = actor
    }
}

/// Which incidents `incidents(status:)` lists.
public enum IncidentFilter: String, Sendable, CaseIterable {
    /// Open incidents.
    case open
    /// Resolved incidents.
    case resolved
    /// Every incident.
    case all
}

/// Incidents, their timelines and the runs that touched them.
public protocol IncidentStore: Sendable {
    /// Opens an incident with the next free id and a `created` timeline entry; links the origin's run.
    func createIncident(_ draft: IncidentDraft, origin: ChangeOrigin) throws -> Incident
    /// One incident; nil when the id is unknown.
    func incident(id: String) throws -> Incident?
    /// Incidents, oldest first.
    func incidents(_ filter: IncidentFilter) throws -> [Incident]
    /// An incident's timeline in time order; throws `IncidentStoreError.unknown` for an unknown id.
    func timeline(id: String) throws -> [TimelineEntry]
    /// Appends entries to a timeline; throws `IncidentStoreError.unknown` for an unknown id.
    func append(_ entries: [TimelineEntry], to id: String) throws
    /// Resolves an open incident and appends a `resolved` entry.
    /// Throws `.unknown` for an unknown id and `.alreadyResolved` for a resolved one.
    func resolveIncident(id: String, resolution: String, origin: ChangeOrigin) throws -> Incident
    /// Records that a run touches an incident (so a resumed run keeps writing its timeline).
    func link(runID: String, to id: String) throws
    /// Incidents a run touches, in the order they were linked.
    func incidents(linkedTo runID: String) throws -> [String]
    /// Runs that touched an incident, in the order they were linked.
    func runs(linkedTo id: String) throws -> [String]
}

/// An incident operation that cannot be done.
public enum IncidentStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No incident has this id.
    case unknown(String)
    /// The incident is already resolved.
    case alreadyResolved(Incident)

    /// A message for people.
    public var description: String {
        switch self {
        case .unknown(let id): "no incident '\(id)'"
        case .alreadyResolved(let incident):
            "incident \(incident.id) is already resolved"
                + (incident.resolvedAt.map { " (at \(Journal.timestamp($0))" } ?? " (")
                + (incident.resolvedBy.map { " by \($0)" } ?? "") + ")"
        }
    }
}

/// Incident ids: `INC-` and a zero-padded number of at least four digits.
public enum IncidentID {
    /// `INC-0001` for 1.
    public static func format(_ number: Int) -> String {
        let digits = String(number)
        return "INC-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The number of `INC-0001` (case-insensitive), nil for anything else.
    public static func number(_ id: String) -> Int? {
        let upper = id.trimmingCharacters(in: .whitespaces).uppercased()
        guard upper.hasPrefix("INC-"), let n = Int(upper.dropFirst(4)), n > 0,
              upper.dropFirst(4).allSatisfy(\.isASCII) else { return nil }
        return n
    }

    /// `inc-1` / `INC-0001` → `INC-0001`; nil when not an incident id.
    public static func normalize(_ id: String) -> String? { number(id).map(format) }
}
