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
        if actions {
            output(MarkdownDocs.actions(BuiltinActions.catalog))
            return
        }
        if all {
            let files: [LintInput]
            do { files = try Linter.inputs([directory.runbooks]) } catch {
                printError("error: \(error.message)")
                throw ExitCode(Exit.usage)
            }
            let runbooks = Linter.builtin.lint(inputs: files).compactMap { $0.hasErrors ? nil : $0.runbook }
            output("# Runbooks\n\n" + runbooks.map(MarkdownDocs.runbook).joined(separator: "\n"))
            return
        }
        guard let runbook else {
            printError("error: give a runbook id, --all or --actions")
            throw ExitCode(Exit.usage)
        }
        let (rb, _) = try directory.load(runbook, linter: .builtin)
        output(MarkdownDocs.runbook(rb))
    }
}
