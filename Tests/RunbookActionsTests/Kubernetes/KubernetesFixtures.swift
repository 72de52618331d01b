// What a real API server sends for Deployments, Scales and errors (shapes copied from
// kube-apiserver responses, trimmed to the fields that matter), plus kubeconfig files and a
// recording transport for endpoints the loopback server cannot play (https in-cluster).
import Foundation
import RunbookActions
import RunbookKit
import RunbookTestSupport

enum KubeFixtures {
    struct DeploymentStatus {
        var replicas = 4
        var statusReplicas = 4
        var ready = 4
        var available = 4
        var updated = 4
        var generation = 3
        var observed = 3
        var paused = false
        var progressDeadlineExceeded = false
    }

    static func deployment(_ s: DeploymentStatus = DeploymentStatus(), name: String = "artisan-api",
                           namespace: String = "production") -> TestHTTPResponse {
        let progressing = s.progressDeadlineExceeded
            ? #"{"type":"Progressing","status":"False","lastUpdateTime":"2024-05-01T10:10:00Z","lastTransitionTime":"2024-05-01T10:10:00Z","reason":"ProgressDeadlineExceeded","message":"ReplicaSet \"\#(name)-7d4b9c\" has timed out progressing."}"#
            : #"{"type":"Progressing","status":"True","lastUpdateTime":"2024-05-01T10:00:05Z","lastTransitionTime":"2024-05-01T10:00:00Z","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"\#(name)-7d4b9c\" has successfully progressed."}"#
        let status = [
            #""observedGeneration":\#(s.observed)"#,
            s.statusReplicas > 0 ? #""replicas":\#(s.statusReplicas)"# : nil,
            s.updated > 0 ? #""updatedReplicas":\#(s.updated)"# : nil,
            s.ready > 0 ? #""readyReplicas":\#(s.ready)"# : nil,
            s.available > 0 ? #""availableReplicas":\#(s.available)"# : nil,
            #""conditions":[{"type":"Available","status":"True","lastUpdateTime":"2024-05-01T10:00:05Z","lastTransitionTime":"2024-05-01T10:00:05Z","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability."},\#(progressing)]"#,
        ].compactMap { $0 }.joined(separator: ",")
        let body = #"""
            {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"\#(name)","namespace":"\#(namespace)","uid":"6f1c2e0a-1b7d-4f6e-9a51-0c2b8e1d2f3a","resourceVersion":"48213","generation":\#(s.generation),"creationTimestamp":"2024-05-01T10:00:00Z","labels":{"app":"\#(name)"},"annotations":{"deployment.kubernetes.io/revision":"2"}},"spec":{"replicas":\#(s.replicas),\#(s.paused ? #""paused":true,"# : "")"selector":{"matchLabels":{"app":"\#(name)"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"\#(name)"}},"spec":{"containers":[{"name":"api","image":"artisan/api:1.2.3","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600},"status":{\#(status)}}
            """#
        return .json(body)
    }

    /// An autoscaling/v1 Scale; `replicas: 0` is omitted, as the API server does.
    static func scale(_ name: String = "artisan-api", namespace: String = "production", replicas: Int,
                      statusReplicas: Int? = nil) -> TestHTTPResponse {
        let spec = replicas == 0 ? "{}" : #"{"replicas":\#(replicas)}"#
        let status = statusReplicas ?? replicas
        return .json(#"""
            {"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"\#(name)","namespace":"\#(namespace)","uid":"6f1c2e0a-1b7d-4f6e-9a51-0c2b8e1d2f3a","resourceVersion":"48214","creationTimestamp":"2024-05-01T10:00:00Z"},"spec":\#(spec),"status":{\#(status == 0 ? "" : #""replicas":\#(status),"#)"selector":"app=\#(name)"}}
            """#)
    }

    static func status(_ code: Int, reason: String, message: String, name: String? = "artisan-api") -> TestHTTPResponse {
        let details = name.map { #","details":{"name":"\#($0)","group":"apps","kind":"deployments"}"# } ?? ""
        let escaped = message.replacingOccurrences(of: "\"", with: "\\\"")
        return .json(#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"\#(escaped)","reason":"\#(reason)"\#(details),"code":\#(code)}"#,
                     status: code)
    }

    /// A kubeconfig with two contexts on `server`: `prod` (token user, namespace production) and
    /// `staging` (token-file user), current-context `current`.
    static func kubeconfig(server: String, current: String = "prod", tokenFile: String = "token.txt") -> String {
        """
        apiVersion: v1
        kind: Config
        preferences: {}
        current-context: \(current)
        clusters:
        - name: prod-cluster
          cluster:
            server: \(server)
        - name: staging-cluster
          cluster:
            server: \(server)/
            insecure-skip-tls-verify: true
        contexts:
        - name: prod
          context:
            cluster: prod-cluster
            user: prod-admin
            namespace: production
        - name: staging
          context:
            cluster: staging-cluster
            user: staging-bot
        users:
        - name: prod-admin
          user:
            token: prod-token-123
        - name: staging-bot
          user:
            tokenFile: \(tokenFile)
        """
    }

    /// A throwaway self-signed certificate and its key (EC P-256), only ever parsed by the tests.
    static let certificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIBhDCCASugAwIBAgIUOOzQDwnRwIfDyolEMqCSIkFumegwCgYIKoZIzj0EAwIw
        FzEVMBMGA1UEAwwMcnVuYm9vay10ZXN0MCAXDTI2MTEyNzAwMzkwMVoYDzIxMjYx
        MTAzMDAzOTAxWjAXMRUwEwYDVQQDDAxydW5ib29rLXRlc3QwWTATBgcqhkjOPQIB
        BggqhkjOPQMBBwNCAASh6kyaxMLys75iM6BKwxdBJHF6PTBG8VopWe6LMxr3FxgF
        KEQsfldp0/qgowzng5dF+sTtgmZHHOEyeHOPlH8bo1MwUTAdBgNVHQ4EFgQUhRMS
        zl1a6vkSWFzrReZsLBXRIUkwHwYDVR0jBBgwFoAUhRMSzl1a6vkSWFzrReZsLBXR
        IUkwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBtMQIOGo7EtgpL
        37/xtwxPhUIYpVUiwiHAjxRTAw7qegIgQYhScQF9lGu1qEhCJ4NDMQ5Xcv4Mj1nH
        czZGDJBybK0=
        -----END CERTIFICATE-----

        """

    static let privateKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgp0kcLYV4ARbLiRXD
        KG2RdD8uKcmdWefA3krDODcIpxShRANCAASh6kyaxMLys75iM6BKwxdBJHF6PTBG
        8VopWe6LMxr3FxgFKEQsfldp0/qgowzng5dF+sTtgmZHHOEyeHOPlH8b
        -----END PRIVATE KEY-----

        """
}

/// Answers every request with one response and records what was asked (for https endpoints).
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [HTTPTransportRequest] = []
    private let response: HTTPTransportResponse

    init(_ response: HTTPTransportResponse) { self.response = response }

    var requests: [HTTPTransportRequest] { lock.withLock { recorded } }

    func send(_ request: HTTPTransportRequest) async throws -> HTTPTransportResponse {
        lock.withLock { recorded.append(request) }
        return response
    }
}
