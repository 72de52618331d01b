// libFuzzer target for the YAML front end. Not part of the SwiftPM package: scripts/fuzz.sh
// compiles it together with the front end's sources into one fuzzer binary.
//
// Besides "no crash, no trap, no leak, no hang", it checks invariants a renderer relies on:
// every location is inside the file, and its line/column agree with its byte offset.

/// Parses with the default limits and with tight ones (to reach the limit paths with small
/// inputs), then checks the locations of diagnostics and nodes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let text = SourceText(bytes: bytes)
    let tight = YAMLLimits(maxFileBytes: 1 << 20, maxScalarBytes: 64, maxDepth: 8, maxAliasExpandedNodes: 40)
    for limits in [YAMLLimits.default, tight] {
        let result = YAMLParser.parse(bytes: bytes, file: "fuzz.yaml", limits: limits)
        var checked = 0
        for diagnostic in result.diagnostics {
            check(diagnostic.location, in: bytes, text: text, checked: &checked)
            for note in diagnostic.notes {
                if let location = note.location { check(location, in: bytes, text: text, checked: &checked) }
            }
            precondition(!diagnostic.message.isEmpty && !diagnostic.message.hasSuffix("."),
                         "bad message: \(diagnostic.message)")
        }
        let fatal = result.diagnostics.contains {
            ["yaml-syntax", "empty-file", "binary-file", "invalid-utf8", "unicode-line-break", "file-too-large", "scalar-too-large",
             "nesting-too-deep", "alias-expansion-limit"].contains($0.ruleID)
        }
        if result.root == nil {
            precondition(fatal || result.diagnostics.contains { $0.ruleID == "tab-indentation" },
                         "no root but no fatal diagnostic")
        }
        if let root = result.root {
            // Walk the tree with an explicit stack, checking depth and locations.
            var pending: [(YAMLNode, Int)] = [(root, 0)]
            while let (node, depth) = pending.popLast() {
                check(node.location, in: bytes, text: text, checked: &checked)
                check(node.endLocation, in: bytes, text: text, checked: &checked)
                switch node.content {
                case .scalar(let scalar):
                    precondition(scalar.text.utf8.count <= limits.maxScalarBytes, "scalar over the limit")
                case .sequence(let items):
                    precondition(depth < limits.maxDepth, "nesting over the limit")
                    pending.append(contentsOf: items.map { ($0, depth + 1) })
                case .mapping(let pairs):
                    precondition(depth < limits.maxDepth, "nesting over the limit")
                    for pair in pairs {
                        precondition(pair.key.scalar != nil, "complex key kept")
                        pending.append((pair.key, depth + 1))
                        pending.append((pair.value, depth + 1))
                    }
                }
            }
        }
    }
    // Lowering and every lint rule over the same input, with the real action declarations.
    let linted = fuzzLinter.lint(bytes: bytes, file: "fuzz.yaml")
    // Differential: checking steps as they are read and keeping summaries (`runbook lint`), on
    // one thread and with the steps handed to a second thread, reports exactly what checking the
    // whole runbook at the end does.
    for linter in [summarizingLinter, pipelinedLinter] {
        let other = linter.lint(bytes: bytes, file: "fuzz.yaml")
        precondition(other.diagnostics == linted.diagnostics,
                     "summarizing lint differs:\n\(other.diagnostics.map { "\($0.location) \($0.ruleID) \($0.message)" })\nwhole:\n\(linted.diagnostics.map { "\($0.location) \($0.ruleID) \($0.message)" })")
    }
    for diagnostic in linted.diagnostics {
        // Positions computed inside scalars (expressions) carry no byte offset: check line and column.
        let l = diagnostic.location
        precondition(l.line >= 1 && l.column >= 1, "location before the file start: \(l) \(diagnostic.message)")
        precondition(text.line(l.line) != nil, "no such line: \(l) \(diagnostic.message)")
        precondition(!diagnostic.message.isEmpty, "empty message")
    }
    return 0
}

/// The linter over the built-in declarations (built once; the catalog is immutable).
private let fuzzLinter = Linter(catalog: ActionCatalog(
    HTTPActions.all + PrometheusActions.all + KubernetesActions.all + CircuitBreakerActions.all
        + FeatureFlagActions.all + CheckpointActions.all + ProcessActions.all + NotifyActions.all
        + IncidentActions.all + CoreActions.all + DatabaseActions.all + NetworkActions.all))

/// The linter `runbook lint` uses: steps checked as they are read, summaries kept.
private let summarizingLinter: Linter = {
    var linter = fuzzLinter
    linter.summarizesSteps = true
    linter.pipelineThreshold = .max
    return linter
}()

/// The same, with every input's steps handed to a second thread (as for files of 1 MB or more).
private let pipelinedLinter: Linter = {
    var linter = summarizingLinter
    linter.pipelineThreshold = 0
    // Every other batch lowered on the parsing thread: both sides of the balance are fuzzed.
    linter.pipelineBalance = .alternate
    return linter
}()

/// A location is inside the file and its line/column match its offset (checked for the
/// first 200 locations per input: the check walks the text from the start).
private func check(_ location: SourceLocation, in bytes: [UInt8], text: SourceText, checked: inout Int) {
    precondition(location.line >= 1 && location.column >= 1, "location before the file start: \(location)")
    precondition(location.offset >= 0 && location.offset <= bytes.count, "offset outside the file: \(location)")
    precondition(text.line(location.line) != nil, "no such line: \(location)")
    guard checked < 200 else { return }
    checked += 1
    let bodyStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    guard location.offset >= bodyStart else { return }
    let recomputed = LineBreaks.location(ofByte: location.offset, in: bytes, from: bodyStart, file: location.file)
    precondition(recomputed.line == location.line && recomputed.column == location.column,
                 "offset \(location.offset) is \(recomputed.line):\(recomputed.column), reported \(location)")
}

/// Builds the lazily initialised globals (catalog, rule list) before fuzzing starts, so
/// LeakSanitizer does not report one-time allocations made during the first input as leaks.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let warmUp = "version: 1\nid: warm\ntitle: W\nseverity: sev4\nautomation: automatic\nsteps:\n  - {id: a, action: log, with: {message: \"${{ run.id }}\"}}\n"
    _ = fuzzLinter.lint(bytes: Array(warmUp.utf8), file: "warm.yaml")
    _ = summarizingLinter.lint(bytes: Array(warmUp.utf8), file: "warm.yaml")
    _ = pipelinedLinter.lint(bytes: Array(warmUp.utf8), file: "warm.yaml")
    _ = YAMLParser.parse(bytes: Array(warmUp.utf8), file: "warm.yaml")
    return 0
}
