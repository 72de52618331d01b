// The automatic incident timeline: runbooks run through the real executor against a temporary
// state directory, with state and incident steps only (no network).
import Foundation
import RunbookActions
import RunbookKit
import Testing

/// Collects warnings from the recorder.
final class Warnings: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}

@Suite("Incident timeline recorder")
struct IncidentTimelineRecorderTests {
    static let runbook = """
        version: 1
        id: timeline_demo
        title: Timeline demo
        description: Opens a breaker, downshifts, opens an incident, waits for a confirmation, restores.
        severity: sev2
        automation: semi_automatic
        expected_recovery: 5m
        owner: sre
        components: [LLM, Qwen]
        steps:
          - id: open_breaker
            action: circuit_breaker.open
            with: {name: qwen, reason: "demo ${{ run.id }}"}
          - id: downshift
            action: feature_flag.downshift
            with: {from: creative, to: balanced}
          - id: open_incident
            action: incident.create
            with: {title: Qwen LLM Failure, description: Qwen not responding}
            rollback: none
          - id: recovered
            action: confirm
            with: {message: "Qwen back for ${{ steps.open_incident.outputs.id }}?"}
          - id: restore
            action: feature_flag.restore
            with: {mode: creative}
            rollback: none
          - id: note
            action: incident.note
            with: {id: "${{ steps.open_incident.outputs.id }}", text: "${{ params.note }}"}
            rollback: none
        params:
          note: {type: string, default: creative mode restored}
        rollback:
          - id: restore_creative
            action: feature_flag.restore
            with: {mode: creative}
            undoes: [downshift]
          - id: close_breaker
            action: circuit_breaker.close
            with: {name: qwen}
            undoes: [open_breaker]
        """

    struct Harness {
        let dir: TempStateDir
        let runbook: Runbook
        let runID = "timeline_demo-20250101-000000-0001"
        let warnings = Warnings()

        init(_ text: String = IncidentTimelineRecorderTests.runbook) throws {
            dir = try TempStateDir()
            let linted = Linter(catalog: BuiltinActions.catalog).lint(bytes: Array(text.utf8), file: "timeline_demo.yaml")
            #expect(!linted.hasErrors, "\(linted.diagnostics.map(\.message))")
            runbook = try #require(linted.runbook)
        }

        var journalPath: String { dir.path + "/journal.jsonl" }

        /// One process's worth of run: a new store connection, recorder and journal.
        func run(approve: Set<String> = [], params: [String: Value] = ["note": "creative mode restored"],
                 resume: Bool = false) async throws -> (RunOutcome, IncidentTimelineRecorder) {
            let recorder = IncidentTimelineRecorder(store: try dir.newStore(), catalog: BuiltinActions.catalog,
                                                    warn: { [warnings] in warnings.add($0) })
            let point = resume ? try ResumePoint.from(records: Journal.read(path: journalPath)) : nil
            let options = RunOptions(params: params, confirmer: ConfirmationPolicy(approved: approve, operatorName: "alice"),
                                     environment: [:])
            let executor = Executor(runbook: runbook, registry: BuiltinActions.registry, options: options, runID: runID,
                                    journal: try Journal(path: journalPath), reporters: [recorder], stateDirectory: dir.path)
            return (await executor.run(resume: point), recorder)
        }
    }

    @Test("a paused and resumed run writes its whole timeline, including what came before the incident")
    func pausedAndResumed() async throws {
        let h = try Harness()
        let (first, recorder) = try await h.run()
        #expect(first.status == .paused)
        #expect(recorder.boundIncidents == ["INC-0001"])
        let store = try h.dir.newStore()
        var kinds = try store.timeline(id: "INC-0001").map(\.kind)
        #expect(kinds.first == "run_started", "buffered events come first")
        #expect(kinds.contains("created"))
        #expect(kinds.last == "run_paused")
        let steps = try store.timeline(id: "INC-0001").filter { $0.kind == "step_finished" }.compactMap(\.step)
        #expect(steps == ["open_breaker", "downshift", "open_incident"])

        let (second, _) = try await h.run(approve: ["recovered"], resume: true)
        #expect(second.status == .succeeded)
        let timeline = try store.timeline(id: "INC-0001")
        kinds = timeline.map(\.kind)
        for kind in ["run_started", "step_started", "step_finished", "created", "confirmation_asked", "run_paused",
                     "run_resumed", "confirmation_answered", "note", "run_finished"] {
            #expect(kinds.contains(kind), "\(kind) in \(kinds)")
        }
        let answer = try #require(timeline.first { $0.kind == "confirmation_answered" })
        #expect(answer.text.contains("approved by alice"))
        #expect(answer.step == "recovered")
        #expect(timeline.first { $0.kind == "confirmation_asked" }?.text.contains("Qwen back for INC-0001?") == true)
        #expect(timeline.last?.kind == "run_finished")
        #expect(timeline.last?.text.contains("succeeded") == true)
        #expect(timeline.allSatisfy { $0.runID == h.runID })
        #expect(timeline.map(\.at) == timeline.map(\.at).sorted())
        #expect(try store.runs(linkedTo: "INC-0001") == [h.runID])
        #expect(try store.incident(id: "INC-0001")?.severity == "sev2", "the runbook's severity")
        #expect(h.warnings.all.isEmpty)
        // No entry is written twice: one run_finished, one created.
        #expect(kinds.filter { $0 == "run_finished" }.count == 1)
        #expect(kinds.filter { $0 == "created" }.count == 1)
    }

    @Test("a failing step's rollback goes to the timeline")
    func rollbackRecorded() async throws {
        // A note on an incident that does not exist: the step fails, the rollback runs.
        let text = IncidentTimelineRecorderTests.runbook
            .replacingOccurrences(of: "with: {id: \"${{ steps.open_incident.outputs.id }}\"", with: "with: {id: INC-0099")
        let broken = try Harness(text)
        let (outcome, _) = try await broken.run(approve: ["recovered"])
        #expect(outcome.status == .failed)
        let store = try broken.dir.newStore()
        let timeline = try store.timeline(id: "INC-0001")
        let kinds = timeline.map(\.kind)
        #expect(kinds.contains("rollback_started"))
        #expect(timeline.contains { $0.kind == "step_finished" && $0.step == "note" && $0.text.contains("no incident 'INC-0099'") })
        #expect(timeline.contains { $0.kind == "step_started" && $0.text.hasPrefix("Rollback step 'close_breaker'") })
        #expect(timeline.last?.text.contains("failed") == true)
        #expect(try store.breaker(named: "qwen").state == .closed, "rolled back")
        #expect(try store.incidents(linkedTo: broken.runID) == ["INC-0001"])
    }

    @Test("notifications, other incidents and dry-runs, from events")
    func fromEvents() throws {
        let dir = try TempStateDir()
        let store = try dir.newStore()
        let existing = try store.createIncident(IncidentDraft(title: "by hand", severity: "sev3"), origin: .manual(user: "bob", reason: nil))
        let recorder = IncidentTimelineRecorder(store: store, catalog: BuiltinActions.catalog, warn: { _ in })
        let events: [RunEvent] = [
            .runStarted(runID: "r1", runbook: "rb", file: "rb.yaml", dryRun: false, params: [:], resumed: false),
            .stepStarted(step: "page", title: "Page the on-call", action: "notify.pagerduty", phase: .main),
            .stepFinished(step: "page", status: .succeeded, outputs: ["dedup_key": "k"], error: nil, durationMS: 12, reason: nil),
            .stepStarted(step: "n", title: "n", action: "incident.note", phase: .main),
            .stepFinished(step: "n", status: .succeeded, outputs: ["id": .string(existing.id), "at": "x"], error: nil,
                          durationMS: 3, reason: nil),
            .runFinished(status: .succeeded, durationMS: 20),
        ]
        for e in events { recorder.report(e) }
        let timeline = try store.timeline(id: existing.id)
        #expect(timeline.map(\.kind) == ["created", "run_started", "step_started", "step_finished", "notification_sent",
                                         "step_started", "step_finished", "run_finished"])
        #expect(timeline.first { $0.kind == "notification_sent" }?.text.contains("notify.pagerduty") == true)

        let dry = IncidentTimelineRecorder(store: store, catalog: BuiltinActions.catalog, warn: { _ in })
        dry.report(.runStarted(runID: "r2", runbook: "rb", file: "rb.yaml", dryRun: true, params: [:], resumed: false))
        dry.report(.stepFinished(step: "n", status: .succeeded, outputs: ["id": .string(existing.id)], error: nil, durationMS: 1, reason: nil))
        #expect(dry.boundIncidents.isEmpty)
        #expect(try store.timeline(id: existing.id).count == timeline.count)
    }
}
