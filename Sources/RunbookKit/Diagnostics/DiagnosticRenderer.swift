/// Output formats of `runbook lint`.
public enum DiagnosticFormat: String, Sendable, CaseIterable {
    case text, json, sarif, github
}

/// Turns lint results into text, JSON, SARIF 2.1.0 or GitHub workflow annotations.
public struct DiagnosticRenderer: Sendable {
    public var format: DiagnosticFormat
    /// Treat warnings as errors (`--strict`): affects severities printed and the exit code.
    public var strict: Bool
    public var color: Bool
    public var toolVersion: String

    public init(format: DiagnosticFormat, strict: Bool = false, color: Bool = false, toolVersion: String = "0.0.0") {
        self.format = format
        self.strict = strict
        self.color = color
        self.toolVersion = toolVersion
    }

    /// The severity after `--strict`.
    public func effectiveSeverity(_ d: Diagnostic) -> DiagnosticSeverity {
        strict && d.severity == .warning ? .error : d.severity
    }

    public func render(_ files: [LintedFile], rules: [RuleDescription] = BuiltinRules.descriptions) -> String {
        switch format {
        case .text: return renderText(files)
        case .json: return renderJSON(files)
        case .sarif: return renderSARIF(files, rules: rules)
        case .github: return renderGitHub(files)
        }
    }

    // MARK: text

    private func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    /// `path:line:col: severity: message [rule]`, then the source line and a caret, then notes.
    public func renderText(_ files: [LintedFile]) -> String {
        var out = ""
        var errors = 0, warnings = 0
        for file in files {
            for d in file.diagnostics {
                let severity = effectiveSeverity(d)
                if severity == .error { errors += 1 } else if severity == .warning { warnings += 1 }
                let label = severity == .error ? paint("error", "1;31") : severity == .warning ? paint("warning", "1;33") : paint("note", "1;36")
                out += "\(Self.escaped(d.location.description)): \(label): \(Self.escaped(d.message)) [\(d.ruleID)]\n"
                out += snippet(file.source, d.location)
                for note in d.notes {
                    if let at = note.location {
                        out += "\(Self.escaped(at.description)): \(paint("note", "1;36")): \(Self.escaped(note.message))\n"
                        if at.file == file.path { out += snippet(file.source, at) }
                    } else {
                        out += "note: \(Self.escaped(note.message))\n"
                    }
                }
            }
        }
        let fileWord = files.count == 1 ? "file" : "files"
        if errors + warnings == 0 {
            out += "\(files.count) \(fileWord) checked, no problems\n"
        } else {
            out += "\(files.count) \(fileWord) checked: \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")\n"
        }
        return out
    }

    /// A control character (C0, DEL, C1) as text that shows it: `\n`, `\r`, `\t`, else `\u{1B}`
    /// (hex, as in a Swift string literal); nil for any other character.
    static func escape(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x00..<0x20, 0x7F..<0xA0: return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        default: return nil
        }
    }

    /// `text` with its control characters escaped (see `escape(_:)`): a value from a YAML file
    /// can hold newlines and terminal escape sequences, which must neither break the one-line
    /// `path:line:col: severity: message` format nor reach the terminal raw.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { escape($0) != nil }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if let e = escape(scalar) { out += e } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// The source line (tabs shown as spaces, other control characters escaped) and a caret
    /// under the column.
    func snippet(_ source: SourceText?, _ at: SourceLocation) -> String {
        guard let source, let raw = source.line(at.line) else { return "" }
        var line = ""
        var pad = ""
        for (n, scalar) in raw.unicodeScalars.prefix(400).enumerated() {
            let escape = scalar == "\t" ? nil : Self.escape(scalar)
            if let escape { line += escape } else { line.unicodeScalars.append(scalar == "\t" ? " " : scalar) }
            // The caret goes under the column's character, however wide its escape.
            if n < at.column - 1 { pad += String(repeating: " ", count: escape?.count ?? Self.cells(scalar)) }
        }
        return "    \(line)\n    \(pad)\(paint("^", "1;32"))\n"
    }

    /// How many terminal cells a character takes, so the caret lands under the column: 2 for
    /// East Asian wide characters and emoji, 0 for combining marks and joiners, else 1 (the
    /// rule of wcwidth, from Unicode properties and the wide blocks).
    static func cells(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0xFE00...0xFE0F).contains(v) { return 0 }  // variation selectors
        if (0x1F1E6...0x1F1FF).contains(v) { return 1 }  // a flag is two regional indicators, two cells in all
        if scalar.properties.isEmojiPresentation { return 2 }
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    // MARK: JSON

    private func location(_ l: SourceLocation) -> Value {
        .map(["file": .string(l.file), "line": .int(l.line), "column": .int(l.column)])
    }

    public func renderJSON(_ files: [LintedFile]) -> String {
        var items: [Value] = []
        var errors = 0, warnings = 0
        for file in files {
            for d in file.diagnostics {
                let severity = effectiveSeverity(d)
                if severity == .error { errors += 1 } else if severity == .warning { warnings += 1 }
                var m: [String: Value] = [
                    "file": .string(d.location.file), "line": .int(d.location.line), "column": .int(d.location.column),
                    "severity": .string(severity.rawValue), "rule": .string(d.ruleID), "message": .string(d.message),
                ]
                m["notes"] = .list(d.notes.map { n in
                    var note: [String: Value] = ["message": .string(n.message)]
                    if let l = n.location { note["location"] = location(l) }
                    return .map(note)
                })
                items.append(.map(m))
            }
        }
        let summary: Value = .map(["files": .int(files.count), "errors": .int(errors), "warnings": .int(warnings)])
        return Value.map(["diagnostics": .list(items), "summary": summary]).jsonText(pretty: true) + "\n"
    }

    // MARK: SARIF

    private func sarifLevel(_ s: DiagnosticSeverity) -> String {
        switch s {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }

    private func sarifLocation(_ l: SourceLocation, message: String? = nil) -> Value {
        var m: [String: Value] = [
            "physicalLocation": .map([
                "artifactLocation": .map(["uri": .string(Self.uri(l.file))]),
                "region": .map(["startLine": .int(max(1, l.line)), "startColumn": .int(max(1, l.column))]),
            ]),
        ]
        if let message { m["message"] = .map(["text": .string(message)]) }
        return .map(m)
    }

    /// The path as an RFC 3986 URI reference: a relative path stays relative (GitHub resolves it
    /// against the checkout). Every byte of its UTF-8 outside unreserved characters, sub-delims,
    /// ':', '@' and '/' is percent-encoded (`#`, `?`, `%`, space, non-ASCII); a relative path
    /// whose first segment holds ':' gets `./` so that it cannot read as a scheme. Leading `./`
    /// and the slashes after it go; an absolute path keeps one leading slash.
    static func uri(_ path: String) -> String {
        var p = Substring(path)
        if p.hasPrefix("/") {
            while p.hasPrefix("//") { p = p.dropFirst() }  // `//x` would read as a host name
        } else {
            // `./`, `.//`, `././`: a relative path stays relative, without a leading slash.
            while p.hasPrefix("./") || p.hasPrefix("/") { p = p.dropFirst(p.hasPrefix("./") ? 2 : 1) }
        }
        var out = ""
        for byte in p.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
                 UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
                 UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
                 UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        if !out.hasPrefix("/"), out.prefix(while: { $0 != "/" }).contains(":") { out = "./" + out }
        return out
    }

    public func renderSARIF(_ files: [LintedFile], rules: [RuleDescription]) -> String {
        var ruleIndex: [String: Int] = [:]
        var ruleValues: [Value] = []
        for r in rules where ruleIndex[r.id] == nil {
            ruleIndex[r.id] = ruleValues.count
            ruleValues.append(.map([
                "id": .string(r.id),
                "shortDescription": .map(["text": .string(r.summary)]),
                "defaultConfiguration": .map(["level": .string(sarifLevel(r.severity))]),
            ]))
        }
        var results: [Value] = []
        for file in files {
            for d in file.diagnostics {
                var m: [String: Value] = [
                    "ruleId": .string(d.ruleID),
                    "level": .string(sarifLevel(effectiveSeverity(d))),
                    "message": .map(["text": .string(d.message)]),
                    "locations": .list([sarifLocation(d.location)]),
                ]
                if let i = ruleIndex[d.ruleID] { m["ruleIndex"] = .int(i) }
                let related = d.notes.compactMap { n in n.location.map { sarifLocation($0, message: n.message) } }
                if !related.isEmpty { m["relatedLocations"] = .list(related) }
                results.append(.map(m))
            }
        }
        let driver: Value = .map([
            "name": .string("runbook"),
            "version": .string(toolVersion),
            "rules": .list(ruleValues),
        ])
        let sarif: Value = .map([
            "$schema": .string("https://json.schemastore.org/sarif-2.1.0.json"),
            "version": .string("2.1.0"),
            // Columns count Unicode scalars (code points), as libyaml counts them; not UTF-16 units.
            "runs": .list([.map(["tool": .map(["driver": driver]), "columnKind": .string("unicodeCodePoints"),
                                 "results": .list(results)])]),
        ])
        return sarif.jsonText(pretty: true) + "\n"
    }

    // MARK: GitHub annotations

    /// A workflow command's message: GitHub's own escaping (`%` → `%25`, CR → `%0D`, LF → `%0A`,
    /// which the runner decodes), and in a property also `:` → `%3A`, `,` → `%2C`. Every other
    /// control character (C0, DEL, C1: an ESC could drive the terminal that shows the CI log) is
    /// escaped as `--format text` escapes it, `\t` or `\u{1B}`; the runner decodes no other `%XX`.
    static func escapeData(_ s: String, property: Bool = false) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            case ":" where property: out += "%3A"
            case "," where property: out += "%2C"
            default:
                if let e = escape(scalar) { out += e } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    static func escapeProperty(_ s: String) -> String { escapeData(s, property: true) }

    /// `::error file=…,line=…,col=…,title=rule::message` — one workflow command per finding.
    public func renderGitHub(_ files: [LintedFile]) -> String {
        var out = ""
        for file in files {
            for d in file.diagnostics {
                let command: String
                switch effectiveSeverity(d) {
                case .error: command = "error"
                case .warning: command = "warning"
                case .note: command = "notice"
                }
                let l = d.location
                out += "::\(command) file=\(Self.escapeProperty(l.file)),line=\(l.line),col=\(l.column),title=\(Self.escapeProperty(d.ruleID))::\(Self.escapeData(d.message + " [\(d.ruleID)]"))\n"
            }
        }
        return out
    }
}
