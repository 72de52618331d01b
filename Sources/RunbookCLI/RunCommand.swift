import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

extension Journal.Durability: ExpressibleByArgument {}

/// Output format of `run`, `resume` and `drill`.
enum RunOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Options shared by `run` and `resume`.
struct ExecutionOptions: ParsableArguments {
    @Flag(name: .long, help: "Approve every confirmation.")
    var yes = false

    @Option(name: .long, help: "Approve the confirmation of this step (repeatable).")
    var approve: [String] = []

    @Option(name: .long, help: "Decline the confirmation of this step (repeatable).")
    var decline: [String] = []

    @Option(name: .long, help: "State directory (default: $RUNBOOK_STATE_DIR or .runbook).")
    var stateDir: String?

    @Option(name: .long, help: "Secrets file: NAME=value lines, readable by its owner only.")
    var secretsFile: String?

    @Option(name: .long, help: "Output: text or json.")
    var format: RunOutputFormat = .text

    @Flag(name: .long, help: "Allow a second run of the same runbook at the same time.")
    var allowConcurrent = false

    @Option(name: .long, help: ArgumentHelp(
        // ArgumentParser adds "(values: group, record; default: group)" itself.
        "Journal durability: group (fsync'd in batches in the background; the run waits for the disk before a non-idempotent action, a pause and its end) or record (fsync before every record returns).",
        valueName: "group|record"))
    var journalSync: Journal.Durability = .groupCommit

    var stateDirectory: StateDirectory { StateDirectory.resolve(option: stateDir) }

    func loadSecrets() throws -> SecretStore {
        do { return try SecretStore.load(environment: ProcessInfo.processInfo.environment, file: secretsFile) } catch {
            printError("error: \(error.description)")
            throw ExitCode(Exit.usage)
        }
    }

    /// Stdin is a terminal: confirmations can be asked.
    var interactive: Bool { isatty(STDIN_FILENO) == 1 }
    /// Whether the run's own output shows each question on the terminal (text, not redirected).
    var questionsOnScreen: Bool { format == .text && isatty(STDOUT_FILENO) == 1 }

    /// `--approve`/`--decline` must name steps of `runbook`: a misspelt `--decline` ignored
    /// would let `--yes` approve the very step the operator meant to refuse. They must also name
    /// a step that asks something: `--approve` on a step without a confirmation answers nothing,
    /// and the operator who thought it approved (or refused) that step must hear so before the
    /// run starts. `questionAlso`: a step that is asked a question this time without a
    /// confirmation of its own (on `resume`, the non-idempotent step in flight when the run
    /// stopped, asked whether to re-run it).
    func checkStepIDs(in runbook: Runbook, questionAlso: String? = nil) throws {
        let steps = runbook.steps + runbook.rollback
        let ids = steps.map(\.id.value)
        let asking = steps.filter { $0.confirm != nil || $0.action.value == "confirm" || $0.id.value == questionAlso }
            .map(\.id.value)
        for (option, names) in [("--approve", approve), ("--decline", decline)] {
            for name in names where !ids.contains(name) {
                // Suggested among the steps that ask: the others would be refused next.
                printError("error: \(option) \(name): runbook '\(runbook.id.value)' has no step '\(name)'"
                           + Suggestions.hint(for: name, in: asking.isEmpty ? ids : asking))
                throw ExitCode(Exit.usage)
            }
            for name in names where !asking.contains(name) {
                printError("error: \(option) \(name): step '\(name)' of runbook '\(runbook.id.value)' has no confirmation "
                           + "to answer (no 'confirm:', not a 'confirm' step)"
                           + (asking.isEmpty ? "; the runbook asks nothing" : "; steps that ask: " + asking.joined(separator: ", ")))
                throw ExitCode(Exit.usage)
            }
        }
    }
}

/// Runs an executor with signal handling, reporters, locks and summary; returns the exit code.
enum RunDriver {
    /// `runLock`: the run's own lock, which `resume` took before it read the journal; a new run
    /// (`runID` nil) takes its own here, before its journal exists.
    static func execute(runbook: Runbook, source: [UInt8]?, runID: String?, runLock: RunLock? = nil, resume: ResumePoint?,
                        options: RunOptions, execution: ExecutionOptions, scenarioSource: [UInt8]? = nil) async throws -> Int32 {
        let stateDir = execution.stateDirectory
        do { try stateDir.prepare() } catch {
            printError("error: \(error)")
            throw ExitCode(Exit.usage)
        }
        var lock: RunLock?
        if !execution.allowConcurrent && !options.dryRun {
            do { lock = try stateDir.lock(runbook: runbook.id.value) } catch {
                printError("error: \(error)")
                throw ExitCode(Exit.usage)
            }
        }
        defer { lock?.release() }
        if runID == nil, !options.dryRun {
            // Not refused: a paused run may be days old and abandoned. Said, because a second run
            // opens the same breakers and flags, and its rollback can undo what the first set up.
            let paused = stateDir.pausedRuns(of: runbook.id.value)
            for p in paused.suffix(3) {
                printError("warning: run \(p.runID) of this runbook is paused at step '\(TerminalText.escaped(p.step))' since \(p.since); "
                           + "this run changes the same things, and its rollback can undo what that run set up: answer it first "
                           + "(runbook resume \(p.runID) --approve \(TerminalText.escaped(p.step)), or --decline)")
            }
            if paused.count > 3 { printError("warning: \(paused.count - 3) older paused run(s) of this runbook: runbook history") }
        }
        let id = runID ?? stateDir.newRunID(runbook: runbook.id.value)
        let journal: Journal
        var ownRunLock: RunLock?
        defer { ownRunLock?.release() }
        do {
            try createDirectories(stateDir.runPath(id), mode: 0o700)
            if runLock == nil { ownRunLock = try stateDir.lock(run: id) }
            let copy = stateDir.runbookCopyPath(id)
            if let source, !FileManager.default.fileExists(atPath: copy) {
                // The runbook as it ran, so resume uses the same definition even if the file changes.
                // No fsync here: the journal's first fsync covers it (off the start-up path).
                try writeNew(copy, source)
            }
            if let scenarioSource { try writeNew(stateDir.scenarioCopyPath(id), scenarioSource) }
            journal = try Journal(path: stateDir.journalPath(id), durability: execution.journalSync,
                                  companions: source == nil ? [] : [copy],
                                  onFailure: { printError("warning: \($0). The run goes on; 'runbook resume' cannot see what it does from here.") })
        } catch {
            printError("error: \(error)")
            throw ExitCode(Exit.usage)
        }
        let color = execution.format == .text && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let text = TextRunReporter(color: color) { output($0) }
        let json = JSONRunReporter { output($0) }
        let reporter: any RunReporter = execution.format == .json ? json : text
        let signals = SignalTrap(options.interrupt)
        defer { signals.restore() }
        var reporters: [any RunReporter] = [reporter]
        if !options.dryRun {
            // Real runs only: a dry-run changes nothing, incidents included. The store is opened
            // when the run first touches an incident.
            let path = stateDir.path
            reporters.append(IncidentTimelineRecorder(opening: { try SQLiteStore.open(stateDirectory: path) },
                                                      catalog: BuiltinActions.catalog,
                                                      warn: { printError("warning: \(TerminalText.escaped($0, keepingNewlines: true))") }))
        }
        let executor = Executor(runbook: runbook, registry: BuiltinActions.registry, options: options, runID: id,
                                journal: journal, reporters: reporters, stateDirectory: stateDir.path)
        let outcome = await executor.run(resume: resume)
        output(execution.format == .json ? json.summary(outcome) : text.summary(outcome))
        return outcome.status.exitCode
    }
}

/// Creates `path` (mode 600, must not exist) with `bytes`, without an fsync.
private func writeNew(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw JournalError("cannot create \(path): \(systemErrorText())") }
    defer { close(fd) }
    guard bytes.withUnsafeBytes({ writeFully(fd, $0) }) else {
        throw JournalError("cannot write \(path): \(systemErrorText())")
    }
}

/// Turns SIGINT/SIGTERM into an interrupt of the step in flight instead of killing the process.
final class SignalTrap: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    init(_ interrupt: InterruptSignal) {
        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { interrupt.trigger(name) }
            source.resume()
            sources.append(source)
        }
    }
    func restore() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// `runbook run ID|PATH`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a runbook (lints it first; a runbook with errors never runs).",
        // One exit code per line: the help wraps each line on its own, so a sentence broken by
        // hand ends mid-phrase on a wide terminal.
        discussion: """
        Without a terminal and without --yes/--approve a confirmation is never assumed: the run pauses.

        Exit status:
          0  succeeded
          1  failed (the rollback ran), or aborted
          2  invalid runbook, or usage error
          3  paused, waiting for a confirmation: runbook resume RUN --approve STEP
          4  the rollback itself failed
        """
    )

    @Argument(help: "Runbook id (looked up in --runbooks) or path.")
    var runbook: String

    @Flag(name: .long, help: "Print the resolved plan; never change anything or notify anyone.")
    var dryRun = false

    @Option(name: .long, help: "A param as name=value (repeatable, each name once).")
    var param: [String] = []

    @Option(name: .long, help: "Scenario file with simulated outputs and answers per step (dry-run).")
    var scenario: String?

    @OptionGroup var directory: RunbookDirectoryOptions
    @OptionGroup var execution: ExecutionOptions

    func validate() throws {
        if scenario != nil && !dryRun {
            throw ValidationError("--scenario simulates outputs and only applies with --dry-run")
        }
    }

    func run() async throws {
        let (rb, linted) = try directory.load(runbook, linter: .builtin)
        try execution.checkStepIDs(in: rb)
        var loadedScenario: Scenario?
        if let scenario {
            let (s, diagnostics) = Scenario.load(path: scenario)
            guard let s else {
                output(DiagnosticRenderer(format: .text).render([LintedFile(path: scenario, runbook: nil, diagnostics: diagnostics, source: nil)]))
                throw ExitCode(Exit.usage)
            }
            let mismatches = s.problems(for: rb, catalog: BuiltinActions.catalog)
            guard mismatches.isEmpty else {
                for m in mismatches { printError("error: \(scenario): \(m)") }
                throw ExitCode(Exit.usage)
            }
            loadedScenario = s
        }
        let params: [String: Value]
        do {
            // The scenario's `params:` as `runbook test` uses them; a `--param` given here wins.
            let given = (loadedScenario?.params ?? [:]).merging(try ParamBinding.parseAssignments(param)) { $1 }
            params = try ParamBinding.bind(rb, given)
        } catch {
            printError("error: \(error.description)")
            throw ExitCode(Exit.usage)
        }
        let secrets = try execution.loadSecrets()
        var confirmer = ConfirmationPolicy(approveAll: execution.yes, approved: Set(execution.approve),
                                           declined: Set(execution.decline),
                                           scenarioAnswers: loadedScenario?.steps.compactMapValues(\.confirm) ?? [:],
                                           interactive: execution.interactive)
        confirmer.questionShown = execution.questionsOnScreen
        confirmer.scenarioPauses = loadedScenario?.pausedSteps ?? []
        let options = RunOptions(dryRun: dryRun, params: params, scenario: loadedScenario, confirmer: confirmer,
                                 secrets: secrets, interactive: execution.interactive)
        // The bytes lint read (not a second read, which could see a file changed in between).
        let source = linted.source?.contents
        let code = try await RunDriver.execute(runbook: rb, source: source, runID: nil, resume: nil, options: options,
                                               execution: execution, scenarioSource: dryRun ? loadedScenario?.source : nil)
        if code != 0 { throw ExitCode(code) }
    }
}

/// `runbook resume RUN`: continue a paused or crashed run exactly where it stopped.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused or interrupted run: finished steps are not run again.",
        discussion: "A step that was in flight is re-run only if its action is idempotent; otherwise you are asked (--approve STEP re-runs it, --decline STEP marks it failed)."
    )

    @Argument(help: "The run id (see 'runbook history').")
    var runID: String

    @OptionGroup var execution: ExecutionOptions

    func run() async throws {
        let stateDir = execution.stateDirectory
        guard FileManager.default.fileExists(atPath: stateDir.journalPath(runID)) else {
            printError("error: no run '\(runID)' in \(stateDir.path)")
            throw ExitCode(Exit.usage)
        }
        // The run's own lock, taken before the journal is read and held until this process ends:
        // of several resumes started at once (`--allow-concurrent` skips the per-runbook lock)
        // exactly one goes on, and the others stop here, before they run anything or write a record.
        let runLock: RunLock
        do { runLock = try stateDir.lock(run: runID) } catch {
            printError("error: \(error)")
            throw ExitCode(Exit.usage)
        }
        defer { runLock.release() }
        let records: [[String: Value]]
        do { records = try Journal.read(path: stateDir.journalPath(runID), damaged: warnDamaged) } catch {
            printError("error: no run '\(runID)' in \(stateDir.path)")
            throw ExitCode(Exit.usage)
        }
        let point: ResumePoint
        do { point = try ResumePoint.from(records: records) } catch {
            printError("error: \(error)")
            throw ExitCode(Exit.usage)
        }
        if let ended = point.endedWith {
            printError("error: run '\(runID)' already finished (\(ended.rawValue)); nothing to resume")
            throw ExitCode(Exit.usage)
        }
        // A run started by an earlier version holds only its journal's lock.
        if Journal.isInProgress(path: stateDir.journalPath(runID)) {
            printError("error: run '\(runID)' is still in progress (another process is writing its journal); wait for it or stop it first")
            throw ExitCode(Exit.usage)
        }
        let copy = stateDir.runbookCopyPath(runID)
        guard let data = FileManager.default.contents(atPath: copy) else {
            printError("error: run '\(runID)' has no saved runbook at \(copy)")
            throw ExitCode(Exit.usage)
        }
        let linted = Linter.builtin.lint(bytes: [UInt8](data), file: point.file.isEmpty ? copy : point.file)
        guard let rb = linted.runbook, !linted.hasErrors else {
            printError(DiagnosticRenderer(format: .text).render([linted]))
            throw ExitCode(Exit.usage)
        }
        // The step in flight when the run stopped is asked whether to re-run it when its action
        // is not idempotent (a dry run asks nothing of the kind): `--approve STEP` answers that.
        let rerunAsked = point.inFlight.flatMap { id -> String? in
            guard !point.dryRun, let step = (rb.steps + rb.rollback).first(where: { $0.id.value == id }),
                  BuiltinActions.catalog[step.action.value]?.idempotent == false else { return nil }
            return id
        }
        try execution.checkStepIDs(in: rb, questionAlso: rerunAsked)
        let secrets = try execution.loadSecrets()
        // A dry run that followed a scenario follows it on: its saved copy, as the runbook's.
        var scenario: Scenario?
        if point.dryRun, FileManager.default.fileExists(atPath: stateDir.scenarioCopyPath(runID)) {
            let (loaded, diagnostics) = Scenario.load(path: stateDir.scenarioCopyPath(runID))
            guard let loaded else {
                output(DiagnosticRenderer(format: .text).render([LintedFile(path: stateDir.scenarioCopyPath(runID), runbook: nil,
                                                                            diagnostics: diagnostics, source: nil)]))
                throw ExitCode(Exit.usage)
            }
            scenario = loaded
        }
        var confirmer = ConfirmationPolicy(approveAll: execution.yes, approved: Set(execution.approve),
                                           declined: Set(execution.decline),
                                           scenarioAnswers: scenario?.steps.compactMapValues(\.confirm) ?? [:],
                                           interactive: execution.interactive)
        confirmer.questionShown = execution.questionsOnScreen
        confirmer.scenarioPauses = scenario?.pausedSteps ?? []
        let options = RunOptions(dryRun: point.dryRun, params: point.params, scenario: scenario, confirmer: confirmer,
                                 secrets: secrets, interactive: execution.interactive)
        let code = try await RunDriver.execute(runbook: rb, source: nil, runID: runID, runLock: runLock, resume: point,
                                               options: options, execution: execution)
        if code != 0 { throw ExitCode(code) }
    }
}
