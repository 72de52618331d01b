// The local state store: one SQLite file, `<state dir>/state.sqlite`, holding breakers, flags,
// their history and the incidents. Applications read it directly (see the schema below) or
// through `runbook state --format json`.
import Foundation
import GRDB
import RunbookKit

/// `StateStore` and `IncidentStore` on a SQLite file through GRDB.
///
/// ## File
/// `<state dir>/state.sqlite` (default `.runbook/state.sqlite`), in WAL mode so that readers (the
/// application, `runbook state`) never block a writer and the other way round. Every connection
/// waits up to 10 s for a lock (busy timeout) instead of failing. Every write is one `BEGIN
/// IMMEDIATE` transaction that reads, compares and writes, so several runs and `runbook state`
/// commands in different processes may change the store at the same time without losing a change
/// or allocating an incident id twice. The schema is created and upgraded by GRDB migrations
/// (table `grdb_migrations`); opening and migrating are serialized across processes by `flock` on
/// `locks/state-migration.lock`. The file, and so its `-wal` and `-shm`, is owner-only (600; see
/// `makeOwnerOnly`). Free texts (titles, descriptions, notes, resolutions, reasons) go through
/// `text`/`fullText`, which keep a NUL and what follows it.
///
/// ## Tables
/// Times are RFC 3339 UTC text with milliseconds (`2025-01-31T12:00:00.000Z`), so they sort as text.
/// JSON columns hold JSON text; SQL NULL in them means unset.
///
/// - `breakers(name PRIMARY KEY, state 'open'|'closed', changed_at, actor, run_id, step, reason)`:
///   one row per breaker ever set. **No row means closed.**
/// - `flags(name PRIMARY KEY, value JSON NOT NULL, changed_at, actor, run_id, step, reason)`: one
///   row per flag that has a value. **No row means unset** (setting a flag to null deletes its row).
///   A mode's route flag is `<mode>_mode_route`: no row means the mode serves itself; a string is
///   the mode that serves its requests instead (`creative_mode_route = "balanced"`).
/// - `flag_restore_points(name PRIMARY KEY, value JSON, recorded_at, actor, run_id, step, reason)`:
///   the value a flag had before `feature_flag.set`/`.downshift` first changed it, until
///   `feature_flag.restore` puts it back and deletes the row.
/// - `state_changes(id, kind 'breaker'|'flag', name, operation, previous JSON, value JSON,
///   changed_at, actor, run_id, step, reason)`: every change, in `id` order. `actor` is the run id,
///   or `manual:<user>` for changes by hand; `operation` is `open`, `close`, `set`, `downshift`,
///   `restore` or `manual`. Breaker values are the JSON strings `"open"`/`"closed"`.
/// - `incidents(number PRIMARY KEY, id UNIQUE 'INC-0001', title, description, severity 'sev1'…'sev4',
///   components JSON list, status 'open'|'resolved', created_at, created_by, run_id, resolved_at,
///   resolved_by, resolution)`.
/// - `incident_timeline(seq, incident_id, at, kind, text, run_id, step, actor)`: read in `at, seq` order.
/// - `incident_runs(incident_id, run_id, linked_at)`: runs that write an incident's timeline.
///
/// ## Reading from an application
/// ```sql
/// SELECT state FROM breakers WHERE name = 'qwen';                -- no row: closed
/// SELECT value FROM flags WHERE name = 'creative_mode_route';    -- JSON text; no row: unset
/// ```
/// Open the file read-only (`?mode=ro`) with a busy timeout. WAL readers need write access to the
/// directory (for `state.sqlite-shm`); otherwise use `runbook state --format json`.
public final class SQLiteStore: StateStore, IncidentStore, Sendable {
    /// The database file.
    public let path: String
    private let queue: DatabaseQueue

    /// The file name inside the state directory.
    public static let fileName = "state.sqlite"

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: SQLiteStore] = [:]

    /// The store of a state directory, created (with the directory) when missing. One instance per
    /// directory and process, so actions do not reopen the file on every step.
    public static func open(stateDirectory: String) throws -> SQLiteStore {
        let path = stateDirectory + "/" + fileName
        let key = URL(fileURLWithPath: path).standardizedFileURL.path
        return try cacheLock.withLock {
            if let store = cache[key] { return store }
            let store = try SQLiteStore(stateDirectory: stateDirectory)
            cache[key] = store
            return store
        }
    }

    /// The store of a state directory when its file exists (read-only commands create nothing).
    public static func openExisting(stateDirectory: String) throws -> SQLiteStore? {
        guard FileManager.default.fileExists(atPath: stateDirectory + "/" + fileName) else { return nil }
        return try open(stateDirectory: stateDirectory)
    }

    /// Opens (creating and migrating) `<stateDirectory>/state.sqlite`.
    public init(stateDirectory: String) throws {
        for dir in [stateDirectory, stateDirectory + "/locks"] {
            do { try createDirectories(dir, mode: 0o700) } catch {
                throw StateStoreError("cannot create state directory \(dir): \(error.reason)")
            }
        }
        let path = stateDirectory + "/" + Self.fileName
        self.path = path
        try Self.makeOwnerOnly(path)
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(10)
        config.label = "runbook-state"
        do {
            queue = try Self.withFileLock(stateDirectory + "/locks/state-migration.lock") {
                let queue = try DatabaseQueue(path: path, configuration: config)
                try Self.migrate(queue)
                return queue
            }
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw StateStoreError("cannot open state store \(path): \(error)")
        }
    }

    // MARK: schema

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: breakers, flags, history, incidents") { db in
            let who = "changed_at TEXT NOT NULL, actor TEXT NOT NULL, run_id TEXT, step TEXT, reason TEXT"
            try db.execute(sql: """
                CREATE TABLE breakers (
                    name TEXT PRIMARY KEY NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('closed', 'open')),
                    \(who));
                CREATE TABLE flags (
                    name TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL,
                    \(who));
                CREATE TABLE flag_restore_points (
                    name TEXT PRIMARY KEY NOT NULL,
                    value TEXT,
                    recorded_at TEXT NOT NULL, actor TEXT NOT NULL, run_id TEXT, step TEXT, reason TEXT);
                CREATE TABLE state_changes (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL CHECK (kind IN ('breaker', 'flag')),
                    name TEXT NOT NULL,
                    operation TEXT NOT NULL,
                    previous TEXT,
                    value TEXT,
                    \(who));
                CREATE INDEX state_changes_by_name ON state_changes(name, id);
                CREATE TABLE incidents (
                    number INTEGER PRIMARY KEY NOT NULL,
                    id TEXT NOT NULL UNIQUE,
                    title TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    severity TEXT NOT NULL CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
                    components TEXT NOT NULL DEFAULT '[]',
                    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
                    created_at TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    run_id TEXT,
                    resolved_at TEXT,
                    resolved_by TEXT,
                    resolution TEXT);
                CREATE TABLE incident_timeline (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    incident_id TEXT NOT NULL REFERENCES incidents(id),
                    at TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    text TEXT NOT NULL,
                    run_id TEXT,
                    step TEXT,
                    actor TEXT NOT NULL);
                CREATE INDEX incident_timeline_by_incident ON incident_timeline(incident_id, at, seq);
                CREATE TABLE incident_runs (
                    incident_id TEXT NOT NULL REFERENCES incidents(id),
                    run_id TEXT NOT NULL,
                    linked_at TEXT NOT NULL,
                    PRIMARY KEY (incident_id, run_id));
                CREATE INDEX incident_runs_by_run ON incident_runs(run_id);
                """)
        }
        return migrator
    }

    /// The database file, created owner-only (mode 600) before SQLite opens it: SQLite creates
    /// the `-wal` and `-shm` files with the database file's mode, so they are owner-only too. (Left
    /// to SQLite, the file gets 0644 less the umask, and incidents are readable by everyone.) An
    /// existing file, and `-wal`/`-shm` beside it, lose any group and other permission bits: earlier
    /// versions created them 0644. A file of another owner, which cannot be changed, is left as it is.
    static func makeOwnerOnly(_ path: String) throws {
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            _ = fchmod(fd, 0o600)  // exactly 600, whatever the umask
            close(fd)
            return
        }
        guard errno == EEXIST else { throw StateStoreError("cannot create state store \(path): \(systemErrorText())") }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard lstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o077 != 0 else { continue }
            _ = chmod(file, info.st_mode & 0o700)
        }
    }

    /// Opening and migrating take turns across processes: GRDB's migrator reads the applied
    /// migrations outside its transactions, and a connection that looked at the schema before
    /// another process created it can see a stale schema; so both happen under an exclusive lock.
    private static func withFileLock<T>(_ lockPath: String, _ body: () throws -> T) throws -> T {
        let fd = Foundation.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateStoreError("cannot open \(lockPath): \(systemErrorText())") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StateStoreError("cannot lock \(lockPath): \(systemErrorText())") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private static func migrate(_ queue: DatabaseQueue) throws {
        let migrator = Self.migrator
        if try queue.read({ try migrator.hasBeenSuperseded($0) }) {
            throw StateStoreError("\(queue.path) was written by a newer version of runbook; upgrade runbook")
        }
        try migrator.migrate(queue)
    }

    // MARK: helpers

    /// Runs a write transaction (BEGIN IMMEDIATE), turning database errors into `StateStoreError`.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch let error as StateStoreError {
            throw error
        } catch let error as IncidentStoreError {
            throw error
        } catch {
            throw StateStoreError("state store \(path): \(error)")
        }
    }

    /// Runs a read transaction.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch let error as StateStoreError {
            throw error
        } catch let error as IncidentStoreError {
            throw error
        } catch {
            throw StateStoreError("state store \(path): \(error)")
        }
    }

    static func timestamp(_ date: Date) -> String { Journal.timestamp(date) }

    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }

    /// Text for a `CAST(? AS TEXT)` placeholder, kept whole. GRDB binds a Swift string as a C
    /// string (`sqlite3_bind_text` with length -1), which ends at the first NUL: `"a\u{0}b"` would
    /// be stored as `"a"`. A text with a NUL goes as the blob of its UTF-8 bytes, which the CAST
    /// stores as TEXT with every byte; any other text is bound as it is. Read such a column back
    /// with `CAST(column AS BLOB)` (see `fullText`): GRDB reads TEXT as a C string too.
    static func text(_ string: String?) -> DatabaseValue {
        guard let string else { return .null }
        return string.utf8.contains(0) ? Data(string.utf8).databaseValue : string.databaseValue
    }

    /// `CAST(column AS BLOB) AS column`: a TEXT column read with every byte, NULs included (see
    /// `text`); GRDB turns the blob back into a String.
    static func fullText(_ column: String) -> String { "CAST(\(column) AS BLOB) AS \(column)" }

    /// The columns of `breakers`, `flags` and `state_changes` that say who changed them and why.
    static let whoColumns = "changed_at, actor, run_id, step, \(fullText("reason"))"

    /// JSON text of a value, SQL NULL for `.null`.
    static func json(_ value: Value) -> String? { value == .null ? nil : value.jsonText() }

    /// The value of JSON text; `.null` for SQL NULL.
    static func value(_ json: String?) -> Value {
        guard let json else { return .null }
        return Value.parseJSON(json) ?? .string(json)
    }

    private static func origin(_ row: Row, time column: String = "changed_at") -> ChangeOrigin {
        ChangeOrigin(actor: row["actor"], runID: row["run_id"], step: row["step"], reason: row["reason"],
                     at: date(row[column]) ?? Date(timeIntervalSince1970: 0))
    }

    private static func change(_ row: Row) -> StateChange {
        StateChange(id: row["id"], kind: StateKind(rawValue: row["kind"]) ?? .flag, name: row["name"],
                    operation: row["operation"], previous: value(row["previous"]), value: value(row["value"]),
                    origin: origin(row))
    }

    private static func recordChange(_ db: Database, kind: StateKind, name: String, operation: String,
                                     previous: Value, value: Value, origin: ChangeOrigin) throws -> StateChange {
        try db.execute(sql: """
            INSERT INTO state_changes (kind, name, operation, previous, value, changed_at, actor, run_id, step, reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT))
            """, arguments: [kind.rawValue, name, operation, json(previous), json(value), timestamp(origin.at),
                             origin.actor, origin.runID, origin.step, text(origin.reason)])
        return StateChange(id: db.lastInsertedRowID, kind: kind, name: name, operation: operation,
                           previous: previous, value: value, origin: origin)
    }

    // MARK: StateStore: breakers

    /// Every breaker that was ever set, by name.
    public func breakers() throws -> [BreakerRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT name, state, \(Self.whoColumns) FROM breakers ORDER BY name").map(Self.breaker)
        }
    }

    private static func breaker(_ row: Row) -> BreakerRecord {
        BreakerRecord(name: row["name"], state: BreakerState(rawValue: row["state"]) ?? .closed, lastChange: origin(row))
    }

    private static func breaker(_ db: Database, _ name: String) throws -> BreakerRecord {
        if let row = try Row.fetchOne(db, sql: "SELECT name, state, \(Self.whoColumns) FROM breakers WHERE name = ?",
                                     arguments: [name]) {
            return breaker(row)
        }
        return BreakerRecord(name: name, state: .closed, lastChange: nil)
    }

    /// One breaker; a breaker never set is closed.
    public func breaker(named name: String) throws -> BreakerRecord {
        try read { try Self.breaker($0, name) }
    }

    /// Forces a breaker's state; repeating the current state changes nothing.
    public func setBreaker(_ name: String, to state: BreakerState, operation: String,
                           origin: ChangeOrigin) throws -> StateUpdate {
        try write { db in
            let current = try Self.breaker(db, name)
            let previous = Value.string(current.state.rawValue)
            guard current.state != state else { return StateUpdate(previous: previous, value: previous, change: nil) }
            try db.execute(sql: """
                INSERT INTO breakers (name, state, changed_at, actor, run_id, step, reason)
                VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT))
                ON CONFLICT(name) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at,
                    actor = excluded.actor, run_id = excluded.run_id, step = excluded.step, reason = excluded.reason
                """, arguments: [name, state.rawValue, Self.timestamp(origin.at), origin.actor, origin.runID,
                                 origin.step, Self.text(origin.reason)])
            let change = try Self.recordChange(db, kind: .breaker, name: name, operation: operation, previous: previous,
                                               value: .string(state.rawValue), origin: origin)
            return StateUpdate(previous: previous, value: .string(state.rawValue), change: change)
        }
    }

    // MARK: StateStore: flags

    private static func flag(_ row: Row) -> FlagRecord {
        FlagRecord(name: row["name"], value: value(row["value"]), lastChange: origin(row))
    }

    private static func flag(_ db: Database, _ name: String) throws -> FlagRecord? {
        try Row.fetchOne(db, sql: "SELECT name, value, \(Self.whoColumns) FROM flags WHERE name = ?", arguments: [name])
            .map(flag)
    }

    /// Every flag that has a value, by name.
    public func flags() throws -> [FlagRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT name, value, \(Self.whoColumns) FROM flags ORDER BY name").map(Self.flag) }
    }

    /// One flag; nil when unset.
    public func flag(named name: String) throws -> FlagRecord? {
        try read { try Self.flag($0, name) }
    }

    /// Writes a flag inside a transaction; no-op when the value is unchanged.
    private static func writeFlag(_ db: Database, _ name: String, to value: Value, operation: String,
                                  restorePoint: RestorePointPolicy, origin: ChangeOrigin) throws -> StateUpdate {
        let previous = try flag(db, name)?.value ?? .null
        guard previous != value else { return StateUpdate(previous: previous, value: value, change: nil) }
        if case .keepFirst = restorePoint {
            try db.execute(sql: """
                INSERT OR IGNORE INTO flag_restore_points (name, value, recorded_at, actor, run_id, step, reason)
                VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT))
                """, arguments: [name, json(previous), timestamp(origin.at), origin.actor, origin.runID, origin.step,
                                 text(origin.reason)])
        }
        if value == .null {
            try db.execute(sql: "DELETE FROM flags WHERE name = ?", arguments: [name])
        } else {
            try db.execute(sql: """
                INSERT INTO flags (name, value, changed_at, actor, run_id, step, reason)
                VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT))
                ON CONFLICT(name) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at,
                    actor = excluded.actor, run_id = excluded.run_id, step = excluded.step, reason = excluded.reason
                """, arguments: [name, json(value), timestamp(origin.at), origin.actor, origin.runID, origin.step,
                                 text(origin.reason)])
        }
        let change = try recordChange(db, kind: .flag, name: name, operation: operation, previous: previous,
                                      value: value, origin: origin)
        return StateUpdate(previous: previous, value: value, change: change)
    }

    /// Sets a flag (`.null` unsets it); repeating the current value changes nothing.
    public func setFlag(_ name: String, to value: Value, operation: String, restorePoint: RestorePointPolicy,
                        origin: ChangeOrigin) throws -> StateUpdate {
        try write { db in
            try Self.writeFlag(db, name, to: value, operation: operation, restorePoint: restorePoint, origin: origin)
        }
    }

    /// Puts a flag back to its restore point or to an explicit value, and drops the restore point.
    public func restoreFlag(_ name: String, to target: RestoreTarget, origin: ChangeOrigin) throws -> StateUpdate {
        try write { db in
            let point = try Self.restorePoint(db, name)
            let value: Value
            switch target {
            case .value(let v): value = v
            case .recorded:
                guard let point else {
                    let current = try Self.flag(db, name)?.value ?? .null
                    return StateUpdate(previous: current, value: current, change: nil)
                }
                value = point.value
            }
            try db.execute(sql: "DELETE FROM flag_restore_points WHERE name = ?", arguments: [name])
            return try Self.writeFlag(db, name, to: value, operation: "restore", restorePoint: .none, origin: origin)
        }
    }

    private static let restorePointColumns = "name, value, recorded_at, actor, run_id, step, \(fullText("reason"))"

    private static func restorePoint(_ row: Row) -> RestorePoint {
        RestorePoint(flag: row["name"], value: value(row["value"]), origin: origin(row, time: "recorded_at"))
    }

    private static func restorePoint(_ db: Database, _ name: String) throws -> RestorePoint? {
        try Row.fetchOne(db, sql: "SELECT \(Self.restorePointColumns) FROM flag_restore_points WHERE name = ?",
                         arguments: [name]).map(restorePoint)
    }

    /// The pending restore point of a flag.
    public func restorePoint(flag name: String) throws -> RestorePoint? {
        try read { try Self.restorePoint($0, name) }
    }

    /// Every pending restore point.
    public func restorePoints() throws -> [RestorePoint] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.restorePointColumns) FROM flag_restore_points ORDER BY name")
                .map(Self.restorePoint)
        }
    }

    /// Changes, newest first.
    public func history(name: String?, limit: Int?) throws -> [StateChange] {
        try read { db in
            var sql = "SELECT id, kind, name, operation, previous, value, \(Self.whoColumns) FROM state_changes"
            var arguments: StatementArguments = []
            if let name { sql += " WHERE name = ?"; arguments += [name] }
            sql += " ORDER BY id DESC"
            if let limit { sql += " LIMIT ?"; arguments += [limit] }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.change)
        }
    }
}
