import Foundation
import Testing

/// A runbook whose texts try to rewrite the terminal: a carriage return that would hide the
/// step's real action under a harmless-looking line, and escape sequences.
private let disguisedRunbook = #"""
version: 1
id: disguised
title: "Restart \e[31mAPI\e[0m"
owner: "team\rX"
severity: sev3
automation: automatic
params:
  note: {type: string, default: "a\u202Eb", description: "what\u0007 to say"}
steps:
  - id: wipe
    name: "\r  1. wipe [log] print a message"
    action: log
    with: {message: "first\nsecond \e[2J"}

"""#

@Suite struct ControlCharacterOutputTests {
    @Test func showEscapesEveryValue() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("disguised.yaml", disguisedRunbook)
        let r = try await CLI.run(["show", "disguised.yaml"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(r.stdout.contains(#"disguised: Restart \u{1B}[31mAPI\u{1B}[0m"#))
        #expect(r.stdout.contains(#"owner: team\rX"#))
        #expect(r.stdout.contains(#"note: string = a\u{202E}b  — what\u{7} to say"#))
        #expect(r.stdout.contains(#"1. wipe [log] \r  1. wipe [log] print a message"#))
    }

    @Test func listEscapesTitles() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/disguised.yaml", disguisedRunbook)
        let r = try await CLI.run(["list"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains(#"Restart \u{1B}[31mAPI\u{1B}[0m"#))
        #expect(!r.stdout.unicodeScalars.contains { $0.value == 0x1B })
    }

    @Test func runOutputEscapesNamesArgumentsAndMessages() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("disguised.yaml", disguisedRunbook)
        let r = try await CLI.run(["run", "disguised.yaml", "--dry-run", "--state-dir", dir.path + "/state"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) })
        #expect(r.stdout.contains(#"wipe [log] \r  1. wipe [log] print a message"#))
        #expect(r.stdout.contains(#"message: first\nsecond \u{1B}[2J"#))
        // A logged message keeps its lines, indented under the step.
        #expect(r.stdout.contains("    first\n    second \\u{1B}[2J\n"))
    }
}
