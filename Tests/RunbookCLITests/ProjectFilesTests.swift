import Foundation
import RunbookActions
import RunbookKit
import Testing

/// The repository's own runbooks, examples, schema and action examples stay valid.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let linter = Linter(catalog: BuiltinActions.catalog)

    static func render(_ files: [LintedFile]) -> String {
        DiagnosticRenderer(format: .text, strict: true).render(files)
    }
}

@Suite struct ProjectFilesTests {
    @Test("runbooks.d lints clean with --strict and holds the five Artisan runbooks")
    func runbooksLintClean() throws {
        let files = try Linter.expand([Repo.path("runbooks.d")])
        let results = Repo.linter.lint(files: files)
        let findings = results.flatMap(\.diagnostics)
        #expect(findings.isEmpty, "\(Repo.render(results))")
        let ids = Set(results.compactMap { $0.runbook?.id.value })
        #expect(ids == ["qwen_failure_downshift", "rl_reward_runaway_rollback", "api_high_latency_scaleup",
                        "database_connection_failure", "cache_service_failure"])
    }

    @Test("every example lints clean with --strict")
    func examplesLintClean() throws {
        let files = try Linter.expand([Repo.path("examples")])
        #expect(files.count >= 8)
        let results = Repo.linter.lint(files: files)
        #expect(results.flatMap(\.diagnostics).isEmpty, "\(Repo.render(results))")
    }

    @Test("schemas/runbook.schema.json is the output of 'runbook schema'")
    func schemaInSync() throws {
        let committed = try String(contentsOfFile: Repo.path("schemas/runbook.schema.json"), encoding: .utf8)
        let generated = SchemaGenerator(catalog: BuiltinActions.catalog).text()
        #expect(committed == generated, "run: swift run runbook schema > schemas/runbook.schema.json")
    }

    @Test("every action's example step lints clean", arguments: BuiltinActions.catalog.descriptors.map(\.id))
    func actionExamples(_ id: String) throws {
        let action = try #require(BuiltinActions.catalog[id])
        #expect(!action.examples.isEmpty)
        for example in action.examples {
            // Steps with `undoes:` belong in the rollback list (the examples' convention).
            var main: [String] = [], rollback: [String] = []
            for chunk in example.components(separatedBy: "\n- ").enumerated().map({ $0.offset == 0 ? $0.element : "- " + $0.element }) {
                let indented = chunk.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
                if chunk.contains("\n  undoes:") { rollback.append(indented) } else { main.append(indented) }
            }
            let steps = main.joined(separator: "\n") + (rollback.isEmpty ? "" : "\nrollback:\n" + rollback.joined(separator: "\n"))
            let text = """
            version: 1
            id: example
            title: Example
            severity: sev4
            automation: automatic
            params:
              api_url: {type: url, default: "http://127.0.0.1:8000"}
            steps:
            \(steps)
            """
            let linted = Repo.linter.lint(bytes: Array(text.utf8), file: "<example \(id)>")
            let errors = linted.diagnostics.filter { $0.severity == .error }
            #expect(errors.isEmpty, "\(Repo.render([linted]))\n\(text)")
        }
    }
}

@Suite struct GeneratedDocsTests {
    @Test("docs/actions.md is the output of 'runbook docs --actions'")
    func actionsDocInSync() throws {
        let committed = try String(contentsOfFile: Repo.path("docs/actions.md"), encoding: .utf8)
        #expect(committed == MarkdownDocs.actions(BuiltinActions.catalog), "run: swift run runbook docs --actions > docs/actions.md")
    }
}
