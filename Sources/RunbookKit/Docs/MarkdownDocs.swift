/// Markdown for people: a runbook rendered like the reference runbooks, and the action reference.
public enum MarkdownDocs {
    /// One runbook: metadata, triggers, steps (with confirmations), rollback, manual recovery, prevention.
    /// `catalog`, when given, tells which parameters are secret: their literal values show as `***`.
    public static func runbook(_ rb: Runbook, catalog: ActionCatalog? = nil) -> String {
        var md = "## `\(rb.id.value)` — \(rb.title.value)\n\n"
        var meta = "- Severity \(rb.severity.value.displayName). Automation: \(rb.automation.value.rawValue.replacingOccurrences(of: "_", with: "-"))"
        let confirmations = rb.steps.filter { $0.confirm != nil || $0.action.value == "confirm" }.count
        if confirmations > 0 { meta += " (\(confirmations) manual confirmation step\(confirmations == 1 ? "" : "s"))" }
        meta += "."
        if let r = rb.expectedRecovery { meta += " Expected recovery: \(r.value)." }
        md += meta + "\n"
        if let owner = rb.owner { md += "- Owner: \(inline(owner.value)).\n" }
        if !rb.components.isEmpty { md += "- Components: \(rb.components.map { inline($0.value) }.joined(separator: ", ")).\n" }
        md += "- Run: `runbook run \(rb.id.value) [--dry-run]`\n\n"
        if let d = rb.description { md += d.value.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n" }
        if !rb.params.isEmpty {
            md += "### Params\n\n| name | type | default | description |\n|---|---|---|---|\n"
            let shown = defaultShown(rb, catalog: catalog)
            for p in rb.params {
                let def = p.defaultValue.map { code(shown(p.name.value, $0.value.interpolationText)) } ?? "required"
                let allowed = p.enumValues.map { " (one of " + $0.map { code($0.interpolationText) }.joined(separator: ", ") + ")" } ?? ""
                md += "| `\(p.name.value)` | \(p.type.rawValue)\(cell(allowed)) | \(cell(def)) | \(cell(p.description ?? "")) |\n"
            }
            md += "\n"
        }
        if let t = rb.triggers {
            md += "### Triggers (\(t.match.rawValue))\n\n"
            for c in t.conditions {
                md += "- `\(c.id.value)`: \(triggerText(c, code: code))\(c.description.map { " — \(inline($0))" } ?? "")\n"
            }
            md += "\n"
        }
        md += "### Steps\n\n"
        // `${{ params.replicas }}` alone shows its default beside it: `8`.
        var defaults: [String: String] = [:]
        for p in rb.params { if let d = p.defaultValue { defaults[p.name.value] = d.value.interpolationText } }
        for (n, s) in rb.steps.enumerated() { md += stepText(n + 1, s) + withText(s, catalog: catalog, defaults: defaults) }
        if !rb.rollback.isEmpty {
            md += "\n### Rollback\n\n"
            for (n, s) in rb.rollback.enumerated() { md += stepText(n + 1, s) + withText(s, catalog: catalog, defaults: defaults) }
        }
        if let m = rb.manualRecovery {
            md += "\n### Manual recovery\n\n" + m.value.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        }
        if !rb.prevention.isEmpty {
            md += "\n### Prevention\n\n" + rb.prevention.map { "- \(inline($0.value))\n" }.joined()
        }
        return md
    }

    static func stepText(_ n: Int, _ s: Step) -> String {
        var line = "\(n). **\(oneLine(s.title))** (`\(s.id.value)`, \(s.action.value))"
        var notes: [String] = []
        if let w = s.when { notes.append("only when \(code(w.template.source.trimmingCharacters(in: .whitespaces)))") }
        // A gate asks before the step's action; the `confirm` action's question is the step.
        if let q = s.question {
            notes.append((s.confirm != nil ? "asks first: “" : "asks: “") + inline(q.text) + "”"
                         + (q.expiry.map { " (declined after \($0) without an answer)" } ?? ""))
        }
        if let t = s.timeout { notes.append("timeout \(t.value)\(s.retry != nil ? " per try" : "")") }
        if let r = s.retry { notes.append(r.summary) }
        if let u = s.until { notes.append("until \(code(u.template.source.trimmingCharacters(in: .whitespaces)))") }
        if s.failureMode != .rollback { notes.append("on failure: \(s.failureMode.rawValue)") }
        if !s.undoes.isEmpty { notes.append("undoes \(s.undoes.map { "`\($0.value)`" }.joined(separator: ", "))") }
        if !notes.isEmpty { line += ": " + notes.joined(separator: "; ") }
        return line + ".\n"
    }

    /// A step's `with:` as a nested list line (`   - with: `url`: `…`, `replicas`: `8``), values as
    /// written (expressions unevaluated); a secret parameter's literal and a credential header's
    /// literal show as `***`. Empty when the step has no arguments.
    static func withText(_ s: Step, catalog: ActionCatalog?, defaults: [String: String] = [:]) -> String {
        guard !s.with.isEmpty else { return "" }
        let action = catalog?[s.action.value]
        let items = s.with.map { argument -> String in
            let parameter = action?.parameter(named: argument.name.value)
            let secret = parameter?.secret == true
            let shown = shownText(for: parameter, of: action)
            var item = "`\(argument.name.value)`: "
            switch argument.value {
            case .literal(.string(let text), _):
                item += code(shortened(oneLine(shown(text))))
            // Text around an expression is written in clear: hidden as a literal would be.
            case .template(let t) where !t.template.isSingleExpression:
                item += code(shortened(oneLine(shown(t.template.source))))
            default:
                item += code(shortened(oneLine(written(argument.value, secret: secret))))
            }
            if !secret, case .template(let t) = argument.value, let name = t.template.singleParamReference,
               let value = defaults[name] {
                item += " (" + code(shortened(oneLine(shown(value)))) + ")"
            }
            return item
        }
        return "   - with: " + items.joined(separator: ", ") + "\n"
    }

    /// How a param's default is shown (`docs`, `show`): a param given whole to a secret parameter
    /// or to a notification's URL as that parameter shows it (`***`, or the URL's origin), any
    /// other without a URL's password. Call as `shown(paramName, defaultText)`.
    public static func defaultShown(_ rb: Runbook, catalog: ActionCatalog?) -> (String, String) -> String {
        var hidden: [String: (String) -> String] = [:]
        for step in rb.steps + rb.rollback {
            guard let action = catalog?[step.action.value] else { continue }
            for argument in step.with {
                guard case .template(let t) = argument.value, let name = t.template.singleParamReference,
                      let parameter = action.parameter(named: argument.name.value) else { continue }
                // A secret parameter's way wins over a notification URL's.
                if parameter.secret || (action.notifies && parameter.type == .url && hidden[name] == nil) {
                    hidden[name] = shownText(for: parameter, of: action)
                }
            }
        }
        return { name, text in (hidden[name] ?? SecretMasker.hidingURLPassword)(text) }
    }

    /// How a text given to `parameter` of `action` is shown, as the dry-run plan shows it
    /// (`SecretMasker.planned`): a secret parameter's as `***`, a notification's URL as its origin
    /// (its path or query is the token), any other text without a URL's password.
    static func shownText(for parameter: ParameterDescriptor?, of action: ActionDescriptor?) -> (String) -> String {
        guard let parameter, let action else { return SecretMasker.hidingURLPassword }
        if parameter.secret { return { _ in "***" } }
        if action.notifies, parameter.type == .url { return { SecretMasker.shownSecretParameter(.string($0)).interpolationText } }
        return SecretMasker.hidingURLPassword
    }

    /// A `with:` value as written: expressions as their source, lists and maps in flow style.
    private static func written(_ value: TemplateValue, secret: Bool) -> String {
        switch value {
        case .literal(let v, _):
            if secret, v != .null { return "***" }
            switch v {
            case .list, .map: return v.jsonText()
            default: return SecretMasker.hidingURLPassword(v.interpolationText)
            }
        case .template(let t):
            // A secret written around an expression (`Bearer abc${{ … }}`) is text in clear: only
            // a lone `${{ }}` (a reference) is shown.
            if secret, !t.template.isSingleExpression { return "***" }
            return SecretMasker.hidingURLPassword(t.template.source)
        case .list(let items, _):
            return "[" + items.map { written($0, secret: secret) }.joined(separator: ", ") + "]"
        case .map(let pairs, _):
            return "{" + pairs.map { pair in
                let hidden = secret || SecretMasker.isCredentialHeader(pair.key.value)
                return "\(pair.key.value): " + written(pair.value, secret: hidden)
            }.joined(separator: ", ") + "}"
        }
    }

    /// At most 160 characters (a long message or query), with `…` where it was cut.
    private static func shortened(_ text: String) -> String {
        text.count <= 160 ? text : String(text.prefix(159)) + "…"
    }

    /// One trigger condition in words; `code` wraps URLs, queries and labels (backticks in Markdown).
    public static func triggerText(_ c: TriggerCondition, code: (String) -> String = { "`\($0)`" }) -> String {
        var text: String
        switch c.probe {
        case .http(let url, let statuses, let timeout):
            text = "GET \(code(url.template.source))"
            if !statuses.isEmpty { text += " expecting \(statuses.map(String.init).joined(separator: "/"))" }
            if let timeout { text += " within \(timeout)" }
        case .prometheus(let query, _): text = code(query.template.source)
        case .alert(let matchers): text = "alert " + matchers.map { code("\($0.key)=\($0.value)") }.joined(separator: ", ")
        }
        if let cmp = c.comparison { text += " \(cmp.text)" }
        if let n = c.consecutiveFailures { text += ", \(n) times in a row" }
        if let f = c.forDuration { text += ", for \(f.value)" }
        return text
    }

    /// The action reference (docs/actions.md): every action with parameters, outputs, behaviour and examples.
    public static func actions(_ catalog: ActionCatalog) -> String {
        var md = """
        # Built-in actions

        Generated by `runbook docs --actions` from the registry declarations; do not edit by hand
        (a test keeps it in sync). Every parameter may be a `${{ }}` expression. A range in the type
        column (`int (1–65535)`, `int (≥ 0)`) holds for the number, and for each number of a list: lint
        reports a literal outside it (`out-of-range`), and a run refuses a value outside it before the
        action starts.

        | action | summary | changes things | dry-run |
        |---|---|---|---|

        """
        for a in catalog.descriptors {
            md += "| [`\(a.id)`](#\(a.id.replacingOccurrences(of: ".", with: ""))) | \(a.summary) | \(a.mutating ? "yes" : "no") | \(dryRunText(a)) |\n"
        }
        for a in catalog.descriptors {
            md += "\n## \(a.id)\n\n\(a.summary)\n\n"
            md += "- Changes the system: \(a.mutating ? "yes — give it an undo in `rollback:` or say `rollback: none`" : "no")\n"
            md += "- Safe to re-run after a crash: \(a.idempotent ? "yes (resume re-runs it)" : "no (resume asks first)")\n"
            if a.notifies { md += "- Notifies people: secrets must never flow into its text\n" }
            md += "- Dry-run: \(dryRunText(a))\n"
            md += "- Default timeout: \(RunbookDuration(seconds: a.defaultTimeout))\n\n"
            if !a.parameters.isEmpty {
                md += "| parameter | type | required | default | description |\n|---|---|---|---|---|\n"
                for p in a.parameters {
                    let def = p.defaultValue.map { "`\($0.jsonText())`" } ?? ""
                    let range = p.rangeSymbol.map { " (\($0))" } ?? ""
                    md += "| `\(p.name)` | \(escape(p.type.description))\(range) | \(p.required ? "yes" : "") | \(def) | \(escape(p.summary))\(p.secret ? " **Secret.**" : "") |\n"
                }
                md += "\n"
            }
            if !a.constraints.isEmpty {
                md += "Parameter rules (lint checks them: `missing-parameter`, `conflicting-parameters`, `parameter-type`):\n\n"
                for c in a.constraints { md += "- \(c.description)\n" }
                md += "\n"
            }
            if !a.outputs.isEmpty {
                md += "| output | type | description |\n|---|---|---|\n"
                for o in a.outputs { md += "| `\(o.name)` | \(escape(o.type.description)) | \(escape(o.summary)) |\n" }
                md += "\n"
            }
            for example in a.examples {
                md += "```yaml\n\(example.trimmingCharacters(in: .newlines))\n```\n\n"
            }
        }
        return md
    }

    static func dryRunText(_ a: ActionDescriptor) -> String {
        switch a.dryRun {
        case .runs: "runs (no side effects)"
        case .simulated: "simulated (outputs from --scenario)"
        case .skipped: a.notifies ? "never sent" : "never run"
        case .instant: "instant"
        case .checks: "evaluated under --scenario"
        }
    }

    static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    /// Text inside a list item: on one line (a line break would end the item, and a `# ` line
    /// become a heading), with backticks escaped so that none opens a code span.
    static func inline(_ s: String) -> String { oneLine(s).replacingOccurrences(of: "`", with: "\\`") }

    /// Text for a table cell: `|` escaped and line breaks made spaces (a break ends the row).
    static func cell(_ s: String) -> String { escape(oneLine(s)) }

    /// Text on one line: each line break (and the blanks around it) becomes one space.
    static func oneLine(_ s: String) -> String {
        guard s.contains(where: \.isNewline) else { return s }
        return s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// `text` as a Markdown code span: fenced with more backticks than any run inside it (and
    /// spaced when it starts or ends with one), so a backtick in a value does not end the span.
    static func code(_ text: String) -> String {
        // An empty value is shown as the empty string it is (`` would be no code span at all).
        if text.isEmpty { return "`\"\"`" }
        var longest = 0, run = 0
        for c in text { if c == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = text.hasPrefix("`") || text.hasSuffix("`") ? " " : ""
        return fence + pad + text + pad + fence
    }
}
