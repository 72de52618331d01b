import Foundation
@testable import RunbookKit
import Testing

/// `Journal.endedForGood`: the paused-run check before every run skips finished runs by their
/// journal's last line, and reads the whole journal whenever the tail cannot tell.
@Suite("journal tail")
struct JournalTailTests {
    @Test func onlyAWholeLastRunFinishedOtherThanPausedCounts() throws {
        let dir = NSTemporaryDirectory() + "journal-tail-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func ended(_ text: String) throws -> Bool {
            let path = dir + "/j.jsonl"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return Journal.endedForGood(path: path)
        }
        let long = #"{"seq":1,"type":"step_finished","error":""# + String(repeating: "x", count: 2000) + "\"}\n"
        #expect(try ended(long + #"{"seq":2,"type":"run_finished","status":"succeeded"}"# + "\n"))
        #expect(try ended(#"{"seq":1,"type":"run_finished","status":"failed"}"# + "\n"))
        #expect(try !ended(long + #"{"seq":2,"type":"run_finished","status":"paused"}"# + "\n"))
        #expect(try !ended(long + #"{"seq":2,"type":"run_finished","status":"succe"#), "torn last line")
        #expect(try !ended(long), "an interrupted run: its last record is no run_finished")
        #expect(try !ended(""))
        #expect(!Journal.endedForGood(path: dir + "/missing.jsonl"))
    }
}
