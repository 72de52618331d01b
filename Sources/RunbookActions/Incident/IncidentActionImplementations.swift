// incident.create/.note/.resolve against the run's incident store. Texts are masked before they are
// stored: an incident outlives the run and is read by people without access to its secrets.
import Foundation
import RunbookKit

/// `incident.create`.
struct IncidentCreateAction: Action {
    let descriptor = IncidentActions.create
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let mask = invocation.context.masker
        let title = try invocation.requireString("title")
        let severityText = invocation.string("severity") ?? invocation.context.runbookSeverity ?? "sev3"
        guard let severity = IncidentSeverity.normalize(severityText) else {
            throw ActionFailure("severity must be one of \(IncidentSeverity.all.joined(separator: ", ")), got '\(severityText)'")
        }
        let components: [String]
        if case .list(let items)? = invocation.arguments["components"] {
            components = items.map { mask.mask($0.interpolationText) }
        } else {
            components = invocation.context.runbookComponents
        }
        let draft = IncidentDraft(title: mask.mask(title), description: mask.mask(invocation.string("description") ?? ""),
                                  severity: severity, components: components)
        let store = try stores.incidentStore(invocation)
        let origin = ChangeOrigin.run(invocation.context.runID, step: invocation.stepID, reason: nil)
        let incident = try storeCall { try store.createIncident(draft, origin: origin) }
        return ActionResult(outputs: ["id": .string(incident.id), "created_at": .string(Journal.timestamp(incident.createdAt))],
                            summary: "\(incident.id) opened (\(severity)): \(incident.title)")
    }
}

/// `incident.note`.
struct IncidentNoteAction: Action {
    let descriptor = IncidentActions.note
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let id = try IncidentActionSupport.id(invocation)
        let text = invocation.context.masker.mask(try invocation.requireString("text"))
        let store = try stores.incidentStore(invocation)
        let at = Date()
        try storeCall {
            try store.append([TimelineEntry(at: at, kind: "note", text: text, runID: invocation.context.runID,
                                            step: invocation.stepID, actor: invocation.context.runID)], to: id)
            try store.link(runID: invocation.context.runID, to: id)
        }
        return ActionResult(outputs: ["id": .string(id), "at": .string(Journal.timestamp(at))],
                            summary: "note added to \(id)")
    }
}

/// `incident.resolve`. Resolving an incident that is already resolved succeeds without changing it
/// (the action is idempotent: a resumed run may repeat it); `runbook incident resolve` refuses instead.
struct IncidentResolveAction: Action {
    let descriptor = IncidentActions.resolve
    let stores: StoreProvider

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let id = try IncidentActionSupport.id(invocation)
        let resolution = invocation.context.masker.mask(try invocation.requireString("resolution"))
        let store = try stores.incidentStore(invocation)
        let origin = ChangeOrigin.run(invocation.context.runID, step: invocation.stepID, reason: nil)
        do {
            let incident = try store.resolveIncident(id: id, resolution: resolution, origin: origin)
            return ActionResult(outputs: ["id": .string(id), "resolved_at": .string(Journal.timestamp(incident.resolvedAt ?? origin.at))],
                                summary: "\(id) resolved")
        } catch IncidentStoreError.alreadyResolved(let incident) {
            try? store.link(runID: invocation.context.runID, to: id)
            return ActionResult(outputs: ["id": .string(id),
                                          "resolved_at": incident.resolvedAt.map { .string(Journal.timestamp($0)) } ?? .null],
                                summary: "\(id) was already resolved")
        } catch {
            throw ActionFailure("\(error)")
        }
    }
}

enum IncidentActionSupport {
    /// The `id` argument, normalized (`inc-1` → `INC-0001`); anything else fails the step.
    static func id(_ invocation: ActionInvocation) throws -> String {
        let raw = try invocation.requireString("id")
        guard let id = IncidentID.normalize(raw) else {
            throw ActionFailure("'\(invocation.context.masker.mask(raw))' is not an incident id (INC-0001, ...)")
        }
        return id
    }
}

extension IncidentActions {
    /// The implementations, against `stores`.
    static func implementations(_ stores: StoreProvider) -> [any Action] {
        [IncidentCreateAction(stores: stores), IncidentNoteAction(stores: stores), IncidentResolveAction(stores: stores)]
    }
}
