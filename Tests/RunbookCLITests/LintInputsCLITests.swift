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

    @Test("a file named twice, or inside a directory also named, is linted once (no duplicate-runbook-id against itself)")
    func sameFileTwice() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/clean.yaml", cleanRunbook)
        for args in [["runbooks.d/clean.yaml", "runbooks.d/clean.yaml"],
                     ["runbooks.d", "runbooks.d/clean.yaml"],
                     ["runbooks.d/clean.yaml", "./runbooks.d/clean.yaml", dir.path + "/runbooks.d/clean.yaml", "runbooks.d/"]] {
            let r = try await CLI.run(["lint"] + args, in: dir.path)
            #expect(r.status == 0, "\(args): \(r.stdout)")
            #expect(r.stdout == "1 file checked, no problems\n", "\(args)")
        }
        // The first spelling is the one reported.
        let r = try await CLI.run(["lint", "--format", "json", "./runbooks.d/clean.yaml", "runbooks.d"], in: dir.path)
        #expect(r.stdout.contains("\"files\": 1"))
        // Two different files with one id are still reported.
        try dir.write("runbooks.d/copy.yaml", cleanRunbook)
        let two = try await CLI.run(["lint", "runbooks.d", "runbooks.d/copy.yaml"], in: dir.path)
        #expect(two.status == 1)
        #expect(two.stdout.contains("runbooks.d/copy.yaml:2:5: error: runbook id 'clean' is already used by runbooks.d/clean.yaml [duplicate-runbook-id]"))
    }

    @Test("a symlink to nothing named on the command line is an io-error among the other files' findings")
    func danglingSymlinkNamed() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/dangle.yaml", withDestinationPath: "nothing")
        let good = Repo.path("examples/confirm.yaml")
        let r = try await CLI.run(["lint", "dangle.yaml", good, "--format", "json"], in: dir.path)
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("cannot open 'dangle.yaml': it is a symbolic link to a file that does not exist"), "\(r.stdout)")
        #expect(r.stdout.contains("\"files\": 2"), "the other file is checked too: \(r.stdout)")
    }

    @Test("a file whose name is not valid UTF-8 is reported as such, not as missing")
    func undecodableFileName() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let name: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".yaml".utf8)
        let path = Array(dir.path.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self),
                                                     O_WRONLY | O_CREAT, 0o644) }
        #expect(fd >= 0)
        close(fd)
        let r = try await CLI.run(["lint", dir.path])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("its name is not valid UTF-8, which runbook cannot open; rename the file"), "\(r.stdout)")
        #expect(!r.stdout.contains("no such file"), "\(r.stdout)")
    }

    @Test("lint <(generate): a pipe's /dev/fd name is not held against the runbook id")
    func processSubstitution() async throws {
        let script = #"exec "$0" lint --strict <(cat "$1")"#
        let r = try await CLI.runProgram("/bin/bash", ["-c", script, CLI.executable, Repo.path("examples/confirm.yaml")])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.contains("file-name-mismatch"), "\(r.stdout)")
    }

    @Test("'-' lints standard input, reported as <stdin>")
    func standardInput() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("in.txt", brokenRunbook)
        try dir.write("clean.yaml", cleanRunbook)
        let r = try await CLI.run(["lint", "-", "clean.yaml", "-"], in: dir.path, stdinFile: dir.path + "/in.txt")
        #expect(r.status == 1)
        #expect(r.stdout.contains("<stdin>:4:11: error: invalid severity 'sev9'"), "\(r.stdout)")
        #expect(r.stdout.contains("2 files checked"))
        let empty = try await CLI.run(["lint", "-"], in: dir.path)
        #expect(empty.status == 1)
        #expect(empty.stdout.contains("<stdin>:1:1: error: file contains no YAML document [empty-file]"))
    }

    @Test("an upper-case extension (.YAML, .Yml) is a runbook too: linted, listed and run by id")
    func upperCaseExtensions() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/clean.YAML", cleanRunbook)
        try dir.write("runbooks.d/notes.Txt", "not yaml")
        try dir.write("runbooks.d/clean.TEST.YAML", "not a runbook: a scenario\n")
        let r = try await CLI.run(["lint", "runbooks.d"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout == "1 file checked, no problems\n")
        let list = try await CLI.run(["list"], in: dir.path)
        #expect(list.stdout.contains("Clean runbook"))
        let show = try await CLI.run(["show", "clean"], in: dir.path)
        #expect(show.status == 0, "\(show.stderr)")
    }

    @Test("a directory walk skips hidden files and directories (.runbook, .git); a hidden path named explicitly is linted")
    func hiddenEntriesAreSkipped() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/clean.yaml", cleanRunbook)
        try dir.write("runbooks.d/.runbook/runs/r1/clean.yaml", cleanRunbook)
        try dir.write("runbooks.d/.git/broken.yaml", brokenRunbook)
        try dir.write("runbooks.d/.broken.yaml", brokenRunbook)
        let r = try await CLI.run(["lint", "runbooks.d"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout == "1 file checked, no problems\n")
        let explicit = try await CLI.run(["lint", "runbooks.d/.broken.yaml", "runbooks.d/.runbook"], in: dir.path)
        #expect(explicit.status == 1)
        #expect(explicit.stdout.contains("2 files checked"))
        #expect(explicit.stdout.contains("runbooks.d/.broken.yaml:4:11: error: invalid severity"))
        // list and show walk the same way.
        let list = try await CLI.run(["list"], in: dir.path)
        #expect(list.status == 0)
        #expect(list.stderr.isEmpty, "\(list.stderr)")
        #expect(list.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("clean ") }.count == 1, "\(list.stdout)")
    }

    @Test("a FIFO or socket named *.yaml in a directory is an io-error, never opened; lint exits 2 and does not hang")
    func specialFilesInADirectory() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/clean.yaml", cleanRunbook)
        try #require(mkfifo(dir.path + "/runbooks.d/pipe.yaml", 0o600) == 0)
        let socketPath = dir.path + "/runbooks.d/sock.yaml"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        let started = Date()
        let r = try await CLI.run(["lint", "runbooks.d"], in: dir.path, timeout: 30)
        #expect(Date().timeIntervalSince(started) < 4, "lint must not wait on the FIFO")
        #expect(r.status == 2, "\(r.stdout)")
        #expect(r.stdout.contains("runbooks.d/pipe.yaml:1:1: error: cannot read 'runbooks.d/pipe.yaml': not a regular file (a FIFO) [io-error]"))
        #expect(r.stdout.contains("runbooks.d/sock.yaml:1:1: error: cannot read 'runbooks.d/sock.yaml': not a regular file (a socket) [io-error]"))
        #expect(r.stdout.contains("3 files checked: 2 errors, 0 warnings"))
        // A socket named explicitly is refused the same way.
        let named = try await CLI.run(["lint", "runbooks.d/sock.yaml"], in: dir.path)
        #expect(named.status == 2)
        #expect(named.stdout.contains("not a regular file (a socket) [io-error]"))
    }

    @Test("a FIFO named explicitly is read once a writer comes, and given up on when none does")
    func explicitFIFO() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let path = dir.path + "/clean.yaml"
        try #require(mkfifo(path, 0o600) == 0)
        let bytes = Array(cleanRunbook.utf8)
        let writer = Thread {
            let fd = open(path, O_WRONLY)
            Thread.sleep(forTimeInterval: 0.5)  // lint has opened it and waits
            _ = bytes.withUnsafeBytes { writeFully(fd, $0) }
            close(fd)
        }
        writer.start()
        let fed = try await CLI.run(["lint", "clean.yaml"], in: dir.path, timeout: 30)
        #expect(fed.status == 0, "\(fed.stdout)")
        #expect(fed.stdout == "1 file checked, no problems\n")
        let started = Date()
        let orphan = try await CLI.run(["lint", "clean.yaml"], in: dir.path, timeout: 30)
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(orphan.status == 2)
        #expect(orphan.stdout.contains("clean.yaml:1:1: error: cannot read 'clean.yaml': no process opened the FIFO for writing within 5 s [io-error]"))
    }

    @Test("a file that cannot be read is reported and makes the exit status 2, in every format")
    func unreadableFileExitsTwo() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/broken.yaml", brokenRunbook)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/runbooks.d/gone.yaml", withDestinationPath: dir.path + "/nowhere.yaml")
        let r = try await CLI.run(["lint", "runbooks.d"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stdout.contains("runbooks.d/broken.yaml:4:11: error: invalid severity"))
        #expect(r.stdout.contains("runbooks.d/gone.yaml:1:1: error: cannot open 'runbooks.d/gone.yaml': it is a symbolic link to a file that does not exist [io-error]"))
        let json = try await CLI.run(["lint", "--format", "json", "runbooks.d"], in: dir.path)
        #expect(json.status == 2)
        #expect(json.stdout.contains("\"rule\": \"io-error\""))
        #expect(Value.parseJSON(json.stdout) != nil)
        // --ignore hides the finding, not the fact that a file went unchecked.
        let ignored = try await CLI.run(["lint", "--ignore", "io-error", "runbooks.d/gone.yaml"], in: dir.path)
        #expect(ignored.status == 2)
        // Readable files only: the exit status is as before.
        let readable = try await CLI.run(["lint", "runbooks.d/broken.yaml"], in: dir.path)
        #expect(readable.status == 1)
    }

    @Test("a directory without runbooks is an input error: exit 2, a message on stderr, nothing on stdout (JSON too)")
    func emptyDirectory() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path + "/empty", withIntermediateDirectories: true)
        for format in ["text", "json", "sarif"] {
            let r = try await CLI.run(["lint", "--format", format, "empty"], in: dir.path)
            #expect(r.status == 2)
            #expect(r.stdout.isEmpty, "\(format): \(r.stdout)")
            #expect(r.stderr == "error: empty: no runbook files (*.yaml, *.yml) found\n")
        }
    }

    @Test("SARIF: the uri is a percent-encoded relative reference; columns are Unicode code points")
    func sarifURIAndColumns() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        let name = "c:d/we ird#1?%é.yaml"
        try dir.write(name, cleanRunbook.replacingOccurrences(of: "with: {message: hello}", with: "with: {message: \"🔥\", mesage: x}"))
        let r = try await CLI.run(["lint", "--format", "sarif", name], in: dir.path)
        #expect(r.status == 1)
        guard case .map(let m)? = Value.parseJSON(r.stdout), case .list(let runs)? = m["runs"], case .map(let run)? = runs.first,
              case .list(let results)? = run["results"] else {
            Issue.record("unexpected SARIF: \(r.stdout)"); return
        }
        #expect(run["columnKind"] == .string("unicodeCodePoints"))
        let finding = results.first { result in
            guard case .map(let f) = result else { return false }
            return f["ruleId"] == .string("unknown-parameter")
        }
        guard case .map(let f)? = finding, case .list(let locations)? = f["locations"], case .map(let loc)? = locations.first,
              case .map(let physical)? = loc["physicalLocation"], case .map(let artifact)? = physical["artifactLocation"],
              case .map(let region)? = physical["region"] else {
            Issue.record("no unknown-parameter result: \(r.stdout)"); return
        }
        #expect(artifact["uri"] == .string("./c:d/we%20ird%231%3F%25%C3%A9.yaml"))
        // `    with: {message: "🔥", mesage: x}`: 'mesage' is the 26th code point (27th UTF-16 unit).
        #expect(region["startLine"] == .int(9))
        #expect(region["startColumn"] == .int(26))
    }

    @Test("text: control characters from the file are escaped in messages and source lines; the caret still lines up")
    func textEscapesControlCharacters() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("clean.yaml", cleanRunbook + "\"bad\\nkey\\e[31m\\r\": 1\n")
        let r = try await CLI.run(["lint", "clean.yaml"], in: dir.path)
        #expect(r.status == 1)
        #expect(!r.stdout.contains("\u{1B}") && !r.stdout.contains("\r"), "\(r.stdout.debugDescription)")
        #expect(r.stdout.contains("clean.yaml:10:1: error: unknown key 'bad\\nkey\\u{1B}[31m\\r' in a runbook [unknown-key]\n"), "\(r.stdout)")
        // A raw control character in the file (libyaml refuses it) is shown escaped too.
        try dir.write("raw.yaml", "id: a\u{1B}[2Jb: c\n")
        let raw = try await CLI.run(["lint", "raw.yaml"], in: dir.path)
        #expect(raw.status == 1)
        #expect(!raw.stdout.contains("\u{1B}"), "\(raw.stdout.debugDescription)")
        #expect(raw.stdout.contains("    id: a\\u{1B}[2Jb: c\n"), "\(raw.stdout)")
        // Other formats already escape: JSON keeps the real characters.
        let json = try await CLI.run(["lint", "--format", "json", "clean.yaml"], in: dir.path)
        #expect(json.stdout.contains("unknown key 'bad\\nkey\\u001b[31m\\r'") || json.stdout.contains("unknown key 'bad\\nkey\\u001B[31m\\r'"),
                "\(json.stdout)")
    }
}
