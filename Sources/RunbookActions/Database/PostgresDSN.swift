// PostgreSQL connection strings, in both libpq forms:
//   postgres://user:pass@host:5432/db?sslmode=require       (URI; postgresql:// too)
//   host=db.internal port=5432 user=app password='x y' dbname=app sslmode=disable   (key=value)
// `redacted` is what messages show: the password never appears in it.
import Foundation

/// A parsed connection string.
public struct PostgresDSN: Sendable, Equatable {
    /// libpq's sslmode values.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// Host name or IP address; a path starting with `/` is a Unix-socket directory.
    public var host: String
    /// TCP port (also the socket file's suffix).
    public var port: Int
    /// User name.
    public var user: String
    /// Password, if any.
    public var password: String?
    /// Database; nil: the server's default (the user's name).
    public var database: String?
    /// TLS use; libpq's default is `prefer`.
    public var sslMode: SSLMode
    /// `sslrootcert`: a PEM file of CA certificates for verify-ca / verify-full.
    public var sslRootCert: String?

    /// `postgres://user@host:port/db`: everything but the password, for messages.
    public var redacted: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(hostPart):\(port)" + (database.map { "/\($0)" } ?? "")
    }

    /// Why a connection string cannot be used, as a lowercase phrase without the password.
    public struct Invalid: Error, Sendable, CustomStringConvertible, Equatable {
        /// The phrase.
        public var description: String
        /// A reason.
        public init(description: String) { self.description = description }
    }

    /// Parses either form.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var fields: [String: String]
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            fields = try Self.uriFields(trimmed)
        } else if trimmed.contains("=") {
            fields = try Self.keywordFields(trimmed)
        } else {
            throw Invalid(description: "the dsn is neither a postgres:// url nor 'key=value' pairs")
        }
        guard let user = fields["user"], !user.isEmpty else { throw Invalid(description: "the dsn names no user") }
        self.user = user
        host = fields["host"].flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        if let text = fields["port"], !text.isEmpty {
            guard let port = Int(text), (1...65535).contains(port) else {
                throw Invalid(description: "the dsn's port '\(text)' is not a port number")
            }
            self.port = port
        } else {
            port = 5432
        }
        password = fields["password"]
        database = fields["dbname"].flatMap { $0.isEmpty ? nil : $0 }
        let mode = fields["sslmode"] ?? "prefer"
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw Invalid(description: "unknown sslmode '\(mode)' (use one of "
                + SSLMode.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        self.sslMode = sslMode
        sslRootCert = fields["sslrootcert"]
    }

    /// `postgres://[user[:password]@][host][:port][/dbname][?param=value&…]`, percent-decoded.
    private static func uriFields(_ text: String) throws -> [String: String] {
        guard let scheme = text.range(of: "://") else { throw Invalid(description: "the dsn is not a url") }
        var rest = text[scheme.upperBound...]
        var fields: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let key = decode(parts[0]), let value = decode(parts[1]) else {
                    throw Invalid(description: "the dsn has a malformed parameter")
                }
                fields[key] = value
            }
            rest = rest[..<q]
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            // `user:pa/ss@host` or `user:p@ss/w0rd@host`: a password with a raw `/` splits there, and
            // its pieces would show as the host and database of every message. Refused instead.
            if rest[slash...].contains("@") {
                throw Invalid(description: "the dsn has an '@' after its first '/': percent-encode '/' (%2F) "
                              + "and '@' (%40) in the user name and password")
            }
            guard let db = decode(rest[rest.index(after: slash)...]) else {
                throw Invalid(description: "the dsn's database name is malformed")
            }
            if !db.isEmpty { fields["dbname"] = db }
        }
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let user = decode(parts[0]) else { throw Invalid(description: "the dsn's user name is malformed") }
            fields["user"] = user
            if parts.count == 2 {
                // Never echo the password, not even in an error.
                guard let password = decode(parts[1]) else { throw Invalid(description: "the dsn's password is malformed") }
                fields["password"] = password
            }
        }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Invalid(description: "the dsn's host is malformed") }
            fields["host"] = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { fields["port"] = String(after.dropFirst()) }
        } else if let colon = authority.lastIndex(of: ":") {
            fields["host"] = decode(authority[..<colon]) ?? ""
            fields["port"] = String(authority[authority.index(after: colon)...])
        } else if !authority.isEmpty {
            fields["host"] = decode(authority) ?? ""
        }
        return fields
    }

    /// `key=value key='quoted value'` with backslash escapes inside quotes, as libpq reads it.
    private static func keywordFields(_ text: String) throws -> [String: String] {
        var fields: [String: String] = [:]
        var chars = Substring(text)
        while true {
            chars = chars.drop(while: \.isWhitespace)
            guard !chars.isEmpty else { break }
            guard let eq = chars.firstIndex(of: "=") else { throw Invalid(description: "the dsn has a key without '='") }
            let key = chars[..<eq].trimmingCharacters(in: .whitespaces)
            chars = chars[chars.index(after: eq)...].drop(while: \.isWhitespace)
            var value = ""
            if chars.first == "'" {
                chars = chars.dropFirst()
                var closed = false
                while let c = chars.first {
                    chars = chars.dropFirst()
                    if c == "\\", let next = chars.first {
                        value.append(next)
                        chars = chars.dropFirst()
                    } else if c == "'" {
                        closed = true
                        break
                    } else {
                        value.append(c)
                    }
                }
                guard closed else { throw Invalid(description: "the dsn has an unterminated quoted value") }
            } else {
                let end = chars.firstIndex(where: \.isWhitespace) ?? chars.endIndex
                value = String(chars[..<end])
                chars = chars[end...]
            }
            fields[key] = value
        }
        return fields
    }

    private static func decode(_ part: Substring) -> String? {
        String(part).removingPercentEncoding
    }
}
