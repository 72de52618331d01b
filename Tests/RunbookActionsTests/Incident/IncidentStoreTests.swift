import Foundation
import RunbookActions
import RunbookKit
import Testing

@Suite("Incident store (SQLite)")
struct IncidentStoreTests {
    static var manual: ChangeOrigin { .manual(user: "alice", reason: nil) }

    @Test func idsAreSequentialAndNormalized() throws {
        let store = try TempStateDir().newStore()
        let a = try store.createIncident(IncidentDraft(title: "A", severity: "Sev2", components: ["LLM"]), origin: Self.manual)
        let b = try store.createIncident(IncidentDraft(title: "B", severity: "sev4"), origin: Self.manual)
        #expect(a.id == "INC-0001")
        #expect(b.id == "INC-0002")
        #expect(a.severity == "sev2")
        #expect(try store.incident(id: "inc-1")?.title == "A")
        #expect(try store.incident(id: "INC-0003") == nil)
        #expect(try store.incident(id: "nonsense") == nil)
        #expect(IncidentID.format(12345) == "INC-12345")
        #expect(IncidentID.normalize("INC-x") == nil)
    }

    @Test func invalidDraftsAreRejected() throws {
        let store = try TempStateDir().newStore()
        #expect(throws: StateStoreError.self) { try store.createIncident(IncidentDraft(title: "A", severity: "p1"), origin: Self.manual) }
        #expect(throws: StateStoreError.self) { try store.createIncident(IncidentDraft(title: " ", severity: "sev1"), origin: Self.manual) }
        #expect(try store.incidents(.all).isEmpty)
    }

    @Test func lifecycleAndTimeline() throws {
        let dir = try TempStateDir()
        let store = try dir.newStore()
        let origin = ChangeOrigin.run("run-1", step: "open_incident", reason: nil)
        let incident = try store.createIncident(
            IncidentDraft(title: "Qwen down", description: "not answering", severity: "sev2", components: ["LLM", "Qwen"]),
            origin: origin)
        #expect(incident.status == .open)
        #expect(incident.createdBy == "run-1")
        #expect(try store.incidents(linkedTo: "run-1") == [incident.id])
        #expect(try store.runs(linkedTo: incident.id) == ["run-1"])
        try store.append([TimelineEntry(at: Date(), kind: "note", text: "looking", runID: nil, step: nil, actor: "manual:bob")],
                         to: "inc-0001")
        let resolved = try store.resolveIncident(id: incident.id, resolution: "restarted", origin: Self.manual)
        #expect(resolved.status == .resolved)
        #expect(resolved.resolvedBy == "manual:alice")
        #expect(throws: IncidentStoreError.self) { try store.resolveIncident(id: incident.id, resolution: "again", origin: Self.manual) }
        #expect(throws: IncidentStoreError.unknown("INC-0042")) {
            try store.resolveIncident(id: "INC-0042", resolution: "x", origin: Self.manual)
        }
        #expect(throws: IncidentStoreError.self) { try store.append([], to: "INC-0042") }
        #expect(throws: IncidentStoreError.self) { try store.timeline(id: "INC-0042") }

        let other = try dir.newStore()
        let stored = try #require(try other.incident(id: incident.id))
        #expect(stored.components == ["LLM", "Qwen"])
        #expect(stored.description == "not answering")
        #expect(stored.resolution == "restarted")
        #expect(try other.timeline(id: incident.id).map(\.kind) == ["created", "note", "resolved"])
        #expect(try other.incidents(.open).isEmpty)
        #expect(try other.incidents(.resolved).map(\.id) == ["INC-0001"])
    }

    @Test("concurrent creators on separate connections get unique ids")
    func concurrentCreators() async throws {
        let dir = try TempStateDir()
        let ids = try await withThrowingTaskGroup(of: [String].self) { group in
            for w in 0..<6 {
                group.addTask {
                    let store = try dir.newStore()
                    var ids: [String] = []
                    for i in 0..<10 {
                        ids.append(try store.createIncident(IncidentDraft(title: "w\(w) #\(i)", severity: "sev3"),
                                                            origin: .run("run-\(w)", step: nil, reason: nil)).id)
                    }
                    return ids
                }
            }
            var all: [String] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(ids.count == 60)
        #expect(Set(ids) == Set((1...60).map(IncidentID.format)))
    }

    @Test("titles, descriptions, notes and resolutions with a NUL are stored and read back whole")
    func textsWithNULAreKeptWhole() throws {
        let dir = try TempStateDir()
        let store = try dir.newStore()
        let text = "before\u{0}after"
        let incident = try store.createIncident(IncidentDraft(title: "T " + text, description: "D " + text, severity: "sev2"),
                                                origin: Self.manual)
        #expect(incident.title == "T " + text)
        try store.append([TimelineEntry(at: Date(), kind: "note", text: "N " + text, runID: nil, step: nil, actor: "manual:alice")],
                         to: incident.id)
        _ = try store.resolveIncident(id: incident.id, resolution: "R " + text, origin: Self.manual)
        let other = try dir.newStore()
        let read = try #require(try other.incident(id: incident.id))
        #expect(read.title == "T " + text)
        #expect(read.description == "D " + text)
        #expect(read.resolution == "R " + text)
        #expect(try other.incidents(.all).map(\.title) == ["T " + text])
        let texts = try other.timeline(id: incident.id).map(\.text)
        #expect(texts.contains("N " + text))
        #expect(texts.contains("Resolved: R " + text))
        #expect(texts.contains { $0.hasPrefix("Incident opened: T " + text) })
        // An empty description stays an empty text (NOT NULL), not NULL.
        let plain = try store.createIncident(IncidentDraft(title: "P", severity: "sev3"), origin: Self.manual)
        #expect(try other.incident(id: plain.id)?.description == "")
    }
}
