// `--help` texts read well, and the commands docs/cli.md lists as planned say so.
import Foundation
import RunbookCLI
import Testing

@Suite("help texts and planned commands")
struct HelpCLITests {
    static let commands = ["lint", "run", "resume", "history", "drill", "test", "list", "show", "docs", "schema",
                           "state", "incident"]

    @Test("no option's default is given twice", arguments: commands)
    func noDefaultTwice(_ command: String) async throws {
        let r = try await CLI.run([command, "--help"])
        #expect(r.status == 0, "\(r.stderr)")
        // The help appends "(default: X)" to an option's text: a text that says it too repeats it.
        // One entry per argument or option: its first line starts "  -" or "  <", the rest continue it.
        var entries: [String] = []
        for line in r.stdout.split(separator: "\n") {
            if line.hasPrefix("  -") || line.hasPrefix("  <") { entries.append(String(line)) }
            else if line.hasPrefix("   "), !entries.isEmpty { entries[entries.count - 1] += " " + line }
        }
        #expect(!entries.isEmpty)
        for entry in entries {
            #expect(entry.components(separatedBy: "default").count <= 2, "\(command) --help: \(entry)")
        }
    }

    @Test("--runbooks says its default once", arguments: ["run", "test", "list", "show", "docs"])
    func runbooksDefaultOnce(_ command: String) async throws {
        let r = try await CLI.run([command, "--help"])
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("  --runbooks <runbooks>") })
        #expect(line.hasSuffix("Directory of runbooks. (default: runbooks.d)"), "\(command) --help: \(r.stdout)")
    }

    @Test("run --help lists the exit codes one per line")
    func runExitCodes() async throws {
        let r = try await CLI.run(["run", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("""

        Exit status:
          0  succeeded
          1  failed (the rollback ran), or aborted
          2  invalid runbook, or usage error
          3  paused, waiting for a confirmation: runbook resume RUN --approve STEP
          4  the rollback itself failed

        """), "\(r.stdout)")
    }

    @Test("a planned command says it is planned, exit 2, whatever follows it", arguments: RunbookCommand.plannedCommands)
    func plannedCommand(_ name: String) async throws {
        for args in [[name], [name, "--help"], [name, "runbooks.d", "--interval", "5"], ["help", name]] {
            let r = try await CLI.run(args)
            #expect(r.status == 2, "\(args): \(r.stdout)\(r.stderr)")
            #expect(r.stderr == "error: '\(name)' is planned and not built yet; see docs/cli.md\n", "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test("runbook --help lists no planned command; an unknown command is still an unknown command")
    func helpStaysClean() async throws {
        let r = try await CLI.run(["--help"])
        #expect(r.status == 0)
        for name in RunbookCommand.plannedCommands {
            #expect(!r.stdout.contains("  \(name) "), "\(name) in: \(r.stdout)")
        }
        let unknown = try await CLI.run(["chek"])
        #expect(unknown.status == 2)
        #expect(!unknown.stderr.contains("planned"), "\(unknown.stderr)")
        // A planned name as an argument of a real command is that command's business.
        let list = try await CLI.run(["list", "--runbooks", "check"])
        #expect(!list.stderr.contains("planned"), "\(list.stderr)")
    }

    @Test("the planned commands are the ones docs/cli.md lists as planned")
    func plannedCommandsMatchTheDocs() throws {
        let docs = try String(contentsOfFile: Repo.path("docs/cli.md"), encoding: .utf8)
        let section = try #require(docs.components(separatedBy: "## Planned commands").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        let listed = section.matches(of: /\| `runbook (\w+)` \|/).map { String($0.output.1) }
        #expect(listed == RunbookCommand.plannedCommands)
    }
}
