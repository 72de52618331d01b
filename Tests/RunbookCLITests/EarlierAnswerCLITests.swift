// SIGKILL a real `runbook run` after its gate was approved, then resume: the journal and the
// output name the original approver and how (not `journal`), and each answer says which question
// it answers.
import Foundation
import RunbookKit
import RunbookTestSupport
import Testing

@Suite("earlier answers after a crash")
struct EarlierAnswerCLITests {
    @Test func aRestatedApprovalNamesTheOriginalApprover() async throws {
        try await RunWorld.with { w in
            let run = try await w.confirmFlowKilledDuringRestart()
            let original = try #require(try w.journal(run).records("confirmation_answered", step: "restart").first)
            let seq = try #require(original["seq"]?.numberValue.map { Int($0) })
            #expect(original["kind"] == .string("confirm"))

            // Another operator re-runs it; the gate's approval is the first operator's.
            let r = try await w.cli(["resume", run, "--approve", "restart"] + w.state, env: ["USER": "second", "SUDO_USER": "second"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("approved by second (--approve restart)"), "the re-run answer: \(r.stdout)")
            let restatedText = "approved by \(RunWorld.user) via --approve restart, earlier answer (seq \(seq))"
            #expect(r.stdout.contains(restatedText), "\(r.stdout)")
            #expect(!r.stdout.contains("by journal"))

            let answers = try w.journal(run).records("confirmation_answered", step: "restart")
            #expect(answers.map { $0["kind"] } == [.string("confirm"), .string("rerun"), .string("confirm")])
            #expect(answers.map { $0["by"] } == [.string(RunWorld.user), .string("second"), .string(RunWorld.user)])
            #expect(answers[2]["how"] == .string("earlier answer"))
            #expect(answers[2]["earlier_how"] == .string("--approve restart"))
            #expect(answers[2]["earlier_seq"] == .int(seq))

            let timeline = try await w.cli(["history", run] + w.state)
            #expect(timeline.stdout.contains("confirmation_answered restart: \(restatedText)"), "\(timeline.stdout)")
        }
    }
}
