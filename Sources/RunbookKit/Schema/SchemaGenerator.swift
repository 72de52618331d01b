/// Generates the JSON Schema (draft 2020-12) of the runbook format from the lowering's keys
/// and the action registry, so editors (yaml-language-server) complete and check `with:` blocks.
public struct SchemaGenerator: Sendable {
    public var catalog: ActionCatalog
    public init(catalog: ActionCatalog) { self.catalog = catalog }

    /// `RunbookDuration.parse`'s grammar; the lookahead keeps the empty string out.
    static let durationPattern = "^(?=[0-9])([0-9]+(\\.[0-9]+)?d)?([0-9]+(\\.[0-9]+)?h)?([0-9]+(\\.[0-9]+)?m)?([0-9]+(\\.[0-9]+)?s)?([0-9]+(\\.[0-9]+)?ms)?$"
    private static let idPattern = "^[a-z][a-z0-9_]*$"
    /// Text `Int(_:)` reads after the run trims blanks, and text `Double(_:)` reads (finite forms).
    static let quotedInteger = "^[ ]*[-+]?[0-9]+[ ]*$"
    static let quotedNumber = "^[ ]*[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?[ ]*$"

    private func ref(_ name: String) -> Value { .map(["$ref": .string("#/$defs/\(name)")]) }
    private func obj(_ properties: [String: Value], required: [String] = [], description: String? = nil,
                     additional: Bool = false) -> Value {
        var m: [String: Value] = ["type": .string("object"), "properties": .map(properties),
                                  "additionalProperties": .bool(additional)]
        if !required.isEmpty { m["required"] = .list(required.map(Value.string)) }
        if let description { m["description"] = .string(description) }
        return .map(m)
    }
    private func str(_ description: String, pattern: String? = nil) -> Value {
        var m: [String: Value] = ["type": .string("string"), "description": .string(description)]
        if let pattern { m["pattern"] = .string(pattern) }
        return .map(m)
    }
    private func enumeration(_ values: [String], _ description: String) -> Value {
        .map(["enum": .list(values.map(Value.string)), "description": .string(description)])
    }
    private func described(_ v: Value, _ description: String) -> Value {
        guard case .map(var m) = v else { return v }
        m["description"] = .string(description)
        return .map(m)
    }

    /// The schema of a value of `type`, also accepting a `${{ }}` expression where the type is not text.
    public func schema(for type: ValueType) -> Value { schema(for: type, bounds: [:]) }

    /// `schema(for:)` with a parameter's `minimum`/`maximum` on every number it takes: the value
    /// itself, the items of a list, the number in "a name or a number".
    public func schema(for parameter: ParameterDescriptor) -> Value {
        var bounds: [String: Value] = [:]
        if let low = parameter.minimum { bounds["minimum"] = Self.number(low) }
        if let high = parameter.maximum { bounds["maximum"] = Self.number(high) }
        return schema(for: parameter.type, bounds: bounds)
    }

    /// A bound as JSON: a whole number as an integer (`65535`, not `65535.0`).
    private static func number(_ d: Double) -> Value {
        d == d.rounded() && abs(d) < 1e15 ? .int(Int(d)) : .double(d)
    }

    private func schema(for type: ValueType, bounds: [String: Value]) -> Value {
        let base: Value
        switch type {
        // Lint and the actions take a number where text goes (it is used as its text).
        case .string: return .map(["type": .list([.string("string"), .string("number")])])
        case .url: return .map(["type": .string("string"), "description": .string("an http(s) URL")])
        // An action parameter also takes a bare non-negative number of seconds (docs/format.md).
        case .duration:
            return .map(["anyOf": .list([ref("duration"), .map(["type": .string("number"), "minimum": .int(0)]),
                                         ref("expression")])])
        // A quoted number that converts (`port: "6379"`) fits, as in lint and the run; lint checks its range.
        case .int:
            base = .map(["anyOf": .list([.map(bounds.merging(["type": .string("integer")]) { $1 }),
                                         .map(["type": .string("string"), "pattern": .string(Self.quotedInteger)])])])
        case .number:
            base = .map(["anyOf": .list([.map(bounds.merging(["type": .string("number")]) { $1 }),
                                         .map(["type": .string("string"), "pattern": .string(Self.quotedNumber)])])])
        // `"true"`/`"false"` quoted: lint and the run take them as the bool.
        case .bool: base = .map(["anyOf": .list([.map(["type": .string("boolean")]),
                                                 .map(["enum": .list([.string("true"), .string("false")])])])])
        case .enumeration(let values): base = .map(["enum": .list(values.map(Value.string))])
        case .list(let element): base = .map(["type": .string("array"), "items": schema(for: element, bounds: bounds)])
        case .map(let element):
            base = .map(["type": .string("object"), "additionalProperties": element == .any ? .bool(true) : schema(for: element)])
        case .oneOf(let types): base = .map(["anyOf": .list(types.map { schema(for: $0, bounds: bounds) })])
        case .any: return .map([:])
        }
        // A number or a bool comes from one whole `${{ }}`: text around it could never convert.
        switch type {
        case .int, .number, .bool: return .map(["anyOf": .list([base, ref("wholeExpression")])])
        default: return .map(["anyOf": .list([base, ref("expression")])])
        }
    }

    private func withSchema(_ action: ActionDescriptor) -> Value {
        var properties: [String: Value] = [:]
        for p in action.parameters {
            var s = schema(for: p)
            if case .map(var m) = s {
                var text = p.summary
                if p.secret { text += " (secret: pass as ${{ secrets.NAME }})" }
                m["description"] = .string(text)
                if let d = p.defaultValue { m["default"] = d }
                // As lint: a required text of only blanks is as good as missing.
                if p.required, p.type == .string { m["pattern"] = .string("\\S") }
                s = .map(m)
            }
            properties[p.name] = s
        }
        let schema = obj(properties, required: action.parameters.filter(\.required).map(\.name),
                         description: "parameters of \(action.id): \(action.summary)")
        guard case .map(var m) = schema, !action.constraints.isEmpty else { return schema }
        m["allOf"] = .list(action.constraints.map { constraint(of: $0, in: action) })
        return .map(m)
    }

    /// One `ParameterConstraint` in JSON Schema terms. As in lint, a `${{ }}` expression
    /// counts as given and satisfies a condition on a value.
    public func constraint(of c: ParameterConstraint, in action: ActionDescriptor) -> Value {
        func required(_ names: [String]) -> Value { .map(["required": .list(names.map(Value.string))]) }
        func pairs(_ names: [String]) -> [Value] {
            names.indices.flatMap { i in names[(i + 1)...].map { required([names[i], $0]) } }
        }
        /// The schema of "the condition holds"; `allowExpression`: a `${{ }}` value satisfies it.
        func holds(_ condition: ParameterCondition, allowExpression: Bool) -> Value {
            switch condition {
            case .given(let name):
                return required([name])
            case .equals(let name, let value):
                let same: Value = allowExpression ? .map(["anyOf": .list([.map(["const": value]), ref("expression")])])
                    : .map(["const": value])
                var m: [String: Value] = ["properties": .map([name: same])]
                // Absent counts as the default: `properties` alone holds when the key is missing.
                if action.parameter(named: name)?.defaultValue != value { m["required"] = .list([.string(name)]) }
                return .map(m)
            }
        }
        switch c {
        case .exactlyOne(let names):
            return .map(["oneOf": .list(names.map { required([$0]) }), "description": .string(c.description)])
        case .atLeastOne(let names):
            return .map(["anyOf": .list(names.map { required([$0]) }), "description": .string(c.description)])
        case .atMostOne(let names):
            return .map(["not": .map(["anyOf": .list(pairs(names))]), "description": .string(c.description)])
        case .requires(.given(let a), .given(let b)):
            return .map(["dependentRequired": .map([a: .list([.string(b)])]), "description": .string(c.description)])
        case .requires(let condition, let needed):
            return .map(["if": holds(condition, allowExpression: false), "then": holds(needed, allowExpression: true),
                         "description": .string(c.description)])
        case .nonEmpty(let name):
            return .map(["properties": .map([name: .map(["minLength": .int(1), "minItems": .int(1)])]),
                         "description": .string(c.description)])
        case .ordered:
            // JSON Schema cannot compare two values: lint and the run check it.
            return .map(["description": .string(c.description)])
        case .headerNames(let name):
            return .map(["properties": .map([name: .map(["propertyNames": .map(["pattern": .string("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")])])]),
                         "description": .string(c.description)])
        case .positive(let name):
            // "0s", "0m", 0: what a duration pattern cannot tell from "10s" is refused by name.
            return .map(["properties": .map([name: .map(["not": .map(["anyOf": .list([
                .map(["type": .string("string"), "pattern": .string("^\\s*0+(\\.0+)?(ms|s|m|h|d)?\\s*$")]),
                .map(["type": .list([.string("integer"), .string("number")]), "maximum": .int(0)]),
            ])])])]), "description": .string(c.description)])
        case .regex(let name):
            return .map(["properties": .map([name: .map(["format": .string("regex")])]), "description": .string(c.description)])
        case .systemText(let name):
            // Each keyword applies to its own kind only: the text, a list's items, a mapping's values and names.
            // `not` of a pattern alone would refuse every list and mapping (a pattern holds for them).
            let nul: Value = .map(["type": .string("string"), "pattern": .string("\\u0000")])
            let noNUL: Value = .map(["not": nul])
            return .map(["properties": .map([name: .map([
                "not": nul,
                "items": noNUL,
                "additionalProperties": noNUL,
                "propertyNames": .map(["pattern": .string("^[^=\\u0000]+$")]),
            ])]), "description": .string(c.description)])
        }
    }

    public func generate() -> Value {
        var defs: [String: Value] = [:]
        defs["duration"] = .map(["type": .string("string"), "pattern": .string(Self.durationPattern),
                                 "description": .string("a duration such as 90s, 5m, 1h30m, 500ms")])
        defs["wholeExpression"] = .map(["type": .string("string"), "pattern": .string("^\\s*\\$\\{\\{[\\s\\S]*\\}\\}\\s*$"),
                                        "description": .string("one ${{ }} expression and nothing else, evaluated at run time")])
        defs["expression"] = .map(["type": .string("string"), "pattern": .string("\\$\\{\\{[\\s\\S]*\\}\\}"),
                                   "description": .string("a ${{ }} expression evaluated at run time")])
        // As lint: text that starts with `${{` is one `${{ }}` with nothing around it (its end is
        // the first `}}` outside a 'string'); other text is a bare expression, where `$` and `}`
        // occur only inside a 'string' (`contains(params.msg, '${{')`); or a boolean.
        // yes/no/on/off/y/n are YAML 1.1 booleans, not expressions.
        let yaml11Bool = "^([yY]([eE][sS])?|[nN][oO]?|[oO]([nN]|[fF][fF]))$"
        defs["condition"] = .map(["anyOf": .list([
            .map(["type": .string("string"), "pattern": .string("^\\s*\\$\\{\\{([^'}$]|'[^']*')*\\}\\}\\s*$")]),
            .map(["type": .string("string"), "minLength": .int(1), "pattern": .string("^([^'$}]|'[^']*')*$"),
                  "not": .map(["pattern": .string(yaml11Bool)])]),
            .map(["type": .string("boolean")]),
        ]), "description": .string("an expression: \"${{ steps.x.status == 'failed' }}\" or bare, or true/false")])
        defs["param"] = obj([
            "type": enumeration(ParamType.allCases.map(\.rawValue), "the param's type"),
            "default": .map(["description": .string("value used when --param does not give one")]),
            "required": .map(["type": .string("boolean")]),
            "enum": .map(["type": .string("array"), "minItems": .int(1), "description": .string("allowed values")]),
            "description": .map(["type": .string("string")]),
        ], required: ["type"])
        let statusCode: Value = .map(["type": .string("integer"), "minimum": .int(100), "maximum": .int(599)])
        defs["http_probe"] = obj([
            "url": str("URL to GET"),
            "expect_status": .map(["anyOf": .list([statusCode,
                                                   .map(["type": .string("array"), "items": statusCode])])]),
            "timeout": ref("duration"),
        ], required: ["url"])
        defs["prometheus_probe"] = obj(["query": str("PromQL instant query", pattern: "\\S"), "url": str("Prometheus base URL")],
                                       required: ["query"])
        defs["condition_def"] = obj([
            "id": str("condition id", pattern: Self.idPattern),
            "description": .map(["type": .string("string")]),
            "http": ref("http_probe"),
            "prometheus": ref("prometheus_probe"),
            "alert": .map(["type": .string("object"), "additionalProperties": .map(["type": .string("string")]),
                           "minProperties": .int(1), "description": .string("Alertmanager label matchers")]),
            "consecutive_failures": .map(["type": .string("integer"), "minimum": .int(1)]),
            "above": .map(["type": .string("number")]),
            "below": .map(["type": .string("number")]),
            "equals": .map(["type": .string("number")]),
            "for": ref("duration"),
        ], required: ["id"])
        // As lint requires (missing-key / conflicting-keys): one probe per condition; a prometheus
        // probe compares its value with one of above/below/equals, and no other probe has them.
        if case .map(var condition) = defs["condition_def"]! {
            func required(_ key: String) -> Value { .map(["required": .list([.string(key)])]) }
            let comparisons = ["above", "below", "equals"].map(required)
            condition["allOf"] = .list([
                .map(["oneOf": .list(["http", "prometheus", "alert"].map(required))]),
                .map(["if": required("prometheus"),
                      "then": .map(["oneOf": .list(comparisons)]),
                      "else": .map(["not": .map(["anyOf": .list(comparisons)])])]),
            ])
            defs["condition_def"] = .map(condition)
        }
        defs["confirm"] = .map(["anyOf": .list([
            .map(["type": .string("string"), "minLength": .int(1)]),
            obj(["message": .map(["type": .string("string"), "minLength": .int(1)]), "timeout": ref("duration")], required: ["message"]),
        ])])
        var stepProperties: [String: Value] = [
            "id": str("step id, unique in the runbook", pattern: Self.idPattern),
            "name": .map(["type": .string("string")]),
            "action": enumeration(catalog.ids, "a registered action"),
            "with": .map(["type": .string("object")]),
            "when": ref("condition"),
            "timeout": ref("duration"),
            "on_failure": enumeration(OnFailure.allCases.map(\.rawValue), "what a failure does (default rollback)"),
            "confirm": ref("confirm"),
            "rollback": enumeration(["none"], "this mutating step needs no undo"),
            "retry": obj(["attempts": .map(["type": .string("integer"), "minimum": .int(1), "maximum": .int(10_000)]),
                          "delay": ref("duration"), "backoff": .map(["type": .string("number"), "minimum": .int(1), "maximum": .int(10)])],
                         required: ["attempts"]),
            "until": ref("condition"),
            "undoes": .map(["anyOf": .list([.map(["type": .string("string")]),
                                            .map(["type": .string("array"), "items": .map(["type": .string("string")])])]),
                            "description": .string("rollback steps only: the main step id, or ids, this step undoes")]),
        ]
        stepProperties["with"] = .map(["type": .string("object"), "description": .string("the action's parameters")])
        var step = obj(stepProperties, required: ["id", "action"])
        if case .map(var m) = step {
            m["allOf"] = .list(catalog.descriptors.map { action in
                .map([
                    "if": .map(["properties": .map(["action": .map(["const": .string(action.id)])]),
                                "required": .list([.string("action")])]),
                    "then": .map(["properties": .map(["with": withSchema(action)])]),
                ])
            })
            step = .map(m)
        }
        defs["step"] = step
        let root: [String: Value] = [
            "$schema": .string("https://json-schema.org/draft/2020-12/schema"),
            "$id": .string("https://runbook.dev/schemas/runbook.schema.json"),
            "title": .string("runbook"),
            "description": .string("A declarative SRE runbook (format version 1)"),
            "type": .string("object"),
            "additionalProperties": .bool(false),
            "required": .list(["version", "id", "title", "severity", "automation", "steps"].map(Value.string)),
            "properties": .map([
                "version": .map(["const": .int(1)]),
                "id": str("runbook id; the file is runbooks.d/<id>.yaml", pattern: Self.idPattern),
                "title": .map(["type": .string("string")]),
                "description": .map(["type": .string("string")]),
                "severity": enumeration(Severity.allCases.map(\.rawValue), "incident severity"),
                "automation": enumeration(Automation.allCases.map(\.rawValue), "how much a human is involved"),
                "expected_recovery": ref("duration"),
                "owner": .map(["type": .string("string")]),
                "components": .map(["type": .string("array"), "items": .map(["type": .string("string")])]),
                "params": .map(["type": .string("object"), "additionalProperties": ref("param"),
                                "propertyNames": .map(["pattern": .string(Self.idPattern)])]),
                "triggers": .map(["anyOf": .list([
                    obj(["match": enumeration(["any", "all"], "fire when any or all conditions hold"),
                         "conditions": .map(["type": .string("array"), "items": ref("condition_def")])],
                        required: ["conditions"]),
                    .map(["type": .string("array"), "items": ref("condition_def")]),
                ])]),
                "steps": .map(["type": .string("array"), "minItems": .int(1), "items": ref("step")]),
                "rollback": .map(["type": .string("array"), "items": ref("step")]),
                "manual_recovery": .map(["type": .string("string")]),
                "prevention": .map(["type": .string("array"), "items": .map(["type": .string("string")])]),
            ]),
            "$defs": .map(defs),
        ]
        return .map(root)
    }

    /// The schema as pretty JSON text with a trailing newline.
    public func text() -> String { generate().jsonText(pretty: true) + "\n" }
}
