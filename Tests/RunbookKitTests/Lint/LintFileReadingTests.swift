import Foundation
import RunbookActions
import RunbookKit
import Testing

/// `Linter.lint(fileAt:)` reads through the YAML front end's reader: located `io-error` /
/// `file-too-large` diagnostics that name the file and the reason (docs/lint.md).
@Suite struct LintFileReadingTests {
    let dir = NSTemporaryDirectory() + "runbook-lint-read-" + UUID().uuidString

    @Test func missingFileSaysWhy() throws {
        let path = dir + "/nope.yaml"
        let linted = Linter(catalog: BuiltinActions.catalog).lint(fileAt: path)
        #expect(linted.diagnostics.map(\.ruleID) == ["io-error"])
        #expect(linted.diagnostics.first?.message == "cannot open '\(path)': no such file or directory")
        #expect(linted.diagnostics.first?.location.file == path)
    }

    @Test func aDirectoryIsNotAFile() throws {
        try FileManager.default.createDirectory(atPath: dir + "/d.yaml", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let linted = Linter(catalog: BuiltinActions.catalog).lint(fileAt: dir + "/d.yaml")
        #expect(linted.diagnostics.map(\.message) == ["cannot read '\(dir)/d.yaml': it is a directory"])
    }

    @Test func aFileOverTheLimitIsRefused() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try String(repeating: "# padding\n", count: 100).write(toFile: dir + "/big.yaml", atomically: true, encoding: .utf8)
        let linter = Linter(catalog: BuiltinActions.catalog, limits: YAMLLimits(maxFileBytes: 100))
        let linted = linter.lint(fileAt: dir + "/big.yaml")
        #expect(linted.diagnostics.map(\.ruleID) == ["file-too-large"])
        #expect(linted.runbook == nil)
    }
}
