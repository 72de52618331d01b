import Foundation
import Testing

/// `clean` (from LintCLITests) with another id and title.
private func runbook(id: String, title: String) -> String {
    cleanRunbook.replacingOccurrences(of: "id: clean", with: "id: \(id)")
        .replacingOccurrences(of: "title: Clean runbook", with: "title: \(title)")
}

/// `run`/`show ID` and `list` agree on which file is runbook ID, and never pick another one.
@Suite(.serialized) struct RunbookLookupCLITests {
    @Test func theFileThatDeclaresTheIDWinsOverTheFileNamedAfterIt() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/foo.yaml", runbook(id: "bar", title: "I am bar"))
        try dir.write("runbooks.d/baz.yaml", runbook(id: "foo", title: "I am foo"))
        let show = try await CLI.run(["show", "foo"], in: dir.path)
        #expect(show.status == 0, "\(show.stdout)\(show.stderr)")
        #expect(show.stdout.hasPrefix("foo: I am foo\n"))
        let list = try await CLI.run(["list"], in: dir.path)
        #expect(list.stdout.split(separator: "\n").contains { $0.hasPrefix("foo ") && $0.hasSuffix("I am foo") }, "\(list.stdout)")
        let bar = try await CLI.run(["show", "bar"], in: dir.path)
        #expect(bar.stdout.hasPrefix("bar: I am bar\n"))
    }

    @Test func aFileNamedAfterTheIDThatDeclaresAnotherIsRefused() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/foo.yaml", runbook(id: "bar", title: "I am bar"))
        let r = try await CLI.run(["run", "foo", "--dry-run"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("runbooks.d/foo.yaml declares runbook id 'bar', not 'foo'; run it as 'bar' or by its path, or fix its id"))
    }

    @Test func twoFilesDeclaringTheIDAreAmbiguousUnlessOneIsNamedAfterIt() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/a.yaml", runbook(id: "x", title: "A"))
        try dir.write("runbooks.d/b.yaml", runbook(id: "x", title: "B"))
        let r = try await CLI.run(["show", "x"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("runbook id 'x' is declared by 2 files: runbooks.d/a.yaml, runbooks.d/b.yaml"))
        let listX = try await CLI.run(["list"], in: dir.path)
        #expect(listX.stderr.contains("warning: runbook id 'x' is declared by runbooks.d/a.yaml, runbooks.d/b.yaml; 'runbook run x' refuses it"))

        try dir.write("runbooks.d/when.yaml", runbook(id: "when", title: "Right"))
        try dir.write("runbooks.d/other.yaml", runbook(id: "when", title: "Copy"))
        // The file named after the id keeps it, for lint, list and show alike.
        let show = try await CLI.run(["show", "when"], in: dir.path)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.hasPrefix("when: Right\n"))
        // Lint blames the copy, not the file named after the id, and list shows the right one.
        let lint = try await CLI.run(["lint"], in: dir.path)
        #expect(lint.status == 1)
        #expect(lint.stdout.contains("runbooks.d/other.yaml:2:5: error: runbook id 'when' is already used by runbooks.d/when.yaml, the file named after it [duplicate-runbook-id]"))
        #expect(!lint.stdout.contains("runbooks.d/when.yaml:2:5: error"))
        let list = try await CLI.run(["list"], in: dir.path)
        #expect(list.stdout.contains("Right") && !list.stdout.contains("Copy"))
        #expect(list.stderr.contains("warning: runbooks.d/other.yaml has lint errors (run 'runbook lint runbooks.d')"))
    }

    @Test func aBrokenFileNamedAfterTheIDShowsItsErrors() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/broken.yaml", "version: 1\nid: [\n")
        let r = try await CLI.run(["show", "broken"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("[yaml-syntax]"))
        // A name that only starts with the id is not the id's file.
        try dir.write("runbooks.d/foo.old.yaml", runbook(id: "old_foo", title: "Old"))
        let foo = try await CLI.run(["show", "foo"], in: dir.path)
        #expect(foo.status == 2)
        #expect(foo.stderr.contains("no runbook with id 'foo' in runbooks.d"))
    }
}
