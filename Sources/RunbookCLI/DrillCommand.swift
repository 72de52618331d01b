import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

/// Dry-runs a runbook in memory (no journal, nothing changed) and returns its outcome.
enum DryRun {
    static func outcome(_ runbook: Runbook, params: [String: String], scenario: Scenario?,
                        reporters: [any RunReporter] = []) async throws(ParamBinding.Problem) -> RunOutcome {
        let bound = try ParamBinding.bind(runbook, params)
        var confirmer = ConfirmationPolicy(scenarioAnswers: scenario?.steps.compactMapValues(\.confirm) ?? [:],
                                           interactive: false, operatorName: "drill")
        confirmer.scenarioPauses = scenario?.pausedSteps ?? []
        let options = RunOptions(dryRun: true, params: bound, scenario: scenario, confirmer: confirmer)
        let executor = Executor(runbook: runbook, registry: BuiltinActions.registry, options: options,
                                runID: "dry-\(runbook.id.value)", journal: nil, reporters: reporters,
                                stateDirectory: NSTemporaryDirectory())
        return await executor.run()
    }
}

/// `runbook drill [DIR]`: the monthly drill: dry-run every runbook, one row each.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Dry-run every runbook in a directory (nothing is changed, nobody is notified); one row each.",
        discussion: "Exit status 1 if any runbook fails to lint or its dry-run fails."
    )

    @Argument(help: "Directory of runbooks.")
    var directory: String = "runbooks.d"

    @Option(name: .long, help: "Output: text or json.")
    var format: RunOutputFormat = .text

    @Option(name: .long, help: "A param as name=value (repeatable, each name once), given to every runbook that declares it.")
    var param: [String] = []

    func run() async throws {
        let given: [String: String]
        do { given = try ParamBinding.parseAssignments(param) } catch {
            printError("error: \(error.description)")
            throw ExitCode(Exit.usage)
        }
        let files: [LintInput]
        do { files = try Linter.inputs([directory]) } catch {
            printError("error: \(error.message)")
            throw ExitCode(Exit.usage)
        }
        var rows: [[String]] = [["RUNBOOK", "RESULT", "STEPS", "TIME", "DETAIL"]]
        var items: [Value] = []
        var failures = 0
        for linted in Linter.builtin.lint(inputs: files) {
            let name = linted.runbook?.id.value ?? linted.path
            var result = "ok", detail = "", steps = "-", time = "-"
            var skippedOnSimulated: Int?
            if let rb = linted.runbook, !linted.hasErrors {
                do {
                    let own = given.filter { rb.param($0.key) != nil }
                    let outcome = try await DryRun.outcome(rb, params: own, scenario: nil)
                    steps = "\(outcome.executed.count) ran, \(outcome.skipped.count) skipped"
                    time = "\(outcome.durationMS) ms"
                    let simulated = Self.skippedOnSimulatedOutputs(rb, skipped: outcome.skipped)
                    skippedOnSimulated = simulated.count
                    if outcome.status != .succeeded {
                        result = "FAIL"
                        detail = "\(outcome.status.rawValue): " + (outcome.stoppedBy ?? outcome.firstFailure ?? outcome.pauseReason ?? "")
                    } else {
                        var notes: [String] = []
                        if !outcome.failed.isEmpty {
                            // Passed, but a step failed under `on_failure: continue`: say which.
                            notes.append("\(outcome.failed.count) step(s) failed and the run went on (on_failure: continue): "
                                         + (outcome.firstFailure ?? outcome.failed.joined(separator: ", ")))
                        }
                        if let skips = Self.skipNote(rb, skipped: outcome.skipped, simulated: Set(simulated)) { notes.append(skips) }
                        detail = notes.joined(separator: "; ")
                    }
                } catch {
                    result = "FAIL"; detail = error.description
                }
            } else {
                result = "FAIL"
                let errors = linted.diagnostics.filter { $0.severity == .error }
                detail = "\(errors.count) lint error(s): " + (errors.first.map { "\($0.location): \($0.message)" } ?? "")
            }
            if result != "ok" { failures += 1 }
            rows.append([name, result, steps, time, detail])
            items.append(.map(["runbook": .string(name), "result": .string(result), "detail": .string(detail),
                               "skipped_on_simulated_outputs": skippedOnSimulated.map(Value.int) ?? .null]))
        }
        if format == .json { output(Value.list(items).jsonText(pretty: true) + "\n") } else {
            output(Table.render(rows))
            output("\(rows.count - 1 - failures) passed, \(failures) failed\n")
        }
        if failures > 0 { throw ExitCode(Exit.failure) }
    }

    /// The skipped steps whose `when` reads another step (`steps.*`): a drill has no scenario, so
    /// what it read was a simulated output (null) or a simulated status, not what the systems
    /// would answer in an incident. An `ok` row says nothing about those steps.
    static func skippedOnSimulatedOutputs(_ rb: Runbook, skipped: [String]) -> [String] {
        skipped.filter { id in
            rb.step(id)?.when?.template.references.contains { $0.first == "steps" } == true
        }
    }

    /// The DETAIL note for skipped steps: how many the simulated outputs decided, how many
    /// the values a drill really has (params, env, run) decided, and that scenario tests are
    /// what walks those branches.
    /// `simulated`: those of `skipped` that `skippedOnSimulatedOutputs` finds.
    static func skipNote(_ rb: Runbook, skipped: [String], simulated: Set<String>) -> String? {
        guard !skipped.isEmpty else { return nil }
        let others = skipped.filter { !simulated.contains($0) }
        func steps(_ n: Int) -> String { n == 1 ? "1 step" : "\(n) steps" }
        var parts: [String] = []
        if !simulated.isEmpty { parts.append("\(steps(simulated.count)) skipped by 'when' on simulated outputs") }
        if !others.isEmpty {
            // What those conditions read, in the order the format lists the contexts.
            let read = Set(others.flatMap { rb.step($0)?.when?.template.references.compactMap(\.first) ?? [] })
            let contexts = ["params", "env", "secrets", "run", "trigger"].filter(read.contains)
            parts.append("\(steps(others.count)) skipped by 'when'"
                         + (contexts.isEmpty ? "" : " on " + contexts.joined(separator: ", ")))
        }
        return parts.joined(separator: ", ") + ": cover \(skipped.count == 1 ? "it" : "them") with scenario tests (runbook test)"
    }
}

/// `runbook test [PATH...]`: scenario tests (`*.test.yaml`) run as dry-runs and compared with `expect:`.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run scenario tests (*.test.yaml): simulated outputs and answers per step, expected status and steps.",
        discussion: "Each scenario names its runbook (id or path relative to the scenario file). Exit status 1 if any test fails."
    )

    @Argument(help: "Scenario files or directories (default: runbooks.d and tests).")
    var paths: [String] = []

    @OptionGroup var directory: RunbookDirectoryOptions

    @Flag(name: .long, help: "Show each test's run.")
    var verbose = false

    func run() async throws {
        var files: [String] = []
        let roots = paths.isEmpty ? [directory.runbooks, "tests"].filter { FileManager.default.fileExists(atPath: $0) } : paths
        for root in roots {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir) else {
                printError("error: \(root): no such file or directory")
                throw ExitCode(Exit.usage)
            }
            if !isDir.boolValue { files.append(root); continue }
            let entries = FileManager.default.enumerator(atPath: root)?.allObjects.compactMap { $0 as? String } ?? []
            let found = entries.filter(Linter.isScenarioFile).sorted().map { root + "/" + $0 }
            // A CI gate must not pass on a misspelt directory or misnamed files (`a_test.yaml`).
            if found.isEmpty {
                printError("error: \(root): no scenario files (*.test.yaml, *.test.yml) found")
                throw ExitCode(Exit.usage)
            }
            files += found
        }
        if roots.isEmpty {
            printError("error: no scenario files: neither \(directory.runbooks) nor tests exists; name the files or directories to run")
            throw ExitCode(Exit.usage)
        }
        // A scenario named twice (`a.test.yaml ./a.test.yaml`, a file inside a directory also named) runs once.
        var seen: Set<String> = []
        files = files.filter { seen.insert(Linter.realPath($0) ?? $0).inserted }
        var passed = 0, failed = 0
        for file in files {
            let problems = await runOne(file)
            if problems.isEmpty {
                passed += 1
                output("PASS \(file)\n")
            } else {
                failed += 1
                output("FAIL \(file)\n" + problems.map { "  \($0)\n" }.joined())
            }
        }
        output("\(passed) passed, \(failed) failed\n")
        if failed > 0 { throw ExitCode(Exit.failure) }
    }

    private func runOne(_ file: String) async -> [String] {
        let (loaded, diagnostics) = Scenario.load(path: file)
        if loaded == nil, diagnostics.contains(where: { $0.message.contains("unknown key 'version'") || $0.message.contains("unknown key 'id'") }) {
            return ["\(file) looks like a runbook, not a scenario: scenario files are named *.test.yaml and hold "
                    + "'runbook', 'steps' (outcomes per step id) and 'expect' (see docs/cli.md)"]
        }
        guard let scenario = loaded else {
            return diagnostics.filter { $0.severity == .error }.map { "\($0.location): \($0.message) [\($0.ruleID)]" }
        }
        guard let name = scenario.runbook else { return ["\(file): the scenario does not name its 'runbook'"] }
        var path = name
        var foundInDirectory = false
        if Linter.hasRunbookExtension(name) || name.contains("/") {
            if !name.hasPrefix("/") { path = ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name) }
        } else {
            // In --runbooks (default runbooks.d, from the current directory), else beside the
            // scenario or one level up (runbooks.d/tests/x.test.yaml tests runbooks.d/x.yaml), so
            // the result does not depend on where the command runs.
            let scenarioDirectory = (file as NSString).deletingLastPathComponent
            let places = [directory.runbooks, scenarioDirectory, (scenarioDirectory as NSString).deletingLastPathComponent]
            let match = places.lazy.compactMap { place in
                ((try? Linter.inputs([place.isEmpty ? "." : place])) ?? [])
                    .first { Linter.runbookStem(($0.path as NSString).lastPathComponent) == name }
            }.first
            guard let match else {
                return ["no runbook '\(name)' in \(directory.runbooks), beside the scenario or one directory up"]
            }
            path = match.path
            foundInDirectory = true
        }
        let linted = Linter.builtin.lint(fileAt: path, regularFilesOnly: foundInDirectory)
        guard let rb = linted.runbook, !linted.hasErrors else { return ["runbook \(path) has lint errors"] }
        let mismatches = scenario.problems(for: rb, catalog: BuiltinActions.catalog)
        if !mismatches.isEmpty { return mismatches }
        // Every line of the run indented under its test (a write may hold several lines).
        let reporter = TextRunReporter(color: false) { text in
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            output(lines.enumerated().map { $0.offset == lines.count - 1 && $0.element.isEmpty ? "" : "    " + $0.element }
                .joined(separator: "\n"))
        }
        let outcome: RunOutcome
        do { outcome = try await DryRun.outcome(rb, params: scenario.params, scenario: scenario, reporters: verbose ? [reporter] : []) }
        catch { return [error.description] }
        guard let expect = scenario.expect else {
            return outcome.status == .succeeded ? []
                : ["run \(outcome.status.rawValue)" + ((outcome.stoppedBy ?? outcome.firstFailure ?? outcome.pauseReason).map { " (\($0))" } ?? "")]
        }
        var problems: [String] = []
        if let status = expect.status, status != outcome.status {
            problems.append("expected status \(status.rawValue), got \(outcome.status.rawValue)"
                            + (outcome.stoppedAt.map { " (step '\($0)' failed)" }
                               // Nothing stopped the run: a failure it went on from is no cause.
                               ?? (outcome.status == .succeeded ? outcome.failed.first.map { " (step '\($0)' failed under on_failure: continue)" }
                                   : outcome.failed.first.map { " (step '\($0)' failed)" }) ?? ""))
        }
        func compare(_ label: String, _ expected: [String]?, _ actual: [String]) {
            if let expected, expected != actual {
                problems.append("expected \(label) [\(expected.joined(separator: ", "))], got [\(actual.joined(separator: ", "))]")
            }
        }
        compare("executed", expect.executed, outcome.executed)
        compare("skipped", expect.skipped, outcome.skipped)
        compare("rolled_back", expect.rolledBack, outcome.rolledBack)
        return problems
    }
}
