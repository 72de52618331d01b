// `checkpoint.find_stable`, `checkpoint.current` and `checkpoint.activate` over the files described
// in docs/checkpoints.md.
import Foundation
import RunbookKit

extension CheckpointActions {
    /// The implementations of every checkpoint action; `now` is the clock ages are measured with.
    public static func implementations(now: @escaping @Sendable () -> Date = { Date() }) -> [any Action] {
        [CheckpointFindStableAction(now: now), CheckpointCurrentAction(), CheckpointActivateAction()]
    }

    /// Outputs shared by find_stable and current: path, step, created_at, kl, reward_mean (and reward_std).
    static func outputs(_ checkpoint: Checkpoint) -> [String: Value] {
        let m = checkpoint.metadata
        return [
            "path": .string(checkpoint.path), "step": .int(m.step), "created_at": .string(m.createdAtText),
            "kl": m.kl.map(Value.double) ?? .null, "reward_mean": m.rewardMean.map(Value.double) ?? .null,
            "reward_std": m.rewardStd.map(Value.double) ?? .null,
        ]
    }

    /// The file name of a path, for summaries.
    static func name(_ path: String) -> String { URL(fileURLWithPath: path).lastPathComponent }
}

/// `checkpoint.find_stable`: the newest checkpoint (by step) within the bounds.
///
/// A checkpoint whose metadata is missing or corrupt is skipped with a warning, so one bad file does not
/// block a rollback; when nothing qualifies, the failure says how many were rejected and why.
public struct CheckpointFindStableAction: Action {
    /// The declaration this implements.
    public let descriptor = CheckpointActions.findStable
    private let now: @Sendable () -> Date

    /// The action; `now` is the clock for `age` and `max_age`.
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Lists, reads and filters the checkpoints.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let dir = CheckpointFiles.absolute(try invocation.requireString("dir"))
        let pattern = invocation.string("pattern").flatMap { $0.isEmpty ? nil : $0 } ?? "*.pt"
        let klMax = invocation.number("kl_max")
        let rewardMin = invocation.number("reward_min")
        let rewardMax = invocation.number("reward_max")
        let maxAge = invocation.duration("max_age")
        if let rewardMin, let rewardMax, rewardMin > rewardMax {
            throw ActionFailure("reward_min (\(Value.double(rewardMin).interpolationText)) is above reward_max "
                                + "(\(Value.double(rewardMax).interpolationText))")
        }

        let files = try CheckpointFiles.candidates(in: dir, pattern: pattern)
        guard !files.isEmpty else {
            throw ActionFailure("no checkpoint matches '\(pattern)' in \(dir)")
        }
        var checkpoints: [Checkpoint] = []
        var unreadable = 0
        for file in files {
            try Task.checkCancellation()
            do {
                checkpoints.append(Checkpoint(path: file, metadata: try CheckpointFiles.readMetadata(for: file)))
            } catch let error as CheckpointMetadataError {
                unreadable += 1
                invocation.context.emit("warning", "skipping checkpoint \(CheckpointActions.name(file)): \(error)")
            }
        }
        let newestFirst = checkpoints.sorted {
            ($0.metadata.step, $0.metadata.createdAt, $0.path) > ($1.metadata.step, $1.metadata.createdAt, $1.path)
        }
        let latest = newestFirst.first
        let clock = now()

        // Every reason each checkpoint fails, counted, in a fixed order for the message.
        var reasons: [String: Int] = [:]
        func reject(_ reason: String) { reasons[reason, default: 0] += 1 }
        func qualifies(_ c: Checkpoint) -> Bool {
            let m = c.metadata
            var ok = true
            if let klMax {
                if let kl = m.kl { if !(kl < klMax) { reject("kl not below \(Self.text(klMax))"); ok = false } }
                else { reject("no kl in metadata"); ok = false }
            }
            if rewardMin != nil || rewardMax != nil {
                if let reward = m.rewardMean {
                    if let rewardMin, reward < rewardMin { reject("reward_mean below \(Self.text(rewardMin))"); ok = false }
                    if let rewardMax, reward > rewardMax { reject("reward_mean above \(Self.text(rewardMax))"); ok = false }
                } else {
                    reject("no reward_mean in metadata")
                    ok = false
                }
            }
            if let maxAge, clock.timeIntervalSince(m.createdAt) >= maxAge {
                reject("older than \(RunbookDuration(seconds: maxAge))")
                ok = false
            }
            return ok
        }
        let chosen = newestFirst.filter(qualifies).first

        guard let chosen, let latest else {
            var parts = reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) (\($0.value))" }
            if unreadable > 0 { parts.append("unreadable metadata (\(unreadable))") }
            let outputs: [String: Value] = ["latest_step": latest.map { .int($0.metadata.step) } ?? .null]
            throw ActionFailure("no stable checkpoint in \(dir): all \(files.count) matching '\(pattern)' were rejected: "
                                + parts.joined(separator: ", "), outputs: outputs)
        }

        let age = max(0, clock.timeIntervalSince(chosen.metadata.createdAt))
        let behind = max(0, latest.metadata.createdAt.timeIntervalSince(chosen.metadata.createdAt))
        var outputs = CheckpointActions.outputs(chosen)
        outputs["age_seconds"] = .double((age * 1000).rounded() / 1000)
        outputs["age"] = .string(CheckpointFiles.humanDuration(age))
        outputs["latest_step"] = .int(latest.metadata.step)
        outputs["steps_behind"] = .int(latest.metadata.step - chosen.metadata.step)
        outputs["time_behind"] = .string(CheckpointFiles.humanDuration(behind))
        let skipped = unreadable > 0 ? "; skipped \(unreadable) with unreadable metadata" : ""
        return ActionResult(outputs: outputs,
                            summary: "\(CheckpointActions.name(chosen.path)) (step \(chosen.metadata.step), "
                                + "\(latest.metadata.step - chosen.metadata.step) steps behind \(latest.metadata.step))"
                                + skipped)
    }

    /// A bound as written in runbooks: `0.03`, `20`.
    static func text(_ number: Double) -> String { Value.double(number).interpolationText }
}

/// `checkpoint.current`: the checkpoint the resume link points to.
public struct CheckpointCurrentAction: Action {
    /// The declaration this implements.
    public let descriptor = CheckpointActions.current

    /// The action.
    public init() {}

    /// Reads the link and the metadata of its checkpoint.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let dir = CheckpointFiles.absolute(try invocation.requireString("dir"))
        let target = invocation.string("target").flatMap { $0.isEmpty ? nil : $0 } ?? "active"
        let link = target.hasPrefix("/") ? CheckpointFiles.absolute(target) : CheckpointFiles.absolute(CheckpointFiles.join(dir, target))
        guard let destination = try CheckpointFiles.linkDestination(link) else {
            throw ActionFailure("no active checkpoint: \(link) does not exist")
        }
        guard FileManager.default.fileExists(atPath: destination) else {
            throw ActionFailure("\(link) points to \(destination), which does not exist",
                                outputs: ["path": .string(destination)])
        }
        let metadata: CheckpointMetadata
        do { metadata = try CheckpointFiles.readMetadata(for: destination) } catch let error as CheckpointMetadataError {
            throw ActionFailure("active checkpoint \(destination): \(error)", outputs: ["path": .string(destination)])
        }
        let checkpoint = Checkpoint(path: destination, metadata: metadata)
        var outputs = CheckpointActions.outputs(checkpoint)
        outputs["reward_std"] = nil
        return ActionResult(outputs: outputs,
                            summary: "\(CheckpointActions.name(link)) → \(CheckpointActions.name(destination)) "
                                + "(step \(metadata.step))")
    }
}

/// `checkpoint.activate`: re-point the resume link at a checkpoint, atomically.
///
/// The link must live in the checkpoint's own directory and is written relative (just the file name),
/// so the directory can be moved or mounted elsewhere; a runbook cannot use it to replace files
/// elsewhere, nor replace anything that is not a symlink.
public struct CheckpointActivateAction: Action {
    /// The declaration this implements.
    public let descriptor = CheckpointActions.activate

    /// The action.
    public init() {}

    /// Checks the checkpoint and the link, then swaps the link.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let path = CheckpointFiles.absolute(try invocation.requireString("path"))
        let dir = CheckpointFiles.directory(of: path)
        let target = invocation.string("target").flatMap { $0.isEmpty ? nil : $0 } ?? "active"
        let link = target.hasPrefix("/") ? CheckpointFiles.absolute(target) : CheckpointFiles.absolute(CheckpointFiles.join(dir, target))

        guard CheckpointFiles.directory(of: link) == dir else {
            throw ActionFailure("target \(link) is not in the checkpoint's directory \(dir): "
                                + "the link must sit beside the checkpoints")
        }
        guard link != path else { throw ActionFailure("target \(link) is the checkpoint itself") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ActionFailure("checkpoint \(path) does not exist")
        }
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil {
            throw ActionFailure("checkpoint \(path) is a symlink; activate the file it points to")
        }

        let previous = try CheckpointFiles.linkDestination(link)
        let previousStep = previous.flatMap { try? CheckpointFiles.readMetadata(for: $0).step }
        let step: Int?
        do { step = try CheckpointFiles.readMetadata(for: path).step } catch let error as CheckpointMetadataError {
            // The trainer can still resume from the file; the verification step will notice the unknown step.
            invocation.context.emit("warning", "activating \(CheckpointActions.name(path)) although its \(error)")
            step = nil
        }
        try Task.checkCancellation()
        try CheckpointFiles.repoint(link, to: CheckpointActions.name(path))

        let outputs: [String: Value] = [
            "previous": previous.map(Value.string) ?? .null, "previous_step": previousStep.map(Value.int) ?? .null,
            "path": .string(path), "step": step.map(Value.int) ?? .null,
        ]
        let was = previous.map { "was \(CheckpointActions.name($0))" + (previousStep.map { " (step \($0))" } ?? "") }
            ?? "no previous link"
        return ActionResult(outputs: outputs,
                            summary: "\(CheckpointActions.name(link)) → \(CheckpointActions.name(path))"
                                + (step.map { " (step \($0))" } ?? "") + "; \(was)")
    }
}
