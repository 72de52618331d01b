import ArgumentParser

/// The `runbook` command line.
public struct RunbookCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Lint and run declarative SRE runbooks.",
        version: "0.1.0"
    )
    public init() {}
}
