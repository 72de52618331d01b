// `kubernetes.get_deployment`, `kubernetes.scale` and `kubernetes.rollout_restart` over the
// Kubernetes REST API, with the same requests kubectl sends:
//
//   get:      GET   /apis/apps/v1/namespaces/{ns}/deployments/{name}
//   scale:    GET   …/deployments/{name}/scale, then PATCH it with application/merge-patch+json
//             {"spec":{"replicas":N}} (previous_replicas comes from the GET)
//   restart:  GET   …/deployments/{name} (a paused deployment is refused, as kubectl does), then PATCH
//             with application/strategic-merge-patch+json
//             {"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"<RFC 3339>"}}}}}
//
// `wait_ready` polls the deployment until the rollout completes. It gives up a little before the
// step timeout so that the failure says how far the rollout got, and keeps the outputs (a rollback
// needs `previous_replicas` even when the wait failed).
import Foundation
import RunbookKit

/// What the Kubernetes actions share: endpoint resolution, the client, polling.
public struct KubernetesActionServices: Sendable {
    /// Sends the API requests.
    public var transport: any HTTPTransport
    /// Finds the API server and credentials.
    public var resolver: KubernetesEndpointResolver
    /// Seconds between status polls of `wait_ready`.
    public var pollInterval: Double
    /// The current time (the restartedAt annotation).
    public var now: @Sendable () -> Date

    /// Services; the defaults are the real ones.
    public init(transport: any HTTPTransport = AsyncHTTPTransport(),
                resolver: KubernetesEndpointResolver = KubernetesEndpointResolver(),
                pollInterval: Double = 2, now: @escaping @Sendable () -> Date = { Date() }) {
        self.transport = transport
        self.resolver = resolver
        self.pollInterval = pollInterval
        self.now = now
    }

    /// The deployment an invocation names, and a client for its cluster.
    func target(_ invocation: ActionInvocation) throws -> (client: KubernetesClient, name: String, namespace: String) {
        let name = try invocation.requireString("deployment")
        let endpoint = try resolver.resolve(kubeconfig: invocation.string("kubeconfig"),
                                            context: invocation.string("context"),
                                            environment: invocation.context.environment)
        // The declaration defaults `namespace` to "default"; an explicit empty one falls back to the context's.
        var namespace = invocation.string("namespace") ?? ""
        if namespace.isEmpty { namespace = endpoint.namespace ?? "default" }
        let masker = KubernetesMasker(run: invocation.context.masker, credentials: SecretMasker(secrets: endpoint.secrets))
        let client = KubernetesClient(endpoint: endpoint, transport: transport, masker: masker,
                                      requestTimeout: Self.requestTimeout(invocation))
        return (client, name, namespace)
    }

    /// One request may take up to 30 s, and never longer than the step.
    static func requestTimeout(_ invocation: ActionInvocation) -> Double {
        let step = invocation.timeout > 0 ? invocation.timeout : 30
        return max(0.001, min(30, step - min(0.25, step * 0.1)))
    }

    /// Polls the deployment until `done` holds; fails a little before the step timeout, or at once when
    /// the rollout exceeded its progress deadline. Returns the last state seen.
    func waitUntil(_ invocation: ActionInvocation, client: KubernetesClient, name: String, namespace: String,
                   what: String, outputs: @escaping (DeploymentState) -> [String: Value],
                   _ done: (DeploymentState) -> Bool) async throws -> DeploymentState {
        let clock = ContinuousClock()
        let step = invocation.timeout > 0 ? invocation.timeout : 300
        let deadline = clock.now + .milliseconds(RunbookDuration.milliseconds(step - min(1, step * 0.1)))
        let path = KubernetesClient.deploymentPath(name, namespace: namespace)
        while true {
            let state = DeploymentState(try await client.get(path, deployment: name, namespace: namespace))
            if done(state) { return state }
            if let message = state.progressDeadlineExceeded {
                throw ActionFailure(client.masker.mask("deployment '\(name)' in namespace '\(namespace)': \(what) "
                    + "failed: \(message)"), outputs: outputs(state))
            }
            if clock.now + .milliseconds(RunbookDuration.milliseconds(pollInterval)) >= deadline {
                throw ActionFailure("deployment '\(name)' in namespace '\(namespace)': \(what) not complete when the "
                    + "step timeout neared: \(state.readyReplicas)/\(state.replicas) ready, \(state.updatedReplicas) "
                    + "updated, \(state.availableReplicas) available", outputs: outputs(state))
            }
            try await Task.sleep(for: .milliseconds(RunbookDuration.milliseconds(pollInterval)))
        }
    }
}

/// Runs `body`; an `ActionFailure` without outputs gets `outputs` (what the change already did).
private func keepingOutputs<T>(_ outputs: [String: Value], _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let failure as ActionFailure where failure.outputs.isEmpty {
        throw ActionFailure(failure.message, outputs: outputs)
    }
}

/// Runs `kubernetes.get_deployment`.
public struct KubernetesGetDeploymentAction: Action {
    /// The declaration this implements.
    public let descriptor = KubernetesActions.getDeployment
    private let services: KubernetesActionServices

    /// The action on the given services (default: the real API).
    public init(services: KubernetesActionServices = KubernetesActionServices()) { self.services = services }

    /// Reads the deployment's replica counts.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let (client, name, namespace) = try services.target(invocation)
        let object = try await client.get(KubernetesClient.deploymentPath(name, namespace: namespace),
                                          deployment: name, namespace: namespace)
        let state = DeploymentState(object)
        return ActionResult(outputs: [
            "replicas": .int(state.replicas), "ready_replicas": .int(state.readyReplicas),
            "available_replicas": .int(state.availableReplicas), "updated_replicas": .int(state.updatedReplicas),
            "generation": .int(state.generation), "observed_generation": .int(state.observedGeneration),
        ], summary: "\(state.readyReplicas)/\(state.replicas) ready")
    }
}

/// Runs `kubernetes.scale` through the scale subresource.
public struct KubernetesScaleAction: Action {
    /// The declaration this implements.
    public let descriptor = KubernetesActions.scale
    private let services: KubernetesActionServices

    /// The action on the given services (default: the real API).
    public init(services: KubernetesActionServices = KubernetesActionServices()) { self.services = services }

    /// Reads the current replicas, patches the new count, optionally waits for readiness.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        guard let replicas = invocation.int("replicas") else {
            throw ActionFailure("parameter 'replicas' is required and must be a whole number")
        }
        guard replicas >= 0 else { throw ActionFailure("parameter 'replicas' must not be negative, got \(replicas)") }
        let (client, name, namespace) = try services.target(invocation)
        let path = KubernetesClient.deploymentPath(name, namespace: namespace, subresource: "scale")
        let before = try await client.get(path, deployment: name, namespace: namespace)
        let previous = Self.specReplicas(before) ?? 0
        let patched = try await client.patch(path, .map(["spec": .map(["replicas": .int(replicas)])]),
                                             contentType: KubernetesClient.mergePatch, deployment: name,
                                             namespace: namespace)
        let now = Self.specReplicas(patched) ?? replicas
        var outputs: [String: Value] = [
            "previous_replicas": .int(previous), "replicas": .int(now),
            "ready_replicas": .int(0),
        ]
        // The change is made: from here on a failure keeps previous_replicas, so the rollback can scale back.
        let fixed = outputs
        if invocation.bool("wait_ready") == true {
            let state = try await keepingOutputs(fixed) {
                try await services.waitUntil(invocation, client: client, name: name, namespace: namespace,
                                             what: "scaling to \(replicas)", outputs: { state in
                    var o = fixed
                    o["ready_replicas"] = .int(state.readyReplicas)
                    return o
                }) { state in
                    state.replicas == replicas && state.observedGeneration >= state.generation
                        && state.readyReplicas >= replicas && state.availableReplicas >= replicas
                        && (replicas > 0 || state.statusReplicas == 0)
                }
            }
            outputs["ready_replicas"] = .int(state.readyReplicas)
        } else {
            // The Scale object has no ready count; read it from the deployment for the output.
            let object = try await keepingOutputs(fixed) {
                try await client.get(KubernetesClient.deploymentPath(name, namespace: namespace),
                                     deployment: name, namespace: namespace)
            }
            outputs["ready_replicas"] = .int(DeploymentState(object).readyReplicas)
        }
        let change = previous == now ? "already at \(now) replicas" : "scaled from \(previous) to \(now) replicas"
        return ActionResult(outputs: outputs, summary: change)
    }

    /// spec.replicas of a Scale object (the API omits it when it is 0).
    static func specReplicas(_ scale: [String: Value]) -> Int? {
        guard case .map(let spec)? = scale["spec"] else { return nil }
        if case .int(let n)? = spec["replicas"] { return n }
        return 0
    }
}

/// Runs `kubernetes.rollout_restart` like `kubectl rollout restart`.
public struct KubernetesRolloutRestartAction: Action {
    /// The declaration this implements.
    public let descriptor = KubernetesActions.rolloutRestart
    /// The pod-template annotation kubectl writes; changing it makes the controller roll every pod.
    public static let restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
    private let services: KubernetesActionServices

    /// The action on the given services (default: the real API).
    public init(services: KubernetesActionServices = KubernetesActionServices()) { self.services = services }

    /// Patches the restartedAt annotation, optionally waits for the rollout.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let (client, name, namespace) = try services.target(invocation)
        let path = KubernetesClient.deploymentPath(name, namespace: namespace)
        let current = DeploymentState(try await client.get(path, deployment: name, namespace: namespace))
        if current.paused {
            throw ActionFailure("deployment '\(name)' in namespace '\(namespace)' is paused; a restart would not roll "
                + "out until it is resumed (kubectl rollout resume)")
        }
        let restartedAt = Self.rfc3339(services.now())
        let patch = Value.map(["spec": .map(["template": .map(["metadata": .map(["annotations": .map([
            Self.restartedAtAnnotation: .string(restartedAt),
        ])])])])])
        let patched = DeploymentState(try await client.patch(path, patch, contentType: KubernetesClient.strategicMergePatch,
                                                             deployment: name, namespace: namespace))
        var outputs: [String: Value] = ["restarted_at": .string(restartedAt), "ready_replicas": .int(patched.readyReplicas)]
        if invocation.bool("wait_ready") == true {
            let fixed = outputs
            // The patch bumped metadata.generation; the rollout is done once the controller observed it.
            let target = patched.generation
            let state = try await keepingOutputs(fixed) {
                try await services.waitUntil(invocation, client: client, name: name, namespace: namespace,
                                             what: "rollout restart", outputs: { state in
                    var o = fixed
                    o["ready_replicas"] = .int(state.readyReplicas)
                    return o
                }) { state in
                    state.observedGeneration >= max(target, state.generation) && state.rolledOut
                }
            }
            outputs["ready_replicas"] = .int(state.readyReplicas)
            return ActionResult(outputs: outputs, summary: "restarted; \(state.readyReplicas)/\(state.replicas) ready")
        }
        return ActionResult(outputs: outputs, summary: "restart requested at \(restartedAt)")
    }

    /// `2024-05-01T12:00:00Z`: RFC 3339 in UTC, seconds precision (what kubectl writes, in UTC).
    static func rfc3339(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year ?? 1970)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))Z"
    }
}
