import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

/// The `runbook` command line. Subcommands only parse, call RunbookKit and print.
public struct RunbookCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Lint, drill and run declarative SRE runbooks.",
        version: version,
        subcommands: [LintCommand.self, RunCommand.self, ResumeCommand.self, DrillCommand.self, TestCommand.self,
                      HistoryCommand.self, SchemaCommand.self, DocsCommand.self,
                      ListCommand.self, ShowCommand.self, StateCommand.self, IncidentCommand.self]
    )

    public init() {}

    /// Commands that docs/cli.md ("Planned commands") names but this build does not have. They
    /// get their own usage error, not "Unexpected argument", and stay out of `runbook --help`.
    public static let plannedCommands = ["check", "watch", "serve"]

    /// The usage error for a planned command (`runbook check ...`, `runbook help check`), if
    /// that is what the arguments ask for.
    static func plannedCommandError(_ arguments: [String]) -> String? {
        var words = arguments[...]
        if words.first == "help" { words = words.dropFirst() }
        guard let name = words.first, plannedCommands.contains(name) else { return nil }
        return "error: '\(name)' is planned and not built yet; see docs/cli.md"
    }

    /// Runs the CLI with the documented exit codes: usage errors exit 2 (not ArgumentParser's 64).
    public static func runMain(_ arguments: [String]? = nil) async -> Never {
        // A reader that goes away (`| head`, quitting `| less`, a dying log shipper) must not kill
        // a run halfway through its remediation: writes to a closed pipe fail (EPIPE, ignored by
        // `output`) and the run goes on. Children get the default disposition back (spawn resets it).
        signal(SIGPIPE, SIG_IGN)
        if let planned = plannedCommandError(arguments ?? Array(CommandLine.arguments.dropFirst())) {
            printError(planned)
            Foundation.exit(Exit.usage)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            printError(fullMessage(for: error))
            Foundation.exit(Exit.usage)
        }
    }
}

/// The documented exit codes.
public enum Exit {
    public static let success: Int32 = 0
    /// lint: errors found; run: failed (rollback ran).
    public static let failure: Int32 = 1
    /// Usage error, unreadable path or invalid runbook.
    public static let usage: Int32 = 2
    /// run: paused awaiting confirmation.
    public static let paused: Int32 = 3
    /// run: rollback itself failed.
    public static let rollbackFailed: Int32 = 4
}

/// Prints to standard error.
func printError(_ text: String) {
    var text = text.hasSuffix("\n") ? text : text + "\n"
    // Straight to the descriptor: FileHandle traps on a closed pipe.
    _ = text.withUTF8 { writeFully(STDERR_FILENO, UnsafeRawBufferPointer($0)) }
}

/// Writes to standard output at once (no buffering surprises), straight from the string's bytes.
func output(_ text: String) {
    var text = text
    // A closed pipe: nothing more to show.
    _ = text.withUTF8 { writeFully(STDOUT_FILENO, UnsafeRawBufferPointer($0)) }
}

/// Options shared by commands that find runbooks by id.
struct RunbookDirectoryOptions: ParsableArguments {
    // ArgumentParser adds "(default: runbooks.d)" itself.
    @Option(name: .long, help: "Directory of runbooks.")
    var runbooks: String = "runbooks.d"

    /// Loads a runbook by id (from the directory) or by path; lint errors abort with exit 2.
    func load(_ idOrPath: String, linter: Linter) throws -> (Runbook, LintedFile) {
        let path: String
        var foundInDirectory = false
        if Linter.hasRunbookExtension(idOrPath) || idOrPath.contains("/") {
            path = idOrPath
        } else {
            let files = (try? Linter.inputs([runbooks])) ?? []
            foundInDirectory = true
            path = try Self.resolve(id: idOrPath, in: files, directory: runbooks, linter: linter)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            printError("error: \(path): " + (YAMLParser.isUndecodableName(path) ? YAMLParser.undecodableName : "no such file"))
            throw ExitCode(Exit.usage)
        }
        let linted = linter.lint(fileAt: path, regularFilesOnly: foundInDirectory)
        guard let runbook = linted.runbook, !linted.hasErrors else {
            // On standard error: what a script captures from show/run/docs is never lint output.
            printError(DiagnosticRenderer(format: .text).render([linted]))
            throw ExitCode(Exit.usage)
        }
        return (runbook, linted)
    }
}

extension RunbookDirectoryOptions {
    /// The file that holds runbook `id`: the one file whose `id:` is `id`, whatever its name.
    /// Two files declaring it, or `ID.yaml` declaring another id, stop with exit 2 naming the
    /// files, so an on-call never runs a runbook other than the one `runbook list` shows as `id`.
    /// When no file declares it, `ID.yaml` is used if its id cannot be read (its lint errors
    /// are then shown).
    static func resolve(id: String, in files: [LintInput], directory: String, linter: Linter) throws -> String {
        let linted = linter.lint(inputs: files)
        let declaring = linted.filter { $0.runbook?.id.value == id }.map(\.path)
        let named = files.map(\.path).filter { Linter.runbookStem($0) == id }
        if let owner = Linter.owner(of: id, declaredBy: declaring) { return owner }
        if declaring.count > 1 {
            printError("error: runbook id '\(id)' is declared by \(declaring.count) files: "
                       + declaring.map { TerminalText.escaped($0) }.joined(separator: ", ")
                       + "; give the id to one of them (see 'runbook lint \(directory)') or name the file to run")
            throw ExitCode(Exit.usage)
        }
        for path in named {
            if let other = linted.first(where: { $0.path == path })?.runbook?.id.value {
                printError("error: \(TerminalText.escaped(path)) declares runbook id '\(other)', not '\(id)'; "
                           + "run it as '\(other)' or by its path, or fix its id")
                throw ExitCode(Exit.usage)
            }
        }
        if let path = named.first { return path }
        printError("error: no runbook with id '\(id)' in \(directory)")
        throw ExitCode(Exit.usage)
    }
}

extension Linter {
    /// The linter over the built-in actions.
    static var builtin: Linter { Linter(catalog: BuiltinActions.catalog) }
}
