import Foundation
import RunbookKit
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

/// A runbook that stores remote output holding escape sequences in an incident, its timeline, a
/// flag's reason and the journal: what the read commands show later.
private let storingRunbook = #"""
version: 1
id: storing
title: Storing
owner: team
severity: sev3
automation: automatic
steps:
  - id: out
    action: exec
    with:
      argv: [sh, -c, "printf 'ok \\033[2J\\033]0;pwned\\007\\302\\233'"]
  - id: inc
    action: incident.create
    with:
      title: "T ${{ steps.out.outputs.stdout }}"
      description: "D ${{ steps.out.outputs.stdout }}"
  - id: note
    action: incident.note
    with:
      id: "${{ steps.inc.outputs.id }}"
      text: "N ${{ steps.out.outputs.stdout }}"
  - id: flag
    action: feature_flag.set
    with:
      name: f
      value: "V ${{ steps.out.outputs.stdout }}"
      reason: "R ${{ steps.out.outputs.stdout }}"
  - id: say
    action: log
    with: {message: "L ${{ steps.out.outputs.stdout }}"}

"""#

/// No C0 control character other than a line break, no DEL or C1 control character.
private func hasRawControl(_ text: String) -> Bool {
    text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) }
}

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

    @Test("docs escapes the runbook's control characters (one runbook and --all); --all with an id is a usage error")
    func docsEscapesEveryValue() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("runbooks.d/disguised.yaml", disguisedRunbook)
        for args in [["docs", "disguised"], ["docs", "--all"]] {
            let r = try await CLI.run(args, in: dir.path)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(!hasRawControl(r.stdout.replacingOccurrences(of: "\t", with: "")), "\(args)")
            #expect(r.stdout.contains(#"Restart \u{1B}[31mAPI\u{1B}[0m"#), "\(r.stdout)")
        }
        let both = try await CLI.run(["docs", "--all", "disguised"], in: dir.path)
        #expect(both.status == 2)
        #expect(both.stderr.contains("give a runbook id or --all, not both"))
        for args in [["docs", "--actions", "disguised"], ["docs", "--actions", "--all"]] {
            let r = try await CLI.run(args, in: dir.path)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains("--actions prints the action reference alone"))
        }
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

    @Test("history, incident list/show, state and state history escape stored text; their JSON stays valid JSON")
    func readCommandsEscapeStoredText() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("storing.yaml", storingRunbook)
        let state = ["--state-dir", dir.path + "/state"]
        let run = try await CLI.run(["run", "storing.yaml"] + state, in: dir.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let runID = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/runs").first)
        let escaped = #"ok \u{1B}[2J\u{1B}]0;pwned\u{7}\u{9B}"#
        let commands: [(args: [String], shows: [String])] = [
            (["history", runID], ["step_finished inc: succeeded — INC-0001 opened (sev3): T " + escaped]),
            (["history"], [runID]),
            (["incident", "list"], ["T " + escaped]),
            (["incident", "show", "INC-0001"], ["INC-0001  T " + escaped, "  D " + escaped, "note [note]  N " + escaped,
                                                "step_finished [say]"]),
            (["state"], ["R " + escaped, #""V ok \u001b[2J"#]),
            (["state", "history"], ["R " + escaped]),
        ]
        for (args, shows) in commands {
            let r = try await CLI.run(args + state, in: dir.path)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(!hasRawControl(r.stdout), "\(args): \(r.stdout)")
            for text in shows { #expect(r.stdout.contains(text), "\(args) should show \(text):\n\(r.stdout)") }
        }
        let log = try await CLI.run(["history", runID] + state, in: dir.path)
        #expect(log.stdout.contains("log say: L " + escaped), "\(log.stdout)")

        // JSON: the same texts, whole, in valid JSON.
        let json: [[String]] = [["history", runID], ["history"], ["incident", "list"], ["incident", "show", "INC-0001"],
                                ["state"], ["state", "history"]]
        for args in json {
            let r = try await CLI.run(args + ["--format", "json"] + state, in: dir.path)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let documents = args == ["history", runID] ? r.stdout.split(separator: "\n").map(String.init) : [r.stdout]
            for document in documents { #expect(Value.parseJSON(document) != nil, "\(args): \(document)") }
        }
        let show = try await CLI.run(["incident", "show", "INC-0001", "--format", "json"] + state, in: dir.path)
        let incident = try #require(Value.parseJSON(show.stdout)).mapValue
        #expect(incident["title"] == .string("T ok \u{1B}[2J\u{1B}]0;pwned\u{7}\u{9B}"))
    }
}
