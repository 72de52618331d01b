import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

/// `runbook show ID`: a runbook's metadata, triggers, steps and rollback at a glance.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a runbook: metadata, triggers, steps, rollback.")

    @Argument(help: "Runbook id or path.")
    var runbook: String

    @OptionGroup var directory: RunbookDirectoryOptions

    func run() async throws {
        let (rb, _) = try directory.load(runbook, linter: .builtin)
        output(RunbookSummary.text(rb))
    }
}

/// Human-readable summaries of a runbook.
enum RunbookSummary {
    static func text(_ rb: Runbook) -> String {
        // Every value from the file is escaped: a `\r` or an escape sequence in a title or a step
        // name could otherwise hide what a step really does.
        let t = { (text: String) in TerminalText.escaped(text) }
        var out = "\(rb.id.value): \(t(rb.title.value))\n"
        out += "  severity: \(rb.severity.value.displayName)   automation: \(rb.automation.value.rawValue)"
        if let r = rb.expectedRecovery { out += "   expected recovery: \(r.value)" }
        out += "\n"
        if let owner = rb.owner { out += "  owner: \(t(owner.value))\n" }
        if !rb.components.isEmpty { out += "  components: \(t(rb.components.map(\.value).joined(separator: ", ")))\n" }
        if !rb.params.isEmpty {
            out += "\nparams:\n"
            for p in rb.params {
                let def = p.defaultValue.map { " = \(t($0.value.interpolationText))" } ?? (p.required ? " (required)" : "")
                out += "  \(p.name.value): \(p.type.rawValue)\(def)\(p.description.map { "  — \(t($0))" } ?? "")\n"
            }
        }
        if let t = rb.triggers {
            out += "\ntriggers (\(t.match.rawValue)):\n"
            for c in t.conditions { out += "  - \(c.id.value): \(TerminalText.escaped(MarkdownDocs.triggerText(c, code: { $0 })))\n" }
        }
        out += "\nsteps:\n"
        for (n, s) in rb.steps.enumerated() { out += stepLine(n + 1, s) }
        if !rb.rollback.isEmpty {
            out += "\nrollback:\n"
            for (n, s) in rb.rollback.enumerated() { out += stepLine(n + 1, s) }
        }
        return out
    }

    static func stepLine(_ n: Int, _ s: Step) -> String {
        var line = "  \(n). \(s.id.value) [\(TerminalText.escaped(s.action.value))]"
        if let name = s.name { line += " \(TerminalText.escaped(name))" }
        var flags: [String] = []
        if s.confirm != nil || s.action.value == "confirm" { flags.append("confirm") }
        if let w = s.when { flags.append("when \(TerminalText.escaped(w.template.source))") }
        if let r = s.retry { flags.append("retry \(r.attempts.value)x") }
        if s.failureMode != .rollback { flags.append("on_failure \(s.failureMode.rawValue)") }
        if !s.undoes.isEmpty { flags.append("undoes \(s.undoes.map(\.value).joined(separator: ", "))") }
        if !flags.isEmpty { line += "  (" + flags.joined(separator: "; ") + ")" }
        return line + "\n"
    }
}
