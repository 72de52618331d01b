// The only place that talks to libyaml: pulls parser events and converts them, with their
// positions, into Swift values.

import CYAML

/// One libyaml parser event with its positions converted to `SourceLocation`s.
struct YAMLEvent {
    enum Kind {
        case streamStart
        case streamEnd
        /// `yamlVersion`: the `%YAML` directive's version ("1.1"), if the document has one.
        case documentStart(yamlVersion: String?)
        case documentEnd
        case alias(anchor: String)
        case scalar(YAMLNode.Scalar, anchor: String?)
        /// `tag` is the collection's explicit tag, if any (`!!seq`, `!vault`, ...).
        case sequenceStart(anchor: String?, tag: String?)
        case sequenceEnd
        case mappingStart(anchor: String?, tag: String?)
        case mappingEnd
    }

    var kind: Kind
    var start: SourceLocation
    var end: SourceLocation
}

/// Why no event could be read.
enum EventReadFailure: Error {
    /// libyaml rejected the text. `problem` and `context` are libyaml's own words.
    case libyaml(problem: String, problemLocation: SourceLocation,
                 context: String?, contextLocation: SourceLocation?)
    /// A limit of the front end was crossed (a ready-made diagnostic).
    case limit(Diagnostic)
}

/// Owns a `yaml_parser_t` (freed in `deinit`) and feeds it the bytes through a read handler,
/// so the file is not copied again for libyaml.
///
/// The bytes must be valid UTF-8 without NUL bytes (see `InputScreening`): positions are
/// converted on that assumption.
final class LibYAMLEventReader {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: ArraySlice<UInt8>
    /// `input.startIndex`: `input[inputStart + k]` is the k-th byte handed to libyaml.
    private let inputStart: Int
    /// The number of bytes handed to libyaml.
    private let inputCount: Int
    /// How many bytes the read handler has given libyaml so far.
    private var bytesRead = 0
    private let file: String
    /// `file`'s id in `SourceFiles`, looked up once: every event makes two locations.
    private let fileID: UInt32
    /// Byte offset of `input[0]` in the file (3 after a skipped byte order mark).
    private let byteBase: Int
    private let limits: YAMLLimits
    private var isInitialized = false
    /// libyaml's `mark.index` counts characters, not bytes. This cursor maps one to the
    /// other; marks arrive nearly in order, so the walk is linear overall.
    private var cursorChar = 0
    private var cursorByte = 0
    /// Bytes `asciiRun` are all ASCII and hold the cursor: a mark inside moves the cursor by
    /// arithmetic, with no walk. The upper bound is -1 until measured (see `byteOffset`).
    private var asciiRunStart = 0
    private var asciiRunEnd = -1

    /// `endOfInput`, when given, is the position just past the last byte (see `endOfInput`).
    init(bytes: ArraySlice<UInt8>, byteBase: Int, file: String, limits: YAMLLimits,
         endOfInput: SourceLocation? = nil) {
        self.file = file
        fileID = SourceFiles.id(of: file)
        self.byteBase = byteBase
        self.limits = limits
        inputCount = bytes.count
        input = bytes
        inputStart = bytes.startIndex
        knownEndOfInput = endOfInput
        parser = .allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        if yaml_parser_initialize(parser) != 0 {
            isInitialized = true
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input(parser, { data, buffer, size, sizeRead in
                guard let data, let buffer, let sizeRead else { return 0 }
                let reader = Unmanaged<LibYAMLEventReader>.fromOpaque(data).takeUnretainedValue()
                sizeRead.pointee = reader.read(into: buffer, capacity: size)
                return 1
            }, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    /// libyaml's read handler: the next bytes of `input`, at most `capacity`; 0 at the end.
    private func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int {
        let count = min(capacity, inputCount - bytesRead)
        guard count > 0 else { return 0 }
        input.withUnsafeBufferPointer { source in
            buffer.update(from: source.baseAddress! + bytesRead, count: count)
        }
        bytesRead += count
        return count
    }

    deinit {
        if isInitialized { yaml_parser_delete(parser) }
        parser.deinitialize(count: 1)
        parser.deallocate()
    }

    /// The next event, or the reason there is none.
    func next() throws(EventReadFailure) -> YAMLEvent {
        guard isInitialized else {
            throw .libyaml(problem: "out of memory while starting the yaml parser",
                           problemLocation: SourceLocation(file: file, line: 1, column: 1, offset: byteBase),
                           context: nil, contextLocation: nil)
        }
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) != 0 else { throw failure() }
        defer { yaml_event_delete(&event) }

        let start = location(event.start_mark)
        let end = location(event.end_mark)
        let kind: YAMLEvent.Kind
        switch event.type {
        case YAML_STREAM_START_EVENT: kind = .streamStart
        case YAML_STREAM_END_EVENT: kind = .streamEnd
        case YAML_DOCUMENT_START_EVENT:
            kind = .documentStart(yamlVersion: event.data.document_start.version_directive.map { "\($0.pointee.major).\($0.pointee.minor)" })
        case YAML_DOCUMENT_END_EVENT: kind = .documentEnd
        case YAML_ALIAS_EVENT:
            kind = .alias(anchor: Self.string(event.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            guard data.length <= limits.maxScalarBytes else {
                throw .limit(.error("scalar-too-large",
                                    "scalar is \(data.length) bytes, over the limit of \(limits.maxScalarBytes) bytes",
                                    at: start))
            }
            let text = data.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: data.length), as: UTF8.self)
            } ?? ""
            let style: YAMLNode.ScalarStyle
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            kind = .scalar(YAMLNode.Scalar(text: text, style: style, tag: Self.string(data.tag)),
                           anchor: Self.string(data.anchor))
        case YAML_SEQUENCE_START_EVENT:
            kind = .sequenceStart(anchor: Self.string(event.data.sequence_start.anchor),
                                  tag: Self.string(event.data.sequence_start.tag))
        case YAML_SEQUENCE_END_EVENT: kind = .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            kind = .mappingStart(anchor: Self.string(event.data.mapping_start.anchor),
                                 tag: Self.string(event.data.mapping_start.tag))
        case YAML_MAPPING_END_EVENT: kind = .mappingEnd
        default:
            // YAML_NO_EVENT: libyaml has nothing more to say; treat it as the end.
            kind = .streamEnd
        }
        return YAMLEvent(kind: kind, start: start, end: end)
    }

    private func failure() -> EventReadFailure {
        let p = parser.pointee
        let problem = Self.string(p.problem) ?? "unknown yaml error"
        switch p.error {
        case YAML_READER_ERROR:
            // Reader errors carry a byte offset (of the input we handed over), not a mark.
            var message = problem
            if p.problem_value != -1 {
                message += " (character 0x\(String(p.problem_value, radix: 16)))"
            }
            let offset = byteBase + min(p.problem_offset, inputCount)
            return .libyaml(problem: message, problemLocation: locationOfByte(offset),
                            context: nil, contextLocation: nil)
        case YAML_MEMORY_ERROR:
            return .libyaml(problem: "out of memory", problemLocation: location(p.mark),
                            context: nil, contextLocation: nil)
        default:
            let context = Self.string(p.context)
            return .libyaml(problem: problem, problemLocation: location(p.problem_mark),
                            context: context, contextLocation: context == nil ? nil : location(p.context_mark))
        }
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        let offset = byteOffset(ofCharacter: mark.index)
        if offset >= inputCount {
            // At the end of a file that does not end in a line break, libyaml moves its mark
            // to a line that does not exist ("force new line" at stream end). Point just past
            // the last character instead, so a renderer can show the line.
            let end = endOfInput
            if mark.line + 1 > end.line { return end }
        }
        return SourceLocation(fileID: fileID, line: mark.line + 1, column: mark.column + 1, offset: byteBase + offset)
    }

    /// The position just past the last character: from `InputScreening`, which walked the
    /// whole text anyway, else computed once when first needed.
    private let knownEndOfInput: SourceLocation?
    private lazy var endOfInput: SourceLocation = knownEndOfInput ?? locationOfByte(byteBase + inputCount)

    /// Moves the cursor to character `target` and returns its byte offset in `input`.
    private func byteOffset(ofCharacter target: Int) -> Int {
        if target == cursorChar { return cursorByte }
        if asciiRunEnd < 0 { asciiRunEnd = nextNonASCII(from: cursorByte) }
        let jump = cursorByte + (target - cursorChar)
        if jump >= asciiRunStart, jump <= asciiRunEnd {
            cursorByte = jump
            cursorChar = target
            return jump
        }
        // Walked on locals over the raw bytes: this runs for two marks of every event.
        var byte = cursorByte
        var char = cursorChar
        let count = inputCount
        input.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            let raw = UnsafeRawPointer(base)
            while char < target, byte < count {
                // Eight ASCII bytes at a time (one character each); a multi-byte character
                // among them falls through to the byte-by-byte step.
                if target - char >= 8, count - byte >= 8,
                   raw.loadUnaligned(fromByteOffset: byte, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    byte += 8
                    char += 8
                    continue
                }
                byte += 1
                while byte < count, bytes[byte] & 0xC0 == 0x80 { byte += 1 }
                char += 1
            }
            while char > target, byte > 0 {
                byte -= 1
                while byte > 0, bytes[byte] & 0xC0 == 0x80 { byte -= 1 }
                char -= 1
            }
        }
        cursorByte = byte
        cursorChar = char
        asciiRunStart = byte
        asciiRunEnd = -1
        return byte
    }

    /// The offset of the first byte at or after `start` that is not ASCII, or the input's end.
    private func nextNonASCII(from start: Int) -> Int {
        let count = inputCount
        return input.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return count }
            let raw = UnsafeRawPointer(base)
            var byte = start
            while count - byte >= 8, raw.loadUnaligned(fromByteOffset: byte, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                byte += 8
            }
            while byte < count, bytes[byte] & 0x80 == 0 { byte += 1 }
            return byte
        }
    }

    /// Line and column of a byte offset (only for reader errors, which are rare: a walk
    /// from the start is fine).
    private func locationOfByte(_ offset: Int) -> SourceLocation {
        let local = Array(input)
        let loc = LineBreaks.location(ofByte: offset - byteBase, in: local, from: 0, file: file)
        return SourceLocation(file: file, line: loc.line, column: loc.column, offset: offset)
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}
