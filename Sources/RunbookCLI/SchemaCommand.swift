import ArgumentParser
import RunbookActions
import RunbookKit

/// `runbook schema`: the JSON Schema of the format, generated from the AST keys and the action registry.
struct SchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema (draft 2020-12) of the runbook format, including every action's parameters.",
        discussion: "schemas/runbook.schema.json is this command's committed output."
    )

    func run() async throws {
        output(SchemaGenerator(catalog: BuiltinActions.catalog).text())
    }
}
