import Foundation
import RunbookActions
import RunbookKit
import Testing

// Small, deterministic test actions and a harness that lints YAML into a real Runbook and runs it
// with a real Executor (and, where asked, a real Journal in a temp directory).

/// Per-test bookkeeping the test actions write to: how often each key was called.
actor EngineProbe {
    private var counts: [String: Int] = [:]
    private var started: Set<String> = []

    @discardableResult
    func bump(_ key: String) -> Int {
        counts[key, default: 0] += 1
        return counts[key]!
    }
    func count(_ key: String) -> Int { counts[key, default: 0] }
    func markStarted(_ key: String) { started.insert(key) }
    func hasStarted(_ key: String) -> Bool { started.contains(key) }

    /// Waits (polling, bounded) until a key has started; for interrupt tests.
    func waitStarted(_ key: String, limit: Duration = .seconds(60)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while !started.contains(key) && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return started.contains(key)
    }
}

/// `test.count` / `test.count_idempotent`: mutating; counts calls per `key`, fails the first `fail_times`
/// tries, returns `count`, `value` (echoed) and `secret_out` (an optional text).
struct CountAction: Action {
    let descriptor: ActionDescriptor
    let probe: EngineProbe

    static func descriptor(id: String, idempotent: Bool) -> ActionDescriptor {
        ActionDescriptor(
            id: id, summary: "counts its calls",
            parameters: [
                ParameterDescriptor("key", .string, default: .string("default"), "counter key"),
                ParameterDescriptor("fail_times", .int, default: .int(0), "fail this many first tries"),
                ParameterDescriptor("value", .any, "echoed as the output 'value'"),
                ParameterDescriptor("n", .int, "an int parameter (conversion checks)"),
                ParameterDescriptor("bounded", .oneOf([.int, .list(.int)]), minimum: 0, maximum: 10,
                                    "a number 0–10, or a list of them (range checks)"),
            ],
            outputs: [
                OutputDescriptor("count", .int, "calls so far for this key"),
                OutputDescriptor("value", .any, "the 'value' argument"),
            ],
            mutating: true, idempotent: idempotent, dryRun: .skipped)
    }

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let key = invocation.string("key") ?? "default"
        let n = await probe.bump(key)
        if n <= (invocation.int("fail_times") ?? 0) {
            throw ActionFailure("try \(n) of '\(key)' failed", outputs: ["count": .int(n)])
        }
        return ActionResult(outputs: ["count": .int(n), "value": invocation.arguments["value"] ?? .null],
                            summary: "count \(n)")
    }
}

/// `test.sleep`: sleeps `duration` (cancellable), read-only, instant in dry-run.
struct SleepAction: Action {
    let probe: EngineProbe
    static let descriptor = ActionDescriptor(
        id: "test.sleep", summary: "sleeps",
        parameters: [
            ParameterDescriptor("duration", .duration, required: true, "how long"),
            ParameterDescriptor("key", .string, default: .string("sleep"), "probe key"),
        ],
        mutating: false, idempotent: true, dryRun: .instant, defaultTimeout: 30)
    var descriptor: ActionDescriptor { Self.descriptor }

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let key = invocation.string("key") ?? "sleep"
        await probe.bump(key)
        await probe.markStarted(key)
        let seconds = invocation.duration("duration") ?? 0
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        return ActionResult()
    }
}

/// `test.echo`: returns its arguments as outputs; `log` is written to the run's output.
struct EchoAction: Action {
    static let descriptor = ActionDescriptor(
        id: "test.echo", summary: "echoes",
        parameters: [
            ParameterDescriptor("value", .any, "echoed as 'value'"),
            ParameterDescriptor("text", .string, "echoed as 'text'"),
            ParameterDescriptor("flag", .bool, "echoed as 'flag'"),
            ParameterDescriptor("log", .string, "written to the run log"),
        ],
        outputs: [
            OutputDescriptor("value", .any, "the value"),
            OutputDescriptor("text", .string, "the text"),
            OutputDescriptor("flag", .bool, "the flag"),
        ],
        mutating: false, idempotent: true, dryRun: .runs)
    var descriptor: ActionDescriptor { Self.descriptor }

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        if let log = invocation.string("log") { invocation.context.emit("info", log) }
        var outputs: [String: Value] = [:]
        for name in ["value", "text", "flag"] { if let v = invocation.arguments[name] { outputs[name] = v } }
        return ActionResult(outputs: outputs)
    }
}

/// `test.read`: read-only probe (simulated in dry-run); returns `value`, counts calls under "read".
struct ReadAction: Action {
    let probe: EngineProbe
    static let descriptor = ActionDescriptor(
        id: "test.read", summary: "reads",
        parameters: [ParameterDescriptor("value", .any, "returned as 'value'")],
        outputs: [OutputDescriptor("value", .any, "the value"), OutputDescriptor("status", .int, "a status")],
        mutating: false, idempotent: true, dryRun: .simulated)
    var descriptor: ActionDescriptor { Self.descriptor }

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        await probe.bump("read")
        return ActionResult(outputs: ["value": invocation.arguments["value"] ?? .null, "status": .int(200)])
    }
}

/// `test.fail`: always fails with `message`.
struct FailAction: Action {
    let probe: EngineProbe
    static let descriptor = ActionDescriptor(
        id: "test.fail", summary: "fails",
        parameters: [ParameterDescriptor("message", .string, default: .string("boom"), "the failure")],
        mutating: false, idempotent: true, dryRun: .simulated)
    var descriptor: ActionDescriptor { Self.descriptor }

    func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        await probe.bump("fail")
        throw ActionFailure(invocation.string("message") ?? "boom")
    }
}

/// Collects every event (thread-safe) and renders them with the text reporter too.
final class RecordingReporter: RunReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [RunEvent] = []
    private var _text = ""
    private var text: TextRunReporter!

    init() {
        text = TextRunReporter(color: false) { [weak self] s in self?.appendText(s) }
    }

    private func appendText(_ s: String) { lock.withLock { _text += s } }

    func report(_ event: RunEvent) {
        lock.withLock { _events.append(event) }
        text.report(event)
    }

    var events: [RunEvent] { lock.withLock { _events } }
    var output: String { lock.withLock { _text } }
    var types: [String] { events.map(\.type) }
    /// The JSON lines a JSONRunReporter would print for the same events.
    var jsonLines: String {
        let box = TextBox()
        let json = JSONRunReporter { box.append($0) }
        for e in events { json.report(e) }
        return box.text
    }
}

/// A lock-protected string for @Sendable writers.
final class TextBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _text = ""
    func append(_ s: String) { lock.withLock { _text += s } }
    var text: String { lock.withLock { _text } }
}

/// A confirmer answering from a closure and recording what it was asked.
final class ScriptedConfirmer: Confirmer, @unchecked Sendable {
    private let lock = NSLock()
    private var _asked: [(step: String, message: String, timeout: Double?)] = []
    private let answer: @Sendable (String) -> ConfirmationAnswer

    init(_ answer: @escaping @Sendable (String) -> ConfirmationAnswer) { self.answer = answer }

    func confirm(step: String, message: String, timeout: Double?) async -> ConfirmationAnswer {
        lock.withLock { _asked.append((step, message, timeout)) }
        return answer(step)
    }

    var askedSteps: [String] { lock.withLock { _asked.map(\.step) } }
    var asked: [(step: String, message: String, timeout: Double?)] { lock.withLock { _asked } }
}

/// One test's world: a probe, the test registry, a temp directory.
struct EngineHarness {
    let probe = EngineProbe()
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "runbook-enginetests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The test catalog, plus the built-in `confirm` (the executor treats that id specially).
    static let catalog = ActionCatalog([
        CountAction.descriptor(id: "test.count", idempotent: false),
        CountAction.descriptor(id: "test.count_idempotent", idempotent: true),
        SleepAction.descriptor, EchoAction.descriptor, ReadAction.descriptor, FailAction.descriptor,
        BuiltinActions.catalog["confirm"]!,
    ])

    var registry: ActionRegistry {
        ActionRegistry(catalog: Self.catalog, implementations: [
            CountAction(descriptor: CountAction.descriptor(id: "test.count", idempotent: false), probe: probe),
            CountAction(descriptor: CountAction.descriptor(id: "test.count_idempotent", idempotent: true), probe: probe),
            SleepAction(probe: probe), EchoAction(), ReadAction(probe: probe), FailAction(probe: probe),
            // `confirm` needs no implementation: the executor answers it itself.
        ])
    }

    var journalPath: String { directory + "/journal.jsonl" }

    /// Lints a runbook given its `steps:` (and more) YAML body under a standard header; fails the test on lint errors.
    /// `body` under the header `runbook` gives it.
    static func wrap(_ body: String, id: String = "enginetest", automation: String = "automatic") -> String {
        """
        version: 1
        id: \(id)
        title: Engine test
        severity: sev3
        automation: \(automation)

        """ + body
    }

    static func runbook(_ body: String, id: String = "enginetest", automation: String = "automatic",
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Runbook {
        let yaml = wrap(body, id: id, automation: automation)
        let linted = Linter(catalog: catalog).lint(bytes: Array(yaml.utf8), file: "\(id).yaml")
        let errors = linted.diagnostics.filter { $0.severity == .error }
        #expect(errors.isEmpty, "lint errors: \(errors.map { "\($0.location): \($0.message)" })", sourceLocation: sourceLocation)
        return try #require(linted.runbook, sourceLocation: sourceLocation)
    }

    /// Runs a runbook. With `journal: true` the run appends to `journalPath`.
    func run(_ runbook: Runbook, options: RunOptions = RunOptions(environment: [:]), journal: Bool = false,
             resume: ResumePoint? = nil, runID: String = "run-1", reporter: RecordingReporter = RecordingReporter()) async throws
        -> RunOutcome {
        let j = journal ? try Journal(path: journalPath) : nil
        let executor = Executor(runbook: runbook, registry: registry, options: options, runID: runID, journal: j,
                                reporters: [reporter], stateDirectory: directory)
        return await executor.run(resume: resume)
    }

    func records() throws -> [[String: Value]] { try Journal.read(path: journalPath) }

    func journalText() -> String {
        FileManager.default.contents(atPath: journalPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }
}

extension [[String: Value]] {
    /// Records of one type (optionally for one step).
    func of(_ type: String, step: String? = nil) -> [[String: Value]] {
        filter { $0["type"]?.stringValue == type && (step == nil || $0["step"]?.stringValue == step) }
    }
    var types: [String] { compactMap { $0["type"]?.stringValue } }
}

extension RunEvent {
    var stepFinished: (step: String, status: StepStatus, outputs: [String: Value], error: String?, reason: String?)? {
        if case let .stepFinished(step, status, outputs, error, _, reason, _) = self { return (step, status, outputs, error, reason) }
        return nil
    }
}

extension RecordingReporter {
    /// The stepFinished event of a step (the last one, if it ran more than once).
    func finished(_ step: String) -> (step: String, status: StepStatus, outputs: [String: Value], error: String?, reason: String?)? {
        events.compactMap(\.stepFinished).last { $0.step == step }
    }
}

/// Options for a non-interactive run with this confirmer.
func engineOptions(confirmer: any Confirmer = ConfirmationPolicy(operatorName: "tester"), dryRun: Bool = false,
                   params: [String: Value] = [:], scenario: Scenario? = nil, secrets: SecretStore = SecretStore(),
                   interrupt: InterruptSignal = InterruptSignal()) -> RunOptions {
    RunOptions(dryRun: dryRun, params: params, scenario: scenario, confirmer: confirmer, secrets: secrets,
               environment: ["HOME": "/nonexistent"], interrupt: interrupt, interactive: false)
}
