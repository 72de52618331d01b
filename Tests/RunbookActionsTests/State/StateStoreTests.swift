// The SQLite state store on real files in temporary directories.
import Foundation
import RunbookActions
import RunbookKit
import Testing

/// A fresh state directory, removed at the end of the test.
final class TempStateDir: Sendable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "runbook-state-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A new connection, as another process would open (not the per-process shared instance).
    func newStore() throws -> SQLiteStore { try SQLiteStore(stateDirectory: path) }
}

@Suite("State store (SQLite)")
struct StateStoreTests {
    static var run1: ChangeOrigin { .run("rb-1", step: "s1", reason: "because") }

    @Test func fileIsCreatedInWALMode() throws {
        let dir = try TempStateDir()
        let store = try dir.newStore()
        #expect(store.path == dir.path + "/state.sqlite")
        #expect(FileManager.default.fileExists(atPath: store.path))
        _ = try store.setBreaker("b", to: .open, operation: "open", origin: Self.run1)
        #expect(FileManager.default.fileExists(atPath: store.path + "-wal"))
    }

    @Test func neverSetBreakerIsClosed() throws {
        let store = try TempStateDir().newStore()
        let b = try store.breaker(named: "qwen")
        #expect(b.state == .closed)
        #expect(b.lastChange == nil)
        #expect(try store.breakers().isEmpty)
    }

    @Test func breakerChangesAreRecordedWithOrigin() throws {
        let dir = try TempStateDir()
        let store = try dir.newStore()
        let opened = try store.setBreaker("qwen", to: .open, operation: "open", origin: Self.run1)
        #expect(opened.previous == .string("closed"))
        #expect(opened.value == .string("open"))
        #expect(opened.changed)
        let again = try store.setBreaker("qwen", to: .open, operation: "open", origin: .run("rb-2", step: nil, reason: nil))
        #expect(!again.changed)
        #expect(again.previous == .string("open"))
        let closed = try store.setBreaker("qwen", to: .closed, operation: "manual", origin: .manual(user: "alice", reason: "fixed"))
        #expect(closed.previous == .string("open"))

        // Another connection sees everything.
        let other = try dir.newStore()
        let b = try other.breaker(named: "qwen")
        #expect(b.state == .closed)
        #expect(b.lastChange?.actor == "manual:alice")
        #expect(b.lastChange?.reason == "fixed")
        let history = try other.history(name: "qwen", limit: nil)
        #expect(history.count == 2, "the idempotent repeat records nothing")
        #expect(history.map(\.operation) == ["manual", "open"])
        let first = try #require(history.last)
        #expect(first.kind == .breaker)
        #expect(first.previous == .string("closed"))
        #expect(first.value == .string("open"))
        #expect(first.origin.actor == "rb-1")
        #expect(first.origin.runID == "rb-1")
        #expect(first.origin.step == "s1")
        #expect(first.origin.reason == "because")
        #expect(history.first?.origin.runID == nil)
    }

    @Test("flags hold any JSON value; null unsets", arguments: [
        Value.bool(true), .int(3), .double(0.5), .string("balanced"),
        .list([.int(1), .string("a")]), .map(["a": .map(["b": .bool(false)])]),
    ])
    func flagValuesRoundTrip(_ value: Value) throws {
        let dir = try TempStateDir()
        let store = try dir.newStore()
        #expect(try store.flag(named: "f") == nil)
        let set = try store.setFlag("f", to: value, operation: "set", restorePoint: .none, origin: Self.run1)
        #expect(set.previous == .null)
        #expect(try dir.newStore().flag(named: "f")?.value == value)
        let unset = try store.setFlag("f", to: .null, operation: "set", restorePoint: .none, origin: Self.run1)
        #expect(unset.previous == value)
        #expect(try store.flag(named: "f") == nil)
        #expect(try store.flags().isEmpty)
        let history = try store.history(name: "f", limit: nil)
        #expect(history.map(\.value) == [.null, value])
    }

    @Test func restorePointKeepsTheValueBeforeTheFirstChange() throws {
        let store = try TempStateDir().newStore()
        let flag = "creative_mode_route"
        _ = try store.setFlag(flag, to: .string("balanced"), operation: "downshift", restorePoint: .keepFirst, origin: Self.run1)
        _ = try store.setFlag(flag, to: .string("fast"), operation: "downshift", restorePoint: .keepFirst, origin: Self.run1)
        #expect(try store.restorePoint(flag: flag)?.value == .null)
        let restored = try store.restoreFlag(flag, to: .recorded, origin: Self.run1)
        #expect(restored.previous == .string("fast"))
        #expect(restored.value == .null)
        #expect(restored.change?.operation == "restore")
        #expect(try store.flag(named: flag) == nil)
        #expect(try store.restorePoint(flag: flag) == nil)
        // Idempotent: nothing left to restore.
        let again = try store.restoreFlag(flag, to: .recorded, origin: Self.run1)
        #expect(!again.changed)
        #expect(try store.history(name: flag, limit: nil).count == 3)
    }

    @Test func restoreToAnExplicitValueDropsTheRestorePoint() throws {
        let store = try TempStateDir().newStore()
        _ = try store.setFlag("mode", to: .string("a"), operation: "manual", restorePoint: .none, origin: Self.run1)
        _ = try store.setFlag("mode", to: .string("b"), operation: "set", restorePoint: .keepFirst, origin: Self.run1)
        #expect(try store.restorePoint(flag: "mode")?.value == .string("a"))
        let r = try store.restoreFlag("mode", to: .value(.string("c")), origin: Self.run1)
        #expect(r.previous == .string("b"))
        #expect(try store.flag(named: "mode")?.value == .string("c"))
        #expect(try store.restorePoints().isEmpty)
    }

    @Test func manualChangesDoNotRecordRestorePoints() throws {
        let store = try TempStateDir().newStore()
        _ = try store.setFlag("x", to: .bool(true), operation: "manual", restorePoint: .none, origin: .manual(user: "bob", reason: nil))
        #expect(try store.restorePoint(flag: "x") == nil)
        #expect(try store.history(name: nil, limit: 1).first?.origin.actor == "manual:bob")
    }

    @Test func historyIsNewestFirstAndLimited() throws {
        let store = try TempStateDir().newStore()
        for i in 1...5 {
            _ = try store.setFlag("n", to: .int(i), operation: "set", restorePoint: .none, origin: Self.run1)
        }
        _ = try store.setBreaker("b", to: .open, operation: "open", origin: Self.run1)
        let all = try store.history(name: nil, limit: nil)
        #expect(all.count == 6)
        #expect(all.first?.name == "b")
        #expect(try store.history(name: "n", limit: 2).map(\.value) == [.int(5), .int(4)])
        #expect(all.map(\.id) == all.map(\.id).sorted(by: >))
    }

    @Test("concurrent writers on separate connections lose nothing")
    func concurrentWriters() async throws {
        let dir = try TempStateDir()
        let writers = 8, writes = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    let store = try dir.newStore()
                    for i in 0..<writes {
                        _ = try store.setFlag("counter", to: .string("w\(w)-\(i)"), operation: "set",
                                              restorePoint: .keepFirst, origin: .run("run-\(w)", step: nil, reason: nil))
                        _ = try store.setBreaker("b\(w)", to: i % 2 == 0 ? .open : .closed, operation: "x",
                                                 origin: .run("run-\(w)", step: nil, reason: nil))
                    }
                }
            }
            try await group.waitForAll()
        }
        let store = try dir.newStore()
        let flagChanges = try store.history(name: "counter", limit: nil)
        #expect(flagChanges.count == writers * writes)
        // Each change's previous is the value of the change before it: no lost update.
        let ordered = flagChanges.reversed().map { $0 }
        #expect(ordered.first?.previous == .null)
        for (a, b) in zip(ordered, ordered.dropFirst()) { #expect(b.previous == a.value) }
        #expect(try store.restorePoint(flag: "counter")?.value == .null)
        #expect(try store.breakers().count == writers)
    }

    @Test("a reason with a NUL is stored and read back whole, as TEXT: breakers, flags, restore points, history")
    func reasonWithNULIsKeptWhole() throws {
        let dir = try TempStateDir()
        let store = try dir.newStore()
        let reason = "before\u{0}after"
        let origin = ChangeOrigin.run("rb-1", step: "s", reason: reason)
        _ = try store.setBreaker("b", to: .open, operation: "open", origin: origin)
        _ = try store.setFlag("f", to: .string("x\u{0}y"), operation: "set", restorePoint: .keepFirst, origin: origin)
        let other = try dir.newStore()
        #expect(try other.breaker(named: "b").lastChange?.reason == reason)
        #expect(try other.breakers().first?.lastChange?.reason == reason)
        #expect(try other.flag(named: "f")?.lastChange.reason == reason)
        #expect(try other.flag(named: "f")?.value == .string("x\u{0}y"))
        #expect(try other.flags().first?.lastChange.reason == reason)
        #expect(try other.restorePoint(flag: "f")?.origin.reason == reason)
        #expect(try other.restorePoints().first?.origin.reason == reason)
        #expect(try other.history(name: nil, limit: nil).map(\.origin.reason) == [reason, reason])
        // Other texts are unchanged, and NULL stays NULL.
        _ = try store.setBreaker("b", to: .closed, operation: "close", origin: .run("rb-2", step: nil, reason: nil))
        _ = try store.setBreaker("c", to: .open, operation: "open", origin: .run("rb-2", step: nil, reason: ""))
        #expect(try other.breaker(named: "b").lastChange?.reason == nil)
        #expect(try other.breaker(named: "c").lastChange?.reason == "")
    }

    /// The permission bits of `path`, nil when it does not exist.
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test("in a directory of mode 755, state.sqlite and its -wal and -shm files are created 600")
    func newFilesAreOwnerOnly() throws {
        let dir = try TempStateDir()
        #expect(chmod(dir.path, 0o755) == 0)
        let store = try dir.newStore()
        _ = try store.setBreaker("b", to: .open, operation: "open", origin: Self.run1)
        for file in [store.path, store.path + "-wal", store.path + "-shm"] {
            #expect(Self.mode(file) == 0o600, "\(file)")
        }
        #expect(Self.mode(dir.path) == 0o755, "an existing directory is left as it is")
    }

    @Test("an existing state.sqlite that others may read (as earlier versions created it) is made owner-only")
    func existingFilesAreTightened() throws {
        let dir = try TempStateDir()
        let path = dir.path + "/" + SQLiteStore.fileName
        // Kept open, so that its -wal and -shm files stay.
        let first = try dir.newStore()
        _ = try first.setBreaker("b", to: .open, operation: "open", origin: Self.run1)
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(chmod(file, 0o644) == 0, "\(file)")
        }
        let store = try dir.newStore()
        _ = try store.setBreaker("b", to: .closed, operation: "close", origin: Self.run1)
        #expect(try store.breaker(named: "b").state == .closed)
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(Self.mode(file) == 0o600, "\(file)")
        }
    }
}
