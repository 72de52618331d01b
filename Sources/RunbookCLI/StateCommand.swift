import ArgumentParser
import Foundation
import RunbookActions
import RunbookKit

/// Options shared by the `state` and `incident` subcommands.
struct StateStoreOptions: ParsableArguments {
    @Option(name: .long, help: "State directory (default: $RUNBOOK_STATE_DIR or .runbook).")
    var stateDir: String?

    var directory: StateDirectory { StateDirectory.resolve(option: stateDir) }

    /// The store, created when missing (commands that change something).
    func open() throws -> SQLiteStore {
        do { return try SQLiteStore.open(stateDirectory: directory.path) } catch {
            printError("error: \(TerminalText.escaped("\(error)", keepingNewlines: true))")
            throw ExitCode(Exit.usage)
        }
    }

    /// The store when it exists (commands that only read create nothing).
    func openExisting() throws -> SQLiteStore? {
        do { return try SQLiteStore.openExisting(stateDirectory: directory.path) } catch {
            printError("error: \(TerminalText.escaped("\(error)", keepingNewlines: true))")
            throw ExitCode(Exit.usage)
        }
    }

    /// Who changes things by hand: `manual:<user>`.
    static func manual(reason: String?) -> ChangeOrigin {
        .manual(user: ConfirmationPolicy.currentUser(), reason: reason)
    }
}

/// Runs a store call; its errors become exit 2 with a message (escaped: it may quote stored text).
func storeCommand<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("error: \(TerminalText.escaped("\(error)", keepingNewlines: true))")
        throw ExitCode(Exit.usage)
    }
}

/// `runbook state`: breakers and flags, shown and set by hand.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Show circuit breakers and feature flags, or set them by hand.",
        discussion: """
        The state lives in <state dir>/state.sqlite (see docs/state.md); applications read it there or \
        through 'runbook state --format json'. A breaker never set is closed; a flag never set is unset. \
        Changes by hand are recorded with actor manual:<user>.
        """,
        subcommands: [StateShowCommand.self, StateBreakerCommand.self, StateFlagCommand.self, StateHistoryCommand.self],
        defaultSubcommand: StateShowCommand.self
    )
}

/// `runbook state [show]`.
struct StateShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print breakers and flags (the default).")

    @OptionGroup var store: StateStoreOptions

    @Option(name: .long, help: "Output: text or json.")
    var format: RunOutputFormat = .text

    func run() async throws {
        let db = try store.openExisting()
        let breakers = try storeCommand { try db?.breakers() ?? [] }
        let flags = try storeCommand { try db?.flags() ?? [] }
        let points = try storeCommand { try db?.restorePoints() ?? [] }
        if format == .json {
            output(Self.json(breakers: breakers, flags: flags, restorePoints: points).jsonText(pretty: true) + "\n")
            return
        }
        if breakers.isEmpty {
            output("breakers: none set (every breaker is closed)\n")
        } else {
            var rows = [["BREAKER", "STATE", "SINCE", "BY", "REASON"]]
            for b in breakers {
                rows.append([b.name, b.state.rawValue, b.lastChange.map { Journal.timestamp($0.at) } ?? "",
                             b.lastChange?.actor ?? "", b.lastChange?.reason ?? ""])
            }
            output(Table.render(rows))
        }
        output("\n")
        if flags.isEmpty {
            output("flags: none set\n")
        } else {
            let pending = Dictionary(points.map { ($0.flag, $0) }, uniquingKeysWith: { a, _ in a })
            var rows = [["FLAG", "VALUE", "SINCE", "BY", "REASON", "RESTORES TO"]]
            for f in flags {
                rows.append([f.name, f.value.jsonText(), Journal.timestamp(f.lastChange.at), f.lastChange.actor,
                             f.lastChange.reason ?? "", pending[f.name].map { Self.show($0.value) } ?? ""])
            }
            output(Table.render(rows))
        }
    }

    static func show(_ value: Value) -> String { value == .null ? "unset" : value.jsonText() }

    static func origin(_ o: ChangeOrigin?) -> [String: Value] {
        guard let o else { return ["since": .null, "actor": .null, "run_id": .null, "step": .null, "reason": .null] }
        return ["since": .string(Journal.timestamp(o.at)), "actor": .string(o.actor), "run_id": o.runID.map(Value.string) ?? .null,
                "step": o.step.map(Value.string) ?? .null, "reason": o.reason.map(Value.string) ?? .null]
    }

    /// `{"breakers": {name: {state, since, actor, run_id, step, reason}}, "flags": {name: {value, ...}},
    /// "restore_points": {name: {value, since, ...}}}`.
    static func json(breakers: [BreakerRecord], flags: [FlagRecord], restorePoints: [RestorePoint]) -> Value {
        var b: [String: Value] = [:], f: [String: Value] = [:], r: [String: Value] = [:]
        for breaker in breakers {
            var m = origin(breaker.lastChange)
            m["state"] = .string(breaker.state.rawValue)
            b[breaker.name] = .map(m)
        }
        for flag in flags {
            var m = origin(flag.lastChange)
            m["value"] = flag.value
            f[flag.name] = .map(m)
        }
        for point in restorePoints {
            var m = origin(point.origin)
            m["value"] = point.value
            r[point.flag] = .map(m)
        }
        return .map(["breakers": .map(b), "flags": .map(f), "restore_points": .map(r)])
    }
}

/// `runbook state breaker NAME open|close`.
struct StateBreakerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "breaker", abstract: "Force a circuit breaker open or closed.")

    @Argument(help: "Breaker name, e.g. qwen.")
    var name: String

    @Argument(help: "open, close or closed.")
    var state: String

    @Option(name: .long, help: "Why; recorded in the history.")
    var reason: String?

    @OptionGroup var store: StateStoreOptions

    func validate() throws {
        guard Self.target(state) != nil else {
            let quoted = Self.words.map { "'\($0)'" }
            throw ValidationError("state must be \(quoted.dropLast().joined(separator: ", ")) or \(quoted.last!), got '\(state)'")
        }
        guard !name.isEmpty else { throw ValidationError("the breaker needs a name") }
    }

    /// Every word `target` accepts, as the usage error lists them.
    static let words = ["open", "close", "closed"]

    static func target(_ word: String) -> BreakerState? {
        switch word.lowercased() {
        case "open": .open
        case "close", "closed": .closed
        default: nil
        }
    }

    func run() async throws {
        let db = try store.open()
        let target = Self.target(state)!
        let update = try storeCommand {
            try db.setBreaker(name, to: target, operation: "manual", origin: StateStoreOptions.manual(reason: reason))
        }
        output(TerminalText.escaped(update.changed ? "breaker '\(name)' \(target.rawValue) (was \(update.previous.interpolationText))"
                                                   : "breaker '\(name)' already \(target.rawValue)") + "\n")
    }
}

/// `runbook state flag NAME VALUE`.
struct StateFlagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flag", abstract: "Set a feature flag.",
        discussion: """
        VALUE is parsed as JSON (true, 3, "x", [1], {"a": 1}); anything else is a string. null unsets the flag. \
        A value starting with - goes after --, options before it: runbook state flag --reason R offset -- -1
        """
    )

    @Argument(help: "Flag name, e.g. cache_bypass.")
    var name: String

    @Argument(help: "New value: JSON, else a string; null unsets.")
    var value: String

    @Option(name: .long, help: "Why; recorded in the history.")
    var reason: String?

    @OptionGroup var store: StateStoreOptions

    func validate() throws {
        guard !name.isEmpty else { throw ValidationError("the flag needs a name") }
    }

    /// JSON when it parses, else the text itself.
    static func parse(_ text: String) -> Value { Value.parseJSON(text) ?? .string(text) }

    func run() async throws {
        let db = try store.open()
        let update = try storeCommand {
            try db.setFlag(name, to: Self.parse(value), operation: "manual", restorePoint: .none,
                           origin: StateStoreOptions.manual(reason: reason))
        }
        // The previous value is stored data (a run may have set it from remote text).
        output(TerminalText.escaped(update.changed ? "\(name): \(StateShowCommand.show(update.previous)) → \(StateShowCommand.show(update.value))"
                                                   : "\(name) already \(StateShowCommand.show(update.value))") + "\n")
    }
}

/// `runbook state history [NAME]`.
struct StateHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history",
                                                    abstract: "Changes to breakers and flags, newest first.")

    @Argument(help: "Only this breaker or flag.")
    var name: String?

    /// `.unconditional`: `--limit -1` is a value to refuse with the rule below, not an unknown option `-1`.
    @Option(name: .long, parsing: .unconditional, help: "At most this many changes (1 or more).")
    var limit: Int?

    @Option(name: .long, help: "Output: text or json.")
    var format: RunOutputFormat = .text

    @OptionGroup var store: StateStoreOptions

    func validate() throws {
        // 0 would print "no changes" about a store that has some.
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let db = try store.openExisting()
        let changes = try storeCommand { try db?.history(name: name, limit: limit) ?? [] }
        if format == .json {
            let items: [Value] = changes.map { c in
                var m = StateShowCommand.origin(c.origin)
                m["at"] = m.removeValue(forKey: "since")
                m["id"] = .int(Int(c.id))
                m["kind"] = .string(c.kind.rawValue)
                m["name"] = .string(c.name)
                m["operation"] = .string(c.operation)
                m["previous"] = c.previous
                m["value"] = c.value
                return .map(m)
            }
            output(Value.list(items).jsonText(pretty: true) + "\n")
            return
        }
        guard !changes.isEmpty else {
            output(name.map { "no changes to '\($0)'\n" } ?? "no changes\n")
            return
        }
        var rows = [["TIME", "KIND", "NAME", "CHANGE", "BY", "STEP", "REASON"]]
        for c in changes {
            rows.append([Journal.timestamp(c.origin.at), c.kind.rawValue, c.name,
                         "\(Self.show(c.previous, c.kind)) → \(Self.show(c.value, c.kind)) (\(c.operation))",
                         c.origin.actor, c.origin.step ?? "", c.origin.reason ?? ""])
        }
        output(Table.render(rows))
    }

    /// Breaker states bare (`open`), flag values as JSON.
    static func show(_ value: Value, _ kind: StateKind) -> String {
        kind == .breaker ? value.interpolationText : StateShowCommand.show(value)
    }
}
