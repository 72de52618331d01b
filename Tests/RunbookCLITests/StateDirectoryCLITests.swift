// A state directory that cannot be created: the OS's reason, exit 2.
import Foundation
import Testing

@Suite("a state directory that cannot be created")
struct StateDirectoryCLITests {
    @Test("run says why in the OS's words and exits 2")
    func uncreatableStateDirectory() async throws {
        let dir = try TempDir(); defer { dir.cleanup() }
        try dir.write("logger.yaml", logRunbook)
        try dir.write("a-file", "")
        let r = try await CLI.run(["run", "logger.yaml", "--state-dir", dir.path + "/a-file/state"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr == "error: cannot create state directory \(dir.path)/a-file/state: not a directory\n", "\(r.stderr)")
        if FileManager.default.fileExists(atPath: "/proc/1") {
            let proc = try await CLI.run(["run", "logger.yaml", "--state-dir", "/proc/1/nope"], in: dir.path)
            #expect(proc.status == 2)
            #expect(proc.stderr.hasPrefix("error: cannot create state directory /proc/1/nope: "), "\(proc.stderr)")
            #expect(!proc.stderr.contains("could not be completed"), "\(proc.stderr)")
        }
        let state = try await CLI.run(["state", "flag", "f", "1", "--state-dir", dir.path + "/a-file/state"], in: dir.path)
        #expect(state.status == 2)
        #expect(state.stderr == "error: cannot create state directory \(dir.path)/a-file/state: not a directory\n", "\(state.stderr)")
    }
}
