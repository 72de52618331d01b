// `--help` texts read well.
import Foundation
import Testing

@Suite("help texts")
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
}
