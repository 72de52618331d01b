import Foundation
import RunbookActions
@testable import RunbookKit
import Testing

/// Records what the YAML front end streams.
private final class RecordingSink: YAMLListItemSink {
    let streamedKeys = ["steps", "rollback"]
    var started: [(key: String, preceding: [String])] = []
    var items: [(key: String, id: String?)] = []
    var ended: [(key: String, line: Int, count: Int)] = []

    func listStarted(_ key: String, precedingPairs: [YAMLNode.Pair]) {
        started.append((key, precedingPairs.compactMap { $0.key.scalar?.text }))
    }

    func item(_ node: consuming YAMLNode, ofList key: String) {
        items.append((key, node.mapping?.first { $0.key.scalar?.text == "id" }?.value.scalar?.text))
    }

    func listEnded(_ key: String, at location: RunbookKit.SourceLocation, count: Int) {
        ended.append((key, location.line, count))
    }
}

private func parse(_ text: String, sink: RecordingSink) -> YAMLParseResult {
    YAMLParser.parse(bytes: Array(text.utf8), file: "rb.yaml", listSink: sink)
}

private func lint(_ text: String, summarizing: Bool = true) -> LintedFile {
    var linter = Linter(catalog: BuiltinActions.catalog)
    linter.summarizesSteps = summarizing
    return linter.lint(bytes: Array(text.utf8), file: "rb.yaml")
}

private let here = RunbookKit.SourceLocation(file: "rb.yaml", line: 1, column: 1)

private let header = """
    version: 1
    id: rb
    title: t
    severity: sev3
    automation: automatic

    """

@Suite struct StepStreamingTests {
    @Test("the root mapping's steps and rollback items are handed over one by one and left out of the tree")
    func streamsTopLevelLists() {
        let sink = RecordingSink()
        let result = parse(header + """
            params: {p: {type: int, default: 1}}
            steps:
              - id: a
                action: log
                with: {message: hi, nested: {steps: [1, 2]}}
              - {id: b, action: log}
            rollback:
              - id: r
                action: log
            """, sink: sink)
        #expect(result.diagnostics.isEmpty)
        #expect(sink.items.map(\.key) == ["steps", "steps", "rollback"])
        #expect(sink.items.map(\.id) == ["a", "b", "r"])
        #expect(sink.started.map(\.key) == ["steps", "rollback"])
        #expect(sink.started[0].preceding == ["version", "id", "title", "severity", "automation", "params"])
        #expect(sink.ended.map(\.count) == [2, 1])
        #expect(sink.ended.map(\.line) == [8, 13])
        // The lists stay in the tree, empty, where they were written.
        let steps = result.root?.mapping?.first { $0.key.scalar?.text == "steps" }?.value
        #expect(steps?.sequence?.isEmpty == true)
        #expect(steps?.location.line == 8)
    }

    @Test("an anchored list, a repeated key and a list below the root are not streamed")
    func keepsWhatAnAliasOrDuplicateNeeds() {
        let sink = RecordingSink()
        let result = parse(header + """
            steps: &all
              - {id: a, action: log}
            rollback: *all
            """, sink: sink)
        #expect(sink.items.isEmpty)
        let rollback = result.root?.mapping?.first { $0.key.scalar?.text == "rollback" }?.value
        #expect(rollback?.sequence?.count == 1)

        let second = RecordingSink()
        let duplicate = parse(header + """
            steps:
              - {id: a, action: log}
            steps:
              - {id: b, action: log}
            """, sink: second)
        #expect(second.items.map(\.id) == ["a"])
        #expect(duplicate.diagnostics.map(\.ruleID) == ["duplicate-key"])
    }

    @Test("lint keeps a summary of each step it could check while reading, and the whole step otherwise")
    func summarizesCheckedSteps() throws {
        let linted = lint(header + """
            params: {d: {type: duration, default: 5s}}
            steps:
              - id: a
                name: First
                action: log
                with: {message: "${{ params.d }}"}
                when: "${{ true }}"
                retry: {attempts: 2}
                until: "${{ true }}"
              - id: w
                action: wait
                with: {duration: "${{ params.d }}"}
              - id: later_ref
                action: log
                with: {message: "${{ steps.z.status }}"}
                rollback: none
              - id: z
                action: log
                with: {message: z}
            """)
        #expect(linted.diagnostics.map(\.ruleID) == ["step-not-run-yet"])
        let steps = try #require(linted.runbook?.steps)
        #expect(steps.map(\.isSummary) == [true, true, false, true])
        // A summary keeps what the whole-runbook rules read and drops the rest.
        #expect(steps[0].name == nil && steps[0].with.isEmpty && steps[0].when == nil && steps[0].until == nil)
        #expect(steps[0].retry?.attempts.value == 2)
        #expect(steps[1].with.map(\.name.value) == ["duration"])
        // The step naming a later step is kept whole and checked with the whole runbook.
        #expect(steps[2].with.count == 1 && steps[2].rollbackNone)
    }

    @Test("params written after the steps: only steps that read a param not yet known stay whole")
    func paramsAfterSteps() throws {
        let linted = lint(header + """
            steps:
              - {id: a, action: log, with: {message: "${{ params.p }}"}}
              - {id: b, action: log, with: {message: plain}}
            params: {p: {type: int, default: 1}}
            """)
        #expect(linted.diagnostics.isEmpty)
        #expect(try #require(linted.runbook).steps.map(\.isSummary) == [false, true])
    }

    @Test("a rollback list written before the steps: no step is summarized")
    func rollbackFirst() throws {
        let linted = lint(header + """
            rollback:
              - {id: r, action: log, undoes: [a]}
            steps:
              - {id: a, action: log, with: {message: "${{ steps.r.status }}"}}
            """)
        let runbook = try #require(linted.runbook)
        #expect(!runbook.steps.contains(where: \.isSummary) && !runbook.rollback.contains(where: \.isSummary))
        let whole = lint(String(decoding: try #require(linted.source).contents, as: UTF8.self), summarizing: false)
        #expect(linted.diagnostics == whole.diagnostics)
    }

    @Test("without summarizing, every step is whole (run, show and drill use this)")
    func wholeByDefault() throws {
        let linted = lint(header + "steps:\n  - {id: a, action: log, with: {message: hi}}\n", summarizing: false)
        let step = try #require(linted.runbook?.steps.first)
        #expect(!step.isSummary && step.with.count == 1)
    }

    @Test("when, until, confirm and retry read back what was set, and clear")
    func rareFields() throws {
        var step = Step(id: Located("a", at: here), action: Located("log", at: here), location: here)
        #expect(step.when == nil && step.confirm == nil && step.retry == nil && step.until == nil)
        let template = LocatedTemplate(template: Template(text: "x"), location: here,
                                       positions: TemplatePositions(contentStart: here))
        step.when = template
        step.retry = Retry(attempts: Located(3, at: here), location: here)
        let copy = step
        step.until = template
        #expect(step.when?.template.source == "x" && step.until?.template.source == "x")
        #expect(step.retry?.attempts.value == 3)
        #expect(copy.until == nil, "setting a field on one copy leaves the other alone")
        step.when = nil
        step.until = nil
        step.retry = nil
        #expect(step.when == nil && step.until == nil && step.retry == nil)
    }

    @Test("the param names seen before the steps are exactly the params lowering keeps", arguments: [
        "{a: {type: int}, b: {type: url, default: 'x'}}",
        "{a: {type: int}, ~: {type: int}, c: 3, d: [1], 'e': {}, 'Bad Name': {type: string}}",
        "[a, b]",
        "plain",
        "{x: &d {type: int}, y: *d}",
        "{s: {type: sttring}, n: {default: 1}, b: {type: bool, type: int}, m: {<<: {type: number}}}",
    ])
    func paramNamesMatchLowering(_ params: String) throws {
        let text = header + "params: \(params)\nsteps:\n  - {id: a, action: log, with: {message: hi}}\n"
        let node = try #require(YAMLParser.parse(bytes: Array(text.utf8), file: "rb.yaml").root?.mapping?
            .first { $0.key.scalar?.text == "params" }?.value)
        let lowered = lint(text, summarizing: false)
        let runbook = try #require(lowered.runbook)
        #expect(RunbookLowering.params(node).names == Set(runbook.params.map(\.name.value)))
        // And with the types lowering gives them (string when missing or invalid).
        #expect(RunbookLowering.params(node).types == Dictionary(runbook.params.map { ($0.name.value, $0.type) },
                                                                uniquingKeysWith: { first, _ in first }))
    }

    @Test("lines(containing:) finds every line with the byte, across every kind of line break")
    func linesContaining() {
        let text = SourceText(bytes: Array("\u{FEFF}a # x\nb\r\n#c\rd\u{85}e#\u{2028}#\u{2029}f\n\n#".utf8))
        #expect(text.lines(containing: UInt8(ascii: "#")) == [1, 3, 5, 6, 9])
        #expect(SourceText(bytes: []).lines(containing: UInt8(ascii: "#")).isEmpty)
        for n in 1...text.lineCount {
            #expect(text.lines(containing: UInt8(ascii: "#")).contains(n) == (text.line(n)?.contains("#") == true))
        }
    }
}

@Suite struct ParallelLintTests {
    @Test("lint(files:) lints in parallel and keeps the files' order and the duplicate-id finding")
    func orderAndDuplicates() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parallel-lint-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [String] = []
        for n in 0..<40 {
            // File 30 reuses the id of file 3; file 17 has an error.
            let id = n == 30 ? "rb_3" : "rb_\(n)"
            let action = n == 17 ? "nosuch" : "log"
            let text = "version: 1\nid: \(id)\ntitle: t\nseverity: sev4\nautomation: automatic\n"
                + "steps:\n  - {id: a, action: \(action), with: {message: hi}}\n"
            let path = dir.appendingPathComponent("rb_\(n).yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            files.append(path)
        }
        var linter = Linter(catalog: BuiltinActions.catalog)
        linter.summarizesSteps = true
        let results = linter.lint(files: files)
        #expect(results.map(\.path) == files)
        let findings = results.map { $0.diagnostics.map(\.ruleID) }
        #expect(findings[17] == ["unknown-action"])
        #expect(findings[30].contains("duplicate-runbook-id"))
        #expect(results.enumerated().allSatisfy { n, r in n == 17 || n == 30 || r.diagnostics.isEmpty })
    }
}

@Suite struct PipelinedLintTests {
    /// A runbook with many steps and findings of every kind the step rules make, some of which
    /// need a later step (kept whole) and some params written after the steps.
    private func runbook(steps: Int) -> String {
        var text = "version: 1\nid: rb\ntitle: t\nseverity: sev1\nautomation: semi_automatic\nexpected_recovery: 1m\n"
        text += "params:\n  url: {type: url, default: \"http://127.0.0.1:1\"}\nsteps:\n"
        for n in 0..<steps {
            switch n % 5 {
            case 0: text += "  - {id: s\(n), action: http.check, with: {url: \"${{ params.url }}/\(n)\", expect_status: [200, \"x\"]}}\n"
            case 1: text += "  - {id: s\(n), action: log, with: {message: \"${{ steps.s\(n + 1).status }} ${{ params.nope }}\"}}\n"
            case 2: text += "  - {id: s\(n), action: notify.slack, with: {webhook_url: \"${{ secrets.hook }}\", text: \"${{ secrets.x }}\"}}\n"
            case 3: text += "  - {id: s\(n), action: circuit_breaker.open, with: {name: b\(n), reason: r}, timeout: 5m}\n"
            default: text += "  - {id: s\(n), action: nosuch.action, with: {a: 1}}\n"
            }
        }
        text += "rollback:\n  - {id: r0, action: circuit_breaker.close, undoes: [s3, zz], with: {name: b3}}\n"
        return text
    }

    @Test("lint with steps checked on a second thread reports exactly what lint on one thread does")
    func sameFindings() throws {
        let bytes = Array(runbook(steps: 2_000).utf8)
        var serial = Linter(catalog: BuiltinActions.catalog)
        serial.summarizesSteps = true
        serial.pipelineThreshold = .max
        var pipelined = serial
        pipelined.pipelineThreshold = 0
        let one = serial.lint(bytes: bytes, file: "rb.yaml")
        let two = pipelined.lint(bytes: bytes, file: "rb.yaml")
        #expect(one.diagnostics.count > 2_000)
        #expect(one.diagnostics == two.diagnostics)
        #expect(one.runbook?.steps.map(\.isSummary) == two.runbook?.steps.map(\.isSummary))
        // Steps lowered on the parsing thread (every other batch) and checked on the other.
        var balanced = pipelined
        balanced.pipelineBalance = .alternate
        let three = balanced.lint(bytes: bytes, file: "rb.yaml")
        #expect(one.diagnostics == three.diagnostics)
        #expect(one.runbook?.steps.map(\.isSummary) == three.runbook?.steps.map(\.isSummary))
        // Only on the second thread, as before the balance.
        var consumerOnly = pipelined
        consumerOnly.pipelineBalance = .consumerOnly
        #expect(consumerOnly.lint(bytes: bytes, file: "rb.yaml").diagnostics == one.diagnostics)
        // Whole-runbook lint (no summaries) agrees too.
        var whole = serial
        whole.summarizesSteps = false
        #expect(whole.lint(bytes: bytes, file: "rb.yaml").diagnostics == one.diagnostics)
    }
}
