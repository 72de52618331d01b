// Deployments through the Kubernetes API (kubeconfig or in-cluster service account), never by
// shelling out to kubectl, so dry-run and scenario tests can swap the client.
import RunbookKit

/// `kubernetes.get_deployment`, `kubernetes.scale`, `kubernetes.rollout_restart`.
public enum KubernetesActions {
    /// The parameters that locate a deployment and the cluster it runs in.
    static let target: [ParameterDescriptor] = [
        ParameterDescriptor("deployment", .string, required: true, "Deployment name"),
        ParameterDescriptor("namespace", .string, default: .string("default"), "Namespace of the deployment"),
        ParameterDescriptor("context", .string, "kubeconfig context (default: the current context)"),
        ParameterDescriptor("kubeconfig", .string,
                            "Path of the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else in-cluster)"),
    ]

    /// Read a deployment's replica counts.
    public static let getDeployment = ActionDescriptor(
        id: "kubernetes.get_deployment",
        summary: "Read a deployment's desired, ready and available replicas",
        parameters: target,
        outputs: [
            OutputDescriptor("replicas", .int, "Desired replicas (spec.replicas)"),
            OutputDescriptor("ready_replicas", .int, "Pods passing their readiness probe"),
            OutputDescriptor("available_replicas", .int, "Pods available for at least minReadySeconds"),
            OutputDescriptor("updated_replicas", .int, "Pods running the current pod template"),
            OutputDescriptor("generation", .int, "metadata.generation"),
            OutputDescriptor("observed_generation", .int, "status.observedGeneration (equal: the controller caught up)"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 30,
        examples: [
            """
            - id: api_pods
              action: kubernetes.get_deployment
              with: {deployment: artisan-api, namespace: production}

            """,
        ]
    )

    /// Set a deployment's replicas; its `previous_replicas` output is what a rollback scales back to.
    public static let scale = ActionDescriptor(
        id: "kubernetes.scale",
        summary: "Set a deployment's replicas via the Kubernetes API; `previous_replicas` lets a rollback scale back",
        parameters: target + [
            // KubernetesScaleAction refuses a negative count; 0 scales the deployment down to no pods.
            ParameterDescriptor("replicas", .int, required: true, minimum: 0, "Desired number of replicas"),
            ParameterDescriptor("wait_ready", .bool, default: .bool(false),
                                "Wait until that many replicas are ready (bounded by the step timeout)"),
        ],
        outputs: [
            OutputDescriptor("previous_replicas", .int, "Replicas before the change"),
            OutputDescriptor("replicas", .int, "Replicas now requested"),
            OutputDescriptor("ready_replicas", .int, "Ready replicas when the step finished"),
        ],
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 60,
        examples: [
            """
            - id: scale_up
              action: kubernetes.scale
              with: {deployment: artisan-api, namespace: production, replicas: 8}
            # and in the runbook's rollback list:
            - id: scale_back
              action: kubernetes.scale
              with:
                deployment: artisan-api
                namespace: production
                replicas: "${{ steps.scale_up.outputs.previous_replicas }}"
              undoes: [scale_up]
              when: "${{ steps.scale_up.status == 'succeeded' }}"

            """,
        ]
    )

    /// Restart a deployment's pods the way `kubectl rollout restart` does (a pod-template annotation).
    public static let rolloutRestart = ActionDescriptor(
        id: "kubernetes.rollout_restart",
        summary: "Restart a deployment's pods with a rolling update (like `kubectl rollout restart`)",
        parameters: target + [
            ParameterDescriptor("wait_ready", .bool, default: .bool(false),
                                "Wait until the rollout completes (like `kubectl rollout status`)"),
        ],
        outputs: [
            OutputDescriptor("restarted_at", .string, "RFC 3339 time written to the restartedAt annotation"),
            OutputDescriptor("ready_replicas", .int, "Ready replicas when the step finished"),
        ],
        mutating: true, idempotent: false, dryRun: .skipped, defaultTimeout: 300,
        examples: [
            """
            - id: restart_qwen
              action: kubernetes.rollout_restart
              with: {deployment: qwen-llm, namespace: production, wait_ready: true}
              timeout: 5m
              rollback: none

            """,
        ]
    )

    /// Every Kubernetes action, in registration order.
    static let all = [getDeployment, scale, rolloutRestart]
}
