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

/// `Linter.expand`: which files `runbook lint DIR` picks up (docs/lint.md).
@Suite struct LintExpandTests {
    let dir = NSTemporaryDirectory() + "runbook-lint-expand-" + UUID().uuidString
    let fm = FileManager.default

    private func write(_ relative: String) throws {
        let path = dir + "/" + relative
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "x: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("a directory gives its *.yaml/*.yml files, nested ones too, sorted; scenarios, hidden entries and other files are left out")
    func directoryWalk() throws {
        defer { try? fm.removeItem(atPath: dir) }
        for file in ["b.yaml", "a.yml", "notes.md", "a.test.yaml", "b.test.yml", "sub/c.yaml", "sub/deeper/d.yml",
                     ".hidden/e.yaml", ".f.yaml", ".runbook/runs/r1/b.yaml", ".git/g.yaml", "sub/.h.yml", "z/readme.txt"] {
            try write(file)
        }
        // A directory named like a runbook is not a file.
        try fm.createDirectory(atPath: dir + "/dir.yaml", withIntermediateDirectories: true)
        let files = try Linter.expand([dir])
        #expect(files == ["a.yml", "b.yaml", "sub/c.yaml", "sub/deeper/d.yml"].map { dir + "/" + $0 })
        #expect(try Linter.inputs([dir]).allSatisfy(\.foundInDirectory))
        // A hidden path given by name is walked (its own hidden entries are still skipped) or taken as it is.
        #expect(try Linter.expand([dir + "/.runbook", dir + "/.f.yaml"]) == [dir + "/.runbook/runs/r1/b.yaml", dir + "/.f.yaml"])
        #expect(try Linter.inputs([dir + "/.f.yaml"]) == [LintInput(path: dir + "/.f.yaml", foundInDirectory: false)])
        // A trailing slash does not double it; a file given by name is taken as it is.
        #expect(try Linter.expand([dir + "/"]) == files)
        #expect(try Linter.expand([dir + "/notes.md", dir + "/a.test.yaml"]) == [dir + "/notes.md", dir + "/a.test.yaml"])
    }

    @Test("a symlinked directory given as the path is followed; symlinks inside it to files count, to directories do not, to nothing are reported")
    func symlinks() throws {
        defer { try? fm.removeItem(atPath: dir) }
        try write("real/a.yaml")
        try write("elsewhere/b.yaml")
        try write("elsewhere/sub/c.yaml")
        try fm.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/real")
        try fm.createSymbolicLink(atPath: dir + "/real/b.yaml", withDestinationPath: dir + "/elsewhere/b.yaml")
        try fm.createSymbolicLink(atPath: dir + "/real/loop", withDestinationPath: dir + "/real")
        try fm.createSymbolicLink(atPath: dir + "/real/sub.yaml", withDestinationPath: dir + "/elsewhere/sub")
        try fm.createSymbolicLink(atPath: dir + "/real/dangling.yaml", withDestinationPath: dir + "/nowhere.yaml")
        let files = try Linter.expand([dir + "/link"])
        #expect(files == [dir + "/link/a.yaml", dir + "/link/b.yaml", dir + "/link/dangling.yaml"])
        // The dangling one is not silently left out: lint says it cannot be read.
        let linted = Linter(catalog: BuiltinActions.catalog).lint(fileAt: dir + "/link/dangling.yaml")
        #expect(linted.diagnostics.map(\.message) == ["cannot open '\(dir)/link/dangling.yaml': it is a symbolic link to a file that does not exist"])
    }

    @Test("a file reached twice is kept once, as first seen: same path, ./path, absolute path, through its directory or a symlink")
    func duplicatesByRealPath() throws {
        defer { try? fm.removeItem(atPath: dir) }
        try write("d/a.yaml")
        try write("d/b.yaml")
        try fm.createSymbolicLink(atPath: dir + "/link.yaml", withDestinationPath: dir + "/d/b.yaml")
        // (Absolute paths: changing the working directory would disturb tests running alongside.)
        let d = dir + "/d"
        #expect(try Linter.expand([d + "/a.yaml", d + "/a.yaml"]) == [d + "/a.yaml"])
        #expect(try Linter.expand([d + "/a.yaml", dir + "/./d/a.yaml", dir + "//d/a.yaml", d + "/../d/a.yaml"]) == [d + "/a.yaml"])
        #expect(try Linter.expand([d + "/b.yaml", d, d + "/a.yaml"]) == [d + "/b.yaml", d + "/a.yaml"])
        #expect(try Linter.expand([dir + "/link.yaml", d]) == [dir + "/link.yaml", d + "/a.yaml"])
        #expect(try Linter.expand([d, d + "/"]) == [d + "/a.yaml", d + "/b.yaml"])
        // Two dangling symlinks are two files (both get an io-error).
        try fm.createSymbolicLink(atPath: dir + "/d/x.yaml", withDestinationPath: dir + "/none1")
        try fm.createSymbolicLink(atPath: dir + "/d/y.yaml", withDestinationPath: dir + "/none2")
        #expect(try Linter.expand([d]) == ["a", "b", "x", "y"].map { d + "/\($0).yaml" })
    }

    @Test("a directory lint cannot read is an input error that names it, not runbooks skipped",
          .enabled(if: getuid() != 0, "root reads every directory"))
    func unreadableDirectory() throws {
        defer {
            chmod(dir + "/sub", 0o755)
            try? fm.removeItem(atPath: dir)
        }
        try write("a.yaml")
        try write("sub/b.yaml")
        try #require(chmod(dir + "/sub", 0) == 0)
        do {
            _ = try Linter.expand([dir])
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "\(dir)/sub: cannot read directory: permission denied")
        }
    }

    @Test("a missing path and a directory without runbooks are input errors that name the path")
    func inputErrors() throws {
        defer { try? fm.removeItem(atPath: dir) }
        try write("notes.md")
        #expect(throws: LintInputError.self) { try Linter.expand([dir + "/nope"]) }
        do {
            _ = try Linter.expand([dir])
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "\(dir): no runbook files (*.yaml, *.yml) found")
        }
        do {
            _ = try Linter.expand([dir + "/nope"])
        } catch {
            #expect(error.message == "\(dir)/nope: no such file or directory")
        }
    }
}
