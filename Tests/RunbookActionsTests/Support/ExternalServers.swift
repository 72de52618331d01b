// Running real servers (Prometheus, PostgreSQL) from tests: finding their binaries, free loopback
// ports, and processes whose blocking waits happen on threads of their own, never on the
// cooperative pool.
//
// A missing binary skips the test outside CI (with a message saying what to install) and fails it
// in CI (CI=true), where `.ci/run` installs it.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

enum ExternalTools {
    /// Whether the tests run in CI, where a missing server is a failure, not a skip.
    static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The first executable named `name` on PATH or in `extraDirectories`.
    static func find(_ name: String, extraDirectories: [String] = []) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + extraDirectories {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A loopback TCP port nothing listens on right now (bound, read, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ExternalServerError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard bound else { throw ExternalServerError("bind() on 127.0.0.1 failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct ExternalServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The outcome of a program run to completion.
struct ProgramRun: Sendable {
    var status: Int32
    var output: String
}

/// Runs a program to completion, output (stdout and stderr) captured; the wait is on its own thread.
///
/// Output goes to a temporary file, not a pipe: `pg_ctl start` leaves a server running that may
/// inherit the descriptors, and a pipe would then never reach end-of-file.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                currentDirectory: String? = nil) async throws -> ProgramRun {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result {
                let outputPath = NSTemporaryDirectory() + "runbook-program-" + UUID().uuidString + ".log"
                _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
                defer { try? FileManager.default.removeItem(atPath: outputPath) }
                let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
                defer { try? output.close() }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = arguments
                if let environment { process.environment = environment }
                if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
                process.standardOutput = output
                process.standardError = output
                process.standardInput = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                return ProgramRun(status: process.terminationStatus, output: text)
            })
        }
    }
}

/// A server process started by a test; its output goes to a log file read back on failure.
final class ServerProcess: @unchecked Sendable {
    private let process = Process()
    let logPath: String

    /// Starts `path arguments…`, output appended to `logPath`.
    init(_ path: String, _ arguments: [String], logPath: String) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    /// The last lines of the log, for failure messages.
    var logTail: String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// `signal` (default SIGTERM), then wait (on a thread) for the exit.
    func stop(signal: Int32 = SIGTERM) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        let process = process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ prefix: String) throws {
        path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes a file under the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
