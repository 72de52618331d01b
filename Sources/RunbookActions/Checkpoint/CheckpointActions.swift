// Training checkpoints on a filesystem. Each checkpoint file `X.pt` has its metadata beside it in
// `X.json`: {"step": 4500, "created_at": "2025-01-01T10:00:00Z", "kl": 0.02, "reward_mean": 15.2,
// "reward_std": 4.1}. The trainer resumes from the checkpoint the `active` symlink points to.
import RunbookKit

/// `checkpoint.find_stable`, `checkpoint.current`, `checkpoint.activate`.
public enum CheckpointActions {
    static let target = ParameterDescriptor(
        "target", .string, default: .string("active"),
        "Symlink the trainer resumes from; relative paths are inside the checkpoint's directory")

    /// Find the newest checkpoint whose metadata is within KL and reward bounds.
    public static let findStable = ActionDescriptor(
        id: "checkpoint.find_stable",
        summary: "Find the newest checkpoint under `dir` whose metadata (X.json beside X.pt) is within `kl_max` "
            + "and [`reward_min`, `reward_max`]; fails when none is",
        parameters: [
            ParameterDescriptor("dir", .string, required: true, "Directory holding the checkpoints"),
            ParameterDescriptor("pattern", .string, default: .string("*.pt"), "Glob of checkpoint file names"),
            ParameterDescriptor("kl_max", .number, "Only checkpoints with KL divergence below this"),
            ParameterDescriptor("reward_min", .number, "Only checkpoints with mean reward at least this"),
            ParameterDescriptor("reward_max", .number, "Only checkpoints with mean reward at most this"),
            ParameterDescriptor("max_age", .duration, "Only checkpoints younger than this"),
        ],
        outputs: [
            OutputDescriptor("path", .string, "Path of the chosen checkpoint file"),
            OutputDescriptor("step", .int, "Its training step"),
            OutputDescriptor("created_at", .string, "Its creation time, RFC 3339"),
            OutputDescriptor("kl", .number, "Its KL divergence"),
            OutputDescriptor("reward_mean", .number, "Its mean reward"),
            OutputDescriptor("reward_std", .number, "Its reward standard deviation"),
            OutputDescriptor("age_seconds", .number, "Seconds since it was created"),
            OutputDescriptor("age", .string, "The same, for people: e.g. 2h5m"),
            OutputDescriptor("latest_step", .int, "Step of the newest checkpoint, stable or not"),
            OutputDescriptor("steps_behind", .int, "latest_step minus step: training steps a rollback loses"),
            OutputDescriptor("time_behind", .string,
                             "Training time between it and the newest checkpoint, for people: e.g. 31m"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 30,
        // CheckpointActionImplementations: "reward_min (…) is above reward_max (…)".
        constraints: [.ordered("reward_min", "reward_max")],
        examples: [
            """
            - id: find_checkpoint
              action: checkpoint.find_stable
              with:
                dir: /var/lib/artisan/checkpoints
                kl_max: 0.03
                reward_min: 10.0
                reward_max: 20.0

            """,
        ]
    )

    /// Read which checkpoint the trainer would resume from.
    public static let current = ActionDescriptor(
        id: "checkpoint.current",
        summary: "Read the checkpoint `target` points to in `dir` and its metadata",
        parameters: [
            ParameterDescriptor("dir", .string, required: true, "Directory holding the checkpoints and the link"),
            target,
        ],
        outputs: [
            OutputDescriptor("path", .string, "Path of the checkpoint file the link resolves to"),
            OutputDescriptor("step", .int, "Its training step"),
            OutputDescriptor("created_at", .string, "Its creation time, RFC 3339"),
            OutputDescriptor("kl", .number, "Its KL divergence"),
            OutputDescriptor("reward_mean", .number, "Its mean reward"),
        ],
        mutating: false, idempotent: true, dryRun: .simulated, defaultTimeout: 10,
        examples: [
            """
            - id: active_checkpoint
              action: checkpoint.current
              with: {dir: /var/lib/artisan/checkpoints}

            """,
        ]
    )

    /// Point the resume link at a checkpoint (atomically), remembering the previous one.
    public static let activate = ActionDescriptor(
        id: "checkpoint.activate",
        summary: "Make `path` the checkpoint the trainer resumes from by atomically re-pointing `target`; "
            + "`previous` lets a rollback point it back",
        parameters: [
            ParameterDescriptor("path", .string, required: true, "Checkpoint file to activate"),
            target,
        ],
        outputs: [
            OutputDescriptor("previous", .string, "Checkpoint the link pointed to before; null when none"),
            OutputDescriptor("previous_step", .int, "That checkpoint's step; null when unknown"),
            OutputDescriptor("path", .string, "Checkpoint the link points to now"),
            OutputDescriptor("step", .int, "Its step, read back from its metadata"),
        ],
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 30,
        examples: [
            """
            - id: find_checkpoint
              action: checkpoint.find_stable
              with: {dir: /var/lib/artisan/checkpoints, kl_max: 0.03}
            - id: activate_checkpoint
              action: checkpoint.activate
              with: {path: "${{ steps.find_checkpoint.outputs.path }}"}
              confirm: "Roll back training to step ${{ steps.find_checkpoint.outputs.step }}?"
              rollback: none

            """,
        ]
    )

    /// Every checkpoint action, in registration order.
    static let all = [findStable, current, activate]
}
