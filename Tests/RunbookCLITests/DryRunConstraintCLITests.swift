import Foundation
import Testing

/// Lint judges parameter rules on what was written; a dry run judges them again on the values
/// the run would use, so a rule an expression breaks shows in the plan.
@Suite("dry-run: parameter rules with the run's values")
struct DryRunConstraintCLITests {
    static let runbook = """
        version: 1
        id: shell_flag
        title: A command whose shell flag comes from a param
        severity: sev4
        automation: automatic
        params:
          flag: {type: bool, default: false}
        steps:
          - id: greet
            action: exec
            with: {command: "echo hi", shell: "${{ params.flag }}"}
            rollback: none
        """

    @Test("shell: false from a param beside 'command' is a warning in the plan; shell: true is not")
    func brokenRuleIsWarned() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("shell_flag.yaml", Self.runbook)
        let lint = try await CLI.run(["lint", "--strict", "shell_flag.yaml"], in: dir.path)
        #expect(lint.status == 0, "an expression counts as given for lint: \(lint.stdout)")
        let state = ["--state-dir", dir.path + "/st"]
        let off = try await CLI.run(["run", "shell_flag.yaml", "--dry-run"] + state, in: dir.path)
        #expect(off.status == 0, "\(off.stdout)\(off.stderr)")
        #expect(off.stdout.contains("warning: the values this run would use break a parameter rule of 'exec': 'command' requires 'shell: true'"),
                "\(off.stdout)")
        let on = try await CLI.run(["run", "shell_flag.yaml", "--dry-run", "--param", "flag=true"] + state, in: dir.path)
        #expect(on.status == 0, "\(on.stdout)\(on.stderr)")
        #expect(!on.stdout.contains("parameter rule"), "\(on.stdout)")
    }

    @Test("a null inside a list or map argument fails the run, and the plan the same way (env is the run's own)")
    func nullItemFailsTheRunAndThePlan() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("nulls.yaml", """
            version: 1
            id: nulls
            title: A program argument from an unset variable
            severity: sev4
            automation: automatic
            steps:
              - id: greet
                action: exec
                with:
                  argv: [echo, "${{ env.RUNBOOK_TEST_UNSET_VARIABLE }}"]
                  timeout: 5s
                rollback: none
            """)
        let state = ["--state-dir", dir.path + "/st"]
        let why = "parameter 'argv' of 'exec': item 2 is null (an unset env variable or a missing output?)"
        let run = try await CLI.run(["run", "nulls.yaml"] + state, in: dir.path)
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains(why), "\(run.stdout)")
        let plan = try await CLI.run(["run", "nulls.yaml", "--dry-run"] + state, in: dir.path)
        #expect(plan.status == 1, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("✗ failed in"), "\(plan.stdout)")
        #expect(plan.stdout.contains(why), "\(plan.stdout)")
        #expect(plan.stdout.contains("(dry-run: nothing was changed)"), "\(plan.stdout)")
        let drill = try await CLI.run(["drill", dir.path], in: dir.path)
        #expect(drill.status == 1, "drill is the CI gate for this: \(drill.stdout)\(drill.stderr)")
        #expect(drill.stdout.contains("step 'greet' failed: parameter 'argv' of 'exec': item 2 is null"), "the reason: \(drill.stdout)")
    }

    @Test("an argument that a param makes unusable fails the plan as it will fail the run")
    func paramValueFailsThePlan() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("pause.yaml", """
            version: 1
            id: pause
            title: A pause whose length comes from a string param
            severity: sev4
            automation: automatic
            params:
              seconds: {type: string, default: "15"}
            steps:
              - id: pause
                action: wait
                with: {duration: "${{ params.seconds }}"}
            """)
        let r = try await CLI.run(["run", "pause.yaml", "--dry-run", "--state-dir", dir.path + "/st"], in: dir.path)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("✗ failed in"), "\(r.stdout)")
        #expect(r.stdout.contains("parameter 'duration' of 'wait'"), "\(r.stdout)")
    }

    @Test("an argument read from a secret the dry run lacks is a warning: the real run has the secret")
    func missingSecretIsSimulated() async throws {
        let r = try await Self.dryRun("from_secret", title: "A pause whose length is kept secret", body: """
            steps:
              - id: pause
                action: wait
                with: {duration: "${{ secrets.pause_length }}"}
            """)
        #expect(r.stdout.contains("secret 'pause_length' is not set"), "\(r.stdout)")
        #expect(r.stdout.contains("✓ succeeded"), "\(r.stdout)")
    }

    @Test("a value read from another step's (simulated) outputs says nothing about the real run: no warning")
    func simulatedOutputsAreNotJudged() async throws {
        let r = try await Self.dryRun("from_output", title: "Stop what pgrep found", body: """
            steps:
              - id: find
                action: exec
                with: {argv: [pgrep, -f, trainer]}
                rollback: none
              - id: stop
                action: process.stop
                with: {pattern: "${{ steps.find.outputs.stdout }}"}
                rollback: none
              - id: pause
                action: wait
                with: {duration: "${{ from_json(steps.find.outputs.stdout).wait }}"}
            """)
        #expect(!r.stdout.contains("parameter rule"), "\(r.stdout)")
        #expect(r.stdout.contains(
            "warning: parameter 'duration': 'steps.find.outputs.stdout' is null (the dry run simulates what this value reads)"),
                "a value the dry run cannot resolve from simulated outputs is a warning, and the plan goes on: \(r.stdout)")
    }

    /// Writes runbook `id` (a sev4 automatic header, then `body`) to a temporary directory,
    /// dry-runs it there and expects it to succeed.
    static func dryRun(_ id: String, title: String, body: String) async throws -> CLIResult {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("\(id).yaml", """
            version: 1
            id: \(id)
            title: \(title)
            severity: sev4
            automation: automatic

            """ + body)
        let r = try await CLI.run(["run", "\(id).yaml", "--dry-run", "--state-dir", dir.path + "/st"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        return r
    }

    @Test("a zero timeout from a param fails the real run's step before the program starts; the plan warns")
    func valueRuleIsEnforcedByTheRun() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("zero.yaml", """
            version: 1
            id: zero
            title: A timeout from a param
            severity: sev4
            automation: automatic
            params:
              t: {type: duration, default: 5s}
            steps:
              - id: touch
                action: exec
                with: {argv: [touch, "\(dir.path)/touched"], timeout: "${{ params.t }}"}
                rollback: none
            """)
        let state = ["--state-dir", dir.path + "/st"]
        let plan = try await CLI.run(["run", "zero.yaml", "--dry-run", "--param", "t=0s"] + state, in: dir.path)
        #expect(plan.stdout.contains("break a parameter rule of 'exec': 'timeout' must be longer than 0s"), "\(plan.stdout)")
        let run = try await CLI.run(["run", "zero.yaml", "--param", "t=0s"] + state, in: dir.path)
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("the values of this run break a parameter rule of 'exec': 'timeout' must be longer than 0s"),
                "\(run.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/touched"), "the program never started")
        let fine = try await CLI.run(["run", "zero.yaml"] + state, in: dir.path)
        #expect(fine.status == 0, "\(fine.stdout)\(fine.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/touched"))
    }
}
