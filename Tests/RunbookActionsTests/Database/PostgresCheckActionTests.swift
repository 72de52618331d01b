// postgres.check against a real PostgreSQL cluster made for the test, plus DSN parsing and the
// failures that need no server (refused, silent server).
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RunbookActions
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("postgres.check against a real PostgreSQL",
       .enabled(if: PostgresServer.shouldRun, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresRealServerTests {
    let action = PostgresCheckAction()

    func check(_ arguments: [String: Value]) async throws -> Result<ActionResult, ActionFailure> {
        let secrets = arguments["dsn"]?.stringValue.map { [$0] } ?? []
        return try await ActionHarness.run(action, arguments, secrets: secrets)
    }

    @Test func checksQueriesAndCredentials() async throws {
        try await withPostgres { server in
            let label = "postgres://runbook@127.0.0.1:\(server.port)/postgres"

            // Healthy: the default query, pool figures.
            let healthy = try await check(["dsn": .string(server.dsn())])
            #expect(healthy.succeeded, "\(healthy.failureMessage ?? "")")
            #expect(Set(healthy.outputs.keys) == Set(DatabaseActions.postgresCheck.outputs.map(\.name)))
            #expect(healthy.outputs["max_connections"] == .int(PostgresServer.maxConnections))
            guard case .int(let connections)? = healthy.outputs["connections"] else {
                Issue.record("no connections output")
                return
            }
            #expect(connections >= 1 && connections < PostgresServer.maxConnections)
            #expect(healthy.outputs["usage"] == .double((Double(connections) / 20 * 10000).rounded() / 10000))
            #expect(healthy.outputs["rows"] == .list([.map(["?column?": .int(1)])]))
            if case .double(let latency)? = healthy.outputs["latency_ms"] { #expect(latency > 0) } else {
                Issue.record("no latency")
            }

            // Column types become values.
            let typed = try await check([
                "dsn": .string(server.dsn()),
                "query": .string("select 1::int2 as small, 42::int8 as big, 2.5::float8 as x, 12.25::numeric as num, "
                    + "'hi'::text as s, true as b, null::int as n, '{\"a\":[1,2]}'::jsonb as j, "
                    + "'2024-05-01 12:00:00+00'::timestamptz as t, 'ok'::name as nm, "
                    + "'3f0f1a6c-2b1e-4d7a-9a3e-1c2d3e4f5a6b'::uuid as u, '10.0.0.1'::inet as addr"),
            ])
            #expect(typed.succeeded, "\(typed.failureMessage ?? "")")
            #expect(typed.outputs["rows"] == .list([.map([
                "small": .int(1), "big": .int(42), "x": .double(2.5), "num": .double(12.25), "s": .string("hi"),
                "b": .bool(true), "n": .null, "j": .map(["a": .list([.int(1), .int(2)])]),
                "t": .string("2024-05-01T12:00:00.000Z"), "nm": .string("ok"),
                "u": .string("3f0f1a6c-2b1e-4d7a-9a3e-1c2d3e4f5a6b"),
                "addr": .string("<inet value: cast it to text in the query>"),
            ])]))

            // At most 100 rows are kept.
            let many = try await check(["dsn": .string(server.dsn()), "query": .string("select generate_series(1, 250) as i")])
            guard case .list(let rows)? = many.outputs["rows"] else {
                Issue.record("no rows")
                return
            }
            #expect(rows.count == 100)
            #expect(rows.last == .map(["i": .int(100)]))

            // Usage above max_usage fails, with the figures kept.
            let crowded = try await check(["dsn": .string(server.dsn()), "max_usage": .double(0.01)])
            #expect(crowded.failureMessage?.hasPrefix("\(label): ") == true)
            #expect(crowded.failureMessage?.contains(" of 20 connections in use (") == true)
            #expect(crowded.failureMessage?.hasSuffix("%), above max_usage 1%") == true, "\(crowded.failureMessage ?? "passed")")
            #expect(crowded.outputs["max_connections"] == .int(20))
            let relaxed = try await check(["dsn": .string(server.dsn()), "max_usage": .double(0.9)])
            #expect(relaxed.succeeded)

            // Wrong password: the server's words, never the password.
            let wrong = try await check(["dsn": .string(server.dsn(password: "not-the-password"))])
            #expect(wrong.failureMessage == "\(label): password authentication failed for user \"runbook\" "
                + "(SQLSTATE 28P01)")
            #expect(wrong.failureMessage?.contains("not-the-password") == false)

            // An unknown database.
            let noDatabase = try await check(["dsn": .string(server.dsn(database: "nope"))])
            #expect(noDatabase.failureMessage == "postgres://runbook@127.0.0.1:\(server.port)/nope: database \"nope\" "
                + "does not exist (SQLSTATE 3D000)")

            // A failing query, and the read-only session.
            let bad = try await check(["dsn": .string(server.dsn()), "query": .string("select * from missing_table")])
            #expect(bad.failureMessage == "\(label): query failed: relation \"missing_table\" does not exist "
                + "(SQLSTATE 42P01)")
            let write = try await check(["dsn": .string(server.dsn()), "query": .string("create table t (x int)")])
            #expect(write.failureMessage == "\(label): query failed: cannot execute CREATE TABLE in a read-only "
                + "transaction (SQLSTATE 25006)")

            // The same server by a key=value DSN.
            let keywords = try await check([
                "dsn": .string("host=127.0.0.1 port=\(server.port) user=runbook password='\(PostgresServer.password)' "
                    + "dbname=postgres sslmode=prefer"),
            ])
            #expect(keywords.succeeded, "\(keywords.failureMessage ?? "")")
        }
    }
}

@Suite("postgres.check without a server")
struct PostgresCheckActionTests {
    let action = PostgresCheckAction()

    @Test func refusedConnection() async throws {
        let port = try #require(Int(TestHTTPServer.closedPortURL.split(separator: ":").last ?? ""))
        let dsn = "postgres://app:hunter22@127.0.0.1:\(port)/app"
        let result = try await ActionHarness.run(action, ["dsn": .string(dsn)], secrets: [dsn])
        #expect(result.failureMessage == "postgres://app@127.0.0.1:\(port)/app: connection refused")
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        // A socket that listens but never accepts: the TCP handshake completes, the startup message
        // gets no reply.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(ok)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let start = ContinuousClock.now
        let result = try await ActionHarness.run(action, [
            "dsn": .string("postgres://app:pw@127.0.0.1:\(port)/app?sslmode=disable"), "timeout": .string("500ms"),
        ])
        #expect(result.failureMessage == "postgres://app@127.0.0.1:\(port)/app: timed out after 500ms")
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func rejectsBadArguments() async throws {
        let noUser = try await ActionHarness.run(action, ["dsn": .string("postgres://localhost/app")])
        #expect(noUser.failureMessage == "parameter 'dsn': the dsn names no user")
        let usage = try await ActionHarness.run(action, ["dsn": .string("postgres://a@localhost/app"), "max_usage": .int(5)])
        #expect(usage.failureMessage == "parameter 'max_usage' must be a fraction from 0 to 1, got 5")
    }

    @Test func parsesURIs() throws {
        let dsn = try PostgresDSN("postgresql://app%40corp:p%3Ass%2Fw@db.internal:6543/orders?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(dsn.user == "app@corp")
        #expect(dsn.password == "p:ss/w")
        #expect(dsn.host == "db.internal")
        #expect(dsn.port == 6543)
        #expect(dsn.database == "orders")
        #expect(dsn.sslMode == .verifyFull)
        #expect(dsn.sslRootCert == "/etc/ca.pem")
        #expect(dsn.redacted == "postgres://app@corp@db.internal:6543/orders")

        let v6 = try PostgresDSN("postgres://u@[::1]:5433")
        #expect(v6.host == "::1")
        #expect(v6.port == 5433)
        #expect(v6.database == nil)
        #expect(v6.password == nil)
        #expect(v6.sslMode == .prefer)
        #expect(v6.redacted == "postgres://u@[::1]:5433")

        let minimal = try PostgresDSN("postgres://u@/db")
        #expect(minimal.host == "localhost")
        #expect(minimal.port == 5432)
    }

    @Test func parsesKeywordPairs() throws {
        let dsn = try PostgresDSN(#"host=/var/run/postgresql port=5432 user=app password='it\'s a secret' dbname=app"#)
        #expect(dsn.host == "/var/run/postgresql")
        #expect(dsn.password == "it's a secret")
        #expect(dsn.database == "app")
    }

    @Test(arguments: [
        ("mysql://u@h/db", "the dsn is neither a postgres:// url nor 'key=value' pairs"),
        ("postgres://u:pw@h:99999/db", "the dsn's port '99999' is not a port number"),
        ("postgres://u@h/db?sslmode=always", "unknown sslmode 'always' (use one of disable, allow, prefer, require, "
            + "verify-ca, verify-full)"),
        ("user=u password='unterminated", "the dsn has an unterminated quoted value"),
        // A raw '/' in the password: its pieces must not become the host and database of messages.
        ("postgres://app:Pa@ssw0rd/2024@127.0.0.1:1/app", "the dsn has an '@' after its first '/': percent-encode '/' (%2F) "
            + "and '@' (%40) in the user name and password"),
        ("postgres://app:p@ss w0rd/+&x@127.0.0.1:1/db", "the dsn has an '@' after its first '/': percent-encode '/' (%2F) "
            + "and '@' (%40) in the user name and password"),
    ])
    func rejectsMalformedDSNs(text: String, message: String) {
        #expect(throws: PostgresDSN.Invalid(description: message)) { try PostgresDSN(text) }
    }
}
