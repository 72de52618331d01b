import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

/// `runbook incident create|list|show|resolve|note`.
struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Create, list, show and resolve incidents (kept in the state store with their timelines).",
        discussion: "An unknown incident id is an error (exit 2), and so is resolving an incident twice.",
        subcommands: [IncidentCreateCommand.self, IncidentListCommand.self, IncidentShowCommand.self,
                      IncidentResolveCommand.self, IncidentNoteCommand.self]
    )
}

/// An id argument that names an existing incident, or exit 2.
func existingIncident(_ raw: String, in db: SQLiteStore?) throws -> Incident {
    guard let id = IncidentID.normalize(raw) else {
        printError("error: '\(TerminalText.escaped(raw))' is not an incident id (INC-0001, INC-0002, ...)")
        throw ExitCode(Exit.usage)
    }
    guard let incident = try storeCommand({ try db?.incident(id: id) }) else {
        printError("error: no incident '\(id)' (see 'runbook incident list --status all')")
        throw ExitCode(Exit.usage)
    }
    return incident
}

/// `runbook incident create`.
struct IncidentCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Open an incident and print its id.",
        discussion: """
        Either --title and --severity (with --description and --component as needed), or --json with the \
        same fields: '{"title": "...", "severity": "sev2", "description": "...", "components": ["LLM"]}'.
        """
    )

    @Option(name: .long, help: "One-line title.")
    var title: String?

    @Option(name: .long, help: "sev1, sev2, sev3 or sev4.")
    var severity: String?

    @Option(name: .long, help: "What happened (Markdown).")
    var description: String?

    @Option(name: .long, help: "An affected component (repeatable).")
    var component: [String] = []

    @Option(name: .long, help: "The incident as a JSON object instead of the options above.")
    var json: String?

    @OptionGroup var store: StateStoreOptions

    /// The draft from the options or from --json.
    func draft() throws -> IncidentDraft {
        var title = self.title, severity = self.severity, description = self.description ?? ""
        var components = component
        if let json {
            guard title == nil, severity == nil, self.description == nil, component.isEmpty else {
                throw ValidationError("give either --json or --title/--severity/--description/--component, not both")
            }
            guard case .map(let m)? = Value.parseJSON(json) else {
                throw ValidationError("--json must be a JSON object with title and severity")
            }
            let known: Set = ["title", "severity", "description", "components"]
            if let unknown = m.keys.sorted().first(where: { !known.contains($0) }) {
                throw ValidationError("--json: unknown field '\(unknown)' (expected \(known.sorted().joined(separator: ", ")))")
            }
            title = m["title"]?.stringValue
            severity = m["severity"]?.stringValue
            description = m["description"]?.stringValue ?? ""
            switch m["components"] {
            case nil, .null?: components = []
            case .list(let items)?:
                guard items.allSatisfy({ $0.stringValue != nil }) else {
                    throw ValidationError("--json: components must be a list of strings")
                }
                components = items.compactMap(\.stringValue)
            default: throw ValidationError("--json: components must be a list of strings")
            }
        }
        guard let title, !title.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("an incident needs a title (--title, or \"title\" in --json)")
        }
        guard let severity else { throw ValidationError("an incident needs a severity (--severity sev1…sev4)") }
        guard let normalized = IncidentSeverity.normalize(severity) else {
            throw ValidationError("severity must be one of \(IncidentSeverity.all.joined(separator: ", ")), got '\(severity)'")
        }
        return IncidentDraft(title: title, description: description, severity: normalized, components: components)
    }

    func validate() throws { _ = try draft() }

    func run() async throws {
        let draft = try self.draft()
        let db = try store.open()
        let incident = try storeCommand { try db.createIncident(draft, origin: StateStoreOptions.manual(reason: nil)) }
        output(incident.id + "\n")
    }
}

/// `runbook incident list`.
struct IncidentListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List incidents (open ones by default).")

    /// `--status`.
    enum Status: String, ExpressibleByArgument, CaseIterable {
        case open, resolved, all
    }

    @Option(name: .long, help: "open, resolved or all.")
    var status: Status = .open

    @Option(name: .long, help: "Output: text or json.")
    var format: RunOutputFormat = .text

    @OptionGroup var store: StateStoreOptions

    func run() async throws {
        let db = try store.openExisting()
        let filter = IncidentFilter(rawValue: status.rawValue) ?? .open
        let incidents = try storeCommand { try db?.incidents(filter) ?? [] }
        if format == .json {
            output(Value.list(incidents.map { IncidentJSON.incident($0) }).jsonText(pretty: true) + "\n")
            return
        }
        guard !incidents.isEmpty else {
            output(status == .all ? "no incidents\n" : "no \(status.rawValue) incidents\n")
            return
        }
        var rows = [["ID", "SEVERITY", "STATUS", "CREATED", "TITLE"]]
        for i in incidents {
            rows.append([i.id, i.severity, i.status.rawValue, Journal.timestamp(i.createdAt), i.title])
        }
        output(Table.render(rows))
    }
}

/// `runbook incident show ID`.
struct IncidentShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an incident with its timeline.")

    @Argument(help: "Incident id, e.g. INC-0001.")
    var id: String

    @Option(name: .long, help: "Output: text or json.")
    var format: RunOutputFormat = .text

    @OptionGroup var store: StateStoreOptions

    func run() async throws {
        let db = try store.openExisting()
        let incident = try existingIncident(id, in: db)
        let timeline = try storeCommand { try db?.timeline(id: incident.id) ?? [] }
        let runs = try storeCommand { try db?.runs(linkedTo: incident.id) ?? [] }
        if format == .json {
            var m = IncidentJSON.incident(incident).mapValue
            m["runs"] = .list(runs.map(Value.string))
            m["timeline"] = .list(timeline.map(IncidentJSON.entry))
            output(Value.map(m).jsonText(pretty: true) + "\n")
            return
        }
        // Titles, notes and timeline texts come from runs (command output, remote errors): every
        // stored text is escaped for the terminal; the description and timeline texts keep their lines.
        let t = { (text: String) in TerminalText.escaped(text) }
        let multiline = { (text: String) in TerminalText.escaped(text, keepingNewlines: true) }
        var lines = ["\(incident.id)  \(t(incident.title))",
                     "severity:    \(t(incident.severity))",
                     "status:      \(incident.status.rawValue)",
                     "created:     \(Journal.timestamp(incident.createdAt)) by \(t(incident.createdBy))"]
        if !incident.components.isEmpty { lines.append("components:  \(t(incident.components.joined(separator: ", ")))") }
        if let at = incident.resolvedAt {
            lines.append("resolved:    \(Journal.timestamp(at)) by \(t(incident.resolvedBy ?? "?"))")
            lines.append("resolution:  \(t(incident.resolution ?? ""))")
        }
        if !runs.isEmpty { lines.append("runs:        \(t(runs.joined(separator: ", ")))") }
        if !incident.description.isEmpty {
            lines.append("")
            lines.append(contentsOf: multiline(incident.description).split(separator: "\n", omittingEmptySubsequences: false)
                .map { "  " + $0 })
        }
        lines.append("")
        lines.append("timeline:")
        for e in timeline {
            let step = e.step.map { " [\(t($0))]" } ?? ""
            lines.append("  \(Journal.timestamp(e.at))  \(t(e.kind))\(step)  \(multiline(e.text).replacingOccurrences(of: "\n", with: "\n      "))")
        }
        output(lines.joined(separator: "\n") + "\n")
    }
}

/// `runbook incident resolve ID --resolution TEXT`.
struct IncidentResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Resolve an open incident.")

    @Argument(help: "Incident id, e.g. INC-0001.")
    var id: String

    @Option(name: .long, help: "How it was resolved (root cause, fix).")
    var resolution: String

    @OptionGroup var store: StateStoreOptions

    func validate() throws {
        guard !resolution.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--resolution must say how the incident was resolved")
        }
    }

    func run() async throws {
        let db = try store.openExisting()
        let incident = try existingIncident(id, in: db)
        let resolved = try storeCommand {
            try db!.resolveIncident(id: incident.id, resolution: resolution, origin: StateStoreOptions.manual(reason: nil))
        }
        output("\(resolved.id) resolved\n")
    }
}

/// `runbook incident note ID TEXT`.
struct IncidentNoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "Add a line to an incident's timeline.")

    @Argument(help: "Incident id, e.g. INC-0001.")
    var id: String

    @Argument(help: "The timeline entry.")
    var text: String

    @OptionGroup var store: StateStoreOptions

    func run() async throws {
        let db = try store.openExisting()
        let incident = try existingIncident(id, in: db)
        let actor = StateStoreOptions.manual(reason: nil).actor
        try storeCommand {
            try db!.append([TimelineEntry(at: Date(), kind: "note", text: text, runID: nil, step: nil, actor: actor)],
                           to: incident.id)
        }
        output("note added to \(incident.id)\n")
    }
}

/// Incidents as JSON objects (`runbook incident list/show --format json`).
enum IncidentJSON {
    static func incident(_ i: Incident) -> Value {
        .map(["id": .string(i.id), "title": .string(i.title), "description": .string(i.description),
              "severity": .string(i.severity), "components": .list(i.components.map(Value.string)),
              "status": .string(i.status.rawValue), "created_at": .string(Journal.timestamp(i.createdAt)),
              "created_by": .string(i.createdBy), "run_id": i.runID.map(Value.string) ?? .null,
              "resolved_at": i.resolvedAt.map { .string(Journal.timestamp($0)) } ?? .null,
              "resolved_by": i.resolvedBy.map(Value.string) ?? .null, "resolution": i.resolution.map(Value.string) ?? .null])
    }

    static func entry(_ e: TimelineEntry) -> Value {
        .map(["at": .string(Journal.timestamp(e.at)), "kind": .string(e.kind), "text": .string(e.text),
              "run_id": e.runID.map(Value.string) ?? .null, "step": e.step.map(Value.string) ?? .null,
              "actor": .string(e.actor)])
    }
}
