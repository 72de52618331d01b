import Foundation
@testable import RunbookKit
import RunbookActions
import Testing

@Suite struct LintConfigTests {
    private func parse(_ text: String, base: String = "/repo") -> (LintConfig?, [String]) {
        let (config, diagnostics) = LintConfig.parse(bytes: Array(text.utf8), path: "cfg.yaml", baseDirectory: base)
        return (config, diagnostics.map { "\($0.location.line):\($0.location.column) \($0.severity.rawValue) \($0.message) [\($0.ruleID)]" })
    }

    @Test func readsEveryKey() throws {
        let (config, problems) = parse("""
        ignore: [file-name-mismatch]
        severity:
          timeouts-exceed-recovery: error
          yaml11-bool: warning
        per_file:
          - paths: ["legacy/**", "*.draft.yaml"]
            ignore: [mutating-without-undo, missing-confirmation]
          - paths: examples/x.yaml
            ignore: sev1-pages-nobody
        strict: true
        """)
        #expect(problems.isEmpty)
        let c = try #require(config)
        #expect(c.ignore == ["file-name-mismatch"])
        #expect(c.severity == ["timeouts-exceed-recovery": .error, "yaml11-bool": .warning])
        #expect(c.perFile.map(\.patterns) == [["legacy/**", "*.draft.yaml"], ["examples/x.yaml"]])
        #expect(c.perFile.map(\.ignore) == [["mutating-without-undo", "missing-confirmation"], ["sev1-pages-nobody"]])
        #expect(c.strict == true)
    }

    @Test func emptyFileIsNoSettings() throws {
        let (config, problems) = parse("# nothing yet\n")
        #expect(problems.isEmpty)
        let c = try #require(config)
        #expect(c.ignore.isEmpty && c.severity.isEmpty && c.perFile.isEmpty && c.strict == nil)
    }

    @Test func everyMistakeIsLocated() {
        let (config, problems) = parse("""
        ignore: [undo-coverag, file-name-mismatch]
        severity:
          unknown-key: warning
          file-name-mismatch: fatal
          not-a-rule: error
        per_file:
          - paths: /abs/*.yaml
            ignore: [nope]
          - ignore: [wrong-type]
        strictt: true
        strict: 1
        """)
        #expect(config == nil)
        #expect(problems == [
            "1:10 error unknown rule 'undo-coverag' in 'ignore' [unknown-rule]",
            "3:3 error 'unknown-key' is an error and stays one: a runbook with it cannot run; use 'ignore' to silence it [invalid-enum]",
            "4:23 error invalid severity 'fatal' for 'file-name-mismatch'; expected 'error' or 'warning' [invalid-enum]",
            "5:3 error unknown rule 'not-a-rule' in 'severity' [unknown-rule]",
            "7:12 error the 'paths' pattern '/abs/*.yaml' is absolute; patterns are relative to the config's directory [wrong-type]",
            "8:14 error unknown rule 'nope' in 'ignore' [unknown-rule]",
            "9:5 error the 'per_file' entry is missing required key 'paths' [missing-key]",
            "10:1 error unknown key 'strictt' in the lint config; did you mean 'strict'? [unknown-key]",
            "11:9 error 'strict' must be true or false, found an integer [wrong-type]",
        ])
    }

    @Test func whatWouldBeAWarningInARunbookIsAnErrorHere() {
        // `strict: yes` would otherwise leave strict mode off with only a warning.
        let (config, problems) = parse("strict: yes\nignore: \"file-name-mismatch, missing-confirmation\"\n")
        #expect(config == nil)
        #expect(problems == ["1:9 error 'yes' is a string in YAML 1.2, not a boolean; write true or false for 'strict' [yaml11-bool]"])
        let (commas, none) = parse("ignore: \"file-name-mismatch, missing-confirmation\"\n")
        #expect(none.isEmpty)
        #expect(commas?.ignore == ["file-name-mismatch", "missing-confirmation"])
    }

    @Test func patternsThatCanNeverMatchAreErrors() {
        let (config, problems) = parse("""
        per_file:
          - paths: [legacy/, "a//b", ../x, ok/*.yaml]
            ignore: [file-name-mismatch]
          - paths: []
            ignore: [file-name-mismatch]
        """)
        #expect(config == nil)
        #expect(problems == [
            "2:22 error the 'paths' pattern 'a//b' has an empty path segment ('//') [wrong-type]",
            "2:30 error the 'paths' pattern '../x' reaches outside the config's directory ('..'); files there get no 'per_file' entry [wrong-type]",
            "4:12 error 'paths' lists no pattern, so the entry silences nothing [wrong-type]",
        ])
        let (dir, _) = parse("per_file: [{paths: [legacy/], ignore: [file-name-mismatch]}]\n")
        #expect(dir?.perFile.first?.patterns == ["legacy/**"])
    }

    @Test func yamlErrorsAreReportedAsForRunbooks() {
        let (config, problems) = parse("ignore: [a\n")
        #expect(config == nil)
        #expect(problems.count == 1 && problems[0].hasSuffix("[yaml-syntax]"))
        let (notMapping, wrong) = parse("- ignore\n")
        #expect(notMapping == nil)
        #expect(wrong == ["1:1 error the lint config must be a mapping, found a list [wrong-type]"])
    }

    @Test(arguments: [
        ("legacy/**", "legacy/a.yaml", true),
        ("legacy/**", "legacy/deep/b.yaml", true),
        ("legacy/**", "new/legacy/a.yaml", false),
        ("**/old-*.yaml", "old-x.yaml", true),
        ("**/old-*.yaml", "a/b/old-x.yaml", true),
        ("**/old-*.yaml", "a/b/older.yaml", false),
        ("*.draft.yaml", "x.draft.yaml", true),
        ("*.draft.yaml", "team/x.draft.yaml", true),
        ("*.draft.yaml", "x.yaml", false),
        ("runbooks.d/*.yaml", "runbooks.d/a.yaml", true),
        ("runbooks.d/*.yaml", "runbooks.d/sub/a.yaml", false),
        ("./runbooks.d/?.yaml", "runbooks.d/a.yaml", true),
        ("runbooks.d/?.yaml", "runbooks.d/ab.yaml", false),
        ("a/**/z.yaml", "a/z.yaml", true),
        ("a/**/z.yaml", "a/b/c/z.yaml", true),
    ])
    func patterns(pattern: String, path: String, expected: Bool) {
        #expect(LintConfig.matches(pattern, path) == expected, "\(pattern) vs \(path)")
    }

    @Test func perFileRulesApplyToFilesUnderTheConfigDirectory() throws {
        let root = NSTemporaryDirectory() + "lint-config-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/repo/legacy/deep", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
        let text = "ignore: [file-name-mismatch]\nper_file:\n  - paths: [legacy/**]\n    ignore: [missing-confirmation]\n"
        try text.write(toFile: root + "/repo/.runbook-lint.yaml", atomically: true, encoding: .utf8)
        let (loaded, problems) = LintConfig.load(path: root + "/repo/.runbook-lint.yaml")
        #expect(problems.isEmpty)
        let config = try #require(loaded)
        #expect(config.ignoredRules(forFile: root + "/repo/legacy/deep/a.yaml") == ["file-name-mismatch", "missing-confirmation"])
        #expect(config.ignoredRules(forFile: root + "/repo/b.yaml") == ["file-name-mismatch"])
        #expect(config.ignoredRules(forFile: root + "/elsewhere/legacy/a.yaml") == ["file-name-mismatch"])
        // Found from a subdirectory, and not past a repository's root.
        #expect(LintConfig.discover(from: root + "/repo/legacy/deep") == root + "/repo/legacy/deep/../../.runbook-lint.yaml")
        #expect(LintConfig.discover(from: root + "/repo") == root + "/repo/.runbook-lint.yaml")
        // A file reached through a symlinked directory is matched by the path lint was given.
        try FileManager.default.createSymbolicLink(atPath: root + "/repo/old", withDestinationPath: root + "/repo/legacy/deep")
        #expect(config.ignoredRules(forFile: root + "/repo/old/a.yaml") == ["file-name-mismatch"])
        #expect(config.ignoredRules(forFile: Linter.standardInputName) == ["file-name-mismatch"])
        // A dangling symlink is found (and fails to load) rather than skipped.
        try FileManager.default.createDirectory(atPath: root + "/repo/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/repo/sub/.runbook-lint.yaml", withDestinationPath: "nowhere")
        #expect(LintConfig.discover(from: root + "/repo/sub") == root + "/repo/sub/.runbook-lint.yaml")
        #expect(LintConfig.load(path: root + "/repo/sub/.runbook-lint.yaml").0 == nil)
        try FileManager.default.createDirectory(atPath: root + "/repo/legacy/.git", withIntermediateDirectories: true)
        #expect(LintConfig.discover(from: root + "/repo/legacy/deep") == nil)
    }

    @Test func linterAppliesIgnoresAndSeverities() throws {
        let runbook = """
        version: 1
        id: other_name
        title: T
        severity: sev3
        automation: manual
        steps:
          - id: flip
            action: feature_flag.set
            with: {name: x, value: false}

        """
        let (config, _) = parse("severity: {mutating-without-undo: error}\nper_file: [{paths: [legacy/*], ignore: [missing-confirmation]}]\n",
                                base: "/nonexistent-base")
        var linter = Linter(catalog: BuiltinActions.catalog)
        linter.config = config
        let linted = linter.lint(bytes: Array(runbook.utf8), file: "x.yaml")
        let found = linted.diagnostics.map { "\($0.severity.rawValue) \($0.ruleID)" }
        #expect(found.contains("error mutating-without-undo"))
        #expect(found.contains("warning missing-confirmation"))  // the file is not under the config's directory
        #expect(found.contains("warning file-name-mismatch"))
    }
}
