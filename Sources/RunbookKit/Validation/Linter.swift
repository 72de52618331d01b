import Foundation

/// The result of linting one file.
public struct LintedFile: Sendable {
    public var path: String
    public var runbook: Runbook?
    public var diagnostics: [Diagnostic]
    public var source: SourceText?
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    public init(path: String, runbook: Runbook?, diagnostics: [Diagnostic], source: SourceText?) {
        self.path = path
        self.runbook = runbook
        self.diagnostics = diagnostics
        self.source = source
    }
}

/// Why lint could not start on a path (exit code 2).
public struct LintInputError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Runs the whole pipeline on files: YAML front end → lowering → rules → suppressions.
public struct Linter: Sendable {
    public var catalog: ActionCatalog
    public var rules: [any LintRule] {
        didSet { stepRules = rules.compactMap { $0 as? any StepLintRule } }
    }
    /// The rules that are `StepLintRule`s (cast once, not per file).
    private var stepRules: [any StepLintRule]
    public var limits: YAMLLimits
    /// Rule ids silenced everywhere (from `--ignore` or a config).
    public var ignoredRules: Set<String>
    /// Check steps with the step rules while the file is read and keep only a summary of each
    /// step in `LintedFile.runbook` (`Step.summary(keeping:)`), so memory does not grow with the whole
    /// AST of a huge runbook. Only for reporting findings: such a runbook cannot be run or shown.
    /// Every rule that reads a step's arguments or expressions must be a `StepLintRule`.
    public var summarizesSteps = false
    /// With `summarizesSteps`, a file of at least this many bytes has its steps lowered and
    /// checked on a second thread while the parser goes on (when the machine has two cores).
    public var pipelineThreshold = 1 << 20

    public init(catalog: ActionCatalog, rules: [any LintRule] = BuiltinRules.all, limits: YAMLLimits = .default,
                ignoredRules: Set<String> = []) {
        self.catalog = catalog
        self.rules = rules
        stepRules = rules.compactMap { $0 as? any StepLintRule }
        self.limits = limits
        self.ignoredRules = ignoredRules
    }

    /// The runbook files under the given paths: files as given, directories searched for `*.yaml`/`*.yml`
    /// (scenario files `*.test.yaml` excluded), sorted. A missing path is an input error.
    public static func expand(_ paths: [String]) throws(LintInputError) -> [String] {
        var files: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw LintInputError(message: "\(path): no such file or directory")
            }
            if (info.st_mode & S_IFMT) != S_IFDIR { files.append(path); continue }
            // A symlinked directory (runbooks.d -> ../shared/runbooks is common) is followed,
            // because stat and opendir follow it; symlinks to directories inside it are not.
            let base = path.hasSuffix("/") ? path : path + "/"
            var found: [String] = []
            try runbookFiles(under: base, into: &found)
            // An empty directory in CI usually means a wrong path: say so instead of passing.
            if found.isEmpty { throw LintInputError(message: "\(path): no runbook files (*.yaml, *.yml) found") }
            files.append(contentsOf: found.sorted())
        }
        return files
    }

    /// Appends the runbook files in `directory` (ending in "/") and its subdirectories to
    /// `found`, with readdir: one system call per batch of entries and a stat only for entries
    /// whose type the directory does not tell.
    ///
    /// A directory that cannot be read is an input error naming it (lint in CI must not pass
    /// by skipping runbooks it cannot see). A `*.yaml` symlink to nothing is kept, so that lint
    /// reports it as an unreadable file.
    private static func runbookFiles(under directory: String, into found: inout [String]) throws(LintInputError) {
        func isRunbookName(_ name: String) -> Bool {
            (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) && !isScenarioFile(name)
        }
        var pending = [directory]
        while let dir = pending.popLast() {
            guard let handle = opendir(dir) else {
                throw LintInputError(message: "\(dir.dropLast()): cannot read directory: \(systemErrorText())")
            }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                let full = dir + name
                var type = Int32(entry.pointee.d_type)
                if type == Int32(DT_UNKNOWN) || type == Int32(DT_LNK) {
                    // Follow a symlink to see what it names; a symlinked directory is not entered.
                    var info = stat()
                    guard stat(full, &info) == 0 else {
                        if isRunbookName(name) { found.append(full) }
                        continue
                    }
                    let isDir = (info.st_mode & S_IFMT) == S_IFDIR
                    if type == Int32(DT_LNK) {
                        if isDir { continue }
                        type = Int32(DT_REG)
                    } else {
                        type = isDir ? Int32(DT_DIR) : Int32(DT_REG)
                    }
                }
                if type == Int32(DT_DIR) {
                    pending.append(full + "/")
                } else if isRunbookName(name) {
                    found.append(full)
                }
            }
        }
    }

    /// `*.test.yaml` files are scenario tests, not runbooks.
    public static func isScenarioFile(_ path: String) -> Bool {
        path.hasSuffix(".test.yaml") || path.hasSuffix(".test.yml")
    }

    /// Lints one file from disk (read by the YAML front end's reader: a file over the size limit is
    /// refused before it is read, an unreadable one gets the reason).
    public func lint(fileAt path: String) -> LintedFile {
        switch YAMLParser.readFile(path, limits: limits) {
        case .success(let bytes):
            return lint(bytes: bytes, file: path)
        case .failure(let failure):
            return LintedFile(path: path, runbook: nil, diagnostics: [failure.diagnostic], source: nil)
        }
    }

    /// Lints bytes as if they were the file `file`.
    public func lint(bytes: [UInt8], file: String) -> LintedFile {
        let source = SourceText(bytes: bytes)
        // Steps are lowered while the file is parsed: the document is never one whole tree.
        let stream = RunbookLowering.StepStream(source: source)
        var checker: StepStreamChecker?
        if summarizesSteps {
            let stepChecker = StepStreamChecker(catalog: catalog, rules: stepRules)
            stream.process = { step, context in stepChecker.process(step, context) }
            checker = stepChecker
        }
        var parsed: YAMLParseResult
        if summarizesSteps, bytes.count >= pipelineThreshold, ProcessInfo.processInfo.activeProcessorCount > 1 {
            // A large file: steps are lowered and checked on a second core while libyaml reads on.
            let pipeline = PipelinedListSink(stream)
            parsed = YAMLParser.parse(bytes: bytes, file: file, limits: limits, listSink: pipeline)
            pipeline.finish()
        } else {
            parsed = YAMLParser.parse(bytes: bytes, file: file, limits: limits, listSink: stream)
        }
        var diagnostics = parsed.diagnostics
        var runbook: Runbook?
        if let root = parsed.root {
            parsed.root = nil  // lowering gets the only reference and frees the tree as it goes
            let lowered = RunbookLowering.lower(consume root, source: source, streamed: stream)
            diagnostics += lowered.diagnostics
            if let checker { diagnostics += checker.finish() }
            runbook = lowered.runbook
            if let rb = lowered.runbook {
                let context = LintContext(runbook: rb, catalog: catalog)
                for rule in rules { diagnostics += rule.check(context) }
            }
            AliasNotes(parsed.aliases).attach(to: &diagnostics)
        }
        let suppressions = Suppressions(source: source)
        diagnostics = suppressions.filter(diagnostics, ignoring: ignoredRules)
        diagnostics += suppressions.unknownRules(known: BuiltinRules.ids, file: file)
        diagnostics.sort { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        return LintedFile(path: file, runbook: runbook, diagnostics: diagnostics, source: source)
    }

    /// Lints many files and adds directory-wide findings (duplicate runbook ids).
    ///
    /// Files are linted in parallel, on as many threads as the machine has cores; the results
    /// are in the order of `files`.
    public func lint(files: [String]) -> [LintedFile] {
        var results = lintEach(files)
        var firstByID: [String: SourceLocation] = [:]
        for n in results.indices {
            guard let rb = results[n].runbook else { continue }
            if let first = firstByID[rb.id.value] {
                let d = Diagnostic.error("duplicate-runbook-id", "runbook id '\(rb.id.value)' is already used by \(first.file)",
                                         at: rb.id.location, notes: [DiagnosticNote("first defined here", at: first)])
                if let source = results[n].source {
                    results[n].diagnostics += Suppressions(source: source).filter([d], ignoring: ignoredRules)
                }
            } else {
                firstByID[rb.id.value] = rb.id.location
            }
        }
        return results
    }
}

extension Linter {
    /// `lint(fileAt:)` of every file, in order, spread over the cores: files do not depend on
    /// each other until the directory-wide checks.
    fileprivate func lintEach(_ files: [String]) -> [LintedFile] {
        guard files.count > 1, ProcessInfo.processInfo.activeProcessorCount > 1 else { return files.map { lint(fileAt: $0) } }
        let slots = UnsafeMutableBufferPointer<LintedFile?>.allocate(capacity: files.count)
        slots.initialize(repeating: nil)
        defer {
            _ = slots.deinitialize()
            slots.deallocate()
        }
        // Dispatch spreads the iterations over the cores; each writes only its own slot.
        nonisolated(unsafe) let output = slots
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            output[index] = lint(fileAt: files[index])
        }
        return slots.map { $0! }
    }
}

/// `# runbook-lint: ignore RULE[, RULE]` silences those rules on its line (a comment on a line
/// of its own: on the next line too); `ignore all` silences every rule there;
/// `# runbook-lint: ignore-file RULE` silences them in the whole file.
public struct Suppressions: Sendable {
    private var byLine: [Int: Set<String>] = [:]
    private var fileWide: Set<String> = []
    /// Every rule named in a comment, by line.
    private var named: [Int: Set<String>] = [:]

    public init(source: SourceText) {
        let marker: StaticString = "runbook-lint:"
        // Most lines have no '#': one byte scan finds those that do before any String is made.
        for n in source.lines(containing: UInt8(ascii: "#")) {
            guard let line = source.line(n), let rest = Self.textAfterMarker(marker, in: line) else { continue }
            let words = rest.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
            guard let verb = words.first else { continue }
            let rules = Set(words.dropFirst().prefix { !$0.hasPrefix("#") && !$0.hasPrefix("--") })
            switch verb {
            case "ignore":
                byLine[n, default: []].formUnion(rules)
                // A comment on a line of its own also covers the next line.
                if line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { byLine[n + 1, default: []].formUnion(rules) }
            case "ignore-file": fileWide.formUnion(rules)
            default: continue
            }
            named[n, default: []].formUnion(rules)
        }
    }

    /// The text after the first `marker` that follows the line's first '#'.
    private static func textAfterMarker(_ marker: StaticString, in line: String) -> Substring? {
        var line = line
        let end: Int? = line.withUTF8 { bytes in
            guard let hash = ByteSearch.firstOffset(of: "#", in: bytes) else { return nil }
            return ByteSearch.firstOffset(of: marker, in: bytes, from: hash + 1).map { $0 + marker.utf8CodeUnitCount }
        }
        // Both are ASCII, so the offset past the marker is a character boundary.
        return end.map { line[line.utf8.index(line.utf8.startIndex, offsetBy: $0)...] }
    }

    /// Rule ids named in comments that no rule has (reported as `unknown-rule` warnings).
    public func unknownRules(known: Set<String>, file: String) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for (line, rules) in named.sorted(by: { $0.key < $1.key }) {
            for rule in rules.sorted() where rule != "all" && !known.contains(rule) {
                out.append(.warning("unknown-rule", "unknown rule '\(rule)' in a runbook-lint comment" + Suggestions.hint(for: rule, in: Array(known)),
                                    at: SourceLocation(file: file, line: line, column: 1)))
            }
        }
        return out
    }

    public func filter(_ diagnostics: [Diagnostic], ignoring global: Set<String>) -> [Diagnostic] {
        diagnostics.filter { d in
            if global.contains(d.ruleID) || fileWide.contains(d.ruleID) || fileWide.contains("all") { return false }
            if let rules = byLine[d.location.line], rules.contains(d.ruleID) || rules.contains("all") { return false }
            return true
        }
    }
}

/// Findings about aliased content are located at the alias (lowering reports there, and so do
/// the rules: every location in aliased content is the alias's). Lowering adds the note that
/// points at the anchor; the rules know nothing of YAML, so lint adds it to theirs afterwards.
struct AliasNotes {
    private struct Position: Hashable {
        var line: Int
        var column: Int
    }

    private var notes: [Position: DiagnosticNote] = [:]

    init(_ aliases: [YAMLNode.AliasOrigin]) {
        for origin in aliases {
            let at = Position(line: origin.aliasLocation.line, column: origin.aliasLocation.column)
            if notes[at] == nil {
                notes[at] = DiagnosticNote("value comes from anchor '\(origin.anchor)' defined here", at: origin.anchorLocation)
            }
        }
    }

    /// Adds the anchor note to each diagnostic at an alias that does not have it yet.
    func attach(to diagnostics: inout [Diagnostic]) {
        guard !notes.isEmpty else { return }
        for index in diagnostics.indices {
            let location = diagnostics[index].location
            guard let note = notes[Position(line: location.line, column: location.column)],
                  !diagnostics[index].notes.contains(note) else { continue }
            diagnostics[index].notes.append(note)
        }
    }
}
