import Foundation

/// An action implementation: does the real work for one `ActionDescriptor`.
///
/// The engine resolves arguments (expressions, defaults, type conversion) before calling `run`,
/// applies the step timeout by cancelling the task, and decides dry-run behaviour from the
/// descriptor: actions never check for dry-run themselves.
public protocol Action: Sendable {
    var descriptor: ActionDescriptor { get }
    /// The action returns at once: it never waits on I/O, time or another process (log, assert).
    /// The engine then calls it directly, without a task of its own and a timeout watchdog, which
    /// would cost more than the action. Default: false.
    var isInstant: Bool { get }
    func run(_ invocation: ActionInvocation) async throws -> ActionResult
    /// Why the action, had it run with these arguments, would fail on these outputs (a scenario's
    /// simulated ones): an `http.check` expecting 503 that "gets" 200 fails in a test as in the
    /// run. nil: they pass, or the action does not judge its outputs. Default: nil.
    func judge(simulated outputs: [String: Value], arguments: [String: Value]) -> String?
    /// The outputs a dry run assumes when the action is not run and no scenario gives them: the
    /// usual case, fixed (never read from the system, so drills and tests give the same result
    /// everywhere). A breaker opened by a dry run "was closed", so an undo written as
    /// `outputs.previous == 'closed'` shows in the plan. Default: none (every output null).
    func typicalDryRunOutputs(arguments: [String: Value]) -> [String: Value]
}

extension Action {
    public var isInstant: Bool { false }
    public func judge(simulated outputs: [String: Value], arguments: [String: Value]) -> String? { nil }
    public func typicalDryRunOutputs(arguments: [String: Value]) -> [String: Value] { [:] }
}

/// What an action is asked to do: resolved arguments plus the run's services.
public struct ActionInvocation: Sendable {
    public var stepID: String
    /// Resolved `with:` arguments, defaults applied, secrets in clear (never print them: use `context.mask`).
    public var arguments: [String: Value]
    /// Seconds this try may take.
    public var timeout: Double
    public var context: ActionContext

    public init(stepID: String, arguments: [String: Value], timeout: Double, context: ActionContext) {
        self.stepID = stepID
        self.arguments = arguments
        self.timeout = timeout
        self.context = context
    }

    public func string(_ name: String) -> String? { arguments[name]?.stringValue }
    public func int(_ name: String) -> Int? {
        switch arguments[name] {
        case .int(let i)?: i
        case .double(let d)? where d == d.rounded() && abs(d) < 1e15: Int(d)
        default: nil
        }
    }
    public func number(_ name: String) -> Double? { arguments[name]?.numberValue }
    public func bool(_ name: String) -> Bool? {
        if case .bool(let b)? = arguments[name] { return b }
        return nil
    }
    /// A duration argument in seconds (strings like `5m`, or numbers of seconds).
    public func duration(_ name: String) -> Double? { Self.duration(arguments[name]) }

    /// Seconds in a duration argument (`90s`, or a number of seconds); nil when absent or not one.
    public static func duration(_ value: Value?) -> Double? {
        switch value {
        case .string(let s)?: RunbookDuration.parse(s)?.seconds
        case .int(let i)?: Double(i)
        case .double(let d)?: d
        default: nil
        }
    }
    /// A required string argument, or a failure naming the parameter.
    public func requireString(_ name: String) throws -> String {
        guard let s = string(name), !s.isEmpty else {
            throw ActionFailure("parameter '\(name)' is required")
        }
        return s
    }
}

/// The run's services an action may use.
public struct ActionContext: Sendable {
    public var runID: String
    public var runbookID: String
    /// The state directory (journal, incidents, breakers, flags).
    public var stateDirectory: String
    /// The process environment as the run sees it.
    public var environment: [String: String]
    /// Masks every secret value in a text.
    public var masker: SecretMasker
    /// Writes a line to the run's output and journal (used by `log`).
    public var emit: @Sendable (_ level: String, _ message: String) -> Void
    /// The runbook's `severity` (`sev1` … `sev4`): the default of `incident.create`.
    public var runbookSeverity: String?
    /// The runbook's `components`: the default of `incident.create`.
    public var runbookComponents: [String]
    /// Told the pid of each program the action starts (`exec`), as soon as it runs and before it
    /// is reaped, with whether it is detached: the run journals it, so that a resume after the
    /// runner died can tell whether the program is still running.
    public var processStarted: @Sendable (_ pid: Int32, _ detached: Bool) -> Void

    public init(runID: String, runbookID: String, stateDirectory: String, environment: [String: String],
                masker: SecretMasker, runbookSeverity: String? = nil, runbookComponents: [String] = [],
                processStarted: @escaping @Sendable (Int32, Bool) -> Void = { _, _ in },
                emit: @escaping @Sendable (String, String) -> Void) {
        self.processStarted = processStarted
        self.runID = runID
        self.runbookID = runbookID
        self.stateDirectory = stateDirectory
        self.environment = environment
        self.masker = masker
        self.runbookSeverity = runbookSeverity
        self.runbookComponents = runbookComponents
        self.emit = emit
    }
}

/// What a successful try produced.
public struct ActionResult: Sendable {
    public var outputs: [String: Value]
    /// A one-line human summary ("200 in 12 ms").
    public var summary: String?
    public init(outputs: [String: Value] = [:], summary: String? = nil) {
        self.outputs = outputs
        self.summary = summary
    }
}

/// A failed try: the message is shown to people (masked), outputs are still recorded (e.g. status 503).
public struct ActionFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var outputs: [String: Value]
    public init(_ message: String, outputs: [String: Value] = [:]) {
        self.message = message
        self.outputs = outputs
    }
    public var description: String { message }
}

/// Replaces every secret value in text with `***`.
public struct SecretMasker: Sendable {
    /// Longest first, so a secret containing another is masked whole.
    private let secrets: [String]
    /// The same, as UTF-8 bytes (for cuts in byte buffers: `safePrefixLength`, `safeSuffixStart`).
    private let secretBytes: [[UInt8]]
    public init(secrets: [String]) {
        var forms = Set(secrets.filter { $0.count >= 3 })
        // A secret with a quote, a backslash or a control character reads differently once
        // `to_json` (or the journal) escaped it: `ab"cd` becomes `ab\"cd`. Both forms are masked.
        for secret in forms {
            let escaped = String(Value.string(secret).jsonText().dropFirst().dropLast())
            if escaped != secret { forms.insert(escaped) }
        }
        self.secrets = forms.sorted { $0.count > $1.count }
        secretBytes = self.secrets.map { Array($0.utf8) }
    }
    public static let none = SecretMasker(secrets: [])

    /// Matched on UTF-8 bytes, not on characters: a secret followed by a combining mark (`é`
    /// written as `e` + U+0301) ends inside a character, and a character match would miss it.
    public func mask(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        var current = text
        for secret in secrets {
            var pattern = secret
            let replaced = current.withUTF8 { haystack in pattern.withUTF8 { Self.replacing($0, in: haystack) } }
            if let replaced { current = String(decoding: replaced, as: UTF8.self) }
        }
        return current
    }

    /// `haystack` with every `pattern` replaced by `***`, or nil when there is none (nothing
    /// is copied then: most texts hold no secret).
    private static func replacing(_ pattern: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard let base = haystack.baseAddress, let patternBase = pattern.baseAddress, let first = pattern.first,
              pattern.count <= haystack.count else { return nil }
        var out: [UInt8] = []
        var copied = 0
        var from = 0
        let last = haystack.count - pattern.count
        while from <= last, let hit = memchr(base + from, Int32(first), last - from + 1) {
            let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            if memcmp(base + at, patternBase, pattern.count) == 0 {
                if out.isEmpty { out.reserveCapacity(haystack.count) }
                out.append(contentsOf: haystack[copied..<at])
                out.append(contentsOf: [0x2A, 0x2A, 0x2A])  // ***
                from = at + pattern.count
                copied = from
            } else {
                from = at + 1
            }
        }
        guard copied > 0 else { return nil }
        out.append(contentsOf: haystack[copied...])
        return out
    }

    public func mask(_ value: Value) -> Value {
        guard !secrets.isEmpty else { return value }
        switch value {
        case .string(let s): return .string(mask(s))
        case .list(let l): return .list(l.map { mask($0) })
        case .map(let m): return .map(m.mapValues { mask($0) })
        // A number whose text is a secret (a PIN given as an int param) is shown as text would be.
        case .int, .double: return mask(value.interpolationText) == value.interpolationText ? value : .string("***")
        default: return value
        }
    }

    public var isEmpty: Bool { secrets.isEmpty }

    /// This masker plus `more` texts to hide (a webhook URL's path, a routing key).
    public func adding(_ more: [String]) -> SecretMasker {
        SecretMasker(secrets: secrets + more)
    }

    /// This masker plus what `other` hides.
    public func adding(_ other: SecretMasker) -> SecretMasker {
        SecretMasker(secrets: secrets + other.secrets)
    }

    /// Bytes in the longest text this masker hides (0 with none): how far before a cut a secret
    /// that crosses it can start.
    public var longestSecretBytes: Int { secretBytes.map(\.count).max() ?? 0 }

    /// `text` masked, then cut to its first `limit` characters ("…" added when cut). In this
    /// order: cut first, the start of a secret could be kept, and masking (by whole values)
    /// would no longer see it.
    /// With `firstLine`, only the masked text's first line is kept (a client's error with a
    /// multi-line secret in it: a line cut first would keep part of the secret, unmasked).
    public func maskedPrefix(_ text: String, characters limit: Int, firstLine: Bool = false) -> String {
        var masked = mask(text)
        if firstLine, let newline = masked.firstIndex(where: \.isNewline) { masked = String(masked[..<newline]) }
        return masked.count > limit ? String(masked.prefix(max(0, limit))) + "…" : masked
    }

    /// How many of the first bytes of `bytes` to keep, at most `limit`, so that no secret is
    /// cut in two: `limit`, or the start of a secret that crosses it (which is then dropped
    /// whole). For text that must stay as it is (an output the engine masks later).
    public func safePrefixLength(_ bytes: [UInt8], limit: Int) -> Int {
        var cut = max(0, min(limit, bytes.count))
        while let start = crossing(bytes, at: cut)?.start { cut = start }
        return cut
    }

    /// Where to start keeping the last (at most) `limit` bytes of `bytes` so that no secret is
    /// cut in two: `bytes.count - limit`, or the end of a secret that crosses it (dropped whole).
    /// A secret that began before `bytes` (a stream whose start was already dropped) is only
    /// safe when `bytes` holds `longestSecretBytes` more than will be kept.
    public func safeSuffixStart(_ bytes: [UInt8], limit: Int) -> Int {
        var cut = max(0, bytes.count - max(0, limit))
        while let end = crossing(bytes, at: cut)?.end { cut = end }
        return cut
    }

    /// A secret in `bytes` that starts before `cut` and ends after it.
    private func crossing(_ bytes: [UInt8], at cut: Int) -> (start: Int, end: Int)? {
        guard cut > 0, cut < bytes.count else { return nil }
        for s in secretBytes {
            guard s.count > 1 else { continue }
            var start = max(0, cut - s.count + 1)
            while start < cut, start + s.count <= bytes.count {
                if bytes[start] == s[0], bytes[start..<start + s.count].elementsEqual(s) { return (start, start + s.count) }
                start += 1
            }
        }
        return nil
    }
}

extension SecretMasker {
    /// `https://hooks.slack.com/***`: a URL's scheme, host and port, its path and query hidden
    /// (a Slack webhook's path is its credential); nil when `text` is not a URL with a host.
    public static func origin(ofURL text: String) -> String? {
        guard let parts = URLComponents(string: text), let scheme = parts.scheme, let host = parts.host else { return nil }
        let port = parts.port.map { ":\($0)" } ?? ""
        let hasPath = parts.path.count > 1 || parts.query != nil
        return "\(scheme)://\(host)\(port)" + (hasPath ? "/***" : "")
    }

    /// Whether a header's value is a credential by its name (`Authorization`, `X-Api-Key`,
    /// `X-Auth-Token`, `X-Hub-Signature`), so it is hidden like a secret wherever it came from.
    public static func isCredentialHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["auth", "token", "key", "secret", "signature", "cookie", "password"].contains { lower.contains($0) }
    }

    /// A URL with the password of its `user:password@` part replaced by `***`; other text as is.
    /// The password is the one `urlPasswordRange` finds, as lint's `secret-literal` reads it.
    public static func hidingURLPassword(_ text: String) -> String {
        var text = text
        guard let range = text.withUTF8({ urlPasswordRange(in: $0) }) else { return text }
        var utf8 = Array(text.utf8)
        utf8.replaceSubrange(range, with: "***".utf8)
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The byte range of the password in `scheme://user:password@host...`, or nil: the one rule
    /// both the masker (plans, docs, HTTP labels) and lint (`secret-literal`) use.
    ///
    /// The user part ends at the last `@` before any `?` or `#`, and the password starts after
    /// its first `:`: a password may hold an `@` (or, unencoded, a `/`), and hiding a little too
    /// much beats showing part of one. It is no password when a `/` comes before that `:` (`@`
    /// and `:` in a path: `http://h/a:b@c`) or when only digits lie between the `:` and a `/`
    /// (a port, then a path with an `@`: `https://h:8443/users/bob@example.com`).
    static func urlPasswordRange(in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        guard let scheme = ByteSearch.firstOffset(of: "://", in: bytes) else { return nil }
        let start = scheme + 3
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") { end += 1 }
        guard let at = (start..<end).last(where: { bytes[$0] == UInt8(ascii: "@") }) else { return nil }
        var colon: Int?
        for i in start..<at {
            if bytes[i] == UInt8(ascii: "/") { return nil }
            if bytes[i] == UInt8(ascii: ":") { colon = i; break }
        }
        guard let colon else { return nil }
        if let slash = (colon + 1..<at).first(where: { bytes[$0] == UInt8(ascii: "/") }),
           (colon + 1..<slash).allSatisfy({ bytes[$0] >= UInt8(ascii: "0") && bytes[$0] <= UInt8(ascii: "9") }) {
            return nil
        }
        return (colon + 1)..<at
    }

    /// How a step's resolved arguments show in a dry-run plan: secrets masked, parameters declared
    /// secret hidden whatever gave them, credential headers hidden by name, a URL's password
    /// hidden, and a notification's URL shown as its origin (a webhook's path or query is its token).
    public func planned(_ arguments: [String: Value], of descriptor: ActionDescriptor) -> [String: Value] {
        var shown = mask(Value.map(arguments)).mapValue
        for parameter in descriptor.parameters {
            guard let value = shown[parameter.name] else { continue }
            if parameter.secret || (descriptor.notifies && parameter.type == .url) {
                shown[parameter.name] = Self.shownSecretParameter(value)
            } else if parameter.name == "headers", case .map(let fields) = value {
                shown[parameter.name] = .map(fields.reduce(into: [:]) { out, field in
                    out[field.key] = Self.isCredentialHeader(field.key) && field.value != .null ? .string("***") : field.value
                })
            } else if parameter.type == .url, case .string(let url) = value {
                shown[parameter.name] = .string(Self.hidingURLPassword(url))
            }
        }
        return shown
    }

    /// How the value of a parameter declared secret (`routing_key`, `webhook_url`, `dsn`) shows in
    /// a plan, whatever it came from (a literal, a param, `env`): a URL as its origin, else `***`.
    public static func shownSecretParameter(_ value: Value) -> Value {
        switch value {
        case .null: return .null
        case .string(let text): return .string(origin(ofURL: text) ?? "***")
        default: return .string("***")
        }
    }
}

/// Implementations by action id, over a catalog of descriptors.
public struct ActionRegistry: Sendable {
    public let catalog: ActionCatalog
    private let implementations: [String: any Action]

    public init(catalog: ActionCatalog, implementations: [any Action]) {
        self.catalog = catalog
        var map: [String: any Action] = [:]
        for a in implementations { map[a.descriptor.id] = a }
        self.implementations = map
    }

    public func implementation(_ id: String) -> (any Action)? { implementations[id] }
}
