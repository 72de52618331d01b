// The Kubernetes actions against a loopback fake API server speaking the real wire format: the
// exact requests (method, path, content type, body, Authorization) and the replies' handling.
import Foundation
import RunbookActions
import RunbookKit
import RunbookTestSupport
import Testing

/// A kubeconfig in a temporary directory, pointing at a fake API server.
struct KubeEnvironment {
    let directory: TemporaryDirectory
    let kubeconfig: String

    init(server: TestHTTPServer, current: String = "prod") throws {
        directory = try TemporaryDirectory("runbook-kube")
        try directory.write("token.txt", "staging-token-456\n")
        kubeconfig = try directory.write("config", KubeFixtures.kubeconfig(server: server.baseURL, current: current))
    }
}

private let deploymentPath = "/apis/apps/v1/namespaces/production/deployments/artisan-api"
private let scalePath = deploymentPath + "/scale"
private let fixedNow = Date(timeIntervalSince1970: 1_714_564_800)  // 2024-05-01T12:00:00Z

private func services(pollInterval: Double = 0.05) -> KubernetesActionServices {
    KubernetesActionServices(pollInterval: pollInterval, now: { fixedNow })
}

private func withKube<T>(current: String = "prod",
                         _ body: (TestHTTPServer, KubeEnvironment) async throws -> T) async throws -> T {
    try await withTestHTTPServer { server in
        let environment = try KubeEnvironment(server: server, current: current)
        defer { environment.directory.remove() }
        return try await body(server, environment)
    }
}

@Suite("kubernetes actions")
struct KubernetesActionTests {
    @Test func getDeploymentReadsReplicaCounts() async throws {
        try await withKube { server, kube in
            var status = KubeFixtures.DeploymentStatus()
            status.ready = 3
            status.available = 2
            status.updated = 4
            status.generation = 5
            status.observed = 4
            server.route(deploymentPath, KubeFixtures.deployment(status))
            let result = try await ActionHarness.run(KubernetesGetDeploymentAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            #expect(result.outputs == [
                "replicas": .int(4), "ready_replicas": .int(3), "available_replicas": .int(2),
                "updated_replicas": .int(4), "generation": .int(5), "observed_generation": .int(4),
            ])
            let request = try #require(server.requests.first)
            #expect(server.requestCount == 1)
            #expect(request.method == "GET")
            #expect(request.uri == deploymentPath)
            #expect(request.header("authorization") == "Bearer prod-token-123")
            #expect(request.header("accept") == "application/json")
        }
    }

    @Test func scaleUsesTheScaleSubresourceWithAMergePatch() async throws {
        try await withKube { server, kube in
            server.route(scalePath, method: "GET", KubeFixtures.scale(replicas: 4))
            server.route(scalePath, method: "PATCH", KubeFixtures.scale(replicas: 8, statusReplicas: 4))
            var status = KubeFixtures.DeploymentStatus()
            status.replicas = 8
            status.ready = 5
            server.route(deploymentPath, KubeFixtures.deployment(status))
            let result = try await ActionHarness.run(KubernetesScaleAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"), "replicas": .int(8),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            #expect(result.outputs == ["previous_replicas": .int(4), "replicas": .int(8), "ready_replicas": .int(5)])
            #expect(server.requests.map { "\($0.method) \($0.uri)" } == [
                "GET \(scalePath)", "PATCH \(scalePath)", "GET \(deploymentPath)",
            ])
            let patch = server.requests[1]
            #expect(patch.header("content-type") == "application/merge-patch+json")
            #expect(patch.bodyText == #"{"spec":{"replicas":8}}"#)
            #expect(server.requests.allSatisfy { $0.header("authorization") == "Bearer prod-token-123" })
            if case .success(let r) = result { #expect(r.summary == "scaled from 4 to 8 replicas") }
        }
    }

    @Test func scaleToZeroReadsTheOmittedReplicas() async throws {
        try await withKube { server, kube in
            server.route(scalePath, method: "GET", KubeFixtures.scale(replicas: 0))
            server.route(scalePath, method: "PATCH", KubeFixtures.scale(replicas: 2, statusReplicas: 0))
            server.route(deploymentPath, KubeFixtures.deployment(.init(replicas: 2, statusReplicas: 0, ready: 0,
                                                                       available: 0, updated: 0)))
            let result = try await ActionHarness.run(KubernetesScaleAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"), "replicas": .int(2),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.outputs["previous_replicas"] == .int(0))
            #expect(result.outputs["ready_replicas"] == .int(0))
        }
    }

    @Test func scaleWaitsUntilReady() async throws {
        try await withKube { server, kube in
            server.route(scalePath, method: "GET", KubeFixtures.scale(replicas: 4))
            server.route(scalePath, method: "PATCH", KubeFixtures.scale(replicas: 8, statusReplicas: 4))
            server.route(deploymentPath,
                         KubeFixtures.deployment(.init(replicas: 8, statusReplicas: 8, ready: 4, available: 4, updated: 8,
                                                       generation: 4, observed: 3)),
                         KubeFixtures.deployment(.init(replicas: 8, statusReplicas: 8, ready: 6, available: 6, updated: 8,
                                                       generation: 4, observed: 4)),
                         KubeFixtures.deployment(.init(replicas: 8, statusReplicas: 8, ready: 8, available: 8, updated: 8,
                                                       generation: 4, observed: 4)))
            let result = try await ActionHarness.run(KubernetesScaleAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"), "replicas": .int(8),
                "wait_ready": .bool(true), "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            #expect(result.outputs["ready_replicas"] == .int(8))
            #expect(server.requests(path: deploymentPath).count == 3)
        }
    }

    @Test func aWaitThatRunsOutKeepsPreviousReplicasForTheRollback() async throws {
        try await withKube { server, kube in
            server.route(scalePath, method: "GET", KubeFixtures.scale(replicas: 4))
            server.route(scalePath, method: "PATCH", KubeFixtures.scale(replicas: 8, statusReplicas: 4))
            server.route(deploymentPath, KubeFixtures.deployment(.init(replicas: 8, statusReplicas: 8, ready: 5,
                                                                       available: 5, updated: 8)))
            let result = try await ActionHarness.run(KubernetesScaleAction(services: services(pollInterval: 0.1)), [
                "deployment": .string("artisan-api"), "namespace": .string("production"), "replicas": .int(8),
                "wait_ready": .bool(true), "kubeconfig": .string(kube.kubeconfig),
            ], timeout: 1.5)
            #expect(result.failureMessage == "deployment 'artisan-api' in namespace 'production': scaling to 8 not "
                + "complete when the step timeout neared: 5/8 ready, 8 updated, 5 available")
            #expect(result.outputs == ["previous_replicas": .int(4), "replicas": .int(8), "ready_replicas": .int(5)])
        }
    }

    @Test func aFailureAfterTheChangeKeepsPreviousReplicas() async throws {
        try await withKube { server, kube in
            server.route(scalePath, method: "GET", KubeFixtures.scale(replicas: 4))
            server.route(scalePath, method: "PATCH", KubeFixtures.scale(replicas: 8, statusReplicas: 4))
            server.route(deploymentPath, KubeFixtures.status(503, reason: "ServiceUnavailable", message: "etcdserver: leader changed"))
            let result = try await ActionHarness.run(KubernetesScaleAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"), "replicas": .int(8),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.failureMessage == "kubernetes answered GET on deployment 'artisan-api' in namespace "
                + "'production' with 503 ServiceUnavailable: etcdserver: leader changed")
            #expect(result.outputs == ["previous_replicas": .int(4), "replicas": .int(8), "ready_replicas": .int(0)])
        }
    }

    @Test func rolloutRestartPatchesTheRestartedAtAnnotation() async throws {
        try await withKube { server, kube in
            server.route(deploymentPath, method: "GET", KubeFixtures.deployment())
            server.route(deploymentPath, method: "PATCH", KubeFixtures.deployment(.init(generation: 4, observed: 3)))
            let result = try await ActionHarness.run(KubernetesRolloutRestartAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            #expect(result.outputs == ["restarted_at": .string("2024-05-01T12:00:00Z"), "ready_replicas": .int(4)])
            #expect(server.requests.map(\.method) == ["GET", "PATCH"])
            let patch = server.requests[1]
            #expect(patch.uri == deploymentPath)
            #expect(patch.header("content-type") == "application/strategic-merge-patch+json")
            #expect(patch.bodyText == #"{"spec":{"template":{"metadata":{"annotations":"#
                + #"{"kubectl.kubernetes.io/restartedAt":"2024-05-01T12:00:00Z"}}}}}"#)
        }
    }

    @Test func rolloutRestartWaitsForTheRollout() async throws {
        try await withKube { server, kube in
            server.route(deploymentPath, method: "PATCH", KubeFixtures.deployment(.init(generation: 4, observed: 3)))
            server.route(deploymentPath, method: "GET",
                         KubeFixtures.deployment(),  // the GET before the patch
                         KubeFixtures.deployment(.init(generation: 4, observed: 3)),  // controller not caught up
                         KubeFixtures.deployment(.init(statusReplicas: 5, ready: 4, available: 4, updated: 1,
                                                       generation: 4, observed: 4)),  // surge: old pods still there
                         KubeFixtures.deployment(.init(statusReplicas: 5, ready: 5, available: 5, updated: 4,
                                                       generation: 4, observed: 4)),  // old pod terminating
                         KubeFixtures.deployment(.init(generation: 4, observed: 4)))
            let result = try await ActionHarness.run(KubernetesRolloutRestartAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"), "wait_ready": .bool(true),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            #expect(server.requests.filter { $0.method == "GET" }.count == 5)
        }
    }

    @Test func rolloutRestartReportsAStuckRollout() async throws {
        try await withKube { server, kube in
            server.route(deploymentPath, method: "PATCH", KubeFixtures.deployment(.init(generation: 4, observed: 3)))
            server.route(deploymentPath, method: "GET", KubeFixtures.deployment(),
                         KubeFixtures.deployment(.init(statusReplicas: 5, ready: 4, available: 4, updated: 1, generation: 4,
                                                       observed: 4, progressDeadlineExceeded: true)))
            let result = try await ActionHarness.run(KubernetesRolloutRestartAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"), "wait_ready": .bool(true),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.failureMessage == #"deployment 'artisan-api' in namespace 'production': rollout restart "#
                + #"failed: ReplicaSet "artisan-api-7d4b9c" has timed out progressing."#)
            #expect(result.outputs["restarted_at"] == .string("2024-05-01T12:00:00Z"))
        }
    }

    @Test func aPausedDeploymentIsNotRestarted() async throws {
        try await withKube { server, kube in
            server.route(deploymentPath, KubeFixtures.deployment(.init(paused: true)))
            let result = try await ActionHarness.run(KubernetesRolloutRestartAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.failureMessage?.hasPrefix("deployment 'artisan-api' in namespace 'production' is paused") == true)
            #expect(server.requests.map(\.method) == ["GET"])
        }
    }

    struct StatusCase: Sendable, CustomTestStringConvertible {
        var response: TestHTTPResponse
        var message: String
        var testDescription: String { "\(response.status)" }
    }

    static let forbidden = #"deployments.apps "artisan-api" is forbidden: User "system:serviceaccount:ops:runbook" cannot patch resource "deployments/scale" in API group "apps" in the namespace "production""#
    static let conflict = #"Operation cannot be fulfilled on deployments.apps "artisan-api": the object has been modified; please apply your changes to the latest version and try again"#
    static let statusCases: [StatusCase] = [
        StatusCase(response: KubeFixtures.status(404, reason: "NotFound", message: #"deployments.apps "artisan-api" not found"#),
                   message: "deployment 'artisan-api' not found in namespace 'production'"),
        StatusCase(response: KubeFixtures.status(403, reason: "Forbidden", message: forbidden),
                   message: "kubernetes forbids PATCH on deployment 'artisan-api' in namespace 'production' for context 'prod' of kubeconfig 'KUBECONFIG' (403 Forbidden): \(forbidden)"),
        StatusCase(response: KubeFixtures.status(401, reason: "Unauthorized", message: "Unauthorized", name: nil),
                   message: "kubernetes rejected the credentials of context 'prod' of kubeconfig 'KUBECONFIG' (401 Unauthorized): the token or client certificate is missing, wrong or expired"),
        StatusCase(response: KubeFixtures.status(409, reason: "Conflict", message: conflict),
                   message: "conflict updating deployment 'artisan-api' in namespace 'production' (409 Conflict): \(conflict); retry the step"),
        StatusCase(response: TestHTTPResponse.text("404 page not found", status: 404),
                   message: "the api server answered PATCH on deployment 'artisan-api' in namespace 'production' with 404 and no Kubernetes Status; is the server of context 'prod' of kubeconfig 'KUBECONFIG' a Kubernetes API server?"),
    ]

    @Test(arguments: statusCases)
    func statusErrorsBecomeSentences(_ statusCase: StatusCase) async throws {
        let response = statusCase.response
        let message = statusCase.message
        try await withKube { server, kube in
            server.route(scalePath, method: "GET", KubeFixtures.scale(replicas: 4))
            server.route(scalePath, method: "PATCH", response)
            let result = try await ActionHarness.run(KubernetesScaleAction(services: services()), [
                "deployment": .string("artisan-api"), "namespace": .string("production"), "replicas": .int(8),
                "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.failureMessage == message.replacingOccurrences(of: "KUBECONFIG", with: kube.kubeconfig))
        }
    }

    @Test func notFoundOnTheFirstRead() async throws {
        try await withKube { server, kube in
            server.route("/apis/apps/v1/namespaces/staging/deployments/nope",
                         KubeFixtures.status(404, reason: "NotFound", message: #"deployments.apps "nope" not found"#, name: "nope"))
            let result = try await ActionHarness.run(KubernetesGetDeploymentAction(services: services()), [
                "deployment": .string("nope"), "namespace": .string("staging"), "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(result.failureMessage == "deployment 'nope' not found in namespace 'staging'")
        }
    }

    @Test func anUnreachableServer() async throws {
        let directory = try TemporaryDirectory("runbook-kube")
        defer { directory.remove() }
        let kubeconfig = try directory.write("config", KubeFixtures.kubeconfig(server: TestHTTPServer.closedPortURL))
        let result = try await ActionHarness.run(KubernetesGetDeploymentAction(services: services()), [
            "deployment": .string("artisan-api"), "kubeconfig": .string(kubeconfig),
        ])
        #expect(result.failureMessage == "kubernetes api \(TestHTTPServer.closedPortURL) (context 'prod' of kubeconfig "
            + "'\(kubeconfig)'): connection refused")
    }
}

@Suite("kubernetes credentials")
struct KubernetesCredentialTests {
    let resolver = KubernetesEndpointResolver(serviceAccountDirectory: "/nonexistent")

    @Test func currentContextAndTheContextParameter() async throws {
        try await withKube(current: "staging") { server, kube in
            server.route("/apis/apps/v1/namespaces/default/deployments/web", KubeFixtures.deployment(name: "web", namespace: "default"))
            let action = KubernetesGetDeploymentAction(services: services())
            // current-context staging: the token comes from its tokenFile (relative to the kubeconfig).
            let viaCurrent = try await ActionHarness.run(action, [
                "deployment": .string("web"), "kubeconfig": .string(kube.kubeconfig),
            ])
            #expect(viaCurrent.succeeded, "\(viaCurrent.failureMessage ?? "")")
            #expect(server.requests.last?.header("authorization") == "Bearer staging-token-456")
            // The context parameter wins over current-context.
            _ = try await ActionHarness.run(action, [
                "deployment": .string("web"), "kubeconfig": .string(kube.kubeconfig), "context": .string("prod"),
            ])
            #expect(server.requests.last?.header("authorization") == "Bearer prod-token-123")
            let unknown = try await ActionHarness.run(action, [
                "deployment": .string("web"), "kubeconfig": .string(kube.kubeconfig), "context": .string("dev"),
            ])
            #expect(unknown.failureMessage == "kubeconfig '\(kube.kubeconfig)' has no context 'dev' (it has 'prod', 'staging')")
        }
    }

    @Test func kubeconfigFromTheEnvironment() throws {
        let directory = try TemporaryDirectory("runbook-kube")
        defer { directory.remove() }
        let first = try directory.write("a.yaml", """
            apiVersion: v1
            kind: Config
            current-context: a
            contexts:
            - name: a
              context: {cluster: c, user: u, namespace: team-a}
            """)
        let second = try directory.write("b.yaml", """
            clusters:
            - name: c
              cluster: {server: "http://127.0.0.1:1/"}
            users:
            - name: u
              user: {token: merged-token}
            """)
        let endpoint = try resolver.resolve(kubeconfig: nil, context: nil, environment: [
            "KUBECONFIG": "\(directory.path)/missing.yaml:\(first):\(second)", "HOME": directory.path,
        ])
        #expect(endpoint.server == "http://127.0.0.1:1")
        #expect(endpoint.authorization == "Bearer merged-token")
        #expect(endpoint.namespace == "team-a")
        #expect(endpoint.tls == nil)
        #expect(endpoint.secrets == ["merged-token"])
        // ~/.kube/config when KUBECONFIG is not set.
        try directory.write(".kube/config", try String(contentsOfFile: first, encoding: .utf8)
            + "\n" + (try String(contentsOfFile: second, encoding: .utf8)))
        let fromHome = try resolver.resolve(kubeconfig: nil, context: nil, environment: ["HOME": directory.path])
        #expect(fromHome.authorization == "Bearer merged-token")
    }

    @Test func tlsSettingsFromTheKubeconfig() throws {
        let directory = try TemporaryDirectory("runbook-kube")
        defer { directory.remove() }
        try directory.write("pki/ca.crt", KubeFixtures.certificatePEM)
        let certData = Data(KubeFixtures.certificatePEM.utf8).base64EncodedString()
        let keyData = Data(KubeFixtures.privateKeyPEM.utf8).base64EncodedString()
        let path = try directory.write("config", """
            current-context: tls
            clusters:
            - name: c
              cluster:
                server: https://10.0.0.1:6443
                certificate-authority: pki/ca.crt
            - name: insecure
              cluster:
                server: https://10.0.0.2:6443
                insecure-skip-tls-verify: true
            contexts:
            - {name: tls, context: {cluster: c, user: cert}}
            - {name: insecure, context: {cluster: insecure, user: cert}}
            - {name: plugin, context: {cluster: c, user: gke}}
            users:
            - name: cert
              user:
                client-certificate-data: \(certData)
                client-key-data: \(keyData)
            - name: gke
              user:
                exec: {command: gke-gcloud-auth-plugin, apiVersion: client.authentication.k8s.io/v1beta1}
            """)
        let endpoint = try resolver.resolve(kubeconfig: path, context: nil, environment: [:])
        #expect(endpoint.server == "https://10.0.0.1:6443")
        #expect(endpoint.authorization == nil)
        #expect(endpoint.tls == HTTPTransportTLS(trustRootsPEM: Array(KubeFixtures.certificatePEM.utf8),
                                                 clientCertificatePEM: Array(KubeFixtures.certificatePEM.utf8),
                                                 clientKeyPEM: Array(KubeFixtures.privateKeyPEM.utf8)))
        let insecure = try resolver.resolve(kubeconfig: path, context: "insecure", environment: [:])
        #expect(insecure.tls?.verifyServer == false)
        #expect(throws: ActionFailure.self) { try resolver.resolve(kubeconfig: path, context: "plugin", environment: [:]) }
        do {
            _ = try resolver.resolve(kubeconfig: path, context: "plugin", environment: [:])
        } catch let failure as ActionFailure {
            #expect(failure.message.contains("uses a credential plugin (exec or auth-provider)"))
        }
    }

    @Test func badCertificatesAreReportedBeforeAnyRequest() throws {
        let directory = try TemporaryDirectory("runbook-kube")
        defer { directory.remove() }
        let path = try directory.write("config", """
            current-context: x
            clusters: [{name: c, cluster: {server: "https://10.0.0.1", certificate-authority-data: bm90IGEgY2VydA==}}]
            contexts: [{name: x, context: {cluster: c}}]
            """)
        do {
            _ = try resolver.resolve(kubeconfig: path, context: nil, environment: [:])
            Issue.record("resolved")
        } catch let failure as ActionFailure {
            #expect(failure.message == "context 'x' of kubeconfig '\(path)': certificate authority: no PEM certificate "
                + "could be read")
        }
    }

    @Test func inClusterServiceAccount() async throws {
        let directory = try TemporaryDirectory("runbook-sa")
        defer { directory.remove() }
        try directory.write("token", "sa-token-789\n")
        try directory.write("ca.crt", KubeFixtures.certificatePEM)
        try directory.write("namespace", "ops")
        let transport = RecordingTransport(HTTPTransportResponse(
            status: 200, headers: [("Content-Type", "application/json")],
            body: Array(#"{"kind":"Deployment","metadata":{"generation":1},"spec":{"replicas":2},"status":{"observedGeneration":1,"replicas":2,"readyReplicas":2,"availableReplicas":2,"updatedReplicas":2}}"#.utf8)))
        let action = KubernetesGetDeploymentAction(services: KubernetesActionServices(
            transport: transport, resolver: KubernetesEndpointResolver(serviceAccountDirectory: directory.path)))
        let invocation = ActionHarness.invocation(for: action, ["deployment": .string("worker"), "namespace": .string("")],
                                                  environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1",
                                                                "KUBERNETES_SERVICE_PORT": "443"])
        let result = try await action.run(invocation)
        #expect(result.outputs["ready_replicas"] == .int(2))
        let request = try #require(transport.requests.first)
        // An empty namespace falls back to the service account's.
        #expect(request.url == "https://10.96.0.1:443/apis/apps/v1/namespaces/ops/deployments/worker")
        #expect(request.headers.first { $0.name == "Authorization" }?.value == "Bearer sa-token-789")
        #expect(request.tls == HTTPTransportTLS(trustRootsPEM: Array(KubeFixtures.certificatePEM.utf8)))

        try FileManager.default.removeItem(atPath: directory.path + "/token")
        do {
            _ = try await action.run(invocation)
            Issue.record("ran without a token")
        } catch let failure as ActionFailure {
            #expect(failure.message == "in-cluster credentials: cannot read \(directory.path)/token (is a service "
                + "account token mounted into this pod?)")
        }
    }

    @Test func noCredentialsAtAll() {
        do {
            _ = try resolver.resolve(kubeconfig: nil, context: nil, environment: ["HOME": "/nonexistent"])
            Issue.record("resolved")
        } catch let failure as ActionFailure {
            #expect(failure.message == "no kubernetes credentials: pass 'kubeconfig', set KUBECONFIG, create "
                + "~/.kube/config, or run in a pod (KUBERNETES_SERVICE_HOST)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
