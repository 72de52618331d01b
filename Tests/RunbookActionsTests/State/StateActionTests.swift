// The state and incident actions, run through the registry as the engine runs them.
import Foundation
import RunbookActions
import RunbookKit
import Testing

/// Invokes built-in actions against a temporary state directory.
struct StateActionHarness {
    let dir: TempStateDir
    var runID = "demo-20250101-000000-abcd"
    var masker = SecretMasker.none
    var severity: String? = "sev3"
    var components = ["LLM"]

    init() throws { dir = try TempStateDir() }

    func run(_ id: String, _ arguments: [String: Value], step: String = "step") async throws -> ActionResult {
        let action = try #require(BuiltinActions.registry.implementation(id), "\(id) is implemented")
        let context = ActionContext(runID: runID, runbookID: "demo", stateDirectory: dir.path, environment: [:],
                                    masker: masker, runbookSeverity: severity, runbookComponents: components,
                                    emit: { _, _ in })
        let result = try await action.run(ActionInvocation(stepID: step, arguments: arguments, timeout: 10, context: context))
        // Outputs as declared: every declared output is there, nothing else.
        #expect(Set(result.outputs.keys) == Set(action.descriptor.outputs.map(\.name)), "\(id) outputs")
        return result
    }

    func failure(_ id: String, _ arguments: [String: Value]) async throws -> String {
        do {
            _ = try await run(id, arguments)
        } catch let failure as ActionFailure {
            return failure.message
        }
        Issue.record("\(id) should have failed")
        return ""
    }

    var store: SQLiteStore { get throws { try dir.newStore() } }
}

@Suite("State actions")
struct StateActionTests {
    @Test func everyStateAndIncidentActionIsImplemented() {
        for id in ["circuit_breaker.open", "circuit_breaker.close", "circuit_breaker.status", "feature_flag.get",
                   "feature_flag.set", "feature_flag.downshift", "feature_flag.restore", "incident.create",
                   "incident.note", "incident.resolve"] {
            #expect(BuiltinActions.registry.implementation(id) != nil, "\(id)")
        }
    }

    @Test func breakerOpenCloseStatus() async throws {
        let h = try StateActionHarness()
        var r = try await h.run("circuit_breaker.status", ["name": "qwen"])
        #expect(r.outputs == ["state": "closed", "since": .null, "reason": .null])
        r = try await h.run("circuit_breaker.open", ["name": "qwen", "reason": "Qwen failing"], step: "open_breaker")
        #expect(r.outputs == ["state": "open", "previous": "closed"])
        r = try await h.run("circuit_breaker.open", ["name": "qwen"])
        #expect(r.outputs == ["state": "open", "previous": "open"], "idempotent")
        r = try await h.run("circuit_breaker.status", ["name": "qwen"])
        #expect(r.outputs["state"] == "open")
        #expect(r.outputs["reason"] == "Qwen failing")
        #expect(r.outputs["since"]?.stringValue?.hasSuffix("Z") == true)
        let change = try #require(try h.store.history(name: "qwen", limit: nil).first)
        #expect(change.origin.actor == h.runID)
        #expect(change.origin.step == "open_breaker")
        r = try await h.run("circuit_breaker.close", ["name": "qwen"])
        #expect(r.outputs == ["state": "closed", "previous": "open"])
        #expect(try h.store.history(name: "qwen", limit: 1).first?.origin.reason == h.runID, "reason defaults to the run id")
    }

    @Test func flagGetSet() async throws {
        let h = try StateActionHarness()
        var r = try await h.run("feature_flag.get", ["name": "cache_bypass"])
        #expect(r.outputs == ["value": .null, "is_set": false])
        r = try await h.run("feature_flag.set", ["name": "cache_bypass", "value": true])
        #expect(r.outputs == ["previous": .null, "value": true])
        r = try await h.run("feature_flag.set", ["name": "cache_bypass", "value": false])
        #expect(r.outputs == ["previous": true, "value": false])
        r = try await h.run("feature_flag.get", ["name": "cache_bypass"])
        #expect(r.outputs == ["value": false, "is_set": true])
        r = try await h.run("feature_flag.set", ["name": "limits", "value": .map(["rps": 10])])
        #expect(try h.store.flag(named: "limits")?.value == .map(["rps": 10]))
    }

    @Test("downshift {from: creative, to: balanced}, then restore {mode: creative}")
    func downshiftAndRestore() async throws {
        let h = try StateActionHarness()
        var r = try await h.run("feature_flag.downshift", ["from": "creative", "to": "balanced"])
        #expect(r.outputs == ["flag": "creative_mode_route", "previous": .null, "route": "balanced"])
        #expect(try h.store.flag(named: "creative_mode_route")?.value == "balanced")
        r = try await h.run("feature_flag.downshift", ["from": "creative", "to": "balanced"])
        #expect(r.outputs["previous"] == "balanced", "a repeat is a no-op")
        r = try await h.run("feature_flag.restore", ["mode": "creative"])
        #expect(r.outputs == ["previous": "balanced", "value": .null])
        #expect(try h.store.flag(named: "creative_mode_route") == nil)
        r = try await h.run("feature_flag.restore", ["mode": "creative"])
        #expect(r.outputs == ["previous": .null, "value": .null], "idempotent")
        #expect(r.summary?.contains("nothing recorded") == true)
        #expect(try h.store.history(name: "creative_mode_route", limit: nil).map(\.operation) == ["restore", "downshift"])
    }

    @Test func downshiftRestoresTheValueFromBeforeIt() async throws {
        let h = try StateActionHarness()
        _ = try h.store.setFlag("creative_mode_route", to: "creative_v2", operation: "manual", restorePoint: .none,
                                origin: .manual(user: "ops", reason: nil))
        _ = try await h.run("feature_flag.downshift", ["from": "creative", "to": "balanced", "reason": "Qwen down"])
        var r = try await h.run("feature_flag.restore", ["mode": "creative"])
        #expect(r.outputs == ["previous": "balanced", "value": "creative_v2"])
        _ = try await h.run("feature_flag.downshift", ["from": "creative", "to": "balanced", "flag": "route_c"])
        r = try await h.run("feature_flag.restore", ["name": "route_c", "value": "explicit"])
        #expect(r.outputs == ["previous": "balanced", "value": "explicit"])
        r = try await h.run("feature_flag.restore", ["name": "route_c", "value": .null])
        #expect(r.outputs == ["previous": "explicit", "value": .null])
    }

    @Test func invalidRestoreAndDownshiftFail() async throws {
        let h = try StateActionHarness()
        #expect(try await h.failure("feature_flag.restore", [:]).contains("give 'mode'"))
        #expect(try await h.failure("feature_flag.restore", ["mode": "a", "name": "b"]).contains("not both"))
        #expect(try await h.failure("feature_flag.downshift", ["from": "a", "to": "a"]).contains("itself"))
    }

    @Test func reasonsAreMasked() async throws {
        var h = try StateActionHarness()
        h.masker = SecretMasker(secrets: ["hunter2"])
        _ = try await h.run("circuit_breaker.open", ["name": "b", "reason": "token hunter2 leaked"])
        #expect(try h.store.breaker(named: "b").lastChange?.reason == "token *** leaked")
    }
}

@Suite("Incident actions")
struct IncidentActionTests {
    @Test func createNoteResolve() async throws {
        let h = try StateActionHarness()
        var r = try await h.run("incident.create", ["title": "Qwen LLM Failure", "description": "down",
                                                    "severity": "sev2", "components": .list(["LLM", "Qwen"])])
        #expect(r.outputs["id"] == "INC-0001")
        let incident = try #require(try h.store.incident(id: "INC-0001"))
        #expect(incident.severity == "sev2")
        #expect(incident.components == ["LLM", "Qwen"])
        #expect(incident.createdBy == h.runID)
        r = try await h.run("incident.create", ["title": "Defaults"])
        #expect(r.outputs["id"] == "INC-0002")
        let defaults = try #require(try h.store.incident(id: "INC-0002"))
        #expect(defaults.severity == "sev3", "the runbook's severity")
        #expect(defaults.components == ["LLM"], "the runbook's components")

        r = try await h.run("incident.note", ["id": "inc-1", "text": "Qwen restarted"], step: "note")
        #expect(r.outputs["id"] == "INC-0001")
        let note = try #require(try h.store.timeline(id: "INC-0001").last)
        #expect(note.kind == "note")
        #expect(note.text == "Qwen restarted")
        #expect(note.step == "note")
        #expect(note.runID == h.runID)

        r = try await h.run("incident.resolve", ["id": "INC-0001", "resolution": "Qwen restarted, Creative mode restored"])
        let resolvedAt = r.outputs["resolved_at"]
        #expect(try h.store.incident(id: "INC-0001")?.status == .resolved)
        r = try await h.run("incident.resolve", ["id": "INC-0001", "resolution": "again"])
        #expect(r.outputs["resolved_at"] == resolvedAt, "idempotent: the earlier resolution stands")
        #expect(try h.store.incident(id: "INC-0001")?.resolution == "Qwen restarted, Creative mode restored")
    }

    @Test func unknownOrMalformedIdsFail() async throws {
        let h = try StateActionHarness()
        #expect(try await h.failure("incident.note", ["id": "INC-0009", "text": "x"]).contains("no incident 'INC-0009'"))
        #expect(try await h.failure("incident.resolve", ["id": "INC-0009", "resolution": "x"]).contains("no incident"))
        #expect(try await h.failure("incident.note", ["id": "42", "text": "x"]).contains("not an incident id"))
        #expect(try await h.failure("incident.create", ["title": "x", "severity": "p1"]).contains("severity"))
    }

    @Test func textsAreMasked() async throws {
        var h = try StateActionHarness()
        h.masker = SecretMasker(secrets: ["s3cr3t"])
        _ = try await h.run("incident.create", ["title": "key s3cr3t", "description": "with s3cr3t"])
        _ = try await h.run("incident.note", ["id": "INC-0001", "text": "note s3cr3t"])
        let incident = try #require(try h.store.incident(id: "INC-0001"))
        #expect(incident.title == "key ***")
        #expect(incident.description == "with ***")
        #expect(try h.store.timeline(id: "INC-0001").allSatisfy { !$0.text.contains("s3cr3t") })
    }
}
