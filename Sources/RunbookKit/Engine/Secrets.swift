import Foundation

/// Secret values for `secrets.NAME`: from `RUNBOOK_SECRET_NAME` (upper-cased) and a secrets file
/// (`NAME=value` lines, `#` comments) that only its owner may read.
public struct SecretStore: Sendable {
    public private(set) var values: [String: String]

    public init(values: [String: String] = [:]) { self.values = values }

    /// Loads the environment's `RUNBOOK_SECRET_*` variables, then the file (file wins).
    public static func load(environment: [String: String], file: String?) throws(SecretsError) -> SecretStore {
        var values: [String: String] = [:]
        for (key, value) in environment where key.hasPrefix("RUNBOOK_SECRET_") {
            let name = String(key.dropFirst("RUNBOOK_SECRET_".count)).lowercased()
            if !name.isEmpty { values[name] = value }
        }
        if let file {
            // Every refusal says why in the system's words (no such file, permission denied, ...):
            // at 3 a.m. "cannot read it" leaves the on-call guessing.
            var st = stat()
            guard stat(file, &st) == 0 else { throw SecretsError("secrets file \(file): cannot read it: \(systemErrorText())") }
            // Before the mode check: a directory's usual 755 is not a secrets file readable by others.
            if st.st_mode & S_IFMT == S_IFDIR { throw SecretsError("secrets file \(file): cannot read it: it is a directory") }
            if st.st_mode & 0o077 != 0 {
                throw SecretsError(String(format: "secrets file %@ is readable by others (mode %o); run: chmod 600 %@",
                                          file, st.st_mode & 0o777, file))
            }
            let data = try readAll(file)
            // A byte order mark (Notepad writes one) is not part of the first name.
            let bytes = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
            let text = String(decoding: bytes, as: UTF8.self)
            for (name, value) in try parseFile(text, name: file) { values[name] = value }
        }
        return SecretStore(values: values)
    }

    /// The whole file, or an error with the system's reason (permission denied, an I/O error).
    /// Read through the descriptor, so `--secrets-file <(...)` (a pipe) works too.
    private static func readAll(_ file: String) throws(SecretsError) -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SecretsError("secrets file \(file): cannot read it: \(systemErrorText())") }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data += chunk[..<n]; continue }
            if n == 0 { return data }
            if errno == EINTR { continue }
            throw SecretsError("secrets file \(file): cannot read it: \(systemErrorText())")
        }
    }

    /// The `NAME=value` pairs of a secrets file, in order (names lower-cased). Lines end in LF
    /// or CRLF; `export NAME=value` is read as `NAME=value` (files written for a shell); a
    /// value may be quoted (`'...'` or `"..."`, taken as written between the quotes); a `#`
    /// after blanks starts a comment, outside quotes. A line that is not `NAME=value` with a
    /// name of letters, digits and `_` is an error naming the line, never its text.
    static func parseFile(_ text: String, name file: String) throws(SecretsError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        // Split on the bytes: in a Swift String "\r\n" is one Character, not a "\n".
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (n, bytes) in lines.enumerated() {
            func problem(_ what: String) -> SecretsError { SecretsError("secrets file \(file):\(n + 1): \(what)") }
            var line = Substring(String(decoding: bytes, as: UTF8.self))
            if line.hasSuffix("\r") { line = line.dropLast() }
            line = line.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export "), line.contains("=") { line = line.dropFirst("export ".count).drop { $0 == " " } }
            guard let eq = line.firstIndex(of: "=") else { throw problem("expected NAME=value") }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
                  name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic)
                                                    || ("0"..."9").contains($0) }) else {
                throw problem("expected NAME=value, with a NAME of letters, digits and _ that does not start with a digit")
            }
            let afterEquals = line[line.index(after: eq)...]
            var rest = afterEquals.drop { $0 == " " || $0 == "\t" }
            let value: Substring
            if let quote = rest.first, quote == "\"" || quote == "'" {
                rest = rest.dropFirst()
                guard let close = rest.firstIndex(of: quote) else { throw problem("the value's \(quote) is not closed") }
                value = rest[..<close]
                let after = rest[rest.index(after: close)...].trimmingCharacters(in: .whitespaces)
                guard after.isEmpty || after.hasPrefix("#") else {
                    throw problem("only a # comment may follow the quoted value")
                }
            } else {
                // A `#` after a blank starts a comment; `pass#word` and `=#start` keep theirs.
                var end = afterEquals.endIndex
                var i = afterEquals.startIndex
                while i < afterEquals.endIndex {
                    if afterEquals[i] == "#", i > afterEquals.startIndex,
                       [" ", "\t"].contains(afterEquals[afterEquals.index(before: i)]) {
                        end = i
                        break
                    }
                    i = afterEquals.index(after: i)
                }
                value = Substring(afterEquals[..<end].trimmingCharacters(in: .whitespaces))
            }
            pairs.append((name.lowercased(), String(value)))
        }
        return pairs
    }

    public var masker: SecretMasker { SecretMasker(secrets: Array(values.values)) }
}

/// A secrets problem (never includes a secret value).
public struct SecretsError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}
