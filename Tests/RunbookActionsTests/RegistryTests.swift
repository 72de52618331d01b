// Consistency of the built-in action declarations: everything that lint, `runbook schema` and
// `runbook docs` will trust about them.
import RunbookActions
import RunbookKit
import Testing

/// Parameterised results name the action by its id instead of dumping the whole declaration.
extension ActionDescriptor: CustomTestStringConvertible {
    public var testDescription: String { id }
}

@Suite("Built-in action registry")
struct RegistryTests {
    static let actions = BuiltinActions.descriptors

    /// `^[a-z][a-z0-9_]*$`, without Foundation regex.
    static func isSnakeCase(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`
    static func isActionID(_ s: String) -> Bool {
        s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isSnakeCase(String($0)) }
    }

    @Test func idsAreUnique() {
        #expect(BuiltinActions.catalog.duplicateIDs == [])
        #expect(Set(Self.actions.map(\.id)).count == Self.actions.count)
    }

    @Test func catalogFindsEveryAction() {
        for action in Self.actions {
            #expect(BuiltinActions.catalog[action.id] == action)
        }
        #expect(BuiltinActions.catalog.ids.count == Self.actions.count)
        #expect(BuiltinActions.catalog["no.such_action"] == nil)
    }

    @Test("every action of the v1 table is registered")
    func specTableIsCovered() {
        let v1 = [
            "http.check", "http.request", "prometheus.query", "assert", "wait", "confirm", "log", "exec",
            "process.stop", "kubernetes.scale", "kubernetes.rollout_restart", "circuit_breaker.open",
            "circuit_breaker.close", "circuit_breaker.status", "feature_flag.set", "feature_flag.downshift",
            "feature_flag.restore", "checkpoint.find_stable", "checkpoint.activate", "notify.slack",
            "notify.pagerduty", "notify.webhook", "incident.create", "incident.note", "incident.resolve",
            "postgres.check", "tcp.check",
        ]
        for id in v1 {
            #expect(BuiltinActions.catalog[id] != nil, "missing \(id)")
        }
    }

    @Test("the test's id and name patterns themselves")
    func patterns() {
        #expect(Self.isActionID("http.check") && Self.isActionID("exec") && Self.isActionID("a.b_2.c"))
        #expect(!Self.isActionID("Http.check") && !Self.isActionID("http.") && !Self.isActionID("http..check"))
        #expect(!Self.isActionID("1http") && !Self.isActionID("http-check") && !Self.isActionID(""))
        #expect(Self.isSnakeCase("expect_status") && !Self.isSnakeCase("expectStatus") && !Self.isSnakeCase("_x"))
    }

    @Test(arguments: actions)
    func idIsWellFormed(_ action: ActionDescriptor) {
        #expect(Self.isActionID(action.id), "bad id '\(action.id)'")
    }

    @Test(arguments: actions)
    func hasSummaryAndExamples(_ action: ActionDescriptor) {
        #expect(!action.summary.isEmpty)
        #expect(!action.examples.isEmpty, "\(action.id) has no example")
        for example in action.examples {
            #expect(example.hasPrefix("- id: "), "\(action.id): an example is a list of steps")
            #expect(example.contains("action: \(action.id)\n"), "\(action.id): an example does not use it")
            #expect(example.hasSuffix("\n"))
            #expect(!example.contains("\t"), "\(action.id): tabs in YAML")
        }
        for p in action.parameters { #expect(!p.summary.isEmpty, "\(action.id).\(p.name) has no summary") }
        for o in action.outputs { #expect(!o.summary.isEmpty, "\(action.id) output \(o.name) has no summary") }
    }

    @Test(arguments: actions)
    func dryRunFailsClosed(_ action: ActionDescriptor) {
        if action.mutating || action.notifies {
            #expect(action.dryRun == .skipped, "\(action.id) changes the world or notifies but is not skipped")
        } else {
            #expect(action.dryRun != .skipped, "\(action.id) is read-only: dry-run should simulate it")
        }
        #expect(action.defaultTimeout > 0)
    }

    @Test(arguments: actions)
    func defaultsMatchTheirTypes(_ action: ActionDescriptor) {
        for p in action.parameters {
            if let value = p.defaultValue {
                #expect(p.type.accepts(value), "\(action.id).\(p.name): default \(value) is not \(p.type)")
                #expect(!p.required, "\(action.id).\(p.name): required with a default")
            }
        }
    }

    @Test(arguments: actions)
    func namesAreSnakeCaseAndUnique(_ action: ActionDescriptor) {
        let params = action.parameters.map(\.name), outputs = action.outputs.map(\.name)
        for name in params + outputs {
            #expect(Self.isSnakeCase(name), "\(action.id): '\(name)' is not snake_case")
        }
        #expect(Set(params).count == params.count, "\(action.id): duplicate parameter")
        #expect(Set(outputs).count == outputs.count, "\(action.id): duplicate output")
    }

    @Test(arguments: actions)
    func messageParametersAreDeclared(_ action: ActionDescriptor) {
        for name in action.messageParameters {
            #expect(action.parameter(named: name) != nil, "\(action.id): unknown message parameter '\(name)'")
            #expect(action.parameter(named: name)?.secret == false, "\(action.id): '\(name)' is secret and a message")
        }
        if action.notifies { #expect(!action.messageParameters.isEmpty, "\(action.id) notifies without text") }
    }

    @Test(arguments: actions)
    func storedParametersAreDeclared(_ action: ActionDescriptor) {
        for name in action.storedParameters {
            #expect(action.parameter(named: name) != nil, "\(action.id): unknown stored parameter '\(name)'")
        }
        // Only actions that write the state store keep a value there.
        if !action.storedParameters.isEmpty { #expect(action.mutating, "\(action.id) stores values but changes nothing") }
    }

    @Test(arguments: actions)
    func secretsAreText(_ action: ActionDescriptor) {
        for p in action.parameters where p.secret {
            #expect(p.type == .string || p.type == .url, "\(action.id).\(p.name): a secret must be text")
        }
    }

    @Test func literalTypeChecks() throws {
        #expect(ValueType.duration.accepts(.string("1h30m")))
        #expect(ValueType.duration.accepts(.string("250ms")))
        #expect(ValueType.duration.accepts(.int(90)))
        #expect(!ValueType.duration.accepts(.string("5 minutes")))
        #expect(!ValueType.duration.accepts(.string("")))
        #expect(!ValueType.duration.accepts(.int(-1)))
        #expect(ValueType.parseDurationLiteral("1h30m") == 5400)
        #expect(ValueType.url.accepts(.string("http://localhost:8000")))
        #expect(!ValueType.url.accepts(.string("localhost")))
        #expect(ValueType.number.accepts(.int(1)))
        #expect(!ValueType.int.accepts(.double(1.5)))
        let codes = try #require(BuiltinActions.catalog["http.check"]?.parameter(named: "expect_status")?.type)
        #expect(codes.accepts(.int(503)))
        #expect(codes.accepts(.list([.int(200), .int(204)])))
        // A quoted number converts, as the run converts it; other text does not.
        #expect(codes.accepts(.list([.string("200")])))
        #expect(!codes.accepts(.list([.string("ok")])))
        #expect(ValueType.enumeration(["GET"]).accepts(.string("GET")))
        #expect(!ValueType.enumeration(["GET"]).accepts(.string("get")))
        #expect(!ValueType.string.accepts(.null))
        #expect(ValueType.any.accepts(.null))
        #expect(ValueType.map(.string).accepts(.map(["a": .string("b")])))
        // The same rules as lint's for `with:` values: a number where text goes is fine (a label
        // value), a bool is not; a url is http(s).
        #expect(ValueType.map(.string).accepts(.map(["a": .int(1)])))
        #expect(!ValueType.map(.string).accepts(.map(["a": .bool(true)])))
        #expect(!ValueType.url.accepts(.string("ftp://files.example/x")))
    }
}

/// Parameter constraints: each names declared parameters, and the schema exports them.
@Suite("Parameter constraints")
struct ParameterConstraintTests {
    @Test("constraints name only declared parameters", arguments: BuiltinActions.descriptors)
    func constraintsNameDeclaredParameters(_ action: ActionDescriptor) {
        for constraint in action.constraints {
            let names: [String] = switch constraint {
            case .exactlyOne(let ps), .atLeastOne(let ps), .atMostOne(let ps): ps
            case .requires(let a, let b): [a.parameter, b.parameter]
            case .nonEmpty(let p), .systemText(let p), .regex(let p), .positive(let p), .headerNames(let p): [p]
            case .ordered(let a, let b): [a, b]
            }
            for name in names { #expect(action.parameter(named: name) != nil, "\(action.id): \(constraint)") }
        }
    }

    @Test("the run-time argument checks are declared")
    func runtimeChecksAreDeclared() throws {
        let catalog = BuiltinActions.catalog
        #expect(try #require(catalog["exec"]).constraints.contains(.exactlyOne(["argv", "command"])))
        #expect(try #require(catalog["exec"]).constraints.contains(.requires(.given("command"), .equals("shell", .bool(true)))))
        #expect(try #require(catalog["process.stop"]).constraints.contains(.exactlyOne(["pattern", "pidfile"])))
        #expect(try #require(catalog["feature_flag.restore"]).constraints.contains(.exactlyOne(["mode", "name"])))
        #expect(try #require(catalog["http.request"]).constraints.contains(.atMostOne(["json", "body"])))
    }

    @Test("the schema exports exactly-one as oneOf and a conflict as not")
    func schemaExportsConstraints() throws {
        let generator = SchemaGenerator(catalog: BuiltinActions.catalog)
        let exec = try #require(BuiltinActions.catalog["exec"])
        let oneOf = generator.constraint(of: .exactlyOne(["argv", "command"]), in: exec)
        #expect(oneOf.jsonText().contains(#""oneOf":[{"required":["argv"]},{"required":["command"]}]"#))
        let request = try #require(BuiltinActions.catalog["http.request"])
        let not = generator.constraint(of: .atMostOne(["json", "body"]), in: request)
        #expect(not.jsonText().contains(#""not":{"anyOf":[{"required":["json","body"]}]}"#))
    }
}

/// `Scenario.problems(for:catalog:)`: what a scenario cannot do to a runbook is said, not dropped.
@Suite("Scenario mismatches")
struct ScenarioMismatchTests {
    /// Runbook `s` (sev4, automatic) with these `steps:` lines.
    static func runbook(steps: String) throws -> Runbook {
        let yaml = "version: 1\nid: s\ntitle: T\nseverity: sev4\nautomation: automatic\nsteps:\n" + steps
        return try #require(Linter(catalog: BuiltinActions.catalog).lint(bytes: Array(yaml.utf8), file: "s.yaml").runbook)
    }

    @Test func failOnAStepADryRunRunsAsWritten() throws {
        let rb = try Self.runbook(steps: """
              - id: note
                action: log
                with: {message: hi}
              - id: check
                action: assert
                with: {that: "${{ true }}"}
            """)
        let scenario = Scenario(steps: ["note": .init(failure: "boom"), "check": .init(outputs: ["passed": .bool(false)]),
                                        "nope": .init()])
        let problems = scenario.problems(for: rb, catalog: BuiltinActions.catalog)
        #expect(problems.contains("step 'note' ('log') runs as written in a dry run: a scenario cannot give it outputs or make it fail; script the steps it reads instead"))
        #expect(problems.contains { $0.hasPrefix("step 'check' ('assert') runs as written") })
        #expect(problems.contains { $0.hasPrefix("scenario names step 'nope'") })
        #expect(Scenario(steps: ["note": .init()]).problems(for: rb, catalog: BuiltinActions.catalog).isEmpty)
    }

    @Test("an output of another type than the action declares is a problem; null and int-for-number are not")
    func outputOfTheWrongType() throws {
        let rb = try Self.runbook(steps: """
              - id: probe
                action: http.check
                with: {url: "http://127.0.0.1:9/health"}
            """)
        let wrong = Scenario(steps: ["probe": .init(outputs: ["status": .string("200"), "timed_out": .string("no")])])
        #expect(wrong.problems(for: rb, catalog: BuiltinActions.catalog) == [
            "step 'probe' ('http.check') output 'status' must be an integer, found '200'",
            "step 'probe' ('http.check') output 'timed_out' must be true or false, found 'no'",
        ])
        let right = Scenario(steps: ["probe": .init(outputs: ["status": .int(200), "latency_ms": .int(12),
                                                              "body": .null, "json": .map(["ok": .bool(true)])])])
        #expect(right.problems(for: rb, catalog: BuiltinActions.catalog).isEmpty)
    }
}

/// `runbook docs ID`: what the on-call reads must carry the facts `show` has, as valid Markdown.
@Suite("Runbook docs rendering")
struct RunbookDocsRenderingTests {
    @Test func confirmationsRetriesParamsAndEscaping() throws {
        let yaml = """
            version: 1
            id: d
            title: T
            severity: sev4
            automation: manual
            params:
              sel: {type: string, default: "a|b", description: "x | y"}
              tick: {type: string, default: "it`s"}
              empty: {type: string, default: ""}
              env_name: {type: string, default: staging, enum: [staging, production]}
            steps:
              - id: probe
                action: http.check
                with: {url: "http://127.0.0.1:9/"}
                timeout: 20s
                retry: {attempts: 4, delay: 2s, backoff: 2}
                until: "${{ steps.probe.outputs.status == 200 }}"
                on_failure: continue
              - id: gate
                action: confirm
                with: {message: "Continue?", timeout: 10m}
              - id: act
                action: log
                with: {message: go}
                confirm: {message: "Really?", timeout: 5m}
            """
        let rb = try #require(Linter(catalog: BuiltinActions.catalog).lint(bytes: Array(yaml.utf8), file: "d.yaml").runbook)
        let md = MarkdownDocs.runbook(rb)
        #expect(md.contains("| `sel` | string | `a\\|b` | x \\| y |"), "\(md)")
        #expect(md.contains("| `tick` | string | ``it`s`` |"))
        #expect(md.contains("| `empty` | string | `\"\"` |"))
        #expect(md.contains("string (one of `staging`, `production`)"))
        #expect(md.contains("timeout 20s per try; up to 4 tries, 2s apart (×2 each time)"))
        #expect(md.contains("(`gate`, confirm): asks: “Continue?” (declined after 10m without an answer)"))
        #expect(md.contains("asks first: “Really?” (declined after 5m without an answer)"))
        #expect(md.contains("(2 manual confirmation steps)"))
    }

    @Test("each step's with: is listed as written; a param alone shows its default; secrets and credential headers are ***")
    func stepArguments() throws {
        let yaml = """
            version: 1
            id: d
            title: T
            severity: sev4
            automation: automatic
            params:
              replicas: {type: int, default: 8}
              host: {type: string, default: db.internal}
              hook_url: {type: url, default: "https://hooks.slack.com/services/T0/B0/HookTok4"}
            steps:
              - id: scale
                action: kubernetes.scale
                with: {deployment: api, replicas: "${{ params.replicas }}"}
                rollback: none
              - id: db
                action: postgres.check
                with: {dsn: "postgres://app:hunter2@127.0.0.1/app", query: "select 1"}
              - id: call
                action: http.check
                with:
                  url: "http://127.0.0.1:9/"
                  headers: {X-Api-Key: abc123, Accept: "${{ 'json' }}"}
              - id: basic
                action: http.check
                with: {url: "http://svc:LiteralPass55@127.0.0.1:9/health"}
              - id: hook
                action: notify.webhook
                with: {url: "https://hooks.example.com/in?sig=WebhookSig99", json: {a: 1}}
              - id: around
                action: postgres.check
                with: {dsn: "postgres://app:AroundPass1@${{ params.host }}/app", query: "select 1"}
              - id: bearer
                action: http.check
                with:
                  url: "https://u:p@ss@AtPassTail2@${{ params.host }}/x"
                  headers: {Authorization: "Bearer BearerTok3${{ params.host }}"}
              - id: hook2
                action: notify.webhook
                with: {url: "${{ params.hook_url }}", json: {a: 1}}
            owner: "team\n# heading"
            prevention: ["one\n# two", "tick ` here"]
            """
        let rb = try #require(Linter(catalog: BuiltinActions.catalog).lint(bytes: Array(yaml.utf8), file: "d.yaml").runbook)
        let md = MarkdownDocs.runbook(rb, catalog: BuiltinActions.catalog)
        #expect(md.contains("   - with: `deployment`: `api`, `replicas`: `${{ params.replicas }}` (`8`)\n"), "\(md)")
        #expect(md.contains("`dsn`: `***`"))
        #expect(!md.contains("hunter2"))
        #expect(md.contains("`headers`: `{X-Api-Key: ***, Accept: ${{ 'json' }}}`"))
        #expect(!md.contains("abc123"))
        // As the dry-run plan: a URL's password and a notification URL's path are hidden.
        #expect(md.contains("`url`: `http://svc:***@127.0.0.1:9/health`"), "\(md)")
        #expect(!md.contains("LiteralPass55"))
        #expect(!md.contains("WebhookSig99"))
        // Secrets written around an expression, a password holding '@', a notification URL's param default.
        for leak in ["AroundPass1", "AtPassTail2", "BearerTok3", "HookTok4"] { #expect(!md.contains(leak), "\(leak): \(md)") }
        #expect(md.contains("| `hook_url` | url | `https://hooks.slack.com/***` |"), "\(md)")
        // Text from the runbook cannot start a heading or a code span.
        #expect(md.contains("- Owner: team # heading.\n"), "\(md)")
        #expect(md.contains("- one # two\n"))
        #expect(md.contains("- tick \\` here\n"))
        #expect(!md.contains("\n# "))
    }
}
