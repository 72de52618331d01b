import Foundation
import RunbookActions
import RunbookKit
import Testing

/// `# runbook-lint:` comments (docs/lint.md, "Silencing a finding").
@Suite struct SuppressionTests {
    /// `rule@line:column` of every finding of `text` linted as `s.yaml`.
    private func findings(_ text: String, ignoring: Set<String> = []) -> [String] {
        let linter = Linter(catalog: BuiltinActions.catalog, ignoredRules: ignoring)
        return linter.lint(bytes: Array(text.utf8), file: "s.yaml").diagnostics
            .map { "\($0.ruleID)@\($0.location.line):\($0.location.column)" }
    }

    private func findingMessages(_ text: String) -> [String] {
        Linter(catalog: BuiltinActions.catalog).lint(bytes: Array(text.utf8), file: "s.yaml").diagnostics.map(\.message)
    }

    /// A runbook whose step 'say' calls the unknown action 'logg' on line 8.
    private func runbook(header: String = "", step: String = "    action: logg\n", after: String = "") -> String {
        """
        \(header)version: 1
        id: s
        title: Suppressions
        severity: sev4
        automation: automatic
        steps:
          - id: say
        \(step)    with: {message: hello}
        \(after)
        """
    }

    @Test("without a comment the fixture has one finding: unknown-action on line 8")
    func baseline() {
        #expect(findings(runbook()) == ["unknown-action@8:13"])
        #expect(findings(runbook(step: "    action: logg  # runbook-lint: ignore unknown-action\n")).isEmpty)
        #expect(findings(runbook(step: "    action: logg  # runbook-lint: ignore all\n")).isEmpty)
    }

    @Test("'ignore-file all' is a bad-suppression warning at 'all' and silences nothing; named rules in it still count")
    func ignoreFileAllIsRejected() {
        let text = runbook(header: "# runbook-lint: ignore-file all\n")
        #expect(findings(text) == ["bad-suppression@1:29", "unknown-action@9:13"])
        #expect(findingMessages(text).first == "'ignore-file all' is not accepted; name the rules to silence in the whole file")
        #expect(findings(runbook(header: "# runbook-lint: ignore-file all, unknown-action\n")) == ["bad-suppression@1:29"])
        #expect(findings(runbook(header: "# runbook-lint: ignore-file unknown-action\n")).isEmpty)
    }

    @Test("runbook-lint text inside a quoted scalar is a value, not a comment")
    func quotedScalarIsNotAComment() {
        #expect(findings(runbook(step: "    action: \"logg # runbook-lint: ignore all\"\n")) == ["unknown-action@8:13"])
        #expect(findings(runbook(step: "    action: 'logg # runbook-lint: ignore all'\n")) == ["unknown-action@8:13"])
        // A quoted scalar spanning lines: its second line starts with '#' but is still text.
        let multiline = runbook(step: "    action: logg\n    name: \"a\n      # runbook-lint: ignore-file unknown-action\"\n")
        #expect(findings(multiline).contains("unknown-action@8:13"))
        // A real comment after a quoted scalar that holds the marker still counts.
        #expect(findings(runbook(step: "    action: logg\n    name: \"# runbook-lint: ignore x\"  # runbook-lint: ignore-file unknown-action\n")).isEmpty)
        // '#' without a blank before it does not start a comment.
        #expect(findings(runbook(step: "    action: logg#runbook-lint:all\n")) == ["unknown-action@8:13"])
    }

    @Test("runbook-lint text in a block scalar's content is a value; a comment on its header line counts")
    func blockScalarIsNotAComment() {
        for indicator in ["|", ">", "|-", ">+"] {
            let text = runbook(step: "    action: logg\n    name: \(indicator)\n      text\n      # runbook-lint: ignore-file unknown-action\n      # runbook-lint: ignroe\n")
            #expect(findings(text) == ["unknown-action@8:13"], "\(indicator)")
        }
        let header = runbook(step: "    action: logg\n    name: |  # runbook-lint: ignore-file unknown-action\n      # runbook-lint: ignore all\n")
        #expect(findings(header).isEmpty)
    }

    @Test("a comment covers its own line only, not the next one")
    func commentAboveDoesNotCount() {
        #expect(findings(runbook(step: "    # runbook-lint: ignore unknown-action\n    action: logg\n")) == ["unknown-action@9:13"])
        // A commented-out line with a directive in it does not silence the line after it.
        #expect(findings(runbook(step: "    # action: old  # runbook-lint: ignore all\n    action: logg\n")) == ["unknown-action@9:13"])
    }

    @Test("malformed directives are bad-suppression warnings at the comment's '#'")
    func malformedDirectives() {
        #expect(findings(runbook(step: "    action: logg  # runbook-lint: ignroe unknown-action\n")) == ["unknown-action@8:13", "bad-suppression@8:19"])
        #expect(findingMessages(runbook(step: "    action: logg  # runbook-lint: ignroe unknown-action\n")).last
                == "unknown runbook-lint directive 'ignroe'; expected 'ignore' or 'ignore-file'; did you mean 'ignore'?")
        #expect(findings(runbook(step: "    action: logg  # runbook-lint: ignore\n")) == ["unknown-action@8:13", "bad-suppression@8:19"])
        #expect(findings(runbook(step: "    action: logg  # runbook-lint: ignore -- no rule\n")) == ["unknown-action@8:13", "bad-suppression@8:19"])
        #expect(findings(runbook(step: "    action: logg  # runbook-lint:\n")) == ["unknown-action@8:13", "bad-suppression@8:19"])
        #expect(findings(runbook(header: "# runbook-lint: ignore-file\n")) == ["bad-suppression@1:1", "unknown-action@9:13"])
        // They can be turned off with --ignore.
        #expect(findings(runbook(step: "    action: logg  # runbook-lint: ignore\n"), ignoring: ["bad-suppression"]) == ["unknown-action@8:13"])
    }

    @Test("an unknown rule id is reported at its own column, counted in Unicode scalars")
    func unknownRuleColumn() {
        #expect(findings(runbook(step: "    action: logg  # runbook-lint: ignore unknown-action, unknwn-action\n"))
                == ["unknown-rule@8:58"])
        // 'é' is two bytes, one column.
        #expect(findings(runbook(step: "    action: logg  # é runbook-lint: ignore nope\n")) == ["unknown-action@8:13", "unknown-rule@8:44"])
    }
}
