import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

extension DiagnosticFormat: ExpressibleByArgument {}

/// `runbook lint [PATH...]`: YAML errors, schema, action parameters, expressions, references and semantics.
struct LintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check runbooks: YAML, schema, action parameters, expressions and runbook semantics.",
        discussion: """
        Exit status: 0 no errors (warnings allowed unless --strict), 1 errors found, 2 usage error or unreadable path \
        (a missing path, a directory without runbooks, or a file that cannot be read: its io-error is still reported).
        Silence a rule on one line with '# runbook-lint: ignore RULE', in a file with '# runbook-lint: ignore-file RULE', \
        for a repository in .runbook-lint.yaml (ignore, severity, per_file, strict; see docs/lint.md).
        """
    )

    @Argument(help: "Files or directories (default: runbooks.d).")
    var paths: [String] = []

    @Option(name: .long, help: "Output format: text, json, sarif or github.")
    var format: DiagnosticFormat = .text

    @Flag(name: .long, help: "Treat warnings as errors.")
    var strict = false

    @Option(name: .long, help: "Silence a rule everywhere (repeatable, or several separated by commas).")
    var ignore: [String] = []

    @Flag(name: .long, help: "List every rule id with its severity and summary, then exit.")
    var rules = false

    @Option(name: .long, help: "Lint config file (default: the nearest .runbook-lint.yaml from here up to the repository root).")
    var config: [String] = []

    @Flag(name: .long, help: "Use no lint config file, not even a .runbook-lint.yaml found.")
    var noConfig = false

    func run() async throws {
        if rules {
            switch format {
            case .text:
                // As wide as the longest id: a truncated id would not be accepted back by --ignore.
                let width = BuiltinRules.descriptions.map(\.id.count).max() ?? 0
                for r in BuiltinRules.descriptions {
                    output("\(r.id.padding(toLength: width, withPad: " ", startingAt: 0)) \(r.severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(r.summary)\n")
                }
            case .json:
                // The same list as the text, for tools: [{"id", "severity", "summary"}], in that order.
                let list = Value.list(BuiltinRules.descriptions.map { r in
                    .map(["id": .string(r.id), "severity": .string(r.severity.rawValue), "summary": .string(r.summary)])
                })
                output(list.jsonText(pretty: true) + "\n")
            case .sarif, .github:
                printError("error: --rules prints text or json, not \(format.rawValue)")
                throw ExitCode(Exit.usage)
            }
            return
        }
        let known = Set(BuiltinRules.descriptions.map(\.id))
        // `--ignore a,b` as in a comment's `ignore a, b`.
        // `--ignore ''` (an unset variable in a CI script) silences nothing: say so, as for an unknown id.
        if let empty = self.ignore.first(where: { LintConfig.ruleIDs(in: $0).isEmpty }) {
            printError("error: --ignore '\(TerminalText.escaped(empty))': no rule id given")
            throw ExitCode(Exit.usage)
        }
        let ignore = ignore.flatMap(LintConfig.ruleIDs(in:))
        for rule in ignore where !known.contains(rule) {
            printError("error: --ignore: unknown rule '\(rule)'" + Suggestions.hint(for: rule, in: Array(known)))
            throw ExitCode(Exit.usage)
        }
        // One config: a second `--config` would otherwise silently replace the first.
        if config.count > 1 {
            printError("error: --config is given \(config.count) times; lint reads one config file")
            throw ExitCode(Exit.usage)
        }
        if config.first?.isEmpty == true {
            printError("error: --config needs the path of a config file")
            throw ExitCode(Exit.usage)
        }
        if !config.isEmpty && noConfig {
            printError("error: --config and --no-config exclude each other")
            throw ExitCode(Exit.usage)
        }
        var settings: LintConfig?
        if let path = config.first ?? (noConfig ? nil : LintConfig.discover()) {
            let (loaded, problems) = LintConfig.load(path: path)
            for d in problems { printError("\(d.location): \(d.severity.rawValue): \(d.message) [\(d.ruleID)]") }
            guard let loaded else {
                printError("error: \(path): the lint config has errors; fix them or run with --no-config")
                throw ExitCode(Exit.usage)
            }
            settings = loaded
        }
        let strict = strict || settings?.strict == true
        let files: [LintInput]
        do {
            files = try Linter.inputs(paths.isEmpty ? ["runbooks.d"] : paths)
        } catch {
            printError("error: \(error.message)")
            throw ExitCode(Exit.usage)
        }
        var linter = Linter.builtin
        linter.ignoredRules = Set(ignore)
        linter.config = settings
        // Findings only: each step is checked as the file is read and kept as a summary.
        linter.summarizesSteps = true
        let results = linter.lint(inputs: files)
        let color = format == .text && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let renderer = DiagnosticRenderer(format: format, strict: strict, color: color, toolVersion: RunbookCommand.version)
        output(renderer.render(results))
        let failed = results.contains { file in file.diagnostics.contains { renderer.effectiveSeverity($0) == .error } }
        // The process ends right after this: freeing every file's runbook and source first
        // (a few percent of lint's time on big inputs) would be wasted, so they are kept.
        _ = Unmanaged.passRetained(ResultsKeptUntilExit(results))
        // Every finding is reported, but a file that could not be read is an unreadable path (exit 2):
        // lint did not check it, so "no errors" or "errors found" would both claim too much.
        if results.contains(where: \.isUnreadable) { throw ExitCode(Exit.usage) }
        if failed { throw ExitCode(Exit.failure) }
    }
}

/// Holds lint results that are deliberately never freed (see `LintCommand.run`).
private final class ResultsKeptUntilExit: Sendable {
    let results: [LintedFile]
    init(_ results: [LintedFile]) { self.results = results }
}
