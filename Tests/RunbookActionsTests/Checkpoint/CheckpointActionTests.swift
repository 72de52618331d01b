// checkpoint.find_stable / current / activate on real files in temporary directories.
import Foundation
import RunbookActions
import RunbookKit
import Testing

/// A temporary checkpoint directory with helpers to write checkpoints and metadata.
struct CheckpointDirectory {
    let path: String
    /// The clock the tests pretend it is: 2025-01-01T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_735_732_800)

    init() throws {
        path = NSTemporaryDirectory() + "runbook-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `checkpoint_step_<step>.pt` and its metadata, `minutesAgo` before `now`.
    @discardableResult
    func add(step: Int, minutesAgo: Double, kl: Double?, reward: Double?, std: Double? = 4.0,
             name: String? = nil) throws -> String {
        let base = name ?? "checkpoint_step_\(step)"
        let created = Self.now.addingTimeInterval(-minutesAgo * 60)
        let formatter = ISO8601DateFormatter()
        var fields: [String: Value] = ["step": .int(step), "created_at": .string(formatter.string(from: created))]
        if let kl { fields["kl"] = .double(kl) }
        if let reward { fields["reward_mean"] = .double(reward) }
        if let std { fields["reward_std"] = .double(std) }
        try write("\(base).json", Value.map(fields).jsonText())
        try write("\(base).pt", "weights")
        return path + "/\(base).pt"
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
    }

    func link(_ name: String = "active") -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path + "/" + name)
    }
}

@Suite("checkpoint actions")
struct CheckpointActionTests {
    let find = CheckpointFindStableAction(now: { CheckpointDirectory.now })
    let current = CheckpointCurrentAction()
    let activate = CheckpointActivateAction()

    /// The Artisan example: 5000 is the runaway, 4500 the newest stable one.
    func artisanHistory(_ dir: CheckpointDirectory) throws {
        try dir.add(step: 4000, minutesAgo: 180, kl: 0.01, reward: 14)
        try dir.add(step: 4500, minutesAgo: 120, kl: 0.02, reward: 15.5)
        try dir.add(step: 4750, minutesAgo: 105, kl: 0.05, reward: 18)      // KL too high
        try dir.add(step: 4900, minutesAgo: 95, kl: 0.02, reward: 60)       // reward too high
        try dir.add(step: 5000, minutesAgo: 90, kl: 0.3, reward: 140, std: 70)
    }

    static let bounds: [String: Value] = ["kl_max": .double(0.03), "reward_min": .double(10), "reward_max": .double(20)]

    @Test func findsTheNewestStableCheckpointAndWhatARollbackLoses() async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        try artisanHistory(dir)
        var arguments = Self.bounds
        arguments["dir"] = .string(dir.path)
        let result = try await ActionHarness.run(find, arguments)
        #expect(result.succeeded, "\(result.failureMessage ?? "")")
        let o = result.outputs
        #expect(o["path"] == .string(dir.path + "/checkpoint_step_4500.pt"))
        #expect(o["step"] == .int(4500))
        #expect(o["created_at"] == .string("2025-01-01T10:00:00Z"))
        #expect(o["kl"] == .double(0.02))
        #expect(o["reward_mean"] == .double(15.5))
        #expect(o["reward_std"] == .double(4))
        #expect(o["age_seconds"] == .double(7200))
        #expect(o["age"] == .string("2h"))
        #expect(o["latest_step"] == .int(5000))
        #expect(o["steps_behind"] == .int(500))
        #expect(o["time_behind"] == .string("30m"))
        #expect(Set(o.keys) == Set(CheckpointActions.findStable.outputs.map(\.name)))
    }

    @Test func patternSelectsFilesAndMaxAgeExcludesOldOnes() async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        try dir.add(step: 100, minutesAgo: 600, kl: 0.01, reward: 15)
        try dir.add(step: 200, minutesAgo: 30, kl: 0.01, reward: 15, name: "other_200")
        let old = try await ActionHarness.run(find, ["dir": .string(dir.path), "pattern": .string("checkpoint_step_*.pt"),
                                                      "max_age": .string("1h")])
        let message = try #require(old.failureMessage)
        #expect(message.contains("older than 1h (1)"), "\(message)")
        let any = try await ActionHarness.run(find, ["dir": .string(dir.path), "max_age": .string("1h")])
        #expect(any.outputs["path"] == .string(dir.path + "/other_200.pt"))
    }

    @Test func corruptMetadataIsSkippedWithAWarning() async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        try artisanHistory(dir)
        try dir.add(step: 4600, minutesAgo: 110, kl: 0.01, reward: 15)
        try dir.write("checkpoint_step_4600.json", "{not json")
        try dir.write("checkpoint_step_4700.pt", "weights")  // no metadata at all
        let emitted = EmittedLines()
        var arguments = Self.bounds
        arguments["dir"] = .string(dir.path)
        let result = try await ActionHarness.run(find, arguments, emitted: emitted)
        #expect(result.outputs["step"] == .int(4500))
        let warnings = emitted.lines.filter { $0.level == "warning" }.map(\.message)
        #expect(warnings.count == 2)
        #expect(warnings.contains { $0.contains("checkpoint_step_4600.json: not a JSON object") })
        #expect(warnings.contains { $0.contains("checkpoint_step_4700.json: it does not exist") })
    }

    @Test func noCandidateSaysHowManyWereRejectedAndWhy() async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        try dir.add(step: 4750, minutesAgo: 105, kl: 0.05, reward: 18)
        try dir.add(step: 4900, minutesAgo: 95, kl: 0.02, reward: 60)
        try dir.add(step: 5000, minutesAgo: 90, kl: 0.3, reward: 140)
        try dir.write("checkpoint_step_5100.pt", "weights")
        try dir.write("checkpoint_step_5100.json", #"{"step": "5100", "created_at": "2025-01-01T11:00:00Z"}"#)
        var arguments = Self.bounds
        arguments["dir"] = .string(dir.path)
        let result = try await ActionHarness.run(find, arguments)
        let message = try #require(result.failureMessage)
        #expect(message == "no stable checkpoint in \(dir.path): all 4 matching '*.pt' were rejected: "
                + "kl not below 0.03 (2), reward_mean above 20 (2), unreadable metadata (1)")
        #expect(result.outputs["latest_step"] == .int(5000))
    }

    @Test func emptyOrMissingDirectoriesFailClearly() async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        let empty = try await ActionHarness.run(find, ["dir": .string(dir.path)])
        #expect(empty.failureMessage == "no checkpoint matches '*.pt' in \(dir.path)")
        let missing = try await ActionHarness.run(find, ["dir": .string(dir.path + "/nope")])
        #expect(missing.failureMessage == "checkpoint directory \(dir.path)/nope does not exist")
    }

    @Test(arguments: [
        (#"{"created_at": "2025-01-01T10:00:00Z"}"#, "'step' is missing"),
        (#"{"step": -1, "created_at": "2025-01-01T10:00:00Z"}"#, "'step' must be a non-negative integer, got -1"),
        (#"{"step": 1}"#, "'created_at' is missing"),
        (#"{"step": 1, "created_at": "yesterday"}"#, "'created_at' is not an RFC 3339 time: 'yesterday'"),
        (#"{"step": 1, "created_at": "2025-01-01T10:00:00.250+02:00", "kl": "low"}"#, "'kl' must be a number, got \"low\""),
        ("[1]", "not a JSON object"),
    ])
    func badMetadataNamesTheFileAndTheProblem(_ json: String, _ problem: String) async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        try dir.write("c.pt", "weights")
        try dir.write("c.json", json)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/active", withDestinationPath: "c.pt")
        let result = try await ActionHarness.run(current, ["dir": .string(dir.path)])
        #expect(result.failureMessage == "active checkpoint \(dir.path)/c.pt: metadata \(dir.path)/c.json: \(problem)")
    }

    @Test func activateSwapsTheLinkAtomicallyAndReportsThePreviousOne() async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        try artisanHistory(dir)
        let first = try await ActionHarness.run(activate, ["path": .string(dir.path + "/checkpoint_step_5000.pt")])
        #expect(first.succeeded)
        #expect(first.outputs["previous"] == .null)
        #expect(first.outputs["previous_step"] == .null)
        #expect(first.outputs["step"] == .int(5000))
        #expect(dir.link() == "checkpoint_step_5000.pt")

        let rollback = try await ActionHarness.run(activate, ["path": .string(dir.path + "/checkpoint_step_4500.pt")])
        #expect(rollback.outputs == [
            "previous": .string(dir.path + "/checkpoint_step_5000.pt"), "previous_step": .int(5000),
            "path": .string(dir.path + "/checkpoint_step_4500.pt"), "step": .int(4500),
        ])
        #expect(dir.link() == "checkpoint_step_4500.pt")
        // No temporary link is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!names.contains { $0.hasPrefix(".") })

        let now = try await ActionHarness.run(current, ["dir": .string(dir.path)])
        #expect(now.outputs == [
            "path": .string(dir.path + "/checkpoint_step_4500.pt"), "step": .int(4500),
            "created_at": .string("2025-01-01T10:00:00Z"), "kl": .double(0.02), "reward_mean": .double(15.5),
        ])
    }

    @Test func activateRefusesLinksOutsideTheDirectoryAndNonLinks() async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        let path = try dir.add(step: 1, minutesAgo: 1, kl: 0.01, reward: 15)
        let outside = try await ActionHarness.run(activate, ["path": .string(path), "target": .string("/tmp/active")])
        #expect(outside.failureMessage?.hasPrefix("target /tmp/active is not in the checkpoint's directory") == true)
        let escape = try await ActionHarness.run(activate, ["path": .string(path), "target": .string("../active")])
        #expect(escape.failureMessage?.contains("is not in the checkpoint's directory") == true)
        try dir.write("active", "a regular file")
        let file = try await ActionHarness.run(activate, ["path": .string(path)])
        #expect(file.failureMessage == "\(dir.path)/active exists but is not a symlink")
        let missing = try await ActionHarness.run(activate, ["path": .string(dir.path + "/nope.pt")])
        #expect(missing.failureMessage == "checkpoint \(dir.path)/nope.pt does not exist")
    }

    @Test func currentWithoutALinkOrWithADanglingOne() async throws {
        let dir = try CheckpointDirectory()
        defer { dir.remove() }
        let none = try await ActionHarness.run(current, ["dir": .string(dir.path)])
        #expect(none.failureMessage == "no active checkpoint: \(dir.path)/active does not exist")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/active", withDestinationPath: "gone.pt")
        let dangling = try await ActionHarness.run(current, ["dir": .string(dir.path)])
        #expect(dangling.failureMessage == "\(dir.path)/active points to \(dir.path)/gone.pt, which does not exist")
    }
}
