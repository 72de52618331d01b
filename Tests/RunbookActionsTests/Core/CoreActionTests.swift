// log, wait and assert, plus the registration list that the engine runs against.
import Foundation
import RunbookActions
import RunbookKit
import Testing

@Suite("log, wait, assert")
struct CoreActionTests {
    @Test func logEmitsAtTheLevel() async throws {
        let emitted = EmittedLines()
        let result = try await ActionHarness.run(LogAction(), ["message": .string("scaling to 8"), "level": .string("warning")],
                                                 emitted: emitted)
        #expect(result.succeeded)
        #expect(emitted.lines.map(\.level) == ["warning"])
        #expect(emitted.lines.map(\.message) == ["scaling to 8"])
        let plain = EmittedLines()
        _ = try await ActionHarness.run(LogAction(), ["message": .string("hi")], emitted: plain)
        #expect(plain.lines.map(\.level) == ["info"])
    }

    @Test func waitSleepsForTheDuration() async throws {
        let start = ContinuousClock.now
        let result = try await ActionHarness.run(WaitAction(), ["duration": .string("300ms")])
        let elapsed = seconds(since: start)
        #expect(result.succeeded)
        #expect(elapsed >= 0.29 && elapsed < 30, "waited \(elapsed)s")
    }

    @Test func waitIsCancellable() async throws {
        let invocation = ActionHarness.invocation(for: WaitAction(), ["duration": .string("1m")])
        let start = ContinuousClock.now
        let task = Task { try await WaitAction().run(invocation) }
        try await Task.sleep(nanoseconds: 100_000_000)
        task.cancel()
        let outcome = await task.result
        #expect(seconds(since: start) < 30)
        #expect(throws: CancellationError.self) { try outcome.get() }
    }

    @Test func waitShowsItsReason() async throws {
        let emitted = EmittedLines()
        _ = try await ActionHarness.run(WaitAction(), ["duration": .int(0), "reason": .string("let pods settle")],
                                        emitted: emitted)
        #expect(emitted.lines.map(\.message) == ["waiting 0s: let pods settle"])
    }

    @Test func assertPassesWhenEverythingHolds() async throws {
        #expect(try await ActionHarness.run(AssertAction(), ["that": .bool(true)]).succeeded)
        #expect(try await ActionHarness.run(AssertAction(), ["that": .list([.bool(true), .bool(true)])]).succeeded)
    }

    @Test func assertFailsWithItsMessage() async throws {
        let single = try await ActionHarness.run(AssertAction(), ["that": .bool(false)])
        #expect(single.failureMessage == "assertion failed")
        let list = try await ActionHarness.run(AssertAction(), ["that": .list([.bool(true), .bool(false), .bool(true)])])
        #expect(list.failureMessage == "assertion failed (condition 2 of 3)")
        let custom = try await ActionHarness.run(AssertAction(), ["that": .list([.bool(true), .null]),
                                                                  "message": .string("Reward is running away")])
        #expect(custom.failureMessage == "Reward is running away")
    }
}

@Suite("Built-in implementations")
struct ImplementationRegistryTests {
    @Test func implementedActionsAreRegisteredUnderTheirDeclarations() {
        let ids = BuiltinActions.implementations.map(\.descriptor.id)
        #expect(Set(ids).count == ids.count)
        for id in ["http.check", "http.request", "exec", "log", "wait", "assert"] {
            #expect(BuiltinActions.registry.implementation(id) != nil, "\(id) has no implementation")
        }
        for implementation in BuiltinActions.implementations {
            #expect(BuiltinActions.catalog[implementation.descriptor.id] == implementation.descriptor)
        }
        #expect(BuiltinActions.registry.implementation("confirm") == nil, "the engine answers confirm itself")
    }
}
