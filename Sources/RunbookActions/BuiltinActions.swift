// The one registration list of built-in actions. Lint, `runbook schema`, `runbook docs` and the
// tests read it; a registry test checks that ids are unique and declarations consistent.
import RunbookKit

/// The built-in actions of format v1.
///
/// Each descriptor's `examples` are lists of steps; a step with `undoes:` belongs in the runbook's
/// `rollback:` list, every other step in `steps:` (so a mutating action's example shows its undo).
public enum BuiltinActions {
    /// Every built-in action's declaration, grouped by domain.
    public static let descriptors: [ActionDescriptor] =
        HTTPActions.all
        + PrometheusActions.all
        + KubernetesActions.all
        + CircuitBreakerActions.all
        + FeatureFlagActions.all
        + CheckpointActions.all
        + ProcessActions.all
        + NotifyActions.all
        + IncidentActions.all
        + CoreActions.all
        + DatabaseActions.all
        + NetworkActions.all

    /// The catalog lint and the engine look actions up in.
    public static let catalog = ActionCatalog(descriptors)
}

extension BuiltinActions {
    /// Implementations by action id; an action without one fails with a clear message when run for real.
    /// `confirm` has none: the engine asks the question itself.
    public static let implementations: [any Action] = [
        HTTPCheckAction(), HTTPRequestAction(),
        PrometheusQueryAction(),
        KubernetesGetDeploymentAction(), KubernetesScaleAction(), KubernetesRolloutRestartAction(),
        ExecAction(), ProcessStopAction(),
        LogAction(), WaitAction(), AssertAction(),
        PostgresCheckAction(), TCPCheckAction(),
    ]
        + CheckpointActions.implementations()
        + NotifyActions.implementations()
        + CircuitBreakerActions.implementations(.sqlite)
        + FeatureFlagActions.implementations(.sqlite)
        + IncidentActions.implementations(.sqlite)

    /// Declarations plus implementations: what `runbook run` executes against.
    public static let registry = ActionRegistry(catalog: catalog, implementations: implementations)
}
