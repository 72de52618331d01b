// The YAML front end's entry point: bytes (or a file) in, a YAMLNode tree and diagnostics out.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of parsing one runbook file.
public struct YAMLParseResult: Sendable {
    /// The document's root node; nil when the file could not be parsed (see `YAMLParser`).
    public var root: YAMLNode?
    /// Everything found, sorted by position.
    public var diagnostics: [Diagnostic]
    /// Byte ranges of quoted scalars and of block scalars' content lines whose source text holds
    /// `runbook-lint:`: a `#` in them is part of a value, not a comment (see `Suppressions`).
    /// Only the part of the file that was parsed is covered.
    public var markedScalars: [Range<Int>]
    /// Every alias that was expanded, in document order (see `AliasNotes`).
    public var aliases: [YAMLNode.AliasOrigin]

    /// Creates a result.
    public init(root: YAMLNode?, diagnostics: [Diagnostic], markedScalars: [Range<Int>] = [],
                aliases: [YAMLNode.AliasOrigin] = []) {
        self.root = root
        self.diagnostics = diagnostics
        self.markedScalars = markedScalars
        self.aliases = aliases
    }
}

/// Parses runbook YAML with libyaml into a `YAMLNode` tree whose every node knows where it was
/// written.
///
/// Fatal findings leave `root` nil (no partial tree, so later stages never report on a
/// truncated document): `file-too-large`, `io-error`, `binary-file`, `invalid-utf8`,
/// `yaml-syntax` (and `tab-indentation` when libyaml failed on the tab), `scalar-too-large`,
/// `nesting-too-deep`, `alias-expansion-limit`, `empty-file`.
///
/// Other findings keep the tree: `byte-order-mark` (warning), `multiple-documents` (the first
/// document is returned), `tab-indentation` where libyaml accepted the tab (e.g. inside a flow
/// collection), `duplicate-key`, `complex-key`, `invalid-merge`, `unknown-anchor` and
/// `recursive-alias` (the alias becomes a null).
public enum YAMLParser {
    /// Parses one YAML document. `file` is the path used in SourceLocation.
    ///
    /// With a `listSink`, the items of the root mapping's lists it names go to the sink as each is
    /// complete, and are not in the returned tree (see `YAMLListItemSink`). When the result has no
    /// root (a fatal finding), whatever the sink received must be dropped.
    public static func parse(bytes: [UInt8], file: String, limits: YAMLLimits = .default,
                             listSink: (any YAMLListItemSink)? = nil) -> YAMLParseResult {
        let screened = InputScreening.screen(bytes, file: file, limits: limits)
        var diagnostics = screened.diagnostics
        if let fatal = screened.fatal {
            diagnostics.append(fatal)
            return YAMLParseResult(root: nil, diagnostics: sorted(diagnostics))
        }
        var loader = DocumentLoader(bytes: bytes, screened: screened, file: file, limits: limits, sink: listSink)
        let root = loader.load()
        diagnostics.append(contentsOf: loader.diagnostics)
        return YAMLParseResult(root: root, diagnostics: sorted(diagnostics), markedScalars: loader.markedScalars,
                               aliases: root == nil ? [] : loader.aliases)
    }

    /// Reads and parses a file; unreadable file → diagnostic rule `io-error`.
    public static func parse(fileAt path: String, limits: YAMLLimits = .default) -> YAMLParseResult {
        switch readFile(path, limits: limits) {
        case .success(let bytes):
            return parse(bytes: bytes, file: path, limits: limits)
        case .failure(let failure):
            return YAMLParseResult(root: nil, diagnostics: [failure.diagnostic])
        }
    }

    private static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        // Stable: findings at the same position keep the order they were made in.
        diagnostics.enumerated()
            .sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
            .map(\.element)
    }

    struct ReadFailure: Error {
        var diagnostic: Diagnostic
    }

    /// How long the reader waits for a process to open a FIFO (a named pipe) for writing before
    /// it gives up with an `io-error`: a FIFO nobody writes to must not block lint forever.
    static let fifoWriterWait: Int32 = 5_000  // milliseconds

    /// Reads a whole file, refusing it before reading when it is over `maxFileBytes`; a failure
    /// is an `io-error` / `file-too-large` diagnostic naming the file and the reason.
    ///
    /// The file is opened non-blocking, so opening a FIFO never waits for a writer. With
    /// `regularFilesOnly` (a file lint found in a directory) anything but a regular file is
    /// refused without being opened. Otherwise (a path the user named: `<(generate)`,
    /// `/dev/stdin`) a FIFO or pipe is read to its end once a writer shows up, waiting at most
    /// `fifoWriterWait` for one; a character device is read like a file.
    /// Whether a path holds U+FFFD: how a name that is not valid UTF-8 (a Latin-1 `café.yaml`)
    /// reaches us from the command line or a directory, so that opening it cannot work.
    public static func isUndecodableName(_ path: String) -> Bool { path.unicodeScalars.contains("\u{FFFD}") }

    /// Why such a name cannot be opened, instead of a misleading "no such file".
    public static let undecodableName = "its name is not valid UTF-8, which runbook cannot open; rename the file"

    static func readFile(_ path: String, limits: YAMLLimits, regularFilesOnly: Bool = false) -> Result<[UInt8], ReadFailure> {
        let start = SourceLocation(file: path, line: 1, column: 1, offset: 0)
        func ioError(_ what: String) -> ReadFailure {
            var reason = Self.isUndecodableName(path) ? Self.undecodableName : systemErrorText()
            var link = stat()
            if errno == ENOENT, lstat(path, &link) == 0, link.st_mode & S_IFMT == S_IFLNK {
                reason = "it is a symbolic link to a file that does not exist"
            }
            return ReadFailure(diagnostic: .error("io-error", "cannot \(what) '\(path)': \(reason)", at: start))
        }
        func notRegular(_ mode: mode_t) -> ReadFailure {
            let kind: String
            switch mode & S_IFMT {
            case S_IFIFO: kind = "a FIFO"
            case S_IFSOCK: kind = "a socket"
            case S_IFCHR: kind = "a character device"
            case S_IFBLK: kind = "a block device"
            default: kind = "a special file"
            }
            return ReadFailure(diagnostic: .error("io-error", "cannot read '\(path)': not a regular file (\(kind))", at: start))
        }
        var info = stat()
        if stat(path, &info) == 0 {
            let type = info.st_mode & S_IFMT
            if type == S_IFSOCK || (regularFilesOnly && type != S_IFREG && type != S_IFDIR) { return .failure(notRegular(info.st_mode)) }
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ioError("open")) }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else { return .failure(ioError("read")) }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR {
            return .failure(ReadFailure(diagnostic: .error("io-error", "cannot read '\(path)': it is a directory", at: start)))
        }
        // Checked again on what was opened: the path may have changed since the stat.
        if type != S_IFREG, regularFilesOnly || type == S_IFSOCK { return .failure(notRegular(info.st_mode)) }
        let isPipe = type == S_IFIFO
        if !isPipe {
            // Blocking reads again (a terminal behind /dev/stdin waits for input as `cat` does).
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        }
        // A pipe read before any writer came reads as its end: wait for the first data or hang-up.
        var heardFromWriter = !isPipe
        let expected = Int(info.st_size)
        if expected > limits.maxFileBytes {
            return .failure(ReadFailure(diagnostic: .error(
                "file-too-large", "file is \(expected) bytes, over the limit of \(limits.maxFileBytes) bytes", at: start)))
        }
        // st_size is a hint (pipes and /proc files say 0): read until end of file, straight into
        // the array (no chunk buffer to copy from), but never more than one byte past the limit.
        // One byte more than the size, so a file read whole ends with a read of 0 bytes; the
        // array grows only when the file is longer than st_size said.
        let cap = limits.maxFileBytes + 1
        var bytes = [UInt8](repeating: 0, count: min(expected + 1, cap))
        var filled = 0
        while true {
            if filled == bytes.count {
                if filled == cap {
                    return .failure(ReadFailure(diagnostic: .error(
                        "file-too-large", "file is over the limit of \(limits.maxFileBytes) bytes", at: start)))
                }
                bytes.append(contentsOf: repeatElement(0, count: min(64 * 1024, cap - filled)))
            }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                if isPipe, errno == EAGAIN || errno == EWOULDBLOCK {
                    // A writer has the pipe open and has not written yet: wait for it.
                    heardFromWriter = true
                    guard waitForPipe(fd, milliseconds: -1) else { return .failure(ioError("read")) }
                    continue
                }
                return .failure(ioError("read"))
            }
            if n == 0 {
                if heardFromWriter { break }
                // No writer yet (or one that came and went): poll says which, or times out.
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, fifoWriterWait)
                if ready < 0 {
                    if errno == EINTR { continue }
                    return .failure(ioError("read"))
                }
                if ready == 0 {
                    return .failure(ReadFailure(diagnostic: .error(
                        "io-error", "cannot read '\(path)': no process opened the FIFO for writing within \(fifoWriterWait / 1000) s", at: start)))
                }
                heardFromWriter = true
                continue
            }
            heardFromWriter = true
            filled += n
        }
        bytes.removeLast(bytes.count - filled)
        return .success(bytes)
    }

    /// Waits until the pipe `fd` can be read (data or the writer's end); false on an error.
    private static func waitForPipe(_ fd: Int32, milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, milliseconds) < 0 {
            if errno != EINTR { return false }
        }
        return true
    }
}

/// Drives the event reader over the stream: exactly one document, then the end.
private struct DocumentLoader {
    let bytes: [UInt8]
    let screened: ScreenedInput
    let file: String
    let limits: YAMLLimits
    let sink: (any YAMLListItemSink)?
    var diagnostics: [Diagnostic] = []
    /// The aliases the builder expanded (set when a root is returned).
    var aliases: [YAMLNode.AliasOrigin] = []
    /// Byte ranges of block and quoted scalars that span lines: a leading tab inside one is content.
    private var multilineScalars: [Range<Int>] = []
    /// See `YAMLParseResult.markedScalars`.
    private(set) var markedScalars: [Range<Int>] = []

    init(bytes: [UInt8], screened: ScreenedInput, file: String, limits: YAMLLimits, sink: (any YAMLListItemSink)?) {
        self.bytes = bytes
        self.screened = screened
        self.file = file
        self.limits = limits
        self.sink = sink
    }

    mutating func load() -> YAMLNode? {
        let reader = LibYAMLEventReader(bytes: bytes[screened.bodyStart...], byteBase: screened.bodyStart,
                                        file: file, limits: limits, endOfInput: screened.endOfInput)
        var builder = NodeTreeBuilder(file: file, limits: limits, sink: sink)
        var documents = 0
        do throws(EventReadFailure) {
            while true {
                let event = try reader.next()
                switch event.kind {
                case .streamStart:
                    continue
                case .streamEnd:
                    reportTabs(before: bytes.count)
                    diagnostics.append(contentsOf: builder.diagnostics)
                    guard documents > 0 else {
                        diagnostics.append(.error("empty-file", "file contains no YAML document",
                                                  at: SourceLocation(file: file, line: 1, column: 1, offset: 0)))
                        return nil
                    }
                    aliases = builder.aliases
                    // `---` (or `--- ...`) and nothing else: a document with no content.
                    if let root = builder.root, case .scalar(let s) = root.content, s.text.isEmpty, s.style == .plain, s.tag == nil,
                       root.aliasOrigin == nil {
                        diagnostics.append(.error("empty-file", "the file's document is empty: it holds no runbook",
                                                  at: SourceLocation(file: file, line: 1, column: 1, offset: 0)))
                        return nil
                    }
                    return builder.root
                case .documentStart(let yamlVersion):
                    documents += 1
                    if documents == 1, let yamlVersion, yamlVersion != "1.2" {
                        // The event starts at the first directive, which may be a %TAG: point at the %YAML.
                        let offset = bytes.withUnsafeBufferPointer { ByteSearch.firstOffset(of: "%YAML", in: $0, from: max(0, event.start.offset)) }
                        let at = offset.map { LineBreaks.location(ofByte: $0, in: bytes, from: 0, file: file) } ?? event.start
                        diagnostics.append(.warning("yaml-version", "the file says %YAML \(yamlVersion), but runbooks are read as YAML 1.2 "
                                                    + "(core schema): yes/no/on/off stay strings and 010 is the number 10; remove the directive",
                                                    at: at))
                    }
                    if documents > 1 {
                        reportTabs(before: event.start.offset)
                        diagnostics.append(contentsOf: builder.diagnostics)
                        diagnostics.append(.error("multiple-documents",
                                                  "a runbook file holds one YAML document; found a second one",
                                                  at: event.start))
                        aliases = builder.aliases
                        return builder.root
                    }
                case .documentEnd:
                    continue
                default:
                    // Plain scalars are not exempt: a tab-indented continuation line is
                    // indentation to the reader, whatever libyaml makes of it.
                    if case .scalar(let scalar, _) = event.kind, scalar.style != .plain {
                        if event.start.line != event.end.line {
                            multilineScalars.append(event.start.offset..<event.end.offset)
                        }
                        noteMarkedScalar(scalar.style, from: event.start.offset, to: event.end.offset)
                    }
                    do throws(FatalBuildError) {
                        try builder.consume(event)
                    } catch {
                        throw EventReadFailure.limit(error.diagnostic)
                    }
                }
            }
        } catch {
            diagnostics.append(contentsOf: builder.diagnostics)
            switch error {
            case .limit(let diagnostic):
                diagnostics.append(diagnostic)
            case let .libyaml(problem, problemLocation, context, contextLocation):
                diagnostics.append(syntaxDiagnostic(problem: problem, at: problemLocation,
                                                    context: context, contextLocation: contextLocation))
            }
            return nil
        }
    }

    /// Records a quoted or block scalar whose source holds `runbook-lint:` (rare: one memchr-led
    /// search per scalar that is not plain). A plain scalar cannot hold a comment-like `#`: one
    /// after a space ends it. A block scalar's header line (`key: |  # comment`) is left out.
    private mutating func noteMarkedScalar(_ style: YAMLNode.ScalarStyle, from start: Int, to end: Int) {
        guard start >= 0, end > start, end <= bytes.count else { return }
        let range: Range<Int>? = bytes.withUnsafeBufferPointer { buffer in
            let text = UnsafeBufferPointer(rebasing: buffer[start..<end])
            // '#' first: rarer than the marker's first letter.
            guard ByteSearch.firstOffset(of: "#", in: text) != nil,
                  ByteSearch.firstOffset(of: "runbook-lint:", in: text) != nil else { return nil }
            guard style == .literal || style == .folded else { return start..<end }
            // The content starts after the header line's break.
            guard let lf = text.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) else { return nil }
            return start + lf + 1..<end
        }
        if let range { markedScalars.append(range) }
    }

    /// A libyaml error as a diagnostic; a failure on a line indented with a tab is reported as
    /// `tab-indentation` at the tab, because libyaml's words for it ("found character that
    /// cannot start any token") do not say what is wrong.
    private func syntaxDiagnostic(problem: String, at location: SourceLocation,
                                  context: String?, contextLocation: SourceLocation?) -> Diagnostic {
        if let tab = screened.tabSites.first(where: { $0.location.line == location.line }),
           location.offset < 0 || tab.location.offset <= location.offset,
           !multilineScalars.contains(where: { $0.contains(tab.location.offset) }) {
            return tabDiagnostic(tab)
        }
        if problem.contains("tab character") {
            return .error("tab-indentation", "tab character in indentation; indent with spaces", at: location)
        }
        var message = lowercasedFirst(problem)
        var notes: [DiagnosticNote] = []
        if let context {
            message += " " + lowercasedFirst(context)
            if let contextLocation, contextLocation != location {
                notes.append(DiagnosticNote(contextNote(context), at: contextLocation))
            }
        }
        // `with: {url: ${{ params.url }}/x}`: the expression's braces end the flow mapping.
        if context?.contains("flow") == true, location.offset >= 1, location.offset < bytes.count,
           bytes[location.offset] == UInt8(ascii: "{") || bytes[location.offset] == UInt8(ascii: "$"),
           bytes[location.offset - 1] == UInt8(ascii: "$") || bytes[location.offset] == UInt8(ascii: "$") {
            message += "; inside { } or [ ] a value holding ${{ }} must be quoted: \"${{ ... }}\""
        }
        return .error("yaml-syntax", message, at: location, notes: notes)
    }

    /// "while scanning a quoted scalar" → "the quoted scalar starts here".
    private func contextNote(_ context: String) -> String {
        var subject = Substring(context)
        for prefix in ["while scanning ", "while parsing "] where subject.hasPrefix(prefix) {
            subject = subject.dropFirst(prefix.count)
            for article in ["a ", "an ", "the "] where subject.hasPrefix(article) {
                subject = subject.dropFirst(article.count)
                break
            }
            return "the \(subject) starts here"
        }
        return "\(context) starts here"
    }

    private func lowercasedFirst(_ text: String) -> String {
        guard let first = text.first, first.isUppercase else { return text }
        return first.lowercased() + text.dropFirst()
    }

    private func tabDiagnostic(_ tab: TabSite) -> Diagnostic {
        .error("tab-indentation", "tab character in indentation; indent with spaces", at: tab.location)
    }

    /// Reports tab sites libyaml accepted (flow collections) that are not inside a multi-line
    /// scalar, up to byte `limit` (the part of the file that was parsed).
    private mutating func reportTabs(before limit: Int) {
        var scalarIndex = 0
        for tab in screened.tabSites {
            let offset = tab.location.offset
            guard offset < limit else { break }
            // Both lists are in file order: walk them together.
            while scalarIndex < multilineScalars.count, multilineScalars[scalarIndex].upperBound <= offset {
                scalarIndex += 1
            }
            if scalarIndex < multilineScalars.count, multilineScalars[scalarIndex].contains(offset) { continue }
            diagnostics.append(tabDiagnostic(tab))
        }
    }
}
