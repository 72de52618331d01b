@testable import RunbookKit

/// Helpers shared by the expression tests (namespaced so they cannot clash with other suites).
enum ExprTestSupport {
    /// A fully parenthesized rendering of a tree, so precedence shows in one string.
    static func render(_ node: ExprNode) -> String {
        switch node.kind {
        case .literal(.string(let s)): "'\(s)'"
        case .literal(let v): v.interpolationText
        case .context(let name): name
        case .member(let base, let name, _): "\(render(base)).\(name)"
        case .index(let base, let index): "\(render(base))[\(render(index))]"
        case .unary(let op, let operand): "(\(op.rawValue)\(render(operand)))"
        case .binary(let op, let lhs, let rhs): "(\(render(lhs)) \(op.rawValue) \(render(rhs)))"
        case .call(let name, _, let args): "\(name)(\(args.map(render).joined(separator: ", ")))"
        }
    }

    /// Parses a bare expression or returns the issues as text.
    static func parse(_ text: String) -> String {
        let (expression, issues) = RunbookKit.Expression.parse(text)
        if let expression { return render(expression.root) }
        return issues.map(\.description).joined(separator: "; ")
    }

    static let context = EvaluationContext(root: [
        "params": .map(["replicas": .int(8), "api_url": .string("http://localhost:8000"), "ratio": .double(0.5),
                        "name": .string("qwen"), "enabled": .bool(true)]),
        "steps": .map([
            "verify": .map([
                "status": .string("succeeded"),
                "error": .null,
                "outputs": .map([
                    "status": .int(200),
                    "json": .map(["reward_mean": .double(120.5), "missing_ok": .null, "tags": .list([.string("a"), .string("b")])]),
                    "body": .string("{\"a\": {\"b\": [1, 2.5, \"x\", null, true]}}"),
                    "empty": .string(""),
                ]),
            ]),
            "failed_step": .map(["status": .string("failed"), "error": .string("timeout"), "outputs": .map([:])]),
        ]),
        "env": .map(["HOME": .string("/root")]),
        "secrets": .map(["token": .string("hunter2")]),
        "run": .map(["id": .string("r-1"), "runbook": .string("demo"), "dry_run": .bool(false),
                     "started_at": .string("2024-01-01T00:00:00Z")]),
        "trigger": .map(["labels": .map(["alertname": .string("QwenDown")]), "annotations": .map([:])]),
    ])

    /// Evaluates a bare expression against `context`.
    static func eval(_ text: String, in ctx: EvaluationContext = context) throws -> Value {
        let (expression, issues) = RunbookKit.Expression.parse(text)
        guard let expression else {
            throw ParseFailure(issues: issues)
        }
        return try expression.evaluate(in: ctx)
    }

    struct ParseFailure: Error, CustomStringConvertible {
        var issues: [ExpressionIssue]
        var description: String { issues.map(\.description).joined(separator: "; ") }
    }

    /// The evaluation error of a bare expression, or nil when it succeeds.
    static func evalError(_ text: String, in ctx: EvaluationContext = context) -> ExpressionError? {
        guard let expression = RunbookKit.Expression.parse(text).expression else { return nil }
        do {
            _ = try expression.evaluate(in: ctx)
            return nil
        } catch {
            return error
        }
    }
}
