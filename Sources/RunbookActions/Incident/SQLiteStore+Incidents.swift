// Incidents in the state store's SQLite file (tables `incidents`, `incident_timeline`, `incident_runs`;
// see `SQLiteStore`).
import Foundation
import GRDB
import RunbookKit

extension SQLiteStore {
    /// The columns of `incidents`, the free texts read whole (see `SQLiteStore.text`).
    private static let incidentColumns = """
        number, id, \(fullText("title")), \(fullText("description")), severity, components, status, created_at,
        created_by, run_id, resolved_at, resolved_by, \(fullText("resolution"))
        """

    private static func incident(_ row: Row) -> Incident {
        let components: [String]
        if case .list(let items)? = Value.parseJSON(row["components"] as String? ?? "[]") {
            components = items.compactMap(\.stringValue)
        } else {
            components = []
        }
        return Incident(id: row["id"], title: row["title"], description: row["description"],
                        severity: row["severity"], components: components,
                        status: IncidentStatus(rawValue: row["status"]) ?? .open,
                        createdAt: date(row["created_at"]) ?? Date(timeIntervalSince1970: 0), createdBy: row["created_by"],
                        runID: row["run_id"], resolvedAt: date(row["resolved_at"]), resolvedBy: row["resolved_by"],
                        resolution: row["resolution"])
    }

    private static func incident(_ db: Database, _ id: String) throws -> Incident? {
        guard let normalized = IncidentID.normalize(id) else { return nil }
        return try Row.fetchOne(db, sql: "SELECT \(Self.incidentColumns) FROM incidents WHERE id = ?", arguments: [normalized]).map(incident)
    }

    private static func insert(_ entries: [TimelineEntry], into id: String, _ db: Database) throws {
        for e in entries {
            try db.execute(sql: """
                INSERT INTO incident_timeline (incident_id, at, kind, text, run_id, step, actor)
                VALUES (?, ?, ?, CAST(? AS TEXT), ?, ?, ?)
                """, arguments: [id, timestamp(e.at), e.kind, text(e.text), e.runID, e.step, e.actor])
        }
    }

    private static func link(_ db: Database, runID: String, to id: String, at: Date) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO incident_runs (incident_id, run_id, linked_at) VALUES (?, ?, ?)",
                       arguments: [id, runID, timestamp(at)])
    }

    /// Opens an incident with the next number; the write transaction makes the number unique
    /// even with several processes creating incidents at once.
    public func createIncident(_ draft: IncidentDraft, origin: ChangeOrigin) throws -> Incident {
        guard let severity = IncidentSeverity.normalize(draft.severity) else {
            throw StateStoreError("severity must be one of \(IncidentSeverity.all.joined(separator: ", ")), got '\(draft.severity)'")
        }
        let title = draft.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw StateStoreError("an incident needs a title") }
        return try write { db in
            let number = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(number), 0) + 1 FROM incidents") ?? 1
            let id = IncidentID.format(number)
            let components = Value.list(draft.components.map(Value.string)).jsonText()
            try db.execute(sql: """
                INSERT INTO incidents (number, id, title, description, severity, components, status, created_at,
                                       created_by, run_id)
                VALUES (?, ?, CAST(? AS TEXT), CAST(? AS TEXT), ?, ?, 'open', ?, ?, ?)
                """, arguments: [number, id, Self.text(title), Self.text(draft.description), severity, components,
                                 Self.timestamp(origin.at), origin.actor, origin.runID])
            var text = "Incident opened: \(title) (\(severity)"
            if !draft.components.isEmpty { text += "; components: \(draft.components.joined(separator: ", "))" }
            text += ")"
            try Self.insert([TimelineEntry(at: origin.at, kind: "created", text: text, runID: origin.runID,
                                           step: origin.step, actor: origin.actor)], into: id, db)
            if let runID = origin.runID { try Self.link(db, runID: runID, to: id, at: origin.at) }
            return Incident(id: id, title: title, description: draft.description, severity: severity,
                            components: draft.components, status: .open, createdAt: origin.at, createdBy: origin.actor,
                            runID: origin.runID, resolvedAt: nil, resolvedBy: nil, resolution: nil)
        }
    }

    /// One incident (ids are case-insensitive); nil when unknown.
    public func incident(id: String) throws -> Incident? {
        try read { try Self.incident($0, id) }
    }

    /// Incidents, oldest first.
    public func incidents(_ filter: IncidentFilter) throws -> [Incident] {
        try read { db in
            switch filter {
            case .all: try Row.fetchAll(db, sql: "SELECT \(Self.incidentColumns) FROM incidents ORDER BY number").map(Self.incident)
            case .open, .resolved:
                try Row.fetchAll(db, sql: "SELECT \(Self.incidentColumns) FROM incidents WHERE status = ? ORDER BY number",
                                 arguments: [filter.rawValue]).map(Self.incident)
            }
        }
    }

    /// An incident's timeline in time order.
    public func timeline(id: String) throws -> [TimelineEntry] {
        try read { db in
            guard let incident = try Self.incident(db, id) else { throw IncidentStoreError.unknown(id) }
            return try Row.fetchAll(db, sql: """
                SELECT seq, incident_id, at, kind, \(Self.fullText("text")), run_id, step, actor FROM incident_timeline
                WHERE incident_id = ? ORDER BY at, seq
                """,
                                    arguments: [incident.id]).map { row in
                TimelineEntry(at: Self.date(row["at"]) ?? Date(timeIntervalSince1970: 0), kind: row["kind"],
                              text: row["text"], runID: row["run_id"], step: row["step"], actor: row["actor"])
            }
        }
    }

    /// Appends entries to a timeline.
    public func append(_ entries: [TimelineEntry], to id: String) throws {
        try write { db in
            guard let incident = try Self.incident(db, id) else { throw IncidentStoreError.unknown(id) }
            try Self.insert(entries, into: incident.id, db)
        }
    }

    /// Resolves an open incident.
    public func resolveIncident(id: String, resolution: String, origin: ChangeOrigin) throws -> Incident {
        try write { db in
            guard var incident = try Self.incident(db, id) else { throw IncidentStoreError.unknown(id) }
            guard incident.status == .open else { throw IncidentStoreError.alreadyResolved(incident) }
            try db.execute(sql: """
                UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = CAST(? AS TEXT)
                WHERE id = ?
                """, arguments: [Self.timestamp(origin.at), origin.actor, Self.text(resolution), incident.id])
            try Self.insert([TimelineEntry(at: origin.at, kind: "resolved", text: "Resolved: \(resolution)",
                                           runID: origin.runID, step: origin.step, actor: origin.actor)],
                            into: incident.id, db)
            if let runID = origin.runID { try Self.link(db, runID: runID, to: incident.id, at: origin.at) }
            incident.status = .resolved
            incident.resolvedAt = origin.at
            incident.resolvedBy = origin.actor
            incident.resolution = resolution
            return incident
        }
    }

    /// Records that a run writes an incident's timeline.
    public func link(runID: String, to id: String) throws {
        try write { db in
            guard let incident = try Self.incident(db, id) else { throw IncidentStoreError.unknown(id) }
            try Self.link(db, runID: runID, to: incident.id, at: Date())
        }
    }

    /// Incidents a run touches, in link order.
    public func incidents(linkedTo runID: String) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT incident_id FROM incident_runs WHERE run_id = ? ORDER BY linked_at, rowid",
                                arguments: [runID])
        }
    }

    /// Runs that touched an incident, in link order.
    public func runs(linkedTo id: String) throws -> [String] {
        try read { db in
            guard let incident = try Self.incident(db, id) else { throw IncidentStoreError.unknown(id) }
            return try String.fetchAll(db, sql: "SELECT run_id FROM incident_runs WHERE incident_id = ? ORDER BY linked_at, rowid",
                                       arguments: [incident.id])
        }
    }
}
