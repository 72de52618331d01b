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
