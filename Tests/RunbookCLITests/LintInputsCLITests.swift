import Foundation
import RunbookKit
import Testing

/// Which files `runbook lint` reads, what it does with ones it cannot read, and how it prints
/// what it found (docs/lint.md).
@Suite(.serialized) struct LintInputsCLITests {
    @Test("--rules lists unknown-rule and bad-suppression; --rules --format json prints a JSON array")
    func rulesAsJSON() async throws {
        let text = try await CLI.run(["lint", "--rules"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("unknown-rule "))
        #expect(text.stdout.contains("bad-suppression "))
        let json = try await CLI.run(["lint", "--rules", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        guard case .list(let items)? = Value.parseJSON(json.stdout) else {
            Issue.record("not a JSON array: \(json.stdout)"); return
        }
        #expect(items.count == BuiltinRules.descriptions.count)
        #expect(items.contains(.map(["id": .string("bad-suppression"), "severity": .string("warning"),
                                     "summary": .string(BuiltinRules.descriptions.first { $0.id == "bad-suppression" }!.summary)])))
        #expect(items.first == .map(["id": .string("yaml-syntax"), "severity": .string("error"),
                                     "summary": .string("the file is not valid YAML")]))
        let sarif = try await CLI.run(["lint", "--rules", "--format", "sarif"])
        #expect(sarif.status == 2)
        #expect(sarif.stderr.contains("--rules prints text or json"))
    }
}
