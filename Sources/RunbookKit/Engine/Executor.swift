import Foundation

/// Receives run events as they happen (terminal output, JSON lines, tests).
public protocol RunReporter: Sendable {
    func report(_ event: RunEvent)
}

/// Set by SIGINT/SIGTERM: cancels the step in flight; the executor then treats it as a failure.
public final class InterruptSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var cancelCurrent: (@Sendable () -> Void)?
    public private(set) var signalName = "SIGINT"

    public init() {}

    public var isTriggered: Bool { lock.withLock { count > 0 } }
    /// Signals received so far.
    var signalCount: Int { lock.withLock { count } }
    /// A second signal means "stop now, even the rollback".
    public var isRepeated: Bool { lock.withLock { count > 1 } }

    public func trigger(_ name: String = "SIGINT") {
        let cancel: (@Sendable () -> Void)? = lock.withLock {
            count += 1
            signalName = name
            return cancelCurrent
        }
        cancel?()
    }

    func setCurrent(_ cancel: (@Sendable () -> Void)?) {
        lock.withLock { cancelCurrent = cancel }
    }
}

/// Everything a run needs besides the runbook.
public struct RunOptions: Sendable {
    public var dryRun: Bool
    /// Bound, typed params.
    public var params: [String: Value]
    public var scenario: Scenario?
    public var confirmer: any Confirmer
    public var secrets: SecretStore
    public var environment: [String: String]
    /// Labels/annotations of the alert that fired the run (`trigger` context).
    public var trigger: [String: Value]
    public var interrupt: InterruptSignal
    /// Ask on the terminal before a rollback that an interrupt caused.
    public var interactive: Bool

    public init(dryRun: Bool = false, params: [String: Value] = [:], scenario: Scenario? = nil,
                confirmer: any Confirmer = ConfirmationPolicy(), secrets: SecretStore = SecretStore(),
                environment: [String: String] = ProcessInfo.processInfo.environment, trigger: [String: Value] = [:],
                interrupt: InterruptSignal = InterruptSignal(), interactive: Bool = false) {
        self.dryRun = dryRun
        self.params = params
        self.scenario = scenario
        self.confirmer = confirmer
        self.secrets = secrets
        self.environment = environment
        self.trigger = trigger
        self.interrupt = interrupt
        self.interactive = interactive
    }
}

/// The state a run can be resumed from, rebuilt from its journal.
public struct ResumePoint: Sendable {
    public struct StepRecord: Sendable {
        public var status: StepStatus
        public var outputs: [String: Value]
        public var error: String?
        /// Outputs that held a secret: the journal keeps them masked, so a resumed run does not
        /// know them (reading one fails the step instead of sending `***` on).
        public var maskedOutputs: Set<String> = []
    }
    public var runID: String
    public var runbookID: String
    public var file: String
    public var dryRun: Bool
    public var params: [String: Value]
    /// Finished steps (main and rollback).
    public var finished: [String: StepRecord]
    /// A step that started but never finished (crash or pause).
    public var inFlight: String?
    /// The rollback had started, with this reason.
    public var rollbackReason: String?
    /// The run had already ended (not paused): nothing to resume.
    public var endedWith: RunStatus?
    /// Answers to steps' confirmations already given (not to the re-run or rollback questions),
    /// with who gave them, how, and the record that holds them.
    public var earlierAnswers: [String: EarlierAnswer]
    /// Confirmation answers already given.
    public var answers: [String: Bool] { earlierAnswers.mapValues(\.approved) }
    /// When each step's confirmation was first asked: its expiry counts from then, across pauses.
    public var askedAt: [String: Date] = [:]
    /// The programs the step in flight started (`process_started` records, over every session
    /// since it last finished): after a crash, resume says whether they still run.
    public var inFlightProcesses: [SpawnedProcess] = []

    /// Rebuilds the state from journal records.
    public static func from(records: [[String: Value]]) throws(JournalError) -> ResumePoint {
        guard let start = records.first(where: { $0["type"] == .string("run_started") }),
              case .string(let runID)? = start["run_id"], case .string(let runbook)? = start["runbook"] else {
            throw JournalError("the journal has no run_started record")
        }
        var point = ResumePoint(runID: runID, runbookID: runbook, file: start["file"]?.stringValue ?? "",
                                dryRun: start["dry_run"] == .bool(true), params: [:], finished: [:], inFlight: nil,
                                rollbackReason: nil, endedWith: nil, earlierAnswers: [:])
        if case .map(let p)? = start["params"] { point.params = p }
        // The kind of the last question asked per step: a `rerun` answer is not an answer to the step's gate.
        var lastAsked: [String: String] = [:]
        // The step whose gate was asked and not answered yet: stopped there, its action never started.
        var gateUnanswered: String?
        // Programs started per step since the step last finished.
        var processes: [String: [SpawnedProcess]] = [:]
        for record in records {
            let step = record["step"]?.stringValue
            switch record["type"]?.stringValue {
            case "step_started": point.inFlight = step
            case "step_finished":
                if let step, let statusText = record["status"]?.stringValue, let status = StepStatus(rawValue: statusText) {
                    var outputs: [String: Value] = [:]
                    if case .map(let o)? = record["outputs"]?.withNonFiniteNumbersRestored { outputs = o }
                    var restored = StepRecord(status: status, outputs: outputs, error: record["error"]?.stringValue)
                    if case .list(let names)? = record["masked_outputs"] { restored.maskedOutputs = Set(names.compactMap(\.stringValue)) }
                    point.finished[step] = restored
                    processes[step] = nil
                }
                point.inFlight = nil
            case "process_started":
                if let step, let process = SpawnedProcess(record: record) { processes[step, default: []].append(process) }
            case "confirmation_asked":
                if let step {
                    let kind = record["kind"]?.stringValue ?? "confirm"
                    lastAsked[step] = kind
                    if kind == "confirm" { gateUnanswered = step }
                    if kind == "confirm", point.askedAt[step] == nil, let time = record["time"]?.stringValue,
                       let date = Journal.parseTimestamp(time) {
                        point.askedAt[step] = date
                    }
                }
            case "confirmation_answered":
                // Only an answer to the step's own gate: not the crash (`rerun`) or interrupt (`rollback`)
                // question. The record says which (`kind`); a journal written before it did is read
                // by the question asked last.
                let kind = record["kind"]?.stringValue ?? step.flatMap { lastAsked[$0] }
                if let step, kind == "confirm" {
                    let approved = record["approved"] == .bool(true)
                    let by = record["by"]?.stringValue ?? "?"
                    let how = record["how"]?.stringValue ?? "?"
                    let seq = record["seq"]?.numberValue.map { Int($0) }
                    if how == EarlierAnswer.how {
                        // An answer restated from the journal: its own record comes first and is
                        // kept, so the answer keeps naming who gave it and how (older versions
                        // restated it as `by: journal`).
                        if point.earlierAnswers[step]?.approved != approved {
                            point.earlierAnswers[step] = EarlierAnswer(
                                approved: approved, by: by, how: record["earlier_how"]?.stringValue ?? how,
                                seq: record["earlier_seq"]?.numberValue.map { Int($0) } ?? seq)
                        }
                    } else {
                        point.earlierAnswers[step] = EarlierAnswer(approved: approved, by: by, how: how, seq: seq)
                    }
                }
                gateUnanswered = nil
            case "run_paused":
                // Paused at the step's confirmation gate: its action never started, so the step is not
                // "in flight" (a crash mid-action) but simply waiting for its answer.
                if let step, step == point.inFlight, lastAsked[step] == "confirm" { point.inFlight = nil }
            case "rollback_started": point.rollbackReason = record["reason"]?.stringValue ?? "rollback"
            case "run_finished":
                let status = record["status"]?.stringValue.flatMap(RunStatus.init(rawValue:))
                point.endedWith = status == .paused ? nil : status
            case "run_started": point.endedWith = nil
            default: break
            }
        }
        // Killed while its question was on screen: the action never started, so the step is
        // asked its question again, not the "may or may not have taken effect" re-run question.
        if let step = point.inFlight, step == gateUnanswered { point.inFlight = nil }
        point.inFlightProcesses = point.inFlight.flatMap { processes[$0] } ?? []
        return point
    }
}

/// What a run did, for the summary and the exit code.
public struct RunOutcome: Sendable {
    public var runID: String
    public var status: RunStatus
    public var executed: [String] = []
    public var skipped: [String] = []
    public var failed: [String] = []
    public var rolledBack: [String] = []
    public var rollbackFailed: [String] = []
    /// The step waiting for a confirmation (paused runs).
    public var pausedAt: String?
    public var pauseReason: String?
    /// When the question the run waits for expires (a confirmation with a timeout): resumed
    /// later without an answer, it counts as declined.
    public var pauseExpiresAt: Date?
    /// The error of the first step that failed (secrets masked), for one-line reports (drill, test).
    /// It may be a step that failed under `on_failure: continue`; `stoppedBy` is what ended the run.
    public var firstFailure: String?
    /// The step whose failure stopped the main steps (and started the rollback), and why
    /// (secrets masked); nil when no failure stopped the run.
    public var stoppedAt: String?
    public var stoppedBy: String?
    /// The run failed in a runbook without rollback steps: there was nothing to roll back.
    public var nothingToRollBack = false
    public var durationMS: Int = 0
}

/// Runs a runbook's steps in order with when/confirm/retry/until/timeout/on_failure, then the rollback
/// list on failure. Every event goes to the journal (masked; see `Journal` for durability) and the reporters.
public struct Executor: Sendable {
    public let runbook: Runbook
    public let registry: ActionRegistry
    public let options: RunOptions
    public let runID: String
    public let journal: Journal?
    public let reporters: [any RunReporter]
    public let stateDirectory: String

    public init(runbook: Runbook, registry: ActionRegistry, options: RunOptions, runID: String, journal: Journal?,
                reporters: [any RunReporter], stateDirectory: String) {
        self.runbook = runbook
        self.registry = registry
        self.options = options
        self.runID = runID
        self.journal = journal
        self.reporters = reporters
        self.stateDirectory = stateDirectory
    }

    private var masker: SecretMasker { options.secrets.masker }

    /// Masks and records an event, then shows it.
    func emit(_ event: RunEvent) {
        journal?.append(event)
        for r in reporters { r.report(event) }
    }

    /// Mutable bookkeeping of one run, confined to the executing task.
    final class RunState: @unchecked Sendable {
        /// Finished steps; set them with `setStep`, which keeps `stepsContext` in step.
        private(set) var steps: [String: ResumePoint.StepRecord] = [:]
        /// `steps` as the expression context's `steps` map, updated one step at a time rather than
        /// rebuilt for every expression (which made a run quadratic in its number of steps).
        private(set) var stepsContext: [String: Value] = [:]
        /// The contexts that do not change during a run (params, env, secrets, run, trigger), built once.
        var fixedContext: [String: Value]?
        var outcome: RunOutcome
        let started = Date()
        /// Signals that do not interrupt the current phase: the one that caused the rollback must not
        /// also cancel the rollback; only a signal after the rollback began stops it.
        var interruptBaseline = 0
        init(runID: String) { outcome = RunOutcome(runID: runID, status: .succeeded) }

        func setStep(_ id: String, _ record: ResumePoint.StepRecord) {
            steps[id] = record
            stepsContext[id] = .map(["status": .string(record.status.rawValue), "outputs": .map(record.outputs),
                                     "error": record.error.map(Value.string) ?? .null])
        }
    }

    /// Runs from the start, or continues from `resume`.
    public func run(resume: ResumePoint? = nil) async -> RunOutcome {
        let state = RunState(runID: runID)
        if let resume { for (id, record) in resume.finished { state.setStep(id, record) } }
        emit(.runStarted(runID: runID, runbook: runbook.id.value, file: runbook.file, dryRun: options.dryRun,
                         params: masker.mask(Value.map(options.params)).mapValue, resumed: resume != nil))
        var rollbackReason = resume?.rollbackReason
        state.outcome.stoppedBy = rollbackReason  // as journaled: masked
        if rollbackReason != nil, let resume {
            // Resuming inside the rollback: the main steps all ran before; keep them in the outcome.
            for step in runbook.steps {
                if let done = resume.finished[step.id.value] { record(done.status, step.id.value, state, rollback: false) }
            }
        } else {
            for step in runbook.steps {
                let result: StepResult
                var restoredInterrupt = false
                if let done = resume?.finished[step.id.value] {
                    record(done.status, step.id.value, state, rollback: false)
                    // A failure journaled just before the process died (before `rollback_started` or
                    // `run_finished`) still decides what happens next; it is not run again.
                    guard done.status == .failed else { continue }
                    let message = done.error ?? "failed"
                    restoredInterrupt = message.hasPrefix("interrupted by ")
                    result = .failed(message)
                } else {
                    result = await runStep(step, phase: .main, state: state,
                                           crashedInFlight: resume?.inFlight == step.id.value,
                                           earlierAnswer: resume?.earlierAnswers[step.id.value],
                                           askedAt: resume?.askedAt[step.id.value],
                                           spawned: resume?.inFlight == step.id.value ? resume?.inFlightProcesses ?? [] : [])
                }
                switch result {
                case .succeeded, .skipped: continue
                case .paused(let reason, let expiresAt):
                    return finish(state, .paused, pausedAt: step.id.value, reason: reason, expiresAt: expiresAt)
                case .failed(let message):
                    let interrupted = options.interrupt.isTriggered || restoredInterrupt
                    switch step.failureMode {
                    case .continue where !interrupted:
                        continue
                    case .abort:
                        return finish(state, .aborted)
                    case .rollback, .continue:
                        if interrupted, options.interactive {
                            // Shown and journaled like a step's question (kind `rollback`), so the
                            // record says who chose to roll back, or not.
                            let question = "Run interrupted during '\(step.id.value)'. Run the rollback steps now?"
                            emit(.confirmationAsked(step: step.id.value, message: question, kind: "rollback"))
                            let answer = await ask(step: "rollback", message: question, timeout: nil)
                            switch answer {
                            case .approved(let by, let how):
                                emit(.confirmationAnswered(step: step.id.value, approved: true, by: by, how: how, kind: "rollback"))
                            case .declined(let by, let how):
                                emit(.confirmationAnswered(step: step.id.value, approved: false, by: by, how: how, kind: "rollback"))
                                return finish(state, .aborted)
                            case .pending:
                                return finish(state, .aborted)
                            }
                        }
                        rollbackReason = "step '\(step.id.value)' failed: \(message)"
                        state.outcome.stoppedAt = step.id.value
                        state.outcome.stoppedBy = masker.mask(rollbackReason!)
                    }
                }
                if rollbackReason != nil { break }
            }
        }
        guard let reason = rollbackReason else { return finish(state, .succeeded) }
        if runbook.rollback.isEmpty {
            // No rollback steps: no rollback starts (no `rollback_started`, no "rolling back"
            // line, no "Rollback started" in an incident's timeline); the run just failed.
            state.outcome.nothingToRollBack = true
            return finish(state, .failed)
        }
        if resume?.rollbackReason == nil { emit(.rollbackStarted(reason: masker.mask(reason))) }
        state.interruptBaseline = options.interrupt.signalCount
        var rollbackOK = true
        for step in runbook.rollback {
            if interrupted(state) { rollbackOK = false; break }
            if let done = resume?.finished[step.id.value] {
                record(done.status, step.id.value, state, rollback: true)
                if done.status == .failed && step.failureMode != .continue { rollbackOK = false }
                continue
            }
            let result = await runStep(step, phase: .rollback, state: state,
                                       crashedInFlight: resume?.inFlight == step.id.value,
                                       earlierAnswer: resume?.earlierAnswers[step.id.value],
                                       askedAt: resume?.askedAt[step.id.value],
                                       spawned: resume?.inFlight == step.id.value ? resume?.inFlightProcesses ?? [] : [])
            switch result {
            // A rollback step that may fail (`on_failure: continue`, e.g. a page) does not fail the rollback.
            case .failed: if step.failureMode != .continue { rollbackOK = false }
            case .paused(let why, let expiresAt):
                return finish(state, .paused, pausedAt: step.id.value, reason: why, expiresAt: expiresAt)
            default: break
            }
        }
        return finish(state, rollbackOK ? .failed : .rollbackFailed)
    }

    /// A signal arrived that stops the current phase (any signal in the main steps; in the rollback,
    /// one received after it began).
    private func interrupted(_ state: RunState) -> Bool {
        options.interrupt.signalCount > state.interruptBaseline
    }

    private func record(_ status: StepStatus, _ id: String, _ state: RunState, rollback: Bool) {
        switch (status, rollback) {
        case (.succeeded, false): state.outcome.executed.append(id)
        case (.succeeded, true): state.outcome.rolledBack.append(id)
        case (.skipped, _): state.outcome.skipped.append(id)
        case (.failed, false): state.outcome.failed.append(id)
        case (.failed, true): state.outcome.rollbackFailed.append(id)
        }
    }

    private func finish(_ state: RunState, _ status: RunStatus, pausedAt: String? = nil, reason: String? = nil,
                        expiresAt: Date? = nil) -> RunOutcome {
        state.outcome.status = status
        state.outcome.pausedAt = pausedAt
        state.outcome.pauseReason = reason
        state.outcome.pauseExpiresAt = expiresAt
        state.outcome.durationMS = Int(Date().timeIntervalSince(state.started) * 1000)
        if let pausedAt {
            emit(.runPaused(step: pausedAt, reason: masker.mask(reason ?? "awaiting confirmation"), expiresAt: expiresAt))
        }
        emit(.runFinished(status: status, durationMS: state.outcome.durationMS))
        // The run's end (or pause) is on disk before the process reports it and exits.
        journal?.sync()
        return state.outcome
    }

    // MARK: one step

    enum StepResult: Sendable {
        /// `expiresAt`: when the question waited for expires (a confirmation with a timeout).
        case succeeded, skipped, failed(String), paused(String, expiresAt: Date?)
    }

    /// The expression context at this point of the run.
    func evaluationContext(_ state: RunState, own: (String, [String: Value])? = nil) -> EvaluationContext {
        var steps = state.stepsContext
        if let (id, outputs) = own {
            steps[id] = .map(["status": .string("running"), "outputs": .map(outputs), "error": .null])
        }
        var root: [String: Value]
        if let fixed = state.fixedContext {
            root = fixed
        } else {
            let run: [String: Value] = ["id": .string(runID), "runbook": .string(runbook.id.value),
                                        "dry_run": .bool(options.dryRun),
                                        "started_at": .string(Journal.timestamp(state.started))]
            root = [
                "params": .map(options.params),
                "env": .map(options.environment.filter { !$0.key.hasPrefix("RUNBOOK_SECRET_") }.mapValues(Value.string)),
                "secrets": .map(options.secrets.values.mapValues(Value.string)),
                "run": .map(run), "trigger": .map(options.trigger),
            ]
            state.fixedContext = root
        }
        root["steps"] = .map(steps)
        return EvaluationContext(root: root)
    }

    private func finishStep(_ step: Step, _ state: RunState, _ status: StepStatus, outputs: [String: Value] = [:],
                            error: String? = nil, reason: String? = nil, started: Date) -> StepResult {
        let id = step.id.value
        let maskedOutputs = masker.mask(Value.map(outputs)).mapValue
        let maskedError = error.map(masker.mask)
        state.setStep(id, ResumePoint.StepRecord(status: status, outputs: outputs, error: maskedError))
        record(status, id, state, rollback: step.isRollbackStep)
        if status == .failed, state.outcome.firstFailure == nil {
            state.outcome.firstFailure = "step '\(id)' failed: \(maskedError ?? "failed")"
        }
        // By text: a NaN output is not equal to itself, but it was not masked.
        let masked = outputs.keys.filter { maskedOutputs[$0]?.jsonText() != outputs[$0]?.jsonText() }.sorted()
        emit(.stepFinished(step: id, status: status, outputs: maskedOutputs, error: maskedError,
                           durationMS: Int(Date().timeIntervalSince(started) * 1000), reason: reason.map(masker.mask),
                           masked: masked))
        switch status {
        case .succeeded: return .succeeded
        case .skipped: return .skipped
        case .failed: return .failed(maskedError ?? "failed")
        }
    }

    /// The first output this step reads that a resumed run only knows masked (`steps.login.outputs.token`).
    func maskedOutputRead(_ step: Step, _ state: RunState) -> String? {
        var found: String?
        step.forEachTemplate { t in
            guard found == nil else { return }
            for path in t.template.references where path.count >= 3 && path[0] == "steps" && path[2] == "outputs" {
                guard let masked = state.steps[path[1]]?.maskedOutputs, !masked.isEmpty else { continue }
                if path.count == 3 || masked.contains(path[3]) {
                    found = path.prefix(4).joined(separator: ".")
                    return
                }
            }
        }
        return found
    }

    /// The step's title as the run shows it: a name with `${{ }}` evaluated now (secrets
    /// masked); as written when it cannot be (a step output that is not there yet in a dry
    /// run): a title is never a reason to fail a step.
    func title(of step: Step, _ state: RunState) -> String {
        guard let template = step.nameTemplate?.template,
              let value = try? template.evaluate(in: evaluationContext(state)) else { return step.title }
        return masker.mask(value.interpolationText)
    }

    /// Runs one step: when → confirm → tries (with timeout, until, retry) → outputs.
    /// `spawned`: the programs a step in flight when the run stopped had started (`crashedInFlight`).
    func runStep(_ step: Step, phase: RunEvent.Phase, state: RunState, crashedInFlight: Bool,
                 earlierAnswer: EarlierAnswer?, askedAt: Date? = nil, spawned: [SpawnedProcess] = []) async -> StepResult {
        let id = step.id.value
        let started = Date()
        let descriptor = registry.catalog[step.action.value]
        emit(.stepStarted(step: id, title: title(of: step, state), action: step.action.value, phase: phase))
        guard let descriptor else {
            return finishStep(step, state, .failed, error: "unknown action '\(step.action.value)'", started: started)
        }
        if let read = maskedOutputRead(step, state) {
            return finishStep(step, state, .failed, error: "reads \(read), which held a secret: the journal keeps it masked, "
                              + "so a resumed run does not know it (run the runbook again to get it)", started: started)
        }

        // when
        var conditionValue: Bool?
        if let when = step.when {
            do {
                let v = try when.template.evaluate(in: evaluationContext(state))
                conditionValue = v.isTruthy
            } catch {
                if options.dryRun, dependsOnSimulation(when.template.references) {
                    conditionValue = true
                    emit(.log(step: id, level: "warning", message: masker.mask("when: \(error.message) (simulated outputs; assuming true)")))
                } else {
                    return finishStep(step, state, .failed, error: "when: \(error.message)", started: started)
                }
            }
            if conditionValue == false {
                if options.dryRun {
                    emit(.stepPlanned(step: id, arguments: [:], condition: false, note: "skipped: condition is false"))
                }
                return finishStep(step, state, .skipped, reason: "when \(when.template.source.trimmingCharacters(in: .whitespaces)) is false",
                                  started: started)
            }
        }

        // A step interrupted by a crash: re-run only idempotent actions without asking.
        if crashedInFlight && !descriptor.idempotent && !options.dryRun {
            // What the step started may outlive the runner (an `exec` child is reparented to init
            // when the runner is SIGKILLed): said in the question, so nobody starts a second copy
            // beside the first without knowing.
            let notes = spawned.map { ($0, $0.stillRunningNote()) }
            let running = notes.compactMap { $0.1 }.map(masker.mask).joined(separator: "; ")
            let ended = notes.filter { $0.0.startTime != nil && $0.1 == nil }.map { String($0.0.pid) }
            let effect = !running.isEmpty ? "it may or may not have taken effect, and \(running)"
                : ended.isEmpty ? "it may or may not have taken effect"
                : ended.count == 1 ? "it may or may not have taken effect (process group \(ended[0]) it started is no longer running)"
                : "it may or may not have taken effect (process groups \(ended.joined(separator: ", ")) it started are no longer running)"
            let message = "Step '\(id)' (\(descriptor.id)) was in flight when the run stopped and is not idempotent: \(effect). Run it again?"
            // Always asked: an earlier approval of the step's gate approved running it once, not twice.
            // While its program still runs, `--yes` is no answer: only one that names the step.
            emit(.confirmationAsked(step: id, message: message, kind: "rerun"))
            let answer = await ask(step: id, message: message, timeout: nil, namingStep: !running.isEmpty)
            switch answer {
            case .pending:
                if running.isEmpty {
                    return .paused("step '\(id)' was in flight when the run stopped; re-run it with --approve \(id) or mark it failed with --decline \(id)",
                                   expiresAt: nil)
                }
                return .paused("step '\(id)' was in flight when the run stopped, and \(running): check on it first; "
                               + "re-run the step beside it with --approve \(id) (--yes does not), or mark it failed with --decline \(id)",
                               expiresAt: nil)
            case .declined(let by, let how):
                emit(.confirmationAnswered(step: id, approved: false, by: by, how: how, kind: "rerun"))
                return finishStep(step, state, .failed, error: "not re-run after the run stopped mid-step (declined by \(by))"
                                  + (running.isEmpty ? "" : "; \(running)"), started: started)
            case .approved(let by, let how):
                emit(.confirmationAnswered(step: id, approved: true, by: by, how: how, kind: "rerun"))
                if !running.isEmpty {
                    emit(.log(step: id, level: "warning", message: "re-run while \(running): the two copies run side by side"))
                }
            }
        }

        // confirm: a gate before the step, or the `confirm` action itself
        var confirmText: String?
        var confirmTimeout = step.confirm?.timeout?.value.seconds
        if let c = step.confirm {
            do { confirmText = try c.message.template.evaluate(in: evaluationContext(state)).interpolationText }
            catch { confirmText = c.message.template.source }
        } else if descriptor.id == "confirm" {
            let args = (try? resolveArguments(step, descriptor, state)) ?? [:]
            confirmText = args["message"]?.interpolationText ?? step.title
            // The question expires after `with.timeout`, else the step's timeout, else the action's default.
            confirmTimeout = (args["timeout"]?.stringValue).flatMap { RunbookDuration.parse($0)?.seconds }
                ?? step.timeout?.value.seconds ?? descriptor.defaultTimeout
        }
        var answeredBy: Value = .null, answeredAt: Value = .null
        var approvedOutput = false
        if let text = confirmText {
            let shown = masker.mask(text)
            let answer: ConfirmationAnswer
            // The gate was answered before the pause or crash (the journal says so): not asked
            // again, unless the operator now declines it (`resume --decline STEP` wins).
            let upFront = options.confirmer.upFrontAnswer(step: id)
            var declinedUpFront = false
            if case .declined? = upFront { declinedUpFront = true }
            var restated: EarlierAnswer?
            var expiresAt: Date?
            if let earlierAnswer, !(earlierAnswer.approved && declinedUpFront) {
                // Restated under the name of whoever gave it, and how: the record of this session
                // still says who approved the change.
                restated = earlierAnswer
                answer = earlierAnswer.approved ? .approved(by: earlierAnswer.by, how: EarlierAnswer.how)
                    : .declined(by: earlierAnswer.by, how: EarlierAnswer.how)
            } else if upFront == nil, let askedAt, let confirmTimeout, !options.dryRun,
                      Date() > askedAt.addingTimeInterval(confirmTimeout) {
                // Asked before a pause and not answered in time: expired, unless the operator
                // resuming answers it now (`--approve`, `--decline`, `--yes`): that answer is fresh.
                expiresAt = askedAt.addingTimeInterval(confirmTimeout)
                answer = .declined(by: "timeout", how: "expired")
            } else {
                // The question expires `timeout` after it was first asked, across pauses: a
                // prompt on resume gets what is left of it, as the pause summary said.
                let now = Date()
                if let confirmTimeout, !options.dryRun { expiresAt = (askedAt ?? now).addingTimeInterval(confirmTimeout) }
                emit(.confirmationAsked(step: id, message: shown, kind: "confirm"))
                let remaining = askedAt != nil ? expiresAt.map { max(0.001, $0.timeIntervalSince(now)) } ?? confirmTimeout
                    : confirmTimeout
                var a = await ask(step: id, message: shown, timeout: remaining)
                // Assumed for the plan, unless the scenario says nobody answers (`confirm: pause`).
                if a == .pending && options.dryRun && options.scenario?.steps[id]?.pauses != true {
                    a = .approved(by: "dry-run", how: "assumed for the plan")
                }
                answer = a
            }
            switch answer {
            case .pending:
                return .paused("waiting for confirmation of step '\(id)': resume with --approve \(id) or --decline \(id)",
                               expiresAt: expiresAt)
            case .declined(let by, let how):
                emit(.confirmationAnswered(step: id, approved: false, by: by, how: how, earlier: restated))
                // Nobody answered an expired question: its outputs say so with nulls (actions.md).
                answeredBy = how == "expired" ? .null : .string(by)
                answeredAt = how == "expired" ? .null : .string(Journal.timestamp(Date()))
                let why = how == "expired"
                    ? (expiresAt.map { "the question expired at \(QuestionExpiry.localTime($0)), counted as declined" }
                        ?? "the question expired, counted as declined")
                    : how == TerminalPrompt.interrupted ? "interrupted by \(options.interrupt.signalName) while waiting for confirmation"
                    : "confirmation declined by \(by)"
                return finishStep(step, state, .failed,
                                  outputs: descriptor.id == "confirm" ? ["approved": .bool(false), "answered_by": answeredBy, "answered_at": answeredAt] : [:],
                                  error: why, started: started)
            case .approved(let by, let how):
                emit(.confirmationAnswered(step: id, approved: true, by: by, how: how, earlier: restated))
                approvedOutput = true
                answeredBy = .string(by)
                answeredAt = .string(Journal.timestamp(Date()))
            }
        }
        if descriptor.id == "confirm" {
            return finishStep(step, state, .succeeded,
                              outputs: ["approved": .bool(approvedOutput), "answered_by": answeredBy, "answered_at": answeredAt],
                              started: started)
        }

        // tries
        let attempts = step.retry?.attempts.value ?? 1
        var lastError = "failed"
        var lastOutputs: [String: Value] = [:]
        for attempt in 1...attempts {
            if interrupted(state) {
                lastError = "interrupted by \(options.interrupt.signalName)"
                break
            }
            if attempts > 1 { emit(.attempt(step: id, number: attempt, of: attempts)) }
            let arguments: [String: Value]
            do {
                arguments = try resolveArguments(step, descriptor, state)
            } catch {
                if options.dryRun && (error as? ArgumentError)?.literal != true && argumentsDependOnSimulation(step) {
                    // Say why the plan goes on: what the dry run simulates (another step's
                    // outputs, a secret it lacks) may be what broke it. Else params and env are
                    // this run's own, the real run would fail the same way, and so does the plan.
                    emit(.log(step: id, level: "warning",
                              message: masker.mask("\(error) (the dry run simulates what this value reads)")))
                    // The plan still shows every argument that did resolve (which deployment,
                    // which namespace): only the broken one is missing.
                    arguments = resolvableArguments(step, descriptor, state)
                } else {
                    return finishStep(step, state, .failed, error: "\(error)", started: started)
                }
            }
            let timeout = step.timeout?.value.seconds ?? descriptor.defaultTimeout
            let tryResult = await performTry(step, descriptor, arguments, timeout: timeout, attempt: attempt, state: state)
            switch tryResult {
            case .success(let result):
                lastOutputs = result.outputs
                if let until = step.until, !options.dryRun || options.scenario?.steps[id] != nil {
                    var holds = true
                    // This try's reason, so an error from an earlier try is not reported for a later one.
                    var untilError: String?
                    let context = evaluationContext(state, own: (id, result.outputs))
                    do {
                        holds = try until.template.evaluate(in: context).isTruthy
                    } catch {
                        if !options.dryRun {
                            untilError = "until: \(error.message)"
                            holds = false
                        }
                    }
                    if !holds {
                        // With what it read, so the on-call sees how far off it was (depth 5000, want < 1000).
                        let observed = until.template.observedValues(in: context)
                        lastError = untilError
                            ?? "until \(until.template.source.trimmingCharacters(in: .whitespaces)) did not hold"
                            + (observed.isEmpty ? "" : " (\(observed))")
                        emit(.attemptFailed(step: id, number: attempt, message: masker.mask(lastError)))
                        if attempt < attempts { await delay(step, before: attempt + 1, state: state) }
                        continue
                    }
                }
                return finishStep(step, state, .succeeded, outputs: result.outputs, reason: result.summary, started: started)
            case .failure(let failure):
                lastError = failure.message
                lastOutputs = failure.outputs
                emit(.attemptFailed(step: id, number: attempt, message: masker.mask(failure.message)))
                if attempt < attempts && !interrupted(state) { await delay(step, before: attempt + 1, state: state) }
            }
        }
        if attempts > 1 && !interrupted(state) { lastError += " (after \(attempts) attempts)" }
        return finishStep(step, state, .failed, outputs: lastOutputs, error: lastError, started: started)
    }

    /// Asks the confirmer; a SIGINT/SIGTERM that arrives while it waits (on a terminal) ends the
    /// question as declined instead of leaving the operator at a prompt that ignores Ctrl-C.
    /// `namingStep`: only an answer that names the step counts (not `--yes`; see `Confirmer.confirmNamingStep`).
    func ask(step: String, message: String, timeout: Double?, namingStep: Bool = false) async -> ConfirmationAnswer {
        let baseline = options.interrupt.signalCount
        let confirmer = options.confirmer
        return await cancellableByInterrupt(alreadyInterrupted: { options.interrupt.signalCount > baseline }) {
            namingStep ? await confirmer.confirmNamingStep(step: step, message: message, timeout: timeout)
                : await confirmer.confirm(step: step, message: message, timeout: timeout)
        }
    }

    /// Runs `work` in a task of its own that SIGINT/SIGTERM cancels (the action, retry wait or
    /// question in flight); `alreadyInterrupted` is checked once the handler is installed, so a
    /// signal that came just before is not missed.
    private func cancellableByInterrupt<T: Sendable>(alreadyInterrupted: () -> Bool,
                                                     _ work: @escaping @Sendable () async -> T) async -> T {
        let task = Task(operation: work)
        options.interrupt.setCurrent { task.cancel() }
        if alreadyInterrupted() { task.cancel() }
        let value = await task.value
        options.interrupt.setCurrent(nil)
        return value
    }

    private func delay(_ step: Step, before attempt: Int, state: RunState) async {
        guard let retry = step.retry, !options.dryRun else { return }
        let seconds = retry.delay(beforeAttempt: attempt)
        guard seconds > 0 else { return }
        await cancellableByInterrupt(alreadyInterrupted: { interrupted(state) }) {
            try? await Task.sleep(nanoseconds: RunbookDuration.nanoseconds(seconds))
        }
    }

    /// One try: real, simulated or skipped according to dry-run and the action's declaration.
    private func performTry(_ step: Step, _ descriptor: ActionDescriptor, _ arguments: [String: Value],
                            timeout: Double, attempt: Int, state: RunState) async -> Result<ActionResult, ActionFailure> {
        let id = step.id.value
        if options.dryRun {
            let scripted = options.scenario?.steps[id]
            let note: String
            switch descriptor.dryRun {
            case .skipped: note = descriptor.notifies ? "would notify (never sent in dry-run)" : "would change the system (not run in dry-run)"
            case .simulated: note = scripted != nil ? "simulated from scenario" : "simulated (no scenario outputs)"
            case .instant: note = "instant in dry-run"
            case .runs: note = "runs (no side effects)"
            case .checks: note = options.scenario == nil ? "checked at run time (give --scenario to evaluate it)" : "evaluated against the scenario"
            }
            if attempt == 1 {
                // Hidden as the actions hide them in the real run, whatever gave the values.
                emit(.stepPlanned(step: id, arguments: masker.planned(arguments, of: descriptor),
                                  condition: step.when == nil ? nil : true, note: note))
            }
            if descriptor.dryRun == .checks && options.scenario == nil {
                return .success(ActionResult(outputs: [:], summary: note))
            }
            if descriptor.dryRun != .runs && descriptor.dryRun != .checks {
                if let failure = scripted?.failure {
                    return .failure(ActionFailure(failure, outputs: scripted?.outputs ?? [:]))
                }
                var outputs: [String: Value] = [:]
                for o in descriptor.outputs { outputs[o.name] = .null }
                for (k, v) in registry.implementation(descriptor.id)?.typicalDryRunOutputs(arguments: arguments) ?? [:] { outputs[k] = v }
                for (k, v) in scripted?.outputs ?? [:] { outputs[k] = v }
                // Outputs a scenario gives are judged as the action judges real ones.
                if let scripted, !scripted.outputs.isEmpty,
                   let why = registry.implementation(descriptor.id)?.judge(simulated: outputs, arguments: arguments) {
                    return .failure(ActionFailure(masker.mask("\(why) (scenario outputs)"), outputs: outputs))
                }
                return .success(ActionResult(outputs: outputs, summary: note))
            }
        }
        guard let implementation = registry.implementation(descriptor.id) else {
            return .failure(ActionFailure("action '\(descriptor.id)' is declared but not implemented in this build"))
        }
        // Before an action that must not run twice, its `step_started` (and any answer that allowed it)
        // is on disk: after a power loss, resume then knows it may have run and asks.
        if !descriptor.idempotent { journal?.sync() }
        let context = ActionContext(runID: runID, runbookID: runbook.id.value, stateDirectory: stateDirectory,
                                    environment: options.environment, masker: masker,
                                    runbookSeverity: runbook.severity.value.rawValue,
                                    runbookComponents: runbook.components.map(\.value),
                                    processStarted: { [self] pid, detached in
                                        emit(.processStarted(step: id, process: SpawnedProcess.observe(pid: pid, detached: detached)))
                                    },
                                    emit: { [self] level, message in emit(.log(step: id, level: level, message: masker.mask(message))) })
        let invocation = ActionInvocation(stepID: id, arguments: arguments, timeout: timeout, context: context)
        if implementation.isInstant {
            // Returns at once (log, assert): no task, no timeout watchdog, nothing to interrupt.
            do { return .success(try await implementation.run(invocation)) }
            catch let failure as ActionFailure { return .failure(failure) }
            catch { return .failure(ActionFailure("\(error)")) }
        }
        let interrupt = options.interrupt
        let result = await cancellableByInterrupt(alreadyInterrupted: { interrupted(state) }) { () -> Result<ActionResult, ActionFailure> in
            do {
                let result = try await withThrowingTaskGroup(of: ActionResult.self) { group in
                    group.addTask { try await implementation.run(invocation) }
                    group.addTask {
                        try await Task.sleep(nanoseconds: RunbookDuration.nanoseconds(max(0.001, timeout)))
                        throw ActionFailure("timed out after \(RunbookDuration(seconds: timeout))")
                    }
                    defer { group.cancelAll() }
                    return try await group.next()!
                }
                return .success(result)
            } catch let failure as ActionFailure {
                return .failure(failure)
            } catch is CancellationError {
                return .failure(ActionFailure("interrupted by \(interrupt.signalName)"))
            } catch {
                return .failure(ActionFailure("\(error)"))
            }
        }
        if interrupted(state), case .failure = result {
            return .failure(ActionFailure("interrupted by \(interrupt.signalName)"))
        }
        return result
    }

    /// Whether values read by these references may differ in the real run, so that a dry run
    /// that failed on them may have failed only because it simulates: they read another step
    /// (whose outputs and status a dry run simulates, null outputs unless a scenario gives them)
    /// or a secret that is not set (a dry run does not need secrets). Else the real run, with
    /// the same params and environment, fails the same way.
    func dependsOnSimulation(_ references: [[String]]) -> Bool {
        references.contains { path in
            path.first == "steps"
                || (path.count > 1 && path[0] == "secrets" && options.secrets.values[path[1].lowercased()] == nil)
        }
    }

    /// `dependsOnSimulation` for any of a step's `with:` values.
    func argumentsDependOnSimulation(_ step: Step) -> Bool {
        step.with.contains { argument in
            argument.value.templates.contains { dependsOnSimulation($0.template.references) }
        }
    }

    /// Evaluates `with:` templates, applies defaults and converts to the declared types.
    func resolveArguments(_ step: Step, _ descriptor: ActionDescriptor, _ state: RunState) throws -> [String: Value] {
        for name in missingSecrets(step) {
            let message = "secret '\(name)' is not set: export RUNBOOK_SECRET_\(name.uppercased()) or add it to --secrets-file"
            if options.dryRun {
                emit(.log(step: step.id.value, level: "warning", message: message))
            } else {
                throw ArgumentError(message)
            }
        }
        let context = evaluationContext(state)
        var out: [String: Value] = [:]
        for argument in step.with {
            if let (name, value) = try resolve(argument, descriptor, context) { out[name] = value }
        }
        for p in descriptor.parameters where out[p.name] == nil {
            if let d = p.defaultValue { out[p.name] = d }
            else if p.required { throw ArgumentError("parameter '\(p.name)' of '\(descriptor.id)' is required") }
        }
        // Outputs are simulated (null) in a dry run unless the scenario gives them: values read
        // from other steps say nothing about the real run's.
        if options.dryRun {
            // Lint judged the parameter rules on what was written; with the values known, a rule an
            // expression broke (`shell: ${{ params.flag }}` false beside `command`) would fail the
            // real run, so the plan says so. A rule on one value fails the real run before its
            // action starts (below), so it fails the plan too when the values are this run's own.
            let simulated = argumentsDependOnSimulation(step)
            guard !simulated || options.scenario != nil else { return out }
            for constraint in descriptor.constraints where !constraint.holds(for: out, of: descriptor) {
                let broken = "the values this run would use break a parameter rule of '\(descriptor.id)': "
                    + constraint.quoted(with: "'")
                if constraint.isValueRule && !simulated { throw ArgumentError(masker.mask(broken)) }
                emit(.log(step: step.id.value, level: "warning", message: masker.mask(broken)))
            }
        } else {
            // Rules on one value (a timeout of 0s, a NUL, a bad regex, reversed bounds) fail the
            // step before its action starts, whatever the action would make of the value.
            for constraint in descriptor.constraints where constraint.isValueRule && !constraint.holds(for: out, of: descriptor) {
                throw ArgumentError(masker.mask("the values of this run break a parameter rule of '\(descriptor.id)': "
                                                + constraint.quoted(with: "'")))
            }
        }
        return out
    }

    /// The arguments that resolve and convert, each on its own; the others left out (for a
    /// dry-run plan whose `resolveArguments` failed on one of them).
    func resolvableArguments(_ step: Step, _ descriptor: ActionDescriptor, _ state: RunState) -> [String: Value] {
        let context = evaluationContext(state)
        var out: [String: Value] = [:]
        for argument in step.with {
            if let (name, value) = try? resolve(argument, descriptor, context) { out[name] = value }
        }
        return out
    }

    /// One `with:` argument evaluated and converted to its parameter's type; nil for a name the
    /// action does not declare (lint reported it).
    private func resolve(_ argument: WithArgument, _ descriptor: ActionDescriptor,
                         _ context: EvaluationContext) throws -> (String, Value)? {
        let value: Value
        do { value = try evaluate(argument.value, context) } catch let e as ExpressionError {
            throw ArgumentError("parameter '\(argument.name.value)': \(e.message)")
        }
        guard let parameter = descriptor.parameter(named: argument.name.value) else { return nil }
        do {
            return (parameter.name, try ArgumentConversion.convert(value, to: parameter, action: descriptor.id, masker: masker))
        } catch let error as ArgumentError where argument.value.staticValue != nil {
            // A literal that can never convert fails a dry-run too (it is not simulated data).
            throw ArgumentError(error.description, literal: true)
        }
    }

    /// Secrets the step's arguments read that the store does not have.
    func missingSecrets(_ step: Step) -> [String] {
        var names: [String] = []
        for argument in step.with {
            for t in argument.value.templates {
                for path in t.template.references where path.count > 1 && path[0] == "secrets" {
                    let name = path[1].lowercased()  // as the evaluator reads it
                    if options.secrets.values[name] == nil && !names.contains(name) { names.append(name) }
                }
            }
        }
        return names
    }

    private func evaluate(_ value: TemplateValue, _ context: EvaluationContext) throws -> Value {
        switch value {
        case .literal(let v, _): return v
        case .template(let t): return try t.template.evaluate(in: context)
        case .list(let items, _): return .list(try items.map { try evaluate($0, context) })
        case .map(let pairs, _):
            var m: [String: Value] = [:]
            for p in pairs { m[p.key.value] = try evaluate(p.value, context) }
            return .map(m)
        }
    }
}

/// An argument that could not be resolved.
public struct ArgumentError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// The value was written literally in the runbook (no expression): wrong in every run.
    public var literal: Bool
    public init(_ message: String, literal: Bool = false) {
        description = message
        self.literal = literal
    }
}

/// Converts evaluated values to declared parameter types (e.g. "8" → 8 for an int).
public enum ArgumentConversion {
    /// Converts to the parameter's type, then holds the result to its `minimum`/`maximum`: a
    /// number outside them, or a list with an item outside them, fails naming the parameter.
    /// `masker`: the run's secrets, masked in the value an error quotes before it is shortened.
    public static func convert(_ value: Value, to parameter: ParameterDescriptor, action: String,
                               masker: SecretMasker = .none) throws -> Value {
        let converted = try convert(value, to: parameter.type, name: parameter.name, action: action, masker: masker)
        guard parameter.hasRange, let range = parameter.rangeDescription else { return converted }
        for (number, isItem) in ParameterDescriptor.numbers(in: converted) where !parameter.inRange(number) {
            let what = isItem ? "each item of parameter '\(parameter.name)' of '\(action)'"
                : "parameter '\(parameter.name)' of '\(action)'"
            throw ArgumentError("\(what) must be \(range), got \(Value.formatDouble(number))")
        }
        return converted
    }

    public static func convert(_ value: Value, to type: ValueType, name: String, action: String,
                               masker: SecretMasker = .none) throws -> Value {
        func fail() -> ArgumentError {
            // Masked, then shortened: shortened first, the start of a secret could be kept.
            ArgumentError("parameter '\(name)' of '\(action)' must be \(type), got \(value.typeName) '\(masker.mask(value.interpolationText).prefix(80))'")
        }
        switch (type, value) {
        case (.any, _): return value
        case (_, .null): return .null
        case (.string, .string), (.int, .int), (.bool, .bool), (.number, .double): return value
        case (.string, _): return .string(value.interpolationText)
        case (.number, .int(let i)): return .double(Double(i))
        case (.int, .double(let d)) where d == d.rounded() && abs(d) < 1e15: return .int(Int(d))
        case (.int, .string(let s)): if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return .int(i) }; throw fail()
        case (.number, .string(let s)): if let d = Value.decimalNumber(s) { return .double(d) }; throw fail()
        case (.bool, .string(let s)):
            if s == "true" { return .bool(true) }
            if s == "false" { return .bool(false) }
            throw fail()
        case (.duration, .string(let s)): if RunbookDuration.parse(s) != nil { return value }; throw fail()
        case (.duration, .int), (.duration, .double):
            // A number of seconds: a negative one (`${{ 0 - 5 }}`) is no wait at all, not "0s".
            guard let seconds = value.numberValue, seconds.isFinite, seconds >= 0 else { throw fail() }
            return .string(RunbookDuration(seconds: seconds).description)
        case (.url, .string(let s)):
            if URLCheck.isValid(s) { return value }
            throw ArgumentError(fail().description + URLCheck.portHint(s))
        case (.enumeration(let allowed), .string(let s)): if allowed.contains(s) { return value }; throw fail()
        case (.list(let element), .list(let items)):
            // A null inside (an unset env variable, a missing output) would reach the action as
            // the text "null": a program argument, an environment value. It fails here instead.
            if element != .any, let index = items.firstIndex(of: .null) {
                throw ArgumentError("parameter '\(name)' of '\(action)': item \(index + 1) is null (an unset env variable or a missing output?)")
            }
            return .list(try items.map { try convert($0, to: element, name: name, action: action, masker: masker) })
        case (.map(let element), .map(let m)):
            if element != .any, let key = m.keys.sorted().first(where: { m[$0] == .null }) {
                throw ArgumentError("parameter '\(name)' of '\(action)': '\(key)' is null (an unset env variable or a missing output?)")
            }
            return .map(try m.mapValues { try convert($0, to: element, name: name, action: action, masker: masker) })
        case (.oneOf(let types), _):
            for t in types { if let v = try? convert(value, to: t, name: name, action: action, masker: masker) { return v } }
            throw fail()
        default: throw fail()
        }
    }
}

extension Value {
    /// The map inside, or empty.
    public var mapValue: [String: Value] {
        if case .map(let m) = self { return m }
        return [:]
    }
}
