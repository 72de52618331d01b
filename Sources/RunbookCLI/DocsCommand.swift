import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

/// `runbook docs ID|--all|--actions`: Markdown for people.
struct DocsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Print Markdown: one runbook (ID), every runbook (--all), or the action reference (--actions)."
    )

    @Argument(help: "Runbook id or path.")
    var runbook: String?

    @Flag(name: .long, help: "Every runbook in the directory.")
    var all = false

    @Flag(name: .long, help: "The built-in action reference (docs/actions.md).")
    var actions = false

    @OptionGroup var directory: RunbookDirectoryOptions

    func run() async throws {
        if actions, all || runbook != nil {
            printError("error: --actions prints the action reference alone; give it without a runbook id or --all")
            throw ExitCode(Exit.usage)
        }
        if actions {
            output(MarkdownDocs.actions(BuiltinActions.catalog))
            return
        }
        if all, let runbook {
            printError("error: give a runbook id or --all, not both ('\(TerminalText.escaped(runbook))' with --all); "
                       + "--all reads the directory of --runbooks")
            throw ExitCode(Exit.usage)
        }
        if all {
            let files: [LintInput]
            do { files = try Linter.inputs([directory.runbooks]) } catch {
                printError("error: \(error.message)")
                throw ExitCode(Exit.usage)
            }
            let runbooks = Linter.builtin.lint(inputs: files).compactMap { $0.hasErrors ? nil : $0.runbook }
            output(Self.shown("# Runbooks\n\n" + runbooks.map { MarkdownDocs.runbook($0, catalog: BuiltinActions.catalog) }.joined(separator: "\n")))
            return
        }
        guard let runbook else {
            printError("error: give a runbook id, --all or --actions")
            throw ExitCode(Exit.usage)
        }
        let (rb, _) = try directory.load(runbook, linter: .builtin)
        output(Self.shown(MarkdownDocs.runbook(rb, catalog: BuiltinActions.catalog)))
    }

    /// The Markdown with the runbook's control characters escaped (`\u{1B}`), as `show` prints
    /// them: an escape sequence in a title must not clear the terminal or hide text. Line
    /// breaks and tabs (code blocks) stay as written.
    static func shown(_ markdown: String) -> String {
        TerminalText.escaped(markdown, keepingNewlines: true, keepingTabs: true)
    }
}
