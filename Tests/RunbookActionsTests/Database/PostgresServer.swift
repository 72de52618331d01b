// A real PostgreSQL for tests: a throwaway cluster made with initdb in a temporary directory,
// its `postgres` started (in the foreground, as a child of the test process) on a free 127.0.0.1
// port with a password (scram-sha-256) user, stopped with SIGINT (fast shutdown) and removed at
// the end.
//
// PostgreSQL refuses to run as root. When the tests run as root, initdb and postgres run as the
// `postgres` user (Debian's postgresql packages create it) through `setpriv`, which execs in place
// (unlike runuser or su, which stay in between and do not pass signals on), and the cluster
// directory is handed to that user first.
//
// Not pg_ctl: it leaves a daemon behind that inherits Foundation's process-monitoring socket, so
// Foundation would never notice that pg_ctl itself exited.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

final class PostgresServer: Sendable {
    /// The directory of initdb, postgres and pg_isready: PATH first, else Debian's newest /usr/lib/postgresql/N/bin.
    static let binDirectory: String? = {
        func complete(_ bin: String) -> Bool {
            ["initdb", "postgres", "pg_isready"].allSatisfy { FileManager.default.isExecutableFile(atPath: bin + "/" + $0) }
        }
        if let initdb = ExternalTools.find("initdb"), complete((initdb as NSString).deletingLastPathComponent) {
            return (initdb as NSString).deletingLastPathComponent
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions {
            let bin = "\(root)/\(version)/bin"
            if complete(bin) { return bin }
        }
        return nil
    }()

    static let runningAsRoot = getuid() == 0
    /// Run the real-server tests when PostgreSQL is installed, and always in CI.
    static let shouldRun = binDirectory != nil || ExternalTools.inCI
    static let skipMessage = "postgresql is not installed (apt-get install postgresql); skipped outside CI"

    static let user = "runbook"
    static let password = "s3cret-Pa55word"
    /// Small, so that usage figures are easy to reason about.
    static let maxConnections = 20

    let port: Int
    private let process: ServerProcess
    private let directory: TemporaryDirectory

    private init(port: Int, process: ServerProcess, directory: TemporaryDirectory) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    /// `postgres://runbook:<password>@127.0.0.1:<port>/postgres` (or with another password).
    func dsn(password: String = PostgresServer.password, database: String = "postgres") -> String {
        "postgres://\(Self.user):\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates, configures and starts a cluster.
    static func start() async throws -> PostgresServer {
        guard let bin = binDirectory else {
            throw ExternalServerError("postgresql not found (initdb, postgres): apt-get install postgresql")
        }
        let directory = try TemporaryDirectory("runbook-postgres")
        do {
            try directory.write("pwfile", password + "\n")
            if runningAsRoot {
                let chown = try await runProgram("/bin/chown", ["-R", "postgres:postgres", directory.path])
                guard chown.status == 0 else {
                    throw ExternalServerError("running as root needs the 'postgres' user to own the cluster: "
                        + chown.output)
                }
            }
            let data = directory.path + "/data"
            let initdb = try await asServerUser(bin + "/initdb", [
                "-D", data, "-U", user, "--pwfile=\(directory.path)/pwfile", "--auth=scram-sha-256",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            ])
            guard initdb.status == 0 else { throw ExternalServerError("initdb failed (\(initdb.status)):\n\(initdb.output)") }
            let port = try ExternalTools.freePort()
            let process = try ServerProcess(serverUserCommand(bin + "/postgres"), serverUserArguments(bin + "/postgres", [
                "-D", data, "-p", String(port), "-k", directory.path, "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=\(maxConnections)", "-c", "fsync=off", "-c", "shared_buffers=16MB",
            ]), logPath: directory.path + "/server.log")
            let server = PostgresServer(port: port, process: process, directory: directory)
            do {
                try await server.waitUntilReady(bin: bin)
            } catch {
                await server.stop()
                throw error
            }
            return server
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Polls `pg_isready` (up to 30 s).
    private func waitUntilReady(bin: String) async throws {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(30) {
            guard process.isRunning else { throw ExternalServerError("postgres exited at start:\n\(process.logTail)") }
            let probe = try await runProgram(bin + "/pg_isready", ["-q", "-h", "127.0.0.1", "-p", String(port)])
            if probe.status == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ExternalServerError("postgres not ready within 30 s:\n\(process.logTail)")
    }

    /// Stops the server (SIGINT: fast shutdown, clients cut off) and removes the cluster.
    func stop() async {
        await process.stop(signal: SIGINT)
        directory.remove()
    }

    /// `program`, or setpriv in front of it when running as root.
    private static func serverUserCommand(_ program: String) -> String {
        runningAsRoot ? "/usr/bin/setpriv" : program
    }

    /// The arguments to go with `serverUserCommand(program)`.
    private static func serverUserArguments(_ program: String, _ arguments: [String]) -> [String] {
        runningAsRoot
            ? ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program] + arguments
            : arguments
    }

    /// Runs a server program to completion as the current user, or as `postgres` when that is root.
    private static func asServerUser(_ program: String, _ arguments: [String]) async throws -> ProgramRun {
        try await runProgram(serverUserCommand(program), serverUserArguments(program, arguments))
    }
}

/// Starts a cluster, runs `body`, and stops it even when `body` throws.
func withPostgres<T>(_ body: (PostgresServer) async throws -> T) async throws -> T {
    let server = try await PostgresServer.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
