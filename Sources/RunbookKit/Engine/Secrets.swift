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
            var st = stat()
            guard stat(file, &st) == 0 else { throw SecretsError("secrets file \(file): cannot read it") }
            if st.st_mode & 0o077 != 0 {
                throw SecretsError(String(format: "secrets file %@ is readable by others (mode %o); run: chmod 600 %@",
                                          file, st.st_mode & 0o777, file))
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SecretsError("secrets file \(file): cannot read it")
            }
            let text = String(decoding: data, as: UTF8.self)
            for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                guard let eq = line.firstIndex(of: "=") else {
                    throw SecretsError("secrets file \(file):\(n + 1): expected NAME=value")
                }
                let name = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
                var value = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
                if value.count >= 2, (value.hasPrefix("\"") && value.hasSuffix("\"")) || (value.hasPrefix("'") && value.hasSuffix("'")) {
                    value = String(value.dropFirst().dropLast())
                }
                values[name] = value
            }
        }
        return SecretStore(values: values)
    }

    public var masker: SecretMasker { SecretMasker(secrets: Array(values.values)) }
}

/// A secrets problem (never includes a secret value).
public struct SecretsError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}
