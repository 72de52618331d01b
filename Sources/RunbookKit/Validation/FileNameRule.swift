/// `runbooks.d/<id>.yaml`: the file name matches the runbook id.
public struct FileNameRule: LintRule {
    public init() {}
    public var descriptions: [RuleDescription] {
        [RuleDescription("file-name-mismatch", .warning, "the file name differs from the runbook id")]
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let runbook = context.runbook
        let name = String(Linter.fileName(runbook.file))
        let stem = Linter.runbookStem(name) ?? name
        // `<stdin>`, and `/dev/fd/63` (`runbook lint <(generate)`), `/dev/stdin`, `/proc/self/fd/0`:
        // names the user never chose.
        let chosen = !runbook.file.hasPrefix("<") && !runbook.file.hasPrefix("/dev/") && !runbook.file.hasPrefix("/proc/")
        guard stem != runbook.id.value, chosen, NodeReader.idPattern(runbook.id.value) else { return [] }
        return [.warning("file-name-mismatch", "runbook id '\(runbook.id.value)' differs from file name '\(name)'; name the file '\(runbook.id.value).yaml'",
                         at: runbook.id.location)]
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
            } else if let query = text.split(separator: "?", maxSplits: 1).dropFirst().first,
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
