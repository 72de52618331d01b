import Foundation
import RunbookKit
import Testing

/// A parameter's `minimum`/`maximum` hold for values only the run knows (params, step outputs):
/// the run refuses them before the action starts, naming the parameter and the range.
@Suite("Engine: parameter ranges")
struct EngineParameterRangeTests {
    static let yaml = """
    params:
      b: {type: int, default: 5}
    steps:
      - id: use
        action: test.count
        with: {bounded: "${{ params.b }}"}
        rollback: none
      - id: items
        action: test.count
        with: {key: items, bounded: [3, "${{ params.b * 2 }}"]}
        rollback: none
    """

    @Test("a value inside the range runs; the bounds themselves are inside", arguments: [0, 5])
    func inside(_ b: Int) async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.yaml)
        let outcome = try await h.run(rb, options: engineOptions(params: ["b": .int(b)]))
        #expect(outcome.status == .succeeded)
        #expect(await h.probe.count("default") == 1)
        #expect(await h.probe.count("items") == 1)
    }

    @Test("a number outside the range, or a list item outside it, fails the step before the action runs", arguments: [
        (-1, "use", "default", "parameter 'bounded' of 'test.count' must be between 0 and 10, got -1"),
        (6, "items", "items", "each item of parameter 'bounded' of 'test.count' must be between 0 and 10, got 12"),
    ])
    func outside(_ b: Int, _ step: String, _ key: String, _ message: String) async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.yaml)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(params: ["b": .int(b)]), reporter: reporter)
        #expect(outcome.failed == [step])
        #expect(reporter.finished(step)?.error == message)
        #expect(await h.probe.count(key) == 0)
    }

    @Test("a dry run fails the step as the real run will on a param outside the range")
    func dryRunFails() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook(Self.yaml)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(dryRun: true, params: ["b": .int(11)]), reporter: reporter)
        #expect(outcome.failed == ["use"])
        #expect(reporter.finished("use")?.error == "parameter 'bounded' of 'test.count' must be between 0 and 10, got 11")
    }

    @Test("a literal outside the range whose lint finding was silenced fails a dry-run too")
    func silencedLiteral() async throws {
        let h = try EngineHarness(); defer { h.cleanUp() }
        let rb = try EngineHarness.runbook("""
        steps:
          - id: use
            action: test.count
            with: {bounded: 11}  # runbook-lint: ignore out-of-range
            rollback: none
        """)
        let reporter = RecordingReporter()
        let outcome = try await h.run(rb, options: engineOptions(dryRun: true), reporter: reporter)
        #expect(outcome.failed == ["use"])
        #expect(reporter.finished("use")?.error == "parameter 'bounded' of 'test.count' must be between 0 and 10, got 11")
    }
}
