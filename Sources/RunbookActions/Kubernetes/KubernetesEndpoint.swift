// Where the Kubernetes API is and how to authenticate to it: a kubeconfig file (read with our own
// YAML front end) or the in-cluster service account, resolved the way kubectl does.
//
// Order: the `kubeconfig` parameter, else $KUBECONFIG (a ':'-separated list, merged first-wins
// like kubectl), else ~/.kube/config when it exists, else the in-cluster service account when
// KUBERNETES_SERVICE_HOST is set. Credential plugins (`exec`, `auth-provider`) are not run: a
// runbook must not depend on a cloud CLI being logged in.
import Foundation
import RunbookKit

/// A resolved API server plus credentials, ready for requests.
public struct KubernetesEndpoint: Sendable {
    /// Base URL of the API server, without a trailing slash: `https://10.0.0.1:6443`.
    public var server: String
    /// TLS settings for an https server.
    public var tls: HTTPTransportTLS?
    /// The `Authorization` header value (`Bearer …` or `Basic …`), when the credentials are a token or password.
    public var authorization: String?
    /// The namespace the context or the service account names, if any.
    public var namespace: String?
    /// Where the settings came from, for messages: "context 'prod' of /home/me/.kube/config".
    public var origin: String
    /// Credential values to mask in every message (tokens, passwords).
    public var secrets: [String]

    /// An endpoint; `server` is normalised to have no trailing slash.
    public init(server: String, tls: HTTPTransportTLS? = nil, authorization: String? = nil, namespace: String? = nil,
                origin: String, secrets: [String] = []) {
        var server = server
        while server.hasSuffix("/") { server.removeLast() }
        self.server = server
        self.tls = tls
        self.authorization = authorization
        self.namespace = namespace
        self.origin = origin
        self.secrets = secrets
    }
}

/// Resolves a `KubernetesEndpoint` from a kubeconfig file or the in-cluster service account.
public struct KubernetesEndpointResolver: Sendable {
    /// The directory Kubernetes mounts the service account into (token, ca.crt, namespace).
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Where in-cluster credentials are read from (a temporary directory in tests).
    public var serviceAccountDirectory: String

    /// A resolver reading the service account from `serviceAccountDirectory`.
    public init(serviceAccountDirectory: String = Self.serviceAccountDirectory) {
        self.serviceAccountDirectory = serviceAccountDirectory
    }

    /// The endpoint for the given `kubeconfig` path and `context` (both optional), in `environment`.
    public func resolve(kubeconfig: String?, context: String?, environment: [String: String]) throws -> KubernetesEndpoint {
        if let path = kubeconfig, !path.isEmpty {
            return try KubeconfigFile.merged([expandHome(path, environment)], explicit: true).endpoint(context: context)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map { expandHome(String($0), environment) }.filter { !$0.isEmpty }
            if !paths.isEmpty {
                return try KubeconfigFile.merged(paths, explicit: false).endpoint(context: context)
            }
        }
        if let home = environment["HOME"], !home.isEmpty {
            let path = home + "/.kube/config"
            if FileManager.default.fileExists(atPath: path) {
                return try KubeconfigFile.merged([path], explicit: true).endpoint(context: context)
            }
        }
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            if let context, !context.isEmpty {
                throw ActionFailure("context '\(context)' was asked for, but there is no kubeconfig "
                    + "(in-cluster credentials have no contexts)")
            }
            return try inCluster(host: host, port: environment["KUBERNETES_SERVICE_PORT"])
        }
        throw ActionFailure("no kubernetes credentials: pass 'kubeconfig', set KUBECONFIG, create ~/.kube/config, "
            + "or run in a pod (KUBERNETES_SERVICE_HOST)")
    }

    /// The service account's token, CA and namespace, as client-go's `rest.InClusterConfig` reads them.
    func inCluster(host: String, port: String?) throws -> KubernetesEndpoint {
        let directory = serviceAccountDirectory
        guard let tokenText = try? String(contentsOfFile: directory + "/token", encoding: .utf8) else {
            throw ActionFailure("in-cluster credentials: cannot read \(directory)/token "
                + "(is a service account token mounted into this pod?)")
        }
        let token = tokenText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ActionFailure("in-cluster credentials: \(directory)/token is empty") }
        var tls = HTTPTransportTLS()
        if let ca = FileManager.default.contents(atPath: directory + "/ca.crt") {
            tls.trustRootsPEM = Array(ca)
        }
        do { try tls.validate() } catch {
            throw ActionFailure("in-cluster credentials: \(directory)/ca.crt: \(error)")
        }
        let namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // An IPv6 service address needs brackets in a URL.
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let portPart = port.flatMap { $0.isEmpty ? nil : $0 } ?? "443"
        return KubernetesEndpoint(server: "https://\(hostPart):\(portPart)", tls: tls, authorization: "Bearer \(token)",
                                  namespace: namespace?.isEmpty == false ? namespace : nil,
                                  origin: "the in-cluster service account", secrets: [token])
    }

    private func expandHome(_ path: String, _ environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home = environment["HOME"] else { return path }
        return home + path.dropFirst()
    }
}

/// The parts of one or more kubeconfig files runbook reads: clusters, users, contexts by name.
struct KubeconfigFile {
    /// A named entry's fields, and the directory relative file paths in it resolve against.
    struct Entry {
        var fields: [String: Value]
        var directory: String
    }

    var currentContext: String?
    var clusters: [String: Entry] = [:]
    var users: [String: Entry] = [:]
    var contexts: [String: Entry] = [:]
    /// The files read, for messages.
    var paths: [String]

    /// Reads and merges files the way kubectl merges $KUBECONFIG: the first file to set a name (or
    /// current-context) wins. `explicit`: a missing file is an error (else missing files are skipped).
    static func merged(_ paths: [String], explicit: Bool) throws -> KubeconfigFile {
        var merged = KubeconfigFile(paths: [])
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else {
                if explicit { throw ActionFailure("kubeconfig '\(path)' does not exist") }
                continue
            }
            let file = try read(path)
            merged.paths.append(path)
            if merged.currentContext == nil { merged.currentContext = file.currentContext }
            merged.clusters.merge(file.clusters) { first, _ in first }
            merged.users.merge(file.users) { first, _ in first }
            merged.contexts.merge(file.contexts) { first, _ in first }
        }
        guard !merged.paths.isEmpty else {
            throw ActionFailure("none of the KUBECONFIG files exists: \(paths.joined(separator: ", "))")
        }
        return merged
    }

    /// One file, parsed with runbook's YAML front end.
    static func read(_ path: String) throws -> KubeconfigFile {
        let parsed = YAMLParser.parse(fileAt: path)
        if let error = parsed.diagnostics.first(where: { $0.severity == .error }) {
            throw ActionFailure("kubeconfig '\(path)': \(error.message) (line \(error.location.line))")
        }
        guard let root = parsed.root, case .map(let top) = plainValue(root) else {
            throw ActionFailure("kubeconfig '\(path)' is not a mapping")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var file = KubeconfigFile(paths: [path])
        file.currentContext = top["current-context"].flatMap(text)
        func entries(_ key: String, _ inner: String) throws -> [String: Entry] {
            guard let list = top[key], list != .null else { return [:] }
            guard case .list(let items) = list else { throw ActionFailure("kubeconfig '\(path)': '\(key)' is not a list") }
            var out: [String: Entry] = [:]
            for item in items {
                guard case .map(let named) = item, let name = named["name"].flatMap(text) else {
                    throw ActionFailure("kubeconfig '\(path)': an entry of '\(key)' has no name")
                }
                guard case .map(let fields)? = named[inner] else {
                    if named[inner] == nil || named[inner] == .null {
                        if out[name] == nil { out[name] = Entry(fields: [:], directory: directory) }
                        continue
                    }
                    throw ActionFailure("kubeconfig '\(path)': '\(inner)' of '\(name)' is not a mapping")
                }
                if out[name] == nil { out[name] = Entry(fields: fields, directory: directory) }
            }
            return out
        }
        file.clusters = try entries("clusters", "cluster")
        file.users = try entries("users", "user")
        file.contexts = try entries("contexts", "context")
        return file
    }

    /// The endpoint of `context` (default: current-context).
    func endpoint(context requested: String?) throws -> KubernetesEndpoint {
        let where_ = paths.count == 1 ? "kubeconfig '\(paths[0])'" : "kubeconfig files \(paths.joined(separator: ", "))"
        let name: String
        if let requested, !requested.isEmpty {
            name = requested
        } else if let current = currentContext, !current.isEmpty {
            name = current
        } else {
            throw ActionFailure("\(where_) has no current-context; pass 'context'")
        }
        guard let context = contexts[name] else {
            let known = contexts.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw ActionFailure("\(where_) has no context '\(name)'" + (known.isEmpty ? "" : " (it has \(known))"))
        }
        let origin = "context '\(name)' of \(where_)"
        guard let clusterName = context.fields["cluster"].flatMap(Self.text), let cluster = clusters[clusterName] else {
            throw ActionFailure("\(origin) names no cluster, or a cluster the file does not define")
        }
        guard let server = cluster.fields["server"].flatMap(Self.text), !server.isEmpty else {
            throw ActionFailure("cluster '\(clusterName)' of \(where_) has no server")
        }
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw ActionFailure("cluster '\(clusterName)' of \(where_): server '\(server)' is not an http(s) url")
        }

        var tls = HTTPTransportTLS()
        tls.verifyServer = cluster.fields["insecure-skip-tls-verify"] != .bool(true)
        tls.trustRootsPEM = try Self.pem(cluster, data: "certificate-authority-data", file: "certificate-authority",
                                         what: "cluster '\(clusterName)'")

        var authorization: String?
        var secrets: [String] = []
        let userName = context.fields["user"].flatMap(Self.text)
        if let userName, !userName.isEmpty {
            guard let user = users[userName] else {
                throw ActionFailure("\(origin) names user '\(userName)', which the file does not define")
            }
            let what = "user '\(userName)'"
            if user.fields["exec"] != nil || user.fields["auth-provider"] != nil {
                throw ActionFailure("\(what) of \(where_) uses a credential plugin (exec or auth-provider), which runbook "
                    + "does not run; give it a token, token file or client certificate")
            }
            tls.clientCertificatePEM = try Self.pem(user, data: "client-certificate-data", file: "client-certificate",
                                                    what: what)
            tls.clientKeyPEM = try Self.pem(user, data: "client-key-data", file: "client-key", what: what)
            if let token = user.fields["token"].flatMap(Self.text), !token.isEmpty {
                authorization = "Bearer \(token)"
                secrets.append(token)
            } else if let tokenFile = (user.fields["tokenFile"] ?? user.fields["token-file"]).flatMap(Self.text),
                      !tokenFile.isEmpty {
                let path = Self.resolve(tokenFile, in: user.directory)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ActionFailure("\(what) of \(where_): cannot read token file '\(path)'")
                }
                let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !token.isEmpty else { throw ActionFailure("\(what) of \(where_): token file '\(path)' is empty") }
                authorization = "Bearer \(token)"
                secrets.append(token)
            } else if let username = user.fields["username"].flatMap(Self.text),
                      let password = user.fields["password"].flatMap(Self.text) {
                authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
                secrets.append(password)
                secrets.append(String(authorization!.dropFirst(6)))
            }
        }
        if server.hasPrefix("https://") {
            do { try tls.validate() } catch {
                throw ActionFailure("\(origin): \(error)")
            }
        }
        let namespace = context.fields["namespace"].flatMap(Self.text)
        return KubernetesEndpoint(server: server, tls: server.hasPrefix("https://") ? tls : nil,
                                  authorization: authorization, namespace: namespace?.isEmpty == false ? namespace : nil,
                                  origin: origin, secrets: secrets)
    }

    /// PEM bytes from `<data>` (base64) or `<file>` (a path, relative to the kubeconfig's directory).
    private static func pem(_ entry: Entry, data: String, file: String, what: String) throws -> [UInt8]? {
        if let encoded = entry.fields[data].flatMap(text), !encoded.isEmpty {
            let compact = encoded.filter { !$0.isWhitespace }
            guard let decoded = Data(base64Encoded: compact) else {
                throw ActionFailure("\(what): '\(data)' is not valid base64")
            }
            return Array(decoded)
        }
        if let path = entry.fields[file].flatMap(text), !path.isEmpty {
            let full = resolve(path, in: entry.directory)
            guard let contents = FileManager.default.contents(atPath: full) else {
                throw ActionFailure("\(what): cannot read \(file) '\(full)'")
            }
            return Array(contents)
        }
        return nil
    }

    private static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
    }

    /// A scalar as text (a token or name that YAML read as a number stays usable).
    private static func text(_ value: Value) -> String? {
        switch value {
        case .string(let s): s
        case .int, .double, .bool: value.interpolationText
        default: nil
        }
    }

    /// A YAML node as a plain value: scalars resolved with the core schema, collections recursively.
    private static func plainValue(_ node: YAMLNode) -> Value {
        switch node.content {
        case .scalar(let s):
            switch YAMLNode.resolvePlain(s) {
            case .null: return .null
            case .bool(let b): return .bool(b)
            // Kubeconfig values are strings; keep the written text of numbers (a token "0123" stays "0123").
            case .int, .double: return .string(s.text)
            case .string(let t): return .string(t)
            }
        case .sequence(let items): return .list(items.map(plainValue))
        case .mapping(let pairs):
            var map: [String: Value] = [:]
            for pair in pairs { if let key = pair.key.scalar?.text { map[key] = plainValue(pair.value) } }
            return .map(map)
        }
    }
}
