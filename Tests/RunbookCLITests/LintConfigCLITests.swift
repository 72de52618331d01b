import Foundation
import Testing

/// A manual runbook whose only findings are warnings: file-name-mismatch, missing-confirmation
/// and mutating-without-undo.
private let warnedRunbook = """
version: 1
id: other_name
title: Flip a flag
severity: sev3
automation: manual
steps:
  - id: flip
    action: feature_flag.set
    with: {name: checkout_v2, value: false}

"""

@Suite(.serialized) struct LintConfigCLITests {
    /// A repository root (`.git` ends the search for a config) with one runbook in `legacy/`.
    private func repository() throws -> TempDir {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path + "/.git", withIntermediateDirectories: true)
        try dir.write("legacy/flip.yaml", warnedRunbook)
        return dir
    }

    @Test func configFoundFromASubdirectorySilencesAndPromotes() async throws {
        let dir = try repository(); defer { dir.cleanup() }
        try dir.write(".runbook-lint.yaml", """
        ignore: [file-name-mismatch]
        severity: {mutating-without-undo: error}
        per_file:
          - paths: ["legacy/**"]
            ignore: [missing-confirmation]

        """)
        let r = try await CLI.run(["lint", "."], in: dir.path + "/legacy")
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("./flip.yaml:7:9: error: step 'flip' changes the system"))
        #expect(r.stdout.contains("[mutating-without-undo]"))
        #expect(!r.stdout.contains("file-name-mismatch") && !r.stdout.contains("missing-confirmation"))
        #expect(r.stdout.contains("1 file checked: 1 error, 0 warnings"))

        let plain = try await CLI.run(["lint", "--no-config", "."], in: dir.path + "/legacy")
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("1 file checked: 0 errors, 3 warnings"))
    }

    @Test func strictInTheConfigCountsWarnings() async throws {
        let dir = try repository(); defer { dir.cleanup() }
        try dir.write("team.yaml", "strict: true\n")
        let r = try await CLI.run(["lint", "--config", "team.yaml", "--format", "json", "legacy"], in: dir.path)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let found = try #require(json["diagnostics"] as? [[String: Any]])
        #expect(found.count == 3)
        #expect(found.allSatisfy { $0["severity"] as? String == "error" })
    }

    @Test func aBrokenConfigStopsLintWithItsPositions() async throws {
        let dir = try repository(); defer { dir.cleanup() }
        try dir.write(".runbook-lint.yaml", "ignore: [file-name-mismatc]\nseverity: {wrong-type: warning}\n")
        let r = try await CLI.run(["lint", "--format", "sarif", "legacy"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains(".runbook-lint.yaml:1:10: error: unknown rule 'file-name-mismatc' in 'ignore'; did you mean 'file-name-mismatch'? [unknown-rule]"))
        #expect(r.stderr.contains(".runbook-lint.yaml:2:12: error: 'wrong-type' is an error and stays one"))
        #expect(r.stderr.contains("the lint config has errors; fix them or run with --no-config"))
    }

    @Test func ignoreTakesSeveralRulesSeparatedByCommas() async throws {
        let dir = try repository(); defer { dir.cleanup() }
        let r = try await CLI.run(["lint", "--ignore", "file-name-mismatch,missing-confirmation", "--ignore", "mutating-without-undo", "legacy"],
                                  in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout == "1 file checked, no problems\n")
        let bad = try await CLI.run(["lint", "--ignore", "file-name-mismatch,nope", "legacy"], in: dir.path)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--ignore: unknown rule 'nope'"))
        let empty = try await CLI.run(["lint", "--ignore", "", "legacy"], in: dir.path)
        #expect(empty.status == 2)
        #expect(empty.stderr.contains("--ignore '': no rule id given"))
    }

    @Test func aMissingConfigFileIsAUsageError() async throws {
        let dir = try repository(); defer { dir.cleanup() }
        let r = try await CLI.run(["lint", "--config", "nope.yaml", "legacy"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("nope.yaml"))
        let both = try await CLI.run(["lint", "--config", "a.yaml", "--no-config", "legacy"], in: dir.path)
        #expect(both.status == 2)
        #expect(both.stderr.contains("--config and --no-config exclude each other"))
        // Two configs: not the last one silently.
        try dir.write("a.yaml", "ignore: [file-name-mismatch]\n")
        try dir.write("b.yaml", "strict: true\n")
        let twice = try await CLI.run(["lint", "--config", "a.yaml", "--config", "b.yaml", "legacy"], in: dir.path)
        #expect(twice.status == 2)
        #expect(twice.stderr.contains("--config is given 2 times"))
        #expect(twice.stdout.isEmpty)
    }
}
