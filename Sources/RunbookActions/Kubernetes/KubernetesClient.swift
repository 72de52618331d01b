// The few Kubernetes API calls the deployment actions make, over the shared HTTP transport, with
// the API's `Status` errors turned into sentences about the deployment.
import Foundation
import RunbookKit

/// A deployment's fields the actions read (from a Deployment or a PATCH response).
public struct DeploymentState: Sendable, Equatable {
    /// spec.replicas (the API defaults it to 1).
    public var replicas: Int
    /// status.replicas: pods of every template, terminating ones excluded.
    public var statusReplicas: Int
    /// status.readyReplicas.
    public var readyReplicas: Int
    /// status.availableReplicas.
    public var availableReplicas: Int
    /// status.updatedReplicas.
    public var updatedReplicas: Int
    /// metadata.generation.
    public var generation: Int
    /// status.observedGeneration.
    public var observedGeneration: Int
    /// spec.paused.
    public var paused: Bool
    /// The message of a Progressing condition with reason ProgressDeadlineExceeded, if any.
    public var progressDeadlineExceeded: String?

    /// Reads a Deployment object; absent counts are 0 (the API omits zeros).
    init(_ object: [String: Value]) {
        func int(_ value: Value?) -> Int? {
            switch value {
            case .int(let i)?: i
            case .double(let d)?: Int(exactly: d)
            default: nil
            }
        }
        let spec = object["spec"]?.mapValue ?? [:]
        let status = object["status"]?.mapValue ?? [:]
        let metadata = object["metadata"]?.mapValue ?? [:]
        replicas = int(spec["replicas"]) ?? 1
        statusReplicas = int(status["replicas"]) ?? 0
        readyReplicas = int(status["readyReplicas"]) ?? 0
        availableReplicas = int(status["availableReplicas"]) ?? 0
        updatedReplicas = int(status["updatedReplicas"]) ?? 0
        generation = int(metadata["generation"]) ?? 0
        observedGeneration = int(status["observedGeneration"]) ?? 0
        paused = spec["paused"] == .bool(true)
        progressDeadlineExceeded = nil
        if case .list(let conditions)? = status["conditions"] {
            for case .map(let condition) in conditions
            where condition["type"] == .string("Progressing") && condition["reason"] == .string("ProgressDeadlineExceeded") {
                progressDeadlineExceeded = condition["message"]?.stringValue ?? "progress deadline exceeded"
            }
        }
    }

    /// Whether the rollout is complete, by `kubectl rollout status`'s rules: the controller saw the
    /// latest spec, every replica runs the new template, old ones are gone, and all are available.
    public var rolledOut: Bool {
        observedGeneration >= generation && updatedReplicas >= replicas && statusReplicas <= updatedReplicas
            && availableReplicas >= updatedReplicas && readyReplicas >= replicas
    }
}

/// Masks the run's secrets and the endpoint's credentials (a token read from a file is no run secret).
struct KubernetesMasker: Sendable {
    let run: SecretMasker
    let credentials: SecretMasker

    func mask(_ text: String) -> String { credentials.mask(run.mask(text)) }
    /// Masked, then cut to `limit` characters (cut first, the start of a secret could be kept).
    func maskedPrefix(_ text: String, characters limit: Int, firstLine: Bool = false) -> String {
        run.adding(credentials).maskedPrefix(text, characters: limit, firstLine: firstLine)
    }
}

/// Deployment calls against one API server.
struct KubernetesClient: Sendable {
    let endpoint: KubernetesEndpoint
    let transport: any HTTPTransport
    let masker: KubernetesMasker
    /// Seconds each request may take.
    let requestTimeout: Double

    /// The merge-patch and strategic-merge-patch content types the API server accepts.
    static let mergePatch = "application/merge-patch+json"
    static let strategicMergePatch = "application/strategic-merge-patch+json"

    /// `/apis/apps/v1/namespaces/{ns}/deployments/{name}` (+ `/scale`).
    static func deploymentPath(_ name: String, namespace: String, subresource: String? = nil) -> String {
        "/apis/apps/v1/namespaces/\(pathSegment(namespace))/deployments/\(pathSegment(name))"
            + (subresource.map { "/" + $0 } ?? "")
    }

    /// GET a deployment or its scale; a JSON object or a failure naming the deployment.
    func get(_ path: String, deployment: String, namespace: String) async throws -> [String: Value] {
        try await send("GET", path, body: nil, contentType: nil, deployment: deployment, namespace: namespace)
    }

    /// PATCH with the given patch type.
    func patch(_ path: String, _ body: Value, contentType: String, deployment: String,
               namespace: String) async throws -> [String: Value] {
        try await send("PATCH", path, body: Array(body.jsonText().utf8), contentType: contentType,
                       deployment: deployment, namespace: namespace)
    }

    private func send(_ method: String, _ path: String, body: [UInt8]?, contentType: String?, deployment: String,
                      namespace: String) async throws -> [String: Value] {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let authorization = endpoint.authorization { headers.append(("Authorization", authorization)) }
        if let contentType { headers.append(("Content-Type", contentType)) }
        let request = HTTPTransportRequest(method: method, url: endpoint.server + path, headers: headers, body: body,
                                           timeout: requestTimeout, maxBodyBytes: 4 * 1024 * 1024, tls: endpoint.tls)
        let response: HTTPTransportResponse
        do {
            response = try await transport.send(request)
        } catch let error as HTTPTransportError {
            let why: String
            switch error {
            case .timedOut: why = "timed out after \(RunbookDuration(seconds: requestTimeout))"
            case .connectionRefused: why = "connection refused"
            case .tooManyRedirects: why = "too many redirects"
            case .failed(let text): why = masker.maskedPrefix(text, characters: HTTPExchange.quotedErrorCharacters, firstLine: true)
            }
            throw ActionFailure(masker.mask("kubernetes api \(endpoint.server) (\(endpoint.origin)): \(why)"))
        } catch is CancellationError {
            throw CancellationError()
        }
        let object = Value.parseJSON(data: Data(response.body))?.mapValue
        guard (200...299).contains(response.status) else {
            throw ActionFailure(masker.mask(Self.statusMessage(response.status, object, deployment: deployment,
                                                               namespace: namespace, method: method,
                                                               origin: endpoint.origin)))
        }
        guard let object else {
            throw ActionFailure(masker.mask("kubernetes api \(endpoint.server) answered \(method) \(path) "
                + "with a body that is not a JSON object"))
        }
        return object
    }

    /// A sentence for an API error, from its `Status` object when there is one:
    /// `{"kind":"Status","status":"Failure","message":…,"reason":"NotFound","code":404}`.
    static func statusMessage(_ code: Int, _ object: [String: Value]?, deployment: String, namespace: String,
                              method: String, origin: String) -> String {
        let subject = "deployment '\(deployment)' in namespace '\(namespace)'"
        let isStatus = object?["kind"] == .string("Status")
        let message = isStatus ? object?["message"]?.stringValue : nil
        let reason = isStatus ? object?["reason"]?.stringValue : nil
        let detail = message.map { ": \($0)" } ?? ""
        switch code {
        case 404 where isStatus:
            return "deployment '\(deployment)' not found in namespace '\(namespace)'"
        case 401:
            return "kubernetes rejected the credentials of \(origin) (401 Unauthorized): the token or client "
                + "certificate is missing, wrong or expired"
        case 403:
            return "kubernetes forbids \(method) on \(subject) for \(origin) (403 Forbidden)\(detail)"
        case 409:
            return "conflict updating \(subject) (409 \(reason ?? "Conflict"))\(detail); retry the step"
        case 422:
            return "kubernetes rejected the change to \(subject) (422 \(reason ?? "Invalid"))\(detail)"
        case 429:
            return "kubernetes is throttling requests (429 TooManyRequests)\(detail); retry later"
        default:
            guard isStatus else {
                return "the api server answered \(method) on \(subject) with \(code) and no Kubernetes Status; "
                    + "is the server of \(origin) a Kubernetes API server?"
            }
            let what = reason.map { " \($0)" } ?? ""
            return "kubernetes answered \(method) on \(subject) with \(code)\(what)\(detail)"
        }
    }

    /// A name as one URL path segment (names are DNS labels, but never trust input in a path).
    static func pathSegment(_ name: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }
}

extension Value {
    /// The dictionary of a `.map`.
    fileprivate var mapValue: [String: Value]? {
        if case .map(let m) = self { return m }
        return nil
    }
}
