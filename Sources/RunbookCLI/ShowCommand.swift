import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

/// `runbook show ID`: a runbook's metadata, triggers, steps and rollback at a glance.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a runbook: metadata, description, triggers, steps, rollback, manual recovery, prevention."
    )

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
    static func text(_ rb: Runbook, catalog: ActionCatalog? = BuiltinActions.catalog) -> String {
        // Every value from the file is escaped: a `\r` or an escape sequence in a title or a step
        // name could otherwise hide what a step really does.
        let t = { (text: String) in TerminalText.escaped(text) }
        var out = "\(rb.id.value): \(t(rb.title.value))\n"
        out += "  severity: \(rb.severity.value.displayName)   automation: \(rb.automation.value.rawValue)"
        if let r = rb.expectedRecovery { out += "   expected recovery: \(r.value)" }
        out += "\n"
        if let owner = rb.owner { out += "  owner: \(t(owner.value))\n" }
        if !rb.components.isEmpty { out += "  components: \(t(rb.components.map(\.value).joined(separator: ", ")))\n" }
        if let d = rb.description { out += "\n" + block(d.value) }
        if !rb.params.isEmpty {
            out += "\nparams:\n"
            // As `docs` shows them: a default given to a secret or a notification URL hidden.
            let shown = MarkdownDocs.defaultShown(rb, catalog: catalog)
            for p in rb.params {
                // An empty text default is shown as "" (a blank would read as no value at all).
                let def = p.defaultValue.map { " = " + ($0.value == .string("") ? "\"\"" : t(shown(p.name.value, $0.value.interpolationText))) }
                    ?? (p.required ? " (required)" : "")
                let choices = p.enumValues.map { " one of " + t($0.map { $0 == .string("") ? "\"\"" : $0.interpolationText }.joined(separator: ", ")) } ?? ""
                out += "  \(p.name.value): \(p.type.rawValue)\(choices)\(def)\(p.description.map { "  — \(t($0))" } ?? "")\n"
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
        // Last, so it is what stays on screen: what the on-call does by hand when the run
        // cannot finish the job.
        if let m = rb.manualRecovery { out += "\nmanual recovery:\n" + block(m.value) }
        if !rb.prevention.isEmpty {
            out += "\nprevention:\n"
            for p in rb.prevention { out += "  - " + lines(p.value, indent: "    ") + "\n" }
        }
        return out
    }

    /// Text written as Markdown (a description, the manual recovery), as written: every line
    /// indented by two spaces, line breaks kept (commands in it stay copyable), control
    /// characters escaped, trailing blank lines dropped.
    static func block(_ text: String) -> String {
        "  " + lines(text, indent: "  ") + "\n"
    }

    /// `text` escaped for the terminal with its line breaks kept, each continued under `indent`
    /// (blank lines stay empty).
    static func lines(_ text: String, indent: String) -> String {
        var kept = Substring(text)
        while let last = kept.last, last.isWhitespace { kept = kept.dropLast() }
        return TerminalText.escaped(String(kept), keepingNewlines: true)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().map { $0.offset == 0 || $0.element.isEmpty ? String($0.element) : indent + $0.element }
            .joined(separator: "\n")
    }

    /// A condition as written: a bare one (`when: x == 1`) is kept wrapped as `${{x == 1}}`.
    static func condition(_ c: LocatedTemplate) -> String {
        let source = c.template.source
        guard source.hasPrefix("${{"), !source.hasPrefix("${{ "), source.hasSuffix("}}") else { return source }
        return String(source.dropFirst(3).dropLast(2))
    }

    /// A step's first line (number, id, action, name), then one indented line per thing the
    /// on-call weighs before running it: when it runs, what it asks, how long and how often it
    /// tries, what counts as done, what happens on failure, what it undoes.
    static func stepLine(_ n: Int, _ s: Step) -> String {
        let t = { (text: String) in TerminalText.escaped(text) }
        var out = "  \(n). \(s.id.value) [\(t(s.action.value))]"
        if let name = s.name { out += " \(t(name))" }
        out += "\n"
        let indent = "       "
        if let w = s.when { out += indent + "when: \(t(condition(w)))\n" }
        // A `confirm:` gate, or the `confirm` action's own question.
        if let q = s.question {
            out += indent + "confirm: \"\(t(q.text))\""
            out += q.expiry.map { " (declined after \(t($0)) without an answer)" } ?? ""
            out += "\n"
        }
        var tries: [String] = []
        if let timeout = s.timeout { tries.append("timeout \(timeout.value) per try") }
        if let r = s.retry { tries.append(r.summary) }
        if let u = s.until { tries.append("until \(t(condition(u)))") }
        if !tries.isEmpty { out += indent + tries.joined(separator: ", ") + "\n" }
        if s.failureMode != .rollback { out += indent + "on_failure: \(s.failureMode.rawValue)\n" }
        if s.rollbackNone { out += indent + "rollback: none\n" }
        if !s.undoes.isEmpty { out += indent + "undoes: \(s.undoes.map(\.value).joined(separator: ", "))\n" }
        return out
    }
}
