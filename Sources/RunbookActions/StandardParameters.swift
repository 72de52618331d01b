// Parameter shapes that several domains share, so that `expect_status` or `timeout` mean the same
// thing in every action that takes them.
import RunbookKit

/// Builders for parameters declared by more than one action.
enum StandardParameters {
    /// One status code or a list of them; when absent any 2xx passes.
    static let statusCodes: ValueType = .oneOf([.int, .list(.int)])

    /// `expect_status`: the HTTP statuses that count as success (absent: 200–299); each is a status
    /// code HTTP defines, 100–599 (a code outside never comes back, so the step could never pass).
    static func expectStatus(_ summary: String = "Status code, or list of codes, that passes; absent: any 200–299")
        -> ParameterDescriptor {
        ParameterDescriptor("expect_status", statusCodes, minimum: 100, maximum: 599, summary)
    }

    /// `timeout`: how long one network operation may take, inside the step's own timeout.
    static func timeout(default seconds: String, _ summary: String) -> ParameterDescriptor {
        ParameterDescriptor("timeout", .duration, default: .string(seconds), summary)
    }

    /// `headers`: extra request headers.
    static let headers = ParameterDescriptor(
        "headers", .map(.string), "Extra request headers (values may use secrets.*, which stay masked)")

    /// `reason`: why a state change was made; recorded in the state store and shown by `runbook state`.
    static let reason = ParameterDescriptor(
        "reason", .string, "Why; recorded with the change and shown by `runbook state` (default: the run id)")
}
