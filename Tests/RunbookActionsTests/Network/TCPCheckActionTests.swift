// tcp.check against a listening loopback port, a refused one, and a name that does not resolve.
import RunbookActions
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("tcp.check")
struct TCPCheckActionTests {
    let action = TCPCheckAction()

    @Test func connectsToAListeningPort() async throws {
        try await withTestHTTPServer { server in
            let result = try await ActionHarness.run(action, ["host": .string("127.0.0.1"), "port": .int(server.port)])
            #expect(result.succeeded, "\(result.failureMessage ?? "")")
            guard case .double(let latency)? = result.outputs["latency_ms"] else {
                Issue.record("no latency_ms")
                return
            }
            #expect(latency >= 0)
            #expect(Set(result.outputs.keys) == Set(NetworkActions.tcpCheck.outputs.map(\.name)))
            let byName = try await ActionHarness.run(action, ["host": .string("localhost"), "port": .int(server.port)])
            #expect(byName.succeeded, "\(byName.failureMessage ?? "")")
        }
    }

    @Test func reportsARefusedConnection() async throws {
        let port = try #require(Int(TestHTTPServer.closedPortURL.split(separator: ":").last ?? ""))
        let result = try await ActionHarness.run(action, ["host": .string("127.0.0.1"), "port": .int(port)])
        #expect(result.failureMessage == "127.0.0.1:\(port): connection refused")
        #expect(result.outputs["latency_ms"] != nil)
    }

    @Test func reportsAnUnknownHost() async throws {
        let result = try await ActionHarness.run(action, ["host": .string("no-such-host.invalid"), "port": .int(6379)])
        #expect(result.failureMessage == "no-such-host.invalid:6379: cannot resolve host 'no-such-host.invalid'")
    }

    @Test func rejectsABadPort() async throws {
        let result = try await ActionHarness.run(action, ["host": .string("127.0.0.1"), "port": .int(70000)])
        #expect(result.failureMessage == "parameter 'port' must be a port number from 1 to 65535")
    }

    @Test func reportsATimeout() async throws {
        let action = TCPCheckAction(connector: StalledConnector())
        let result = try await ActionHarness.run(action, [
            "host": .string("10.255.255.1"), "port": .int(5432), "timeout": .string("200ms"),
        ])
        #expect(result.failureMessage == "10.255.255.1:5432: no connection within 200ms")
    }
}

/// A connector that waits out its timeout, as an unroutable address does (loopback never drops SYNs).
private struct StalledConnector: TCPConnector {
    func connect(host: String, port: Int, timeout: Double) async throws {
        try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
        throw TCPConnectError.timedOut
    }
}
