import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

/// `runbook list`: one row per runbook in the directory.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the runbooks in a directory.")

    @OptionGroup var directory: RunbookDirectoryOptions

    func run() async throws {
        let files: [LintInput]
        do { files = try Linter.inputs([directory.runbooks]) } catch {
            printError("error: \(error.message)")
            throw ExitCode(Exit.usage)
        }
        let results = Linter.builtin.lint(inputs: files)
        var rows: [[String]] = [["ID", "SEVERITY", "AUTOMATION", "RECOVERY", "STEPS", "TITLE"]]
        var broken: [String] = []
        // An id several files declare, none of them named after it: `run ID` refuses it.
        var declared: [String: [String]] = [:]
        for r in results { if let id = r.runbook?.id.value { declared[id, default: []].append(r.path) } }
        for r in results {
            guard let rb = r.runbook, !r.hasErrors else { broken.append(r.path); continue }
            rows.append([rb.id.value, rb.severity.value.displayName, rb.automation.value.rawValue,
                         rb.expectedRecovery.map { $0.value.description } ?? "-", String(rb.steps.count), rb.title.value])
        }
        output(Table.render(rows))
        for (id, paths) in declared.sorted(by: { $0.key < $1.key })
        where Linter.owner(of: id, declaredBy: paths) == nil {
            printError("warning: runbook id '\(TerminalText.escaped(id))' is declared by "
                       + paths.map { TerminalText.escaped($0) }.joined(separator: ", ")
                       + "; 'runbook run \(TerminalText.escaped(id))' refuses it until one file has it (run one by its path)")
        }
        // The directory, not the file: a duplicate id is an error only among the files together.
        for path in broken.map({ TerminalText.escaped($0) }) {
            printError("warning: \(path) has lint errors (run 'runbook lint \(TerminalText.escaped(directory.runbooks))')")
        }
    }
}

/// Left-aligned columns separated by two spaces.
enum Table {
    /// Every cell is escaped for the terminal (`TerminalText`): tables show stored and remote text
    /// (incident titles, reasons, runbook titles), and a cell is one line.
    static func render(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map { TerminalText.escaped($0) } }
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0)
            }
            out += line + "\n"
        }
        return out
    }
}
