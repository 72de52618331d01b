/// A secret must never flow into text people or logs see: notification text, log messages,
/// confirmation prompts, incident titles and notes. Nor, unnoticed, into the state store, which
/// keeps a flag's value as given and shows it with `runbook state`.
public struct SecretFlowRule: SelfContainedStepLintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("secret-in-message", .error, "a secret flows into a notification, log, prompt or incident text"),
         RuleDescription("secret-on-command-line", .warning, "a secret is put on a program's command line ('argv' or 'command' of exec), which every local user can read"),
         RuleDescription("secret-in-state", .warning, "a secret flows into the state store (a flag's value, a flag or breaker name), which keeps it as given and 'runbook state' shows in clear")]
    }

    public func check(_ step: Step, catalog: ActionCatalog, into out: inout [Diagnostic]) {
        /// Calls `found` with the name of each secret whose text an expression of `t` shows, and
        /// where that expression is.
        func secretsShown(in t: LocatedTemplate, _ found: (String, SourceLocation) -> Void) {
            guard t.template.mentions("secrets") else { return }
            // An expression whose result is a bool or a number (`secrets.x != null`,
            // `starts_with(secrets.hook, 'https://')`, `len(secrets.x)`) shows no secret text.
            for expression in t.template.expressions where Self.showsSecret(expression.root) {
                for path in expression.references where path.first == "secrets" {
                    let name = path.count > 1 ? "secrets.\(path[1])" : "secrets"
                    // At the expression that reads it (past the blanks after `${{`), as every
                    // expression finding is.
                    let scalars = t.template.source.unicodeScalars
                    let blanks = scalars.dropFirst(expression.offset).prefix { $0 == " " || $0 == "\t" || $0 == "\n" }.count
                    found(name, t.location(ofOffset: expression.offset + blanks))
                }
            }
        }
        func scan(_ t: LocatedTemplate, into what: @autoclosure () -> String) {
            secretsShown(in: t) { name, location in
                out.append(.error("secret-in-message", "secret '\(name)' flows into \(what()); secrets must never appear in messages",
                                  at: location))
            }
        }
        // Secrets are read as `secrets.x`; the engine hides RUNBOOK_SECRET_* from `env`.
        step.forEachTemplate { t in
            guard t.template.mentions("RUNBOOK_SECRET_") else { return }
            for path in t.template.references where path.count > 1 && path[0] == "env" && path[1].hasPrefix("RUNBOOK_SECRET_") {
                let name = String(path[1].dropFirst("RUNBOOK_SECRET_".count)).lowercased()
                out.append(.error("secret-in-message", "read the secret as 'secrets.\(name)', not 'env.\(path[1])' (secret variables are not in env)",
                                  at: t.location))
            }
        }
        if let c = step.confirm { scan(c.message, into: "the confirmation prompt of step '\(step.id.value)'") }
        // A name is evaluated when the step starts and shown in the run's output and journal.
        if let n = step.nameTemplate { scan(n, into: "the name of step '\(step.id.value)'") }
        // A command line is readable by every user of the machine (ps, /proc/PID/cmdline), and
        // masking output cannot hide it there: a secret goes in `env`.
        if step.action.value == "exec" {
            for argument in step.with where argument.name.value == "argv" || argument.name.value == "command" {
                argument.value.forEachTemplate { t in
                    guard t.template.mentions("secrets") else { return }
                    for path in t.template.references where path.first == "secrets" {
                        let name = path.count > 1 ? "secrets.\(path[1])" : "secrets"
                        out.append(.warning("secret-on-command-line",
                                            "secret '\(name)' is on the command line of step '\(step.id.value)', where every local user can read it (ps); "
                                            + "pass it in 'env' (env: {TOKEN: \"${{ \(name) }}\"}) and use $TOKEN", at: t.location))
                    }
                }
            }
        }
        guard let action = catalog[step.action.value] else { return }
        for argument in step.with where action.messageParameters.contains(argument.name.value) {
            argument.value.forEachTemplate { t in
                scan(t, into: "'\(argument.name.value)' of '\(action.id)' in step '\(step.id.value)'")
            }
        }
        // The application reads a flag's value as it was written, so the store cannot mask it;
        // whoever reads the state directory sees it, in `runbook state` and `state history`.
        for argument in step.with where action.storedParameters.contains(argument.name.value) {
            argument.value.forEachTemplate { t in
                secretsShown(in: t) { name, location in
                    out.append(.warning("secret-in-state",
                                        "secret '\(name)' flows into '\(argument.name.value)' of '\(action.id)' in step '\(step.id.value)': "
                                        + "the state store keeps it as given, and 'runbook state' shows it in clear to anyone "
                                        + "who can read the state directory",
                                        at: location))
                }
            }
        }
    }

    /// Whether a secret's value (or a value computed straight from it, such as a number read
    /// from it) can reach the result: not through a comparison, `!`, `&&`/`||`, or `len`,
    /// `contains`, `starts_with`, `ends_with`, which give a bool or a length whatever they read.
    static func showsSecret(_ node: ExprNode) -> Bool {
        switch node.kind {
        case .literal: return false
        case .context(let name): return name == "secrets"
        case .member(let base, _, _): return showsSecret(base)
        case .index(let base, let index): return showsSecret(base) || showsSecret(index)
        case .unary(.not, _): return false
        case .unary(_, let operand): return showsSecret(operand)
        case .binary(let op, let lhs, let rhs):
            switch op {
            case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or: return false
            case .add, .subtract, .multiply, .divide: return showsSecret(lhs) || showsSecret(rhs)
            }
        case .call(let name, _, let arguments):
            if ["len", "contains", "starts_with", "ends_with"].contains(name) { return false }
            return arguments.contains(where: showsSecret)
        }
    }
}

/// A param default that holds a credential (`http://user:password@host`, `?token=...`): params
/// are shown in the run's header, its journal, `show` and `docs`, so the credential would be too.
/// Reported as `secret-literal` (described by `ActionArgumentsRule`).
public struct ParamCredentialRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] { [] }

    public func check(_ context: LintContext) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for param in context.runbook.params {
            guard let value = param.defaultValue, case .string(let text) = value.value else { continue }
            let what: String
            if ActionArgumentsRule.hasPassword(text) && text.contains("://") {
                what = "a URL password"
            } else if text.utf8.contains(UInt8(ascii: "?")), let query = text.split(separator: "?", maxSplits: 1).dropFirst().first,
                      query.split(separator: "&").contains(where: { pair in
                          let key = pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                          return SecretMasker.isCredentialHeader(key)
                      }) {
                what = "a token in its query"
            } else {
                continue
            }
            out.append(.warning("secret-literal", "the default of param '\(param.name.value)' holds \(what); params are shown in "
                                + "the run's header, its journal, 'show' and 'docs': pass it as '${{ secrets.NAME }}'",
                                at: value.location))
        }
        return out
    }
}
