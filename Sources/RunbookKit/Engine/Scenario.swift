import Foundation

/// Simulated outcomes per step id, for `--dry-run --scenario FILE` and `runbook test`.
///
/// ```yaml
/// runbook: qwen_failure_downshift     # runbook test only
/// params: {api_url: "http://127.0.0.1:8000"}
/// steps:
///   verify_failure:
///     outputs: {status: 503}
///   check_balanced:
///     fail: "balanced mode unhealthy"  # this step fails
///   confirm_rollback:
///     confirm: approve                  # or decline
/// expect:                               # runbook test only
///   status: succeeded                   # succeeded | failed | aborted | paused | rollback_failed
///   executed: [verify_failure, open_breaker]
///   skipped: [restart]
///   rolled_back: [close_breaker]
/// ```
public struct Scenario: Sendable {
    public struct StepOutcome: Sendable {
        public var outputs: [String: Value]
        public var failure: String?
        public var confirm: Bool?
        /// `confirm: pause`: nobody answers the step's question, so the run pauses there (exit 3).
        public var pauses = false

        /// Simulated outputs, a failure message (the step fails) and a confirmation answer for one step.
        public init(outputs: [String: Value] = [:], failure: String? = nil, confirm: Bool? = nil, pauses: Bool = false) {
            self.outputs = outputs
            self.failure = failure
            self.confirm = confirm
            self.pauses = pauses
        }
    }

    public struct Expectation: Sendable {
        public var status: RunStatus?
        public var executed: [String]?
        public var skipped: [String]?
        public var rolledBack: [String]?
        public var location: SourceLocation
    }

    public var file: String
    /// The bytes the scenario was read from (`load`): what a dry run keeps a copy of for its
    /// resume, without reading the file a second time.
    public var source: [UInt8] = []
    public var runbook: String?
    public var params: [String: String]
    public var steps: [String: StepOutcome]
    public var expect: Expectation?

    public init(file: String = "<none>", runbook: String? = nil, params: [String: String] = [:],
                steps: [String: StepOutcome] = [:], expect: Expectation? = nil) {
        self.file = file
        self.runbook = runbook
        self.params = params
        self.steps = steps
        self.expect = expect
    }

    /// What in this scenario cannot apply to `runbook`, one sentence each (empty when all
    /// can): a step it does not have, outputs its action does not declare, a failure or
    /// outputs for an action a dry run runs as written (`log`, `assert`, `confirm`), an answer
    /// for a step that asks nothing. Silently dropped, each made a test say something else.
    /// The steps whose question nobody answers in this scenario (`confirm: pause`).
    public var pausedSteps: Set<String> { Set(steps.filter { $0.value.pauses }.keys) }

    public func problems(for runbook: Runbook, catalog: ActionCatalog) -> [String] {
        var out: [String] = []
        for id in steps.keys.sorted() {
            guard let step = runbook.step(id), let outcome = steps[id] else {
                out.append("scenario names step '\(id)', which runbook '\(runbook.id.value)' does not have"
                           + Suggestions.hint(for: id, in: runbook.allSteps.map(\.id.value)))
                continue
            }
            guard let action = catalog[step.action.value] else { continue }
            if action.dryRun == .runs || action.dryRun == .checks, outcome.failure != nil || !outcome.outputs.isEmpty {
                out.append("step '\(id)' ('\(action.id)') runs as written in a dry run: a scenario cannot give it "
                           + "outputs or make it fail; script the steps it reads instead")
            } else {
                let declared = action.outputs.map(\.name)
                for name in outcome.outputs.keys.sorted() {
                    guard let output = action.outputs.first(where: { $0.name == name }) else {
                        out.append("step '\(id)' ('\(action.id)') has no output '\(name)'"
                                   + Suggestions.hint(for: name, in: declared) + "; it declares "
                                   + (declared.isEmpty ? "none" : declared.map { "'\($0)'" }.joined(separator: ", ")))
                        continue
                    }
                    // The real action never gives another type: a test on such a value proves
                    // nothing about the run (null stands for "no value", as a dry run simulates).
                    if let value = outcome.outputs[name], !Self.couldBeOutput(value, of: output.type) {
                        out.append("step '\(id)' ('\(action.id)') output '\(name)' must be \(TypeCheck.describe(output.type)), found "
                                   + RunbookLowering.describe(value))
                    }
                }
            }
            if outcome.confirm != nil || outcome.pauses, step.confirm == nil, action.id != "confirm" {
                out.append("scenario answers step '\(id)', which asks no confirmation")
            }
        }
        return out
    }

    /// Whether an action that declares `type` could give `value`. Stricter than `with:` values
    /// (where `"8"` is converted to an int): outputs are not converted, and `"200" == 200` is
    /// false in an expression. Null stands for "no value", as a dry run simulates.
    static func couldBeOutput(_ value: Value, of type: ValueType) -> Bool {
        switch (type, value) {
        case (_, .null), (.any, _), (.string, .string), (.url, .string), (.duration, .string),
             (.int, .int), (.number, .int), (.number, .double), (.bool, .bool):
            return true
        case (.enumeration(let allowed), .string(let text)): return allowed.contains(text)
        case (.list(let item), .list(let values)): return values.allSatisfy { couldBeOutput($0, of: item) }
        case (.map(let item), .map(let values)): return values.values.allSatisfy { couldBeOutput($0, of: item) }
        case (.oneOf(let types), _): return types.contains { couldBeOutput(value, of: $0) }
        default: return false
        }
    }

    /// Reads a scenario file; problems come back as located diagnostics.
    public static func load(path: String) -> (Scenario?, [Diagnostic]) {
        let bytes: [UInt8]
        switch YAMLParser.readFile(path, limits: .default) {
        case .success(let read): bytes = read
        case .failure(let failure): return (nil, [failure.diagnostic])
        }
        let parsed = YAMLParser.parse(bytes: bytes, file: path)
        guard let root = parsed.root, !parsed.diagnostics.contains(where: { $0.severity == .error }) else {
            return (nil, parsed.diagnostics)
        }
        var r = NodeReader(source: nil)
        guard let map = r.mapping(root, what: "a scenario", allowed: ["runbook", "description", "params", "steps", "expect"]) else {
            return (nil, r.bag.diagnostics)
        }
        var scenario = Scenario(file: path)
        scenario.source = bytes
        scenario.runbook = map["runbook"].flatMap { r.string($0, what: "'runbook'")?.value }
        if let p = map["params"], let pairs = p.mapping {
            for pair in pairs {
                guard let k = pair.key.scalar?.text else { continue }
                scenario.params[k] = r.value(of: pair.value).interpolationText
            }
        } else if let p = map["params"] {
            r.error("wrong-type", "'params' must be a mapping, found \(p.kindDescription)", p)
        }
        if let s = map["steps"] {
            if let pairs = s.mapping {
                for pair in pairs {
                    guard let id = pair.key.scalar?.text,
                          let m = r.mapping(pair.value, what: "scenario step '\(id)'", allowed: ["outputs", "fail", "confirm"]) else { continue }
                    var outcome = StepOutcome(outputs: [:], failure: nil, confirm: nil)
                    if let o = m["outputs"] {
                        if case .map(let values) = r.value(of: o) { outcome.outputs = values }
                        else { r.error("wrong-type", "'outputs' must be a mapping, found \(o.kindDescription)", o) }
                    }
                    if let f = m["fail"] { outcome.failure = r.string(f, what: "'fail'")?.value }
                    if let c = m["confirm"] {
                        // `confirm: true` / `false` (unquoted booleans) answer as approve / decline.
                        let answer: String? = switch c.scalar.map(YAMLNode.resolvePlain) {
                        case .bool(let b)?: b ? "true" : "false"
                        default: r.string(c, what: "'confirm'")?.value
                        }
                        switch answer {
                        case "approve", "approved", "true": outcome.confirm = true
                        case "decline", "declined", "false": outcome.confirm = false
                        case "pause", "none": outcome.pauses = true
                        case nil: break
                        default:
                            let hint = NodeReader.boolLike.contains(answer!.lowercased())
                                ? " ('\(answer!)' is a string in YAML 1.2: write true or false, or approve or decline)" : ""
                            r.error("invalid-enum", "'confirm' must be 'approve' (or true), 'decline' (or false) or 'pause'" + hint, c)
                        }
                    }
                    scenario.steps[id] = outcome
                }
            } else {
                r.error("wrong-type", "'steps' must be a mapping of step id to outcome, found \(s.kindDescription)", s)
            }
        }
        if let e = map["expect"],
           let m = r.mapping(e, what: "'expect'", allowed: ["status", "executed", "skipped", "rolled_back"]) {
            var x = Expectation(location: e.location)
            if let s = m["status"], let text = r.string(s, what: "'status'") {
                if let status = RunStatus(rawValue: text.value) { x.status = status }
                else { r.error("invalid-enum", "unknown status '\(text.value)'; expected succeeded, failed, aborted, paused or rollback_failed", s) }
            }
            x.executed = m["executed"].map { r.stringList($0, what: "'executed'").map(\.value) }
            x.skipped = m["skipped"].map { r.stringList($0, what: "'skipped'").map(\.value) }
            x.rolledBack = m["rolled_back"].map { r.stringList($0, what: "'rolled_back'").map(\.value) }
            scenario.expect = x
        }
        let diagnostics = parsed.diagnostics + r.bag.diagnostics
        return (diagnostics.contains { $0.severity == .error } ? nil : scenario, diagnostics)
    }
}
