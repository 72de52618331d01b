import Foundation

/// The result of linting one file.
public struct LintedFile: Sendable {
    public var path: String
    public var runbook: Runbook?
    public var diagnostics: [Diagnostic]
    public var source: SourceText?
    /// The file's suppression comments (for findings added after the file was linted).
    var suppressions: Suppressions?
    /// The file could not be read (its finding is an `io-error`): `runbook lint` exits 2.
    public internal(set) var isUnreadable = false
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    public init(path: String, runbook: Runbook?, diagnostics: [Diagnostic], source: SourceText?) {
        self.path = path
        self.runbook = runbook
        self.diagnostics = diagnostics
        self.source = source
    }
}

/// A file to lint, and how lint came to it.
public struct LintInput: Sendable, Hashable {
    public var path: String
    /// Found by walking a directory rather than named by the user: lint reads it only if it is a
    /// regular file (a FIFO named `x.yaml` in a runbook directory must not block lint).
    public var foundInDirectory: Bool
    public init(path: String, foundInDirectory: Bool) {
        self.path = path
        self.foundInDirectory = foundInDirectory
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
    /// Rule ids silenced everywhere (from `--ignore`).
    public var ignoredRules: Set<String>
    /// A `.runbook-lint.yaml`: more rules silenced (everywhere or in some files), warnings made errors.
    public var config: LintConfig?
    /// Check steps with the step rules while the file is read and keep only a summary of each
    /// step in `LintedFile.runbook` (`Step.summary(keeping:)`), so memory does not grow with the whole
    /// AST of a huge runbook. Only for reporting findings: such a runbook cannot be run or shown.
    /// Every rule that reads a step's arguments or expressions must be a `StepLintRule`.
    public var summarizesSteps = false
    /// With `summarizesSteps`, a file of at least this many bytes has its steps lowered and
    /// checked on a second thread while the parser goes on (when the machine has two cores).
    public var pipelineThreshold = 1 << 20
    /// Which thread lowers a batch of steps in the pipeline (tests force both paths).
    var pipelineBalance = PipelineBalance.adaptive(behind: 3)

    public init(catalog: ActionCatalog, rules: [any LintRule] = BuiltinRules.all, limits: YAMLLimits = .default,
                ignoredRules: Set<String> = []) {
        self.catalog = catalog
        self.rules = rules
        stepRules = rules.compactMap { $0 as? any StepLintRule }
        self.limits = limits
        self.ignoredRules = ignoredRules
    }

    /// The runbook files under the given paths (see `inputs(_:)`), as paths.
    public static func expand(_ paths: [String]) throws(LintInputError) -> [String] {
        try inputs(paths).map(\.path)
    }

    /// The runbook files under the given paths: files as given, directories searched for
    /// `*.yaml`/`*.yml` (scenario files `*.test.yaml` and hidden entries, whose name starts with
    /// '.', excluded), sorted. A file reached twice (`a.yaml ./a.yaml`, `d d/a.yaml`, a symlink
    /// to a file also linted) is kept once, where it was first seen. A missing path is an input error.
    public static func inputs(_ paths: [String]) throws(LintInputError) -> [LintInput] {
        var files: [LintInput] = []
        for path in paths {
            // `-`: the runbook comes on standard input (`generate | runbook lint -`).
            if path == "-" {
                if !files.contains(where: { $0.path == "-" }) { files.append(LintInput(path: "-", foundInDirectory: false)) }
                continue
            }
            var info = stat()
            guard stat(path, &info) == 0 else {
                // A symlink to nothing, or a name runbook cannot open, is an unreadable file
                // (an io-error among the other files' findings), not a missing path.
                if lstat(path, &info) == 0 || YAMLParser.isUndecodableName(path) {
                    files.append(LintInput(path: path, foundInDirectory: false))
                    continue
                }
                throw LintInputError(message: "\(path): no such file or directory")
            }
            if (info.st_mode & S_IFMT) != S_IFDIR { files.append(LintInput(path: path, foundInDirectory: false)); continue }
            // A symlinked directory (runbooks.d -> ../shared/runbooks is common) is followed,
            // because stat and opendir follow it; symlinks to directories inside it are not.
            let base = path.hasSuffix("/") ? path : path + "/"
            var found: [String] = []
            try runbookFiles(under: base, into: &found)
            // An empty directory in CI usually means a wrong path: say so instead of passing.
            if found.isEmpty { throw LintInputError(message: "\(path): no runbook files (*.yaml, *.yml) found") }
            files.append(contentsOf: found.sorted().map { LintInput(path: $0, foundInDirectory: true) })
        }
        // The same file twice would be its own duplicate-runbook-id: keep the first of each real path.
        var seen: Set<String> = []
        return files.filter { $0.path == "-" || seen.insert(realPath($0.path) ?? $0.path).inserted }
    }

    /// The canonical absolute path (symlinks resolved), or nil (a dangling symlink).
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Appends the runbook files in `directory` (ending in "/") and its subdirectories to
    /// `found`, with readdir: one system call per batch of entries and a stat only for entries
    /// whose type the directory does not tell.
    ///
    /// Hidden entries (a name starting with '.': `.git`, the state directory `.runbook`, editor
    /// files) are skipped. A directory that cannot be read is an input error naming it (lint
    /// in CI must not pass by skipping runbooks it cannot see). A `*.yaml` symlink to nothing,
    /// or a `*.yaml` that is not a regular file (a FIFO, a socket, a device), is kept, so that
    /// lint reports it as an unreadable file (without opening it: see `LintInput`).
    private static func runbookFiles(under directory: String, into found: inout [String]) throws(LintInputError) {
        func isRunbookName(_ name: String) -> Bool {
            hasRunbookExtension(name) && !isScenarioFile(name)
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
                // Also "." and "..".
                if name.hasPrefix(".") { continue }
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
        hasSuffixIgnoringASCIICase(path, ".test.yaml") || hasSuffixIgnoringASCIICase(path, ".test.yml")
    }

    /// `.yaml` or `.yml`, in any case (`b.YAML` is a runbook too, not a file silently skipped).
    public static func hasRunbookExtension(_ path: String) -> Bool {
        runbookStem(path) != nil
    }

    /// The file name without its `.yaml`/`.yml` extension (any case); nil for another name.
    public static func runbookStem(_ path: String) -> String? {
        let name = fileName(path)
        // Byte tests: this runs for every file a directory walk meets, and for every file linted.
        if hasSuffixIgnoringASCIICase(name, ".yaml") { return String(name.utf8.dropLast(5))! }
        if hasSuffixIgnoringASCIICase(name, ".yml") { return String(name.utf8.dropLast(4))! }
        return nil
    }

    /// The last component of `path` (trailing slashes ignored); `path` itself when it has none.
    public static func fileName(_ path: String) -> Substring {
        let bytes = path.utf8
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == UInt8(ascii: "/") { end = bytes.index(before: end) }
        guard end > bytes.startIndex else { return path[...] }
        let start = bytes[..<end].lastIndex(of: UInt8(ascii: "/")).map { bytes.index(after: $0) } ?? bytes.startIndex
        return path[start..<end]
    }

    /// Whether `text` ends with the ASCII `suffix`, letters compared without case.
    static func hasSuffixIgnoringASCIICase<S: StringProtocol>(_ text: S, _ suffix: StaticString) -> Bool {
        let bytes = text.utf8
        let count = suffix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        return suffix.withUTF8Buffer { wanted in
            var i = bytes.index(bytes.endIndex, offsetBy: -count)
            for w in wanted {
                var b = bytes[i]
                if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { b |= 0x20 }
                guard b == w else { return false }
                i = bytes.index(after: i)
            }
            return true
        }
    }

    /// Lints one file from disk (read by the YAML front end's reader: a file over the size limit is
    /// refused before it is read, an unreadable one gets the reason). With `regularFilesOnly`
    /// (a file found in a directory), anything but a regular file is an `io-error` and is not opened.
    public func lint(fileAt path: String, regularFilesOnly: Bool = false) -> LintedFile {
        // `-` is standard input, reported as `<stdin>`.
        let (source, shown) = path == "-" ? ("/dev/stdin", Self.standardInputName) : (path, path)
        switch YAMLParser.readFile(source, limits: limits, regularFilesOnly: regularFilesOnly) {
        case .success(let bytes):
            return lint(bytes: bytes, file: shown)
        case .failure(let failure):
            var diagnostic = failure.diagnostic
            if path == "-" {
                // Named as the user named it: standard input, not the /dev path it was read by.
                diagnostic.message = diagnostic.message.replacingOccurrences(of: "'/dev/stdin'", with: "standard input")
                diagnostic.location.file = shown
            }
            var linted = LintedFile(path: shown, runbook: nil, diagnostics: [diagnostic], source: nil)
            linted.isUnreadable = failure.diagnostic.ruleID == "io-error"
            return linted
        }
    }

    /// The name findings on standard input (`lint -`) carry.
    public static let standardInputName = "<stdin>"

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
            let pipeline = PipelinedListSink(stream, balance: pipelineBalance)
            parsed = YAMLParser.parse(bytes: bytes, file: file, limits: limits, listSink: pipeline)
            pipeline.finish()
        } else {
            parsed = YAMLParser.parse(bytes: bytes, file: file, limits: limits, listSink: stream)
        }
        var diagnostics = parsed.diagnostics
        var runbook: Runbook?
        // A file libyaml could not read to its end has no known strings past the error, so its
        // comments cannot be told from text in a value: none of them silences anything.
        let parsedWhole = parsed.root != nil
        if let root = parsed.root {
            parsed.root = nil  // lowering gets the only reference and frees the tree as it goes
            let lowered = RunbookLowering.lower(consume root, source: source, streamed: stream)
            diagnostics += lowered.diagnostics
            if let checker { diagnostics += checker.finish() }
            runbook = lowered.runbook
            if let rb = lowered.runbook {
                let context = LintContext(runbook: rb, catalog: catalog, streamedParamsRead: checker?.paramsRead)
                for rule in rules { diagnostics += rule.check(context) }
            }
            AliasNotes(parsed.aliases).attach(to: &diagnostics)
        }
        let suppressions = parsedWhole ? Suppressions(source: source, file: file, markedScalars: parsed.markedScalars)
            : Suppressions(source: SourceText(bytes: []), file: file)
        let ignored = ignoredRules(forFile: file)
        diagnostics = suppressions.filter(diagnostics, ignoring: ignored)
        // Findings about the comments themselves can only be turned off with --ignore (or a config).
        diagnostics += suppressions.problems.filter { !ignored.contains($0.ruleID) }
        applySeverities(&diagnostics)
        diagnostics.sort { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        var linted = LintedFile(path: file, runbook: runbook, diagnostics: diagnostics, source: source)
        linted.suppressions = suppressions
        return linted
    }

    /// Lints files named by the user (see `lint(inputs:)`).
    public func lint(files: [String]) -> [LintedFile] {
        lint(inputs: files.map { LintInput(path: $0, foundInDirectory: false) })
    }

    /// Lints many files and adds directory-wide findings (duplicate runbook ids).
    ///
    /// Files are linted in parallel, on as many threads as the machine has cores; the results
    /// are in the order of `inputs`.
    public func lint(inputs: [LintInput]) -> [LintedFile] {
        var results = lintEach(inputs)
        // The file each id stays with: the first that declares it, unless a later one is named
        // after the id (`runbook run ID` picks that one, so the other is the duplicate).
        var keeper: [String: Int] = [:]
        for n in results.indices {
            guard let rb = results[n].runbook else { continue }
            let id = rb.id.value
            guard let kept = keeper[id] else { keeper[id] = n; continue }
            let swap = Self.isNamed(results[n].path, after: id) && !Self.isNamed(results[kept].path, after: id)
            let (blamed, keptIndex) = swap ? (kept, n) : (n, kept)
            if swap { keeper[id] = n }
            guard let keptLocation = results[keptIndex].runbook?.id.location,
                  let blamedLocation = results[blamed].runbook?.id.location else { continue }
            let d = swap
                ? Diagnostic.error("duplicate-runbook-id", "runbook id '\(id)' is already used by \(keptLocation.file), the file named after it",
                                   at: blamedLocation, notes: [DiagnosticNote("defined here", at: keptLocation)])
                : Diagnostic.error("duplicate-runbook-id", "runbook id '\(id)' is already used by \(keptLocation.file)",
                                   at: blamedLocation, notes: [DiagnosticNote("first defined here", at: keptLocation)])
            if let suppressions = results[blamed].suppressions {
                var found = suppressions.filter([d], ignoring: ignoredRules(forFile: results[blamed].path))
                applySeverities(&found)
                results[blamed].diagnostics += found
                results[blamed].diagnostics.sort { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
            }
        }
        return results
    }
}

extension Linter {
    /// The file that holds runbook `id` among the files that declare it: the only one, or the
    /// only one named after the id (lint reports the others as duplicates); nil when that is
    /// ambiguous (none declares it, or several do and not exactly one is named after it).
    /// `run ID`, `show ID` and `list` choose by this.
    public static func owner(of id: String, declaredBy paths: [String]) -> String? {
        if paths.count == 1 { return paths[0] }
        let named = paths.filter { isNamed($0, after: id) }
        return named.count == 1 ? named[0] : nil
    }

    /// Whether the file at `path` is named `<id>.yaml` or `<id>.yml`.
    static func isNamed(_ path: String, after id: String) -> Bool {
        runbookStem(path) == id
    }

    /// `--ignore` and what the config silences in `file`.
    func ignoredRules(forFile file: String) -> Set<String> {
        guard let config else { return ignoredRules }
        return ignoredRules.union(config.ignoredRules(forFile: file))
    }

    /// The config's `severity` settings applied to findings that are left.
    func applySeverities(_ diagnostics: inout [Diagnostic]) {
        guard let severity = config?.severity, !severity.isEmpty else { return }
        for index in diagnostics.indices {
            if let level = severity[diagnostics[index].ruleID] { diagnostics[index].severity = level }
        }
    }

    /// `lint(fileAt:)` of every file, in order, spread over the cores: files do not depend on
    /// each other until the directory-wide checks.
    fileprivate func lintEach(_ files: [LintInput]) -> [LintedFile] {
        guard files.count > 1, ProcessInfo.processInfo.activeProcessorCount > 1 else {
            return files.map { lint(fileAt: $0.path, regularFilesOnly: $0.foundInDirectory) }
        }
        let slots = UnsafeMutableBufferPointer<LintedFile?>.allocate(capacity: files.count)
        slots.initialize(repeating: nil)
        defer {
            _ = slots.deinitialize()
            slots.deallocate()
        }
        // Dispatch spreads the iterations over the cores; each writes only its own slot.
        nonisolated(unsafe) let output = slots
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            output[index] = lint(fileAt: files[index].path, regularFilesOnly: files[index].foundInDirectory)
        }
        return slots.map { $0! }
    }
}

/// Suppression comments (docs/lint.md, "Silencing a finding"):
///
/// - `# runbook-lint: ignore RULE[, RULE]` silences those rules on the comment's own line only;
///   `ignore all` silences every rule on that line.
/// - `# runbook-lint: ignore-file RULE[, RULE]` silences them in the whole file; `all` is not
///   accepted there (a `bad-suppression` warning, and nothing is silenced by it).
///
/// Only real YAML comments count: a comment starts at a `#` at the start of a line (after
/// blanks) or after a blank, outside quoted scalars and block scalars' content lines (from the
/// parser's `markedScalars`). The directive is the text after the first `runbook-lint:` in the
/// comment. A directive that is not understood is a `bad-suppression` warning at the comment's
/// `#`; a rule id no rule has is an `unknown-rule` warning at the id.
public struct Suppressions: Sendable {
    private var byLine: [Int: Set<String>] = [:]
    private var fileWide: Set<String> = []
    /// `bad-suppression` and `unknown-rule` warnings about the comments themselves.
    public private(set) var problems: [Diagnostic] = []

    static let directives = ["ignore", "ignore-file"]

    /// Reads the comments of `source` (the file `file`); `markedScalars` are byte ranges that
    /// are scalar text (see `YAMLParseResult.markedScalars`); `known` are the rule ids.
    public init(source: SourceText, file: String, markedScalars: [Range<Int>] = [], known: Set<String> = BuiltinRules.ids) {
        let marker: StaticString = "runbook-lint:"
        // Most lines have no '#': one byte scan finds those that do before any String is made.
        for n in source.lines(containing: UInt8(ascii: "#")) {
            guard var line = source.line(n), let lineStart = source.startOffset(ofLine: n) else { continue }
            // Byte offsets in the line: the comment's '#', and the first byte after the marker.
            let found: (hash: Int, rest: Int)? = line.withUTF8 { bytes in
                var from = 0
                while let hash = ByteSearch.firstOffset(of: "#", in: bytes, from: from) {
                    from = hash + 1
                    if hash > 0, bytes[hash - 1] != UInt8(ascii: " "), bytes[hash - 1] != UInt8(ascii: "\t") { continue }
                    if markedScalars.contains(where: { $0.contains(lineStart + hash) }) { continue }
                    // The first real '#' starts the comment: the rest of the line is comment text.
                    guard let at = ByteSearch.firstOffset(of: marker, in: bytes, from: hash + 1) else { return nil }
                    return (hash, at + marker.utf8CodeUnitCount)
                }
                return nil
            }
            guard let found else { continue }
            let words = Self.words(in: line, from: found.rest)
            let commentAt = SourceLocation(file: file, line: n, column: Self.column(ofByte: found.hash, in: line))
            func at(_ word: (text: String, offset: Int)) -> SourceLocation {
                SourceLocation(file: file, line: n, column: Self.column(ofByte: word.offset, in: line))
            }
            guard let verb = words.first else {
                problems.append(.warning("bad-suppression", "runbook-lint comment without a directive; write 'ignore RULE' or 'ignore-file RULE'", at: commentAt))
                continue
            }
            // Words after `--` (or a second '#') are the reason, not rule ids.
            let rules = words.dropFirst().prefix { !$0.text.hasPrefix("#") && !$0.text.hasPrefix("--") }
            guard Self.directives.contains(verb.text) else {
                problems.append(.warning("bad-suppression", "unknown runbook-lint directive '\(verb.text)'; expected 'ignore' or 'ignore-file'"
                                         + Suggestions.hint(for: verb.text, in: Self.directives), at: commentAt))
                continue
            }
            if rules.isEmpty {
                problems.append(.warning("bad-suppression", "'\(verb.text)' names no rule; write '\(verb.text) RULE'", at: commentAt))
                continue
            }
            var silenced: Set<String> = []
            for rule in rules {
                if rule.text == "all" {
                    if verb.text == "ignore-file" {
                        problems.append(.warning("bad-suppression", "'ignore-file all' is not accepted; name the rules to silence in the whole file", at: at(rule)))
                        continue
                    }
                } else if !known.contains(rule.text) {
                    problems.append(.warning("unknown-rule", "unknown rule '\(rule.text)' in a runbook-lint comment" + Suggestions.hint(for: rule.text, in: Array(known)),
                                             at: at(rule)))
                    continue
                }
                silenced.insert(rule.text)
            }
            if verb.text == "ignore" { byLine[n, default: []].formUnion(silenced) } else { fileWide.formUnion(silenced) }
        }
    }

    /// The words (split at blanks and commas) from byte `start` of `line`, with their byte offsets.
    private static func words(in line: String, from start: Int) -> [(text: String, offset: Int)] {
        let bytes = Array(line.utf8)
        var out: [(text: String, offset: Int)] = []
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: ",") { i += 1; continue }
            var j = i
            while j < bytes.count, bytes[j] != UInt8(ascii: " "), bytes[j] != UInt8(ascii: "\t"), bytes[j] != UInt8(ascii: ",") { j += 1 }
            out.append((String(decoding: bytes[i..<j], as: UTF8.self), i))
            i = j
        }
        return out
    }

    /// The 1-based column (in Unicode scalars, as `SourceLocation` counts) of byte `offset` of `line`.
    private static func column(ofByte offset: Int, in line: String) -> Int {
        let utf8 = line.utf8
        let index = utf8.index(utf8.startIndex, offsetBy: min(offset, utf8.count))
        return line.unicodeScalars[..<index].count + 1
    }

    /// `diagnostics` without the silenced ones; `global` are the rules silenced everywhere.
    public func filter(_ diagnostics: [Diagnostic], ignoring global: Set<String>) -> [Diagnostic] {
        diagnostics.filter { d in
            if global.contains(d.ruleID) || fileWide.contains(d.ruleID) { return false }
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
