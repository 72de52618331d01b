import Foundation
import RunbookActions
import RunbookKit
import Testing

/// Golden files: `Fixtures/invalid/x.yaml` beside `x.diagnostics`, the exact text `runbook lint` prints.
/// `UPDATE_GOLDEN=1 swift test --filter GoldenDiagnosticsTests` rewrites them (review the diff).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func files(_ folder: String) -> [String] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    static func bytes(_ folder: String, _ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(folder).appendingPathComponent(name)))
    }

    /// Lints a fixture under its bare file name so the golden output does not depend on the checkout path.
    /// `summarizing`: as `runbook lint` does, checking steps while the file is read.
    static func lint(_ folder: String, _ name: String, summarizing: Bool = false) throws -> LintedFile {
        var linter = Linter(catalog: BuiltinActions.catalog)
        linter.summarizesSteps = summarizing
        return linter.lint(bytes: try bytes(folder, name), file: name)
    }
}

@Suite struct GoldenDiagnosticsTests {
    /// Both ways of linting must print the same: steps checked at the end, with the whole
    /// runbook (`run`, `show`), and steps checked as the file is read and kept as summaries (`lint`).
    @Test("invalid fixtures produce exactly their golden diagnostics", arguments: Fixtures.files("invalid"), [false, true])
    func invalidFixture(_ name: String, summarizing: Bool) throws {
        let linted = try Fixtures.lint("invalid", name, summarizing: summarizing)
        let rendered = DiagnosticRenderer(format: .text).render([linted])
        let goldenURL = Fixtures.root.appendingPathComponent("invalid")
            .appendingPathComponent((name as NSString).deletingPathExtension + ".diagnostics")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1", !summarizing {
            try rendered.write(to: goldenURL, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(rendered == golden)
        #expect(!linted.diagnostics.isEmpty, "an invalid fixture must produce at least one finding")
    }

    @Test("valid fixtures lint clean, warnings included", arguments: Fixtures.files("valid"), [false, true])
    func validFixture(_ name: String, summarizing: Bool) throws {
        let linted = try Fixtures.lint("valid", name, summarizing: summarizing)
        #expect(linted.diagnostics.isEmpty, "\(DiagnosticRenderer(format: .text).render([linted]))")
        #expect(linted.runbook != nil)
    }

    @Test("every rule id is covered by at least one invalid fixture")
    func everyRuleCovered() throws {
        var seen = Set<String>()
        for name in Fixtures.files("invalid") {
            for d in try Fixtures.lint("invalid", name).diagnostics { seen.insert(d.ruleID) }
        }
        // io-error and duplicate-runbook-id are tested in the CLI tests; the size limits and
        // recursive aliases in YAMLParserTests (their inputs are large or need a crafted event stream).
        let expected = Set(BuiltinRules.descriptions.map(\.id)).subtracting(["io-error", "file-too-large", "scalar-too-large", "recursive-alias", "duplicate-runbook-id"])
        let missing = expected.subtracting(seen).sorted()
        #expect(missing.isEmpty, "rules without a fixture: \(missing)")
    }
}
