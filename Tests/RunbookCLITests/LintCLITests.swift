import Foundation
import RunbookKit
import Testing

let cleanRunbook = """
version: 1
id: clean
title: Clean runbook
severity: sev4
automation: automatic
steps:
  - id: say
    action: log
    with: {message: hello}

"""

let brokenRunbook = """
version: 1
id: broken
title: Broken
severity: sev9
automation: automatic
steps:
  - id: say
    action: logg
    with: {message: hello}

"""

@Suite(.serialized) struct LintCLITests {
    @Test func cleanDirectoryExitsZero() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/clean.yaml", cleanRunbook)
        let r = try await CLI.run(["lint"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("1 file checked, no problems"))
    }

    @Test func errorsExitOneWithLocationRuleAndCaret() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("broken.yaml", brokenRunbook)
        let r = try await CLI.run(["lint", "broken.yaml"], in: dir.path)
        #expect(r.status == 1)
        #expect(r.stdout.contains("broken.yaml:4:11: error: invalid severity 'sev9'"))
        #expect(r.stdout.contains("[invalid-enum]"))
        #expect(r.stdout.contains("broken.yaml:8:13: error: unknown action 'logg'; did you mean 'log'? [unknown-action]"))
        #expect(r.stdout.contains("    severity: sev9\n              ^\n"))
    }

    @Test func missingPathIsUsageError() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let r = try await CLI.run(["lint", "nope.yaml"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("nope.yaml: no such file or directory"))
    }

    @Test func badFlagIsUsageError() async throws {
        let r = try await CLI.run(["lint", "--format", "xml"])
        #expect(r.status == 2)
        let r2 = try await CLI.run(["lint", "--ignore", "no-such-rule"])
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("unknown rule 'no-such-rule'"))
    }

    @Test func strictTurnsWarningsIntoErrors() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("other_name.yaml", cleanRunbook)  // file-name-mismatch is a warning
        let plain = try await CLI.run(["lint", "other_name.yaml"], in: dir.path)
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("warning:"))
        let strict = try await CLI.run(["lint", "--strict", "other_name.yaml"], in: dir.path)
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("error: runbook id 'clean' differs from file name"))
    }

    @Test func ignoreCommentSilencesOneLine() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("x.yaml", cleanRunbook.replacingOccurrences(of: "id: clean\n", with: "id: clean  # runbook-lint: ignore file-name-mismatch\n"))
        let r = try await CLI.run(["lint", "--strict", "x.yaml"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)")
    }

    @Test func jsonFormat() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("broken.yaml", brokenRunbook)
        let r = try await CLI.run(["lint", "--format", "json", "broken.yaml"], in: dir.path)
        #expect(r.status == 1)
        let value = try #require(Value.parseJSON(r.stdout))
        guard case .map(let m) = value, case .list(let items)? = m["diagnostics"], case .map(let first)? = items.first else {
            Issue.record("unexpected JSON: \(r.stdout)"); return
        }
        #expect(first["file"] == .string("broken.yaml"))
        #expect(first["line"] == .int(4))
        #expect(first["rule"] == .string("invalid-enum"))
    }

    @Test func sarifFormat() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("broken.yaml", brokenRunbook)
        let r = try await CLI.run(["lint", "--format", "sarif", "broken.yaml"], in: dir.path)
        #expect(r.status == 1)
        let value = try #require(Value.parseJSON(r.stdout))
        guard case .map(let m) = value, case .list(let runs)? = m["runs"], case .map(let run)? = runs.first,
              case .list(let results)? = run["results"], case .map(let result)? = results.first,
              case .list(let locations)? = result["locations"], case .map(let loc)? = locations.first,
              case .map(let physical)? = loc["physicalLocation"], case .map(let region)? = physical["region"] else {
            Issue.record("unexpected SARIF: \(r.stdout)"); return
        }
        #expect(m["version"] == .string("2.1.0"))
        #expect(result["ruleId"] == .string("invalid-enum"))
        #expect(result["level"] == .string("error"))
        #expect(region["startLine"] == .int(4))
        #expect(region["startColumn"] == .int(11))
    }

    @Test func githubFormat() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("broken.yaml", brokenRunbook)
        let r = try await CLI.run(["lint", "--format", "github", "broken.yaml"], in: dir.path)
        #expect(r.status == 1)
        #expect(r.stdout.contains("::error file=broken.yaml,line=4,col=11,title=invalid-enum::invalid severity 'sev9'"))
    }

    @Test("--format github escapes control characters in messages and file names, as --format text does")
    func githubFormatEscapesControlCharacters() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        // A step id with ESC (a terminal escape sequence) and a C1 CSI, in a file whose name holds an ESC.
        let name = "esc\u{1B}[31m,x.yaml"
        try dir.write(name, cleanRunbook.replacingOccurrences(of: "- id: say", with: "- id: \"say\\e[2J\\u009B1m\\t%\""))
        let r = try await CLI.run(["lint", "--format", "github", name], in: dir.path)
        #expect(r.status == 1)
        #expect(!r.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F..<0xA0).contains($0.value) },
                "\(r.stdout.debugDescription)")
        #expect(r.stdout.contains("::error file=esc\\u{1B}[31m%2Cx.yaml,line=7,col=9,title=invalid-id::"
                                  + "invalid step id 'say\\u{1B}[2J\\u{9B}1m\\t%25'"), "\(r.stdout)")
        // The text format escapes them the same way.
        let text = try await CLI.run(["lint", name], in: dir.path)
        #expect(text.stdout.contains("esc\\u{1B}[31m,x.yaml:7:9: error: invalid step id 'say\\u{1B}[2J\\u{9B}1m\\t%'"),
                "\(text.stdout)")
    }

    @Test func versionIsQuick() async throws {
        let r = try await CLI.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test func listAndShow() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/clean.yaml", cleanRunbook)
        let list = try await CLI.run(["list"], in: dir.path)
        #expect(list.status == 0)
        #expect(list.stdout.contains("clean"))
        #expect(list.stdout.contains("Sev4"))
        let show = try await CLI.run(["show", "clean"], in: dir.path)
        #expect(show.status == 0)
        #expect(show.stdout.contains("clean: Clean runbook"))
        #expect(show.stdout.contains("1. say [log]"))
        let missing = try await CLI.run(["show", "nope"], in: dir.path)
        #expect(missing.status == 2)
    }

    @Test func drillPassesParamsToRunbooksThatDeclareThem() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/needs.yaml", """
        version: 1
        id: needs
        title: Needs a param
        severity: sev4
        automation: automatic
        params:
          service: {type: string}
        steps:
          - id: say
            action: log
            with: {message: "${{ params.service }}"}

        """)
        try dir.write("runbooks.d/clean.yaml", cleanRunbook)
        let without = try await CLI.run(["drill"], in: dir.path)
        #expect(without.status == 1)
        #expect(without.stdout.contains("param 'service' is required"))
        let with = try await CLI.run(["drill", "--param", "service=api"], in: dir.path)
        #expect(with.status == 0, "\(with.stdout)")
        #expect(with.stdout.contains("2 passed, 0 failed"))
        let bad = try await CLI.run(["drill", "--param", "nonsense"], in: dir.path)
        #expect(bad.status == 2)
    }
}
