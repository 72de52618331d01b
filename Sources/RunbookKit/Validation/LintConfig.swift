#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A repository's lint settings: `.runbook-lint.yaml`, found from the working directory up
/// (see `LintConfig.discover`), or named with `runbook lint --config FILE`.
///
/// ```yaml
/// ignore: [file-name-mismatch]            # silenced everywhere, like --ignore
/// severity:                               # warnings made errors
///   timeouts-exceed-recovery: error
/// per_file:                               # silenced in some files only
///   - paths: ["legacy/**", "*.draft.yaml"]
///     ignore: [mutating-without-undo]
/// strict: true                            # like --strict
/// ```
///
/// Read with the runbook front end: every mistake is a diagnostic at its line and column.
public struct LintConfig: Sendable {
    /// The file name lint looks for.
    public static let fileName = ".runbook-lint.yaml"

    /// One `per_file` entry: these rules are silenced in files matching any of the patterns.
    public struct FileRules: Sendable {
        public var patterns: [String]
        public var ignore: Set<String>
    }

    /// The config file's path, as found or given.
    public var path: String
    /// The directory `per_file` patterns are relative to (the config file's, resolved).
    public var baseDirectory: String
    /// Rules silenced everywhere.
    public var ignore: Set<String> = []
    /// Rules whose findings get another severity (only warnings can be made errors).
    public var severity: [String: DiagnosticSeverity] = [:]
    public var perFile: [FileRules] = []
    /// `strict: true`: warnings count as errors (as `--strict`); nil when not set.
    public var strict: Bool?

    /// The keys of the file, in the order the docs list them.
    static let keys = ["ignore", "severity", "per_file", "strict"]

    /// Parses a config; the diagnostics are empty when it is usable.
    public static func parse(bytes: [UInt8], path: String, baseDirectory: String,
                             rules: [RuleDescription] = BuiltinRules.descriptions) -> (LintConfig?, [Diagnostic]) {
        let parsed = YAMLParser.parse(bytes: bytes, file: path, limits: .default)
        var config = LintConfig(path: path, baseDirectory: baseDirectory)
        // An empty file (or only comments) sets nothing.
        if parsed.diagnostics.count == 1, parsed.diagnostics[0].ruleID == "empty-file" { return (config, []) }
        guard let root = parsed.root else { return (nil, parsed.diagnostics) }
        var r = NodeReader(source: nil)
        let defaults = Dictionary(rules.map { ($0.id, $0.severity) }, uniquingKeysWith: { a, _ in a })
        let ids = rules.map(\.id)

        func ruleList(_ node: YAMLNode, what: String) -> Set<String> {
            var items: [Located<String>] = []
            if let list = node.sequence {
                items = list.compactMap { r.string($0, what: "each rule id in \(what)") }
            } else if let one = node.scalar, case .string(let text) = YAMLNode.resolvePlain(one) {
                // `ignore: a, b` as on the command line: one string, rules separated by commas.
                items = Self.ruleIDs(in: text).map { Located($0, at: node.reportLocation) }
            } else {
                r.error("wrong-type", "\(what) must be a rule id or a list of rule ids, found \(node.kindDescription)", node)
            }
            var out: Set<String> = []
            for item in items {
                if defaults[item.value] == nil {
                    r.bag.error("unknown-rule", "unknown rule '\(item.value)' in \(what)" + Suggestions.hint(for: item.value, in: ids),
                                at: item.location)
                } else {
                    out.insert(item.value)
                }
            }
            return out
        }

        if case .scalar(let s) = root.content, YAMLNode.resolvePlain(s) == .null {
            // An empty file (or only comments): no settings.
        } else if let map = r.mapping(root, what: "the lint config", allowed: keys) {
            if let node = map["ignore"] { config.ignore = ruleList(node, what: "'ignore'") }
            if let node = map["severity"], let pairs = node.mapping {
                for pair in pairs {
                    guard let rule = pair.key.scalar?.text else { continue }
                    let keyNode = pair.key, value = pair.value
                    guard defaults[rule] != nil else {
                        r.bag.error("unknown-rule", "unknown rule '\(rule)' in 'severity'" + Suggestions.hint(for: rule, in: ids),
                                    at: keyNode.reportLocation)
                        continue
                    }
                    guard let level = r.string(value, what: "the severity of '\(rule)'") else { continue }
                    switch level.value {
                    case "error":
                        config.severity[rule] = .error
                    case "warning":
                        if defaults[rule] == .warning {
                            config.severity[rule] = .warning
                        } else {
                            // Lint would pass what `runbook run` refuses: silence it on purpose instead.
                            r.bag.error("invalid-enum", "'\(rule)' is an error and stays one: a runbook with it cannot run; "
                                        + "use 'ignore' to silence it", at: keyNode.reportLocation)
                        }
                    default:
                        r.error("invalid-enum", "invalid severity '\(level.value)' for '\(rule)'; expected 'error' or 'warning'"
                                + Suggestions.hint(for: level.value, in: ["error", "warning"]), value)
                    }
                }
            }
            if let node = map["severity"], node.mapping == nil {
                r.error("wrong-type", "'severity' must be a mapping of rule id to 'error' or 'warning', found \(node.kindDescription)", node)
            }
            if let node = map["per_file"], let items = r.list(node, what: "'per_file'") {
                for item in items {
                    guard let entry = r.mapping(item, what: "a 'per_file' entry", allowed: ["paths", "ignore"]),
                          let pathsNode = r.requireKey(entry, "paths", what: "the 'per_file' entry"),
                          let ignoreNode = r.requireKey(entry, "ignore", what: "the 'per_file' entry") else { continue }
                    let patterns = pathsNode.sequence != nil ? r.stringList(pathsNode, what: "'paths'")
                        : (r.string(pathsNode, what: "'paths'").map { [$0] } ?? [])
                    if patterns.isEmpty, pathsNode.sequence != nil {
                        r.error("wrong-type", "'paths' lists no pattern, so the entry silences nothing", pathsNode)
                    }
                    for pattern in patterns {
                        if let problem = Self.patternProblem(pattern.value) {
                            r.bag.error("wrong-type", "the 'paths' pattern '\(pattern.value)' \(problem)", at: pattern.location)
                        }
                    }
                    // `legacy/` is the directory: everything under it.
                    let normalized = patterns.map { $0.value.hasSuffix("/") ? $0.value + "**" : $0.value }
                    config.perFile.append(FileRules(patterns: normalized, ignore: ruleList(ignoreNode, what: "'ignore'")))
                }
            }
            if let node = map["strict"] { config.strict = r.bool(node, what: "'strict'")?.value }
        }
        // A config is read exactly: what lint would warn about in a runbook (`strict: yes`, a
        // string in YAML 1.2) would here silently turn a setting off, so every finding is an error.
        let diagnostics = (parsed.diagnostics + r.bag.diagnostics).map { d -> Diagnostic in
            var d = d
            d.severity = .error
            return d
        }.sorted {
            ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column)
        }
        return diagnostics.contains { $0.severity == .error } ? (nil, diagnostics) : (config, diagnostics)
    }

    /// Rule ids written in one string, separated by commas and/or spaces (`a, b`), as
    /// `--ignore` and `ignore:` take them.
    public static func ruleIDs(in text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }

    /// Why a `per_file` pattern can never match a file lint is given; nil when it can.
    static func patternProblem(_ pattern: String) -> String? {
        if pattern.isEmpty { return "is empty" }
        if pattern.hasPrefix("/") { return "is absolute; patterns are relative to the config's directory" }
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false)
        if segments.dropLast().contains(where: \.isEmpty) { return "has an empty path segment ('//')" }
        if segments.contains("..") { return "reaches outside the config's directory ('..'); files there get no 'per_file' entry" }
        return nil
    }

    /// Reads and parses the config at `path` (`per_file` patterns are relative to its directory).
    public static func load(path: String) -> (LintConfig?, [Diagnostic]) {
        switch YAMLParser.readFile(path, limits: .default, regularFilesOnly: true) {
        case .failure(let failure):
            return (nil, [failure.diagnostic])
        case .success(let bytes):
            let directory = realPath(directoryName(of: path)) ?? directoryName(of: path)
            return parse(bytes: bytes, path: path, baseDirectory: directory)
        }
    }

    /// The nearest `.runbook-lint.yaml` in `directory` or a parent, stopping after the first
    /// directory that holds `.git` (a repository's root); nil when there is none. The path is
    /// `directory` followed by `../` steps (from `.`: `.runbook-lint.yaml`, `../.runbook-lint.yaml`),
    /// so messages name it the way the user reaches it.
    public static func discover(from directory: String = ".") -> String? {
        var up = ""
        var seen: Set<String> = []
        while true {
            let dir = directory == "." ? (up.isEmpty ? "." : String(up.dropLast())) : directory + "/" + up
            guard let real = realPath(dir), seen.insert(real).inserted else { return nil }
            let candidate = directory == "." ? up + fileName : dir + (dir.hasSuffix("/") ? "" : "/") + fileName
            // lstat: a config that is a dangling symlink is found, and its reading fails loudly,
            // rather than lint falling back to a parent's config.
            var info = stat()
            if lstat(candidate, &info) == 0 { return candidate }
            if real == "/" || access(dir + "/.git", F_OK) == 0 { return nil }
            up += "../"
        }
    }

    /// The rules silenced in `file` (a path as lint was given it, relative to the working
    /// directory or absolute): `ignore` plus every matching `per_file` entry.
    public func ignoredRules(forFile file: String) -> Set<String> {
        guard !perFile.isEmpty, let relative = relativePath(of: file) else { return ignore }
        var out = ignore
        for entry in perFile where entry.patterns.contains(where: { Self.matches($0, relative) }) {
            out.formUnion(entry.ignore)
        }
        return out
    }

    /// `file` relative to `baseDirectory`, through its directory's real path (a symlinked file
    /// is matched where it is linted from, not where it points); nil when it is outside.
    func relativePath(of file: String) -> String? {
        if file == Linter.standardInputName { return nil }  // standard input is in no directory
        let base = baseDirectory.hasSuffix("/") ? baseDirectory : baseDirectory + "/"
        // As written (through a symlinked directory, the path lint prints) first, then resolved.
        let name = file.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? file
        var candidates = [Self.lexicalAbsolute(file)]
        if let dir = Self.realPath(Self.directoryName(of: file)) { candidates.append(dir == "/" ? "/" + name : dir + "/" + name) }
        for bases in [base, lexicalBase] {
            for full in candidates where full.hasPrefix(bases) { return String(full.dropFirst(bases.count)) }
        }
        return nil
    }

    /// The config's directory as the user reached it (not resolved), ending in `/`.
    private var lexicalBase: String {
        let dir = Self.lexicalAbsolute(Self.directoryName(of: path))
        return dir.hasSuffix("/") ? dir : dir + "/"
    }

    /// `path` made absolute from the working directory, with `.` and `..` taken out by their
    /// text (symlinks kept, as the user wrote them).
    static func lexicalAbsolute(_ path: String) -> String {
        var full = path
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let cwd = getcwd(&buffer, buffer.count).map { _ in
                String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            } ?? "."
            full = cwd + "/" + path
        }
        var parts: [Substring] = []
        for part in full.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether a `per_file` pattern matches a relative path. A pattern without `/` matches the
    /// file name in any directory; one with `/` the whole relative path. `*` and `?` stay within
    /// one path segment; `**` matches any number of segments (`legacy/**`, `**/old-*.yaml`).
    public static func matches(_ pattern: String, _ path: String) -> Bool {
        if !pattern.contains("/") {
            let name = String(Linter.fileName(path))
            return glob(Array(pattern.utf8)[...], Array(name.utf8)[...])
        }
        let p = pattern.hasPrefix("./") ? String(pattern.dropFirst(2)) : pattern
        return glob(Array(p.utf8)[...], Array(path.utf8)[...])
    }

    private static func glob(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>) -> Bool {
        let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), question = UInt8(ascii: "?")
        guard let first = p.first else { return s.isEmpty }
        if first == star, p.dropFirst().first == star {
            // `**/` matches zero or more whole segments; a trailing `**` matches everything left.
            var rest = p.dropFirst(2)
            if rest.first == slash { rest = rest.dropFirst() } else if rest.isEmpty { return true }
            var i = s.startIndex
            while true {
                if glob(rest, s[i...]) { return true }
                guard let next = s[i...].firstIndex(of: slash) else { return false }
                i = next + 1
            }
        }
        if first == star {
            var i = s.startIndex
            while true {
                if glob(p.dropFirst(), s[i...]) { return true }
                guard i < s.endIndex, s[i] != slash else { return false }
                i += 1
            }
        }
        guard let c = s.first else { return false }
        if first == question ? c != slash : c == first { return glob(p.dropFirst(), s.dropFirst()) }
        return false
    }

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func realPath(_ path: String) -> String? { Linter.realPath(path) }
}
