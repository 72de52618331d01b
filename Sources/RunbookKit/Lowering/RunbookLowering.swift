import Foundation

/// Lowers a YAML node tree to a `Runbook` by hand, so every diagnostic keeps its position.
public enum RunbookLowering {
    /// The keys a runbook's top-level mapping may have.
    public static let runbookKeys = ["version", "id", "title", "description", "severity", "automation",
                                     "expected_recovery", "owner", "components", "params", "triggers", "steps",
                                     "rollback", "manual_recovery", "prevention"]
    /// The keys a step may have.
    public static let stepKeys = ["id", "name", "action", "with", "when", "timeout", "on_failure", "confirm",
                                  "rollback", "retry", "until", "undoes"]
    public static let paramKeys = ["type", "default", "required", "enum", "description"]
    public static let triggerKeys = ["match", "conditions"]
    public static let conditionKeys = ["id", "description", "http", "prometheus", "alert", "consecutive_failures",
                                       "above", "below", "equals", "for"]
    public static let supportedVersions = [1]

    /// The runbook (nil if a required part could not be read) and every diagnostic found.
    public struct Result: Sendable {
        public var runbook: Runbook?
        public var diagnostics: [Diagnostic]
    }

    /// Lowers `root`. Pass the caller's last reference to the tree (`lower(consume root)`) and
    /// each step's YAML subtree is freed as soon as the step is lowered, so the tree and the
    /// runbook are never both whole in memory.
    ///
    /// `streamed` is the sink that was given to `YAMLParser.parse`: the `steps` and `rollback`
    /// lists it lowered while the file was parsed are taken from it.
    public static func lower(_ root: consuming YAMLNode, source: SourceText? = nil, streamed: StepStream? = nil) -> Result {
        var r = NodeReader(source: source)
        let runbook = lowerRunbook(consume root, streamed: streamed, &r)
        var diagnostics = r.bag.diagnostics
        if let streamed { diagnostics += streamed.diagnostics }
        return Result(runbook: runbook, diagnostics: diagnostics)
    }

    /// Lowers the steps of a runbook's `steps:` and `rollback:` lists as the YAML parser hands
    /// them over, so each step's YAML subtree is freed right after it is read and the whole
    /// document is never one tree in memory. Pass it to `YAMLParser.parse(listSink:)`, then to
    /// `lower(_:source:streamed:)`.
    public final class StepStream: PreparingListItemSink {
        /// What is known when a list's steps arrive, for checking each step as it comes.
        public struct ListContext: Sendable {
            /// The list is `rollback:`.
            public var isRollback: Bool
            /// The names of the runbook's params, when an explicit `params:` key comes before the
            /// list (it is then final: a repeated key is dropped, a `<<` merge never overrides an
            /// explicit key); nil when not known yet.
            public var paramNames: Set<String>?
            /// The same params with their declared types (`string` when the type is missing or
            /// invalid, as lowering reads it); nil when not known yet.
            public var paramTypes: [String: ParamType]?
            /// The allowed values of the params whose `enum` is all text; nil when not known yet.
            public var paramEnums: [String: [String]]?
            /// Every step before this list's in the runbook's order (main steps, then rollback
            /// steps) came through the stream: `steps:` when nothing streamed before it,
            /// `rollback:` after a streamed `steps:`. Only then can a step be checked on arrival
            /// against the steps before it.
            public var inOrder: Bool
        }

        public let streamedKeys = ["steps", "rollback"]
        private var reader: NodeReader
        private var current: [Step] = []
        private var context = ListContext(isRollback: false, paramNames: nil, paramTypes: nil, paramEnums: nil, inOrder: false)
        fileprivate var lists: [String: (location: SourceLocation, count: Int, steps: [Step])] = [:]
        /// Called with each lowered step; returns what the runbook keeps of it (the step or a
        /// summary of it). Without it every step is kept whole.
        public var process: ((Step, ListContext) -> Step)?

        typealias ParamTable = (names: Set<String>, types: [String: ParamType], enums: [String: [String]])
        /// The params read for the last list, and where their mapping starts.
        private var paramsRead: (location: SourceLocation, table: ParamTable)?

        /// The file's text, for `prepare` on another thread (which must not touch `reader`).
        private let source: SourceText?

        public init(source: SourceText?) {
            self.source = source
            reader = NodeReader(source: source)
        }

        public func listStarted(_ key: String, precedingPairs: [YAMLNode.Pair]) {
            var params: ParamTable?
            if let pair = precedingPairs.first(where: { $0.key.scalar?.text == "params" }) {
                // `rollback:` after `steps:` sees the same params: read them once.
                if let read = paramsRead, read.location == pair.value.location {
                    params = read.table
                } else {
                    params = RunbookLowering.params(pair.value)
                    paramsRead = (pair.value.location, params!)
                }
            }
            let isRollback = key == "rollback"
            context = ListContext(isRollback: isRollback, paramNames: params?.names, paramTypes: params?.types,
                                  paramEnums: params?.enums, inOrder: isRollback ? lists["steps"] != nil : lists["rollback"] == nil)
        }

        public func item(_ node: consuming YAMLNode, ofList key: String) {
            guard let step = lowerStep(node, isRollback: key == "rollback", &reader) else { return }
            current.append(process.map { $0(step, context) } ?? step)
        }

        /// A step lowered apart from the stream (see `PipelinedListSink`), with its findings.
        public struct Lowered {
            var step: Step?
            var diagnostics: [Diagnostic]
        }

        /// Lowers one item on its own: it depends on nothing but the item and the file's text.
        public func prepare(_ node: consuming YAMLNode, ofList key: String) -> Lowered {
            var own = NodeReader(source: source)
            let step = lowerStep(node, isRollback: key == "rollback", &own)
            return Lowered(step: step, diagnostics: own.bag.diagnostics)
        }

        /// Takes a step `prepare` lowered, in document order: its findings join the stream's
        /// where lowering it here would have put them.
        public func accept(_ lowered: consuming Lowered, ofList key: String) {
            reader.bag.append(contentsOf: lowered.diagnostics)
            guard let step = lowered.step else { return }
            current.append(process.map { $0(step, context) } ?? step)
        }

        public func listEnded(_ key: String, at location: SourceLocation, count: Int) {
            lists[key] = (location, count, current)
            current = []
        }

        fileprivate var diagnostics: [Diagnostic] { reader.bag.diagnostics }

        /// The lowered list under `key` if `node` is the list that was streamed.
        fileprivate func list(_ key: String, for node: YAMLNode) -> (count: Int, steps: [Step])? {
            guard let list = lists[key], node.aliasOrigin == nil, node.location == list.location,
                  node.sequence?.isEmpty == true else { return nil }
            return (list.count, list.steps)
        }
    }

    private static func lowerRunbook(_ root: consuming YAMLNode, streamed: StepStream?, _ r: inout NodeReader) -> Runbook? {
        guard var map = r.mapping(root, what: "a runbook", allowed: runbookKeys) else { return nil }
        let here = root.location
        _ = consume root  // `map` now holds the only references to the top-level values
        let file = here.file

        var version: Located<Int>?
        if let v = r.requireKey(map, "version", what: "the runbook"), let n = r.int(v, what: "'version'") {
            version = n
            if !supportedVersions.contains(n.value) {
                r.error("unsupported-version", "unsupported format version \(n.value); this runbook supports version 1", v)
            }
        }
        let id = r.requireKey(map, "id", what: "the runbook").flatMap { r.identifier($0, what: "runbook id") }
        let title = r.requireKey(map, "title", what: "the runbook").flatMap { r.text($0, what: "'title'") }
        let description = map["description"].flatMap { r.text($0, what: "'description'") }
        let severity = r.requireKey(map, "severity", what: "the runbook").flatMap { r.enumeration($0, Severity.self, what: "severity") }
        let automation = r.requireKey(map, "automation", what: "the runbook").flatMap { r.enumeration($0, Automation.self, what: "automation") }
        let expected = map["expected_recovery"].flatMap { r.duration($0, what: "'expected_recovery'") }
        let owner = map["owner"].flatMap { r.text($0, what: "'owner'") }
        let components = map["components"].map { r.textList($0, what: "'components'") } ?? []
        let params = map["params"].map { lowerParams($0, &r) } ?? []
        let triggers = map["triggers"].flatMap { lowerTriggers($0, &r) }
        var steps: [Step] = []
        if r.requireKey(map, "steps", what: "the runbook") != nil, let node = map.take("steps") {
            if let list = streamed?.list("steps", for: node) {
                if list.count == 0 { r.error("empty-steps", "'steps' must list at least one step", node) }
                steps = list.steps
            } else if let items = r.list(node, what: "'steps'") {
                if items.isEmpty { r.error("empty-steps", "'steps' must list at least one step", node) }
                _ = consume node
                steps = lowerSteps(consume items, isRollback: false, &r)
            }
        }
        var rollback: [Step] = []
        if let node = map.take("rollback") {
            if let list = streamed?.list("rollback", for: node) {
                rollback = list.steps
            } else if let items = r.list(node, what: "'rollback'") {
                _ = consume node
                rollback = lowerSteps(consume items, isRollback: true, &r)
            }
        }
        let manual = map["manual_recovery"].flatMap { r.text($0, what: "'manual_recovery'") }
        let prevention = map["prevention"].map { r.textList($0, what: "'prevention'") } ?? []

        checkDuplicateStepIDs([steps, rollback].joined(), count: steps.count + rollback.count, &r)

        // Missing or invalid required fields were reported; stand-ins that trigger no rule of their
        // own keep the runbook, so every other finding is still collected in the same pass.
        let resolvedVersion = version ?? Located(1, at: here)
        // The file name stands in for a missing id (NSString's path methods are slow: only then).
        let resolvedID = id ?? Located(((file as NSString).lastPathComponent as NSString).deletingPathExtension, at: here)
        let resolvedTitle = title ?? Located(resolvedID.value, at: here)
        let resolvedSeverity = severity ?? Located(.sev4, at: here)
        let resolvedAutomation = automation ?? Located(.automatic, at: here)
        return Runbook(file: file, location: here, version: resolvedVersion, id: resolvedID, title: resolvedTitle,
                       description: description, severity: resolvedSeverity, automation: resolvedAutomation,
                       expectedRecovery: expected, owner: owner, components: components, params: params,
                       triggers: triggers, steps: steps, rollback: rollback, manualRecovery: manual,
                       prevention: prevention)
    }

    private static func checkDuplicateStepIDs(_ steps: FlattenSequence<[[Step]]>, count: Int, _ r: inout NodeReader) {
        var first: [String: SourceLocation] = [:]
        first.reserveCapacity(count)  // no rehashing as it grows (a big runbook has 100,000+ steps)
        for step in steps {
            if let earlier = first[step.id.value] {
                r.bag.error("duplicate-step-id", "duplicate step id '\(step.id.value)'", at: step.id.location,
                            notes: [DiagnosticNote("first defined here", at: earlier)])
            } else {
                first[step.id.value] = step.id.location
            }
        }
    }

    // MARK: params

    private static func lowerParams(_ node: YAMLNode, _ r: inout NodeReader) -> [Param] {
        guard let pairs = node.mapping else {
            r.error("wrong-type", "'params' must be a mapping of name to definition, found \(node.kindDescription)", node)
            return []
        }
        var params: [Param] = []
        for pair in pairs {
            guard let name = r.identifier(pair.key, what: "param name") else { continue }
            guard let map = r.mapping(pair.value, what: "param '\(name.value)'", allowed: paramKeys) else { continue }
            var type = ParamType.string
            // Values are checked against the type only when it is known: after `type: integer`
            // a default of 3 is not the mistake.
            var typeKnown = false
            if let t = r.requireKey(map, "type", what: "param '\(name.value)'") {
                if let s = t.scalar, let known = ParamType(rawValue: s.text) {
                    type = known
                    typeKnown = true
                } else if let s = t.scalar, let meant = paramTypeSynonyms[s.text.lowercased()] {
                    r.error("invalid-enum", "invalid param type '\(s.text)'; the format calls it '\(meant)'", t)
                } else if let parsed = r.enumeration(t, ParamType.self, what: "param type") {
                    type = parsed.value
                    typeKnown = true
                }
            }
            var enumValues: [Value]?
            if let e = map["enum"], let items = r.list(e, what: "'enum' of param '\(name.value)'") {
                enumValues = items.map { r.value(of: $0) }
                if items.isEmpty {
                    r.error("invalid-enum", "'enum' of param '\(name.value)' is empty, so no value could ever be given; "
                            + "list the allowed values or remove 'enum'", e)
                }
                if typeKnown { for item in items { checkParamValue(item, type: type, param: name.value, &r) } }
            }
            var defaultValue: Located<Value>?
            if let d = map["default"], let s = d.scalar, Template.containsExpressionOpener(s.text) {
                // `default: "${{ env.PROMETHEUS_URL }}"`: the env fallback people try first.
                r.warning("expression-not-evaluated", "the default of param '\(name.value)' is used as written: its ${{ }} is not evaluated; "
                          + "give the value with --param, or read env where the param is used", d)
            }
            if let d = map["default"] {
                if !typeKnown {
                    defaultValue = Located(r.value(of: d), at: d.reportLocation)
                } else if checkParamValue(d, type: type, param: name.value, &r) {
                    let v = r.value(of: d)
                    defaultValue = Located(v, at: d.reportLocation)
                    if let enumValues, !Param.enumAllows(enumValues, v) {
                        r.error("invalid-enum", "default of param '\(name.value)' is not one of its 'enum' values", d)
                    }
                }
            }
            var required = defaultValue == nil
            if let req = map["required"], let b = r.bool(req, what: "'required'") {
                if b.value && defaultValue != nil {
                    r.warning("required-with-default", "param '\(name.value)' says 'required: true' but has a default, which a run uses "
                              + "when --param \(name.value) is not given, so it is not required; drop one of the two", req)
                }
                if !b.value && defaultValue == nil && map["default"] == nil {
                    r.warning("optional-without-default", "param '\(name.value)' says 'required: false' but has no default, "
                              + "so a run must still give it; add a default (e.g. default: \"\") to make it optional", req)
                }
                required = b.value || defaultValue == nil
            }
            let description = map["description"].flatMap { r.text($0, what: "'description'")?.value }
            params.append(Param(name: name, type: type, defaultValue: defaultValue, required: required,
                                enumValues: enumValues, description: description, location: pair.key.reportLocation))
        }
        return params
    }

    /// The names of the params `lowerParams` returns for `node`, without lowering them (no
    /// diagnostics): a param is kept when its name is a scalar that is not null and its
    /// definition is a mapping. With each its declared type, read as `lowerParams` reads it:
    /// `string` when `type` is missing or not a type (lowering reports that).
    static func params(_ node: YAMLNode) -> (names: Set<String>, types: [String: ParamType], enums: [String: [String]]) {
        guard let pairs = node.mapping else { return ([], [:], [:]) }
        var names = Set<String>(minimumCapacity: pairs.count)
        var types = [String: ParamType](minimumCapacity: pairs.count)
        var enums: [String: [String]] = [:]
        for pair in pairs {
            guard let key = pair.key.scalar, YAMLNode.resolvePlain(key) != .null, let fields = pair.value.mapping else { continue }
            let typeText = fields.last { sameKey($0.key.scalar?.text ?? "", "type") }?.value.scalar?.text
            names.insert(key.text)
            let type = typeText.flatMap(ParamType.init(rawValue:)) ?? .string
            types[key.text] = type
            if let items = fields.last(where: { sameKey($0.key.scalar?.text ?? "", "enum") })?.value.sequence,
               let values = Runbook.textEnum(items.map { NodeReader(source: nil).value(of: $0) }, type: type) {
                enums[key.text] = values
            }
        }
        return (names, types, enums)
    }

    /// A probe's literal URL must be one the probe can fetch, as an action's `url` parameter
    /// must (one with `${{ }}` is known at run time only).
    private static func checkProbeURL(_ text: String, _ node: YAMLNode, probe: String, _ r: inout NodeReader) {
        guard !Template.containsExpressionOpener(text), !URLCheck.isValid(text) else { return }
        r.error("wrong-type", "'url' of the \(probe) probe must be an absolute http(s) URL, found '\(text)'" + URLCheck.portHint(text), node)
    }

    /// Type names from other languages and JSON Schema, with the format's name for each.
    private static let paramTypeSynonyms: [String: String] = [
        "integer": "int", "float": "number", "double": "number", "decimal": "number", "boolean": "bool",
        "str": "string", "text": "string", "uri": "url", "time": "duration", "interval": "duration",
    ]

    /// Checks a literal against a param type; returns false (with a diagnostic) when it does not fit.
    @discardableResult
    private static func checkParamValue(_ node: YAMLNode, type: ParamType, param: String, _ r: inout NodeReader) -> Bool {
        let value = r.value(of: node)
        let ok: Bool
        switch (type, value) {
        case (.string, .string), (.int, .int), (.number, .int), (.bool, .bool): ok = true
        case (.number, .double(let d)): ok = d.isFinite  // .inf, .nan, 1e400: not a number a step can use
        case (.duration, .string(let s)): ok = RunbookDuration.parse(s) != nil
        case (.url, .string(let s)): ok = URLCheck.isValid(s)
        default: ok = false
        }
        if !ok {
            if case .double(let d) = value, !d.isFinite {
                r.error("wrong-type", "value of param '\(param)' must be a finite number, found \(Value.formatDouble(d))", node)
            } else {
                let hint = if case .string(let s) = value, type == .url { URLCheck.portHint(s) } else { "" }
                r.error("wrong-type", "value of param '\(param)' must be of type \(type.rawValue), found \(describe(value))" + hint, node)
            }
        }
        return ok
    }

    static func describe(_ value: Value) -> String {
        switch value {
        case .string(let s): return "'\(s.prefix(60))'"
        default: return value.typeName
        }
    }

    // MARK: triggers

    private static func lowerTriggers(_ node: YAMLNode, _ r: inout NodeReader) -> Triggers? {
        var match = Triggers.Match.any
        let conditionNodes: [YAMLNode]
        if node.sequence != nil {
            conditionNodes = r.list(node, what: "'triggers'") ?? []
        } else {
            guard let map = r.mapping(node, what: "'triggers'", allowed: triggerKeys) else { return nil }
            if let m = map["match"], let parsed = r.enumeration(m, Triggers.Match.self, what: "trigger match") {
                match = parsed.value
            }
            guard let c = r.requireKey(map, "conditions", what: "'triggers'"),
                  let items = r.list(c, what: "'conditions'") else { return nil }
            conditionNodes = items
        }
        var conditions: [TriggerCondition] = []
        var seen: [String: SourceLocation] = [:]
        for item in conditionNodes {
            guard let c = lowerCondition(item, &r) else { continue }
            if let first = seen[c.id.value] {
                r.bag.error("duplicate-trigger-id", "duplicate trigger condition id '\(c.id.value)'", at: c.id.location,
                            notes: [DiagnosticNote("first defined here", at: first)])
            }
            seen[c.id.value] = c.id.location
            conditions.append(c)
        }
        return Triggers(match: match, conditions: conditions, location: node.reportLocation)
    }

    private static func lowerCondition(_ node: YAMLNode, _ r: inout NodeReader) -> TriggerCondition? {
        guard let map = r.mapping(node, what: "a trigger condition", allowed: conditionKeys) else { return nil }
        guard let idNode = r.requireKey(map, "id", what: "the trigger condition"),
              let id = r.identifier(idNode, what: "trigger id") else { return nil }
        let what = "trigger '\(id.value)'"
        let probes = ["http", "prometheus", "alert"].filter { map[$0] != nil }
        if probes.count != 1 {
            r.error(probes.isEmpty ? "missing-key" : "conflicting-keys",
                    probes.isEmpty ? "\(what) needs one of 'http', 'prometheus' or 'alert'"
                                   : "\(what) has more than one probe (\(probes.joined(separator: ", "))); use one", node)
            return nil
        }
        var comparison: TriggerCondition.Comparison?
        let comparisons = ["above", "below", "equals"].filter { map[$0] != nil }
        if comparisons.count > 1 {
            r.error("conflicting-keys", "\(what) has more than one of 'above', 'below', 'equals'; use one", node)
        } else if let key = comparisons.first,
                  let n = r.number(map[key]!, what: "'\(key)'",
                                   literalIn: "a trigger's threshold (only a probe's 'url' and 'query' take them)") {
            comparison = key == "above" ? .above(n.value) : key == "below" ? .below(n.value) : .equals(n.value)
        }
        let probe: TriggerCondition.Probe
        switch probes[0] {
        case "http":
            guard let h = r.mapping(map["http"]!, what: "'http' probe", allowed: ["url", "expect_status", "timeout"]),
                  let urlNode = r.requireKey(h, "url", what: "the 'http' probe"),
                  let urlText = r.string(urlNode, what: "'url'"),
                  let url = r.template(urlNode, text: urlText.value) else { return nil }
            checkProbeURL(urlText.value, urlNode, probe: "http", &r)
            var codes: [Located<Int>] = []
            if let s = h["expect_status"] {
                if let items = s.sequence {
                    codes = (r.list(s, what: "'expect_status'") ?? []).compactMap { r.int($0, what: "a status code") }
                    // As the actions' `expect_status`: an empty list passes no status at all.
                    if items.isEmpty {
                        r.error("wrong-type", "'expect_status' of \(what) must be a status code or a non-empty list of them", s)
                    }
                } else if let one = r.int(s, what: "'expect_status'") {
                    codes = [one]
                }
            }
            // As the actions' `expect_status`: a code HTTP does not define never comes back.
            let each = h["expect_status"]?.sequence != nil ? "each item of " : ""
            for code in codes where !(100...599).contains(code.value) {
                r.bag.error("out-of-range", "\(each)'expect_status' of \(what) must be between 100 and 599, found \(code.value)",
                            at: code.location)
            }
            let statuses = codes.map(\.value)
            let timeout = h["timeout"].flatMap {
                r.positiveDuration($0, what: "'timeout' of the http probe", literalIn: "a probe's 'timeout' (only a probe's 'url' and 'query' take them)")
            }?.value
            probe = .http(url: url, expectStatus: statuses, timeout: timeout)
            if comparison != nil {
                r.error("conflicting-keys", "\(what): 'above', 'below' and 'equals' apply to prometheus probes only", node)
            }
        case "prometheus":
            guard let p = r.mapping(map["prometheus"]!, what: "'prometheus' probe", allowed: ["query", "url"]),
                  let qNode = r.requireKey(p, "query", what: "the 'prometheus' probe"),
                  let qText = r.string(qNode, what: "'query'"),
                  let query = r.template(qNode, text: qText.value) else { return nil }
            var url: LocatedTemplate?
            if let u = p["url"], let text = r.string(u, what: "'url'") {
                url = r.template(u, text: text.value)
                checkProbeURL(text.value, u, probe: "prometheus", &r)
            }
            if qText.value.allSatisfy(\.isWhitespace) {
                r.error("wrong-type", "'query' of the prometheus probe is empty; write the PromQL to evaluate", qNode)
            }
            probe = .prometheus(query: query, url: url)
            if comparisons.isEmpty {
                r.error("missing-key", "\(what) needs 'above', 'below' or 'equals' to compare the query's value", node)
            }
        default:
            guard let pairs = map["alert"]!.mapping else {
                r.error("wrong-type", "'alert' must be a mapping of label matchers, found \(map["alert"]!.kindDescription)", map["alert"]!)
                return nil
            }
            var matchers: [(key: String, value: String)] = []
            for pair in pairs {
                // Matched against the alert's labels as written.
                guard let k = pair.key.scalar?.text, let v = r.text(pair.value, what: "label '\(k)' of 'alert'") else { continue }
                matchers.append((k, v.value))
            }
            if matchers.isEmpty { r.error("missing-key", "\(what): 'alert' needs at least one label matcher", map["alert"]!) }
            probe = .alert(matchers: matchers)
            if comparison != nil {
                r.error("conflicting-keys", "\(what): 'above', 'below' and 'equals' apply to prometheus probes only", node)
            }
        }
        var consecutive: Int?
        if let c = map["consecutive_failures"], let n = r.int(c, what: "'consecutive_failures'") {
            if n.value < 1 { r.error("out-of-range", "'consecutive_failures' must be at least 1", c) }
            consecutive = n.value
        }
        let forDuration = map["for"].flatMap { r.duration($0, what: "'for'") }
        let description = map["description"].flatMap { r.text($0, what: "'description'")?.value }
        return TriggerCondition(id: id, description: description, probe: probe, comparison: comparison,
                                consecutiveFailures: consecutive, forDuration: forDuration, location: node.reportLocation)
    }

    // MARK: steps

    /// Lowers a `steps` or `rollback` list, dropping each item's YAML subtree once it is lowered
    /// (freed there when the caller gave up its references to the list).
    private static func lowerSteps(_ items: consuming [YAMLNode], isRollback: Bool, _ r: inout NodeReader) -> [Step] {
        var steps: [Step] = []
        steps.reserveCapacity(items.count)
        let empty = YAMLNode(content: .sequence([]), location: SourceLocation(fileID: 0, line: 0, column: 0))
        for index in items.indices {
            let item = items[index]
            items[index] = empty
            if let step = lowerStep(item, isRollback: isRollback, &r) { steps.append(step) }
        }
        return steps
    }

    fileprivate static func lowerStep(_ node: YAMLNode, isRollback: Bool, _ r: inout NodeReader) -> Step? {
        guard let map = r.mapping(node, what: "a step", allowed: stepKeys) else { return nil }
        guard let idNode = r.requireKey(map, "id", what: "the step"),
              let id = r.identifier(idNode, what: "step id") else { return nil }
        let what = "step '\(id.value)'"
        guard let actionNode = r.requireKey(map, "action", what: what),
              let action = r.string(actionNode, what: "'action'") else { return nil }
        // A name with `${{ }}` is evaluated when the step starts (the run shows it so); its
        // expressions are checked like those of `when`.
        var name: String?
        var nameTemplate: LocatedTemplate?
        if let n = map["name"], let text = r.string(n, what: "'name'") {
            name = text.value
            if Template.containsExpressionOpener(text.value) { nameTemplate = r.template(n, text: text.value) }
        }
        var with: [WithArgument] = []
        if let w = map["with"] {
            if case .scalar(let s) = w.content, YAMLNode.resolvePlain(s) == .null {
                // `with:` left empty: no arguments.
            } else if let pairs = w.mapping {
                for pair in pairs {
                    guard let key = pair.key.scalar?.text, let value = r.templateValue(pair.value) else { continue }
                    var yaml11Bools: [Located<String>] = []
                    Self.plainYAML11Bools(in: pair.value, into: &yaml11Bools)
                    with.append(WithArgument(name: Located(key, at: pair.key.reportLocation), value: value,
                                             plainYAML11Bools: yaml11Bools))
                }
            } else {
                r.error("wrong-type", "'with' of \(what) must be a mapping, found \(w.kindDescription)", w)
            }
        }
        let when = map["when"].flatMap { r.condition($0, what: "'when'") }
        let until = map["until"].flatMap { r.condition($0, what: "'until'") }
        // Read before the step runs (and by lint, to weigh it against waits): no expressions.
        let timeout = map["timeout"].flatMap { r.positiveDuration($0, what: "'timeout'", literalIn: "a step's 'timeout'") }
        let onFailure = map["on_failure"].flatMap { r.enumeration($0, OnFailure.self, what: "on_failure") }
        var confirm: Confirmation?
        if let c = map["confirm"] { confirm = lowerConfirm(c, &r) }
        var rollbackNone = false
        if let rb = map["rollback"] {
            if rb.scalar?.text == "none" {
                rollbackNone = true
                if isRollback {
                    r.warning("ignored-key", "'rollback: none' has no effect on a rollback step: rollback steps are never undone", rb)
                }
            } else {
                r.error("invalid-enum", "'rollback' of a step can only be 'none' (this step needs no undo); undo steps go in the runbook's 'rollback' list", rb)
            }
        }
        var retry: Retry?
        if let rt = map["retry"] { retry = lowerRetry(rt, &r) }
        var undoes: [Located<String>] = []
        if let u = map["undoes"] {
            undoes = u.sequence != nil ? r.stringList(u, what: "'undoes'") : (r.string(u, what: "'undoes'").map { [$0] } ?? [])
            if !isRollback {
                r.error("undoes-outside-rollback", "'undoes' belongs on steps of the runbook's 'rollback' list", u)
            }
        }
        if until != nil && retry == nil && map["retry"] == nil {  // a wrong 'retry' is already an error
            r.warning("until-without-retry", "\(what) has 'until' but no 'retry', so it is tried only once", map.keyNode("until")!)
        } else if until != nil, let retry, retry.attempts.value == 1 {
            r.warning("until-without-retry", "\(what) has 'until' but 'retry' allows 1 try in all, so it is tried only once; "
                      + "'attempts' counts the first try", map.keyNode("until")!)
        }
        var step = Step(id: id, name: name, action: action, with: with, withLocation: map.keyNode("with")?.reportLocation,
                        when: when, timeout: timeout,
                        onFailure: onFailure, confirm: confirm, rollbackNone: rollbackNone, retry: retry, until: until,
                        undoes: undoes, isRollbackStep: isRollback, location: node.reportLocation)
        if let nameTemplate { step.nameTemplate = nameTemplate }
        return step
    }

    /// Plain `yes`/`no`/`on`/`off`/`y`/`n` scalars in `node` (values, not keys), at most 8.
    /// Bounded by the depth limit the parser enforces.
    private static func plainYAML11Bools(in node: YAMLNode, into found: inout [Located<String>]) {
        guard found.count < 8 else { return }
        switch node.content {
        case .scalar(let s):
            if s.style == .plain, s.tag == nil, s.text.utf8.count <= 3, NodeReader.boolLike.contains(s.text.lowercased()) {
                found.append(Located(s.text, at: node.reportLocation))
            }
        case .sequence(let items):
            for item in items { plainYAML11Bools(in: item, into: &found) }
        case .mapping(let pairs):
            for pair in pairs { plainYAML11Bools(in: pair.value, into: &found) }
        }
    }

    private static func lowerConfirm(_ node: YAMLNode, _ r: inout NodeReader) -> Confirmation? {
        if let s = node.scalar {
            // `confirm: true` is no confirmation whose prompt is "true": only text is a message.
            guard case .string(let text) = YAMLNode.resolvePlain(s) else {
                r.error("wrong-type", "'confirm' must be a message string or a mapping {message, timeout}, found \(node.kindDescription)",
                        node)
                return nil
            }
            guard !isBlank(text, node, &r) else { return nil }
            return r.template(node, text: text).map { Confirmation(message: $0, location: node.reportLocation) }
        }
        guard let map = r.mapping(node, what: "'confirm'", allowed: ["message", "timeout"]) else { return nil }
        // The timeout is checked even when the message is wrong: one pass reports both.
        let m = r.requireKey(map, "message", what: "'confirm'")
        let text = m.flatMap { r.string($0, what: "'message'") }
        let message: LocatedTemplate? = if let m, let text, !isBlank(text.value, m, &r) { r.template(m, text: text.value) } else { nil }
        let timeout = map["timeout"].flatMap {
            r.positiveDuration($0, what: "'timeout' of a confirmation", literalIn: "a confirmation's 'timeout'")
        }
        guard let message else { return nil }
        return Confirmation(message: message, timeout: timeout, location: node.reportLocation)
    }

    /// A confirmation asks a question: an empty or blank message is an error (and no gate).
    private static func isBlank(_ text: String, _ node: YAMLNode, _ r: inout NodeReader) -> Bool {
        guard text.allSatisfy({ $0.isWhitespace }) else { return false }
        r.error("wrong-type", "the confirmation message is empty; write the question the on-call answers", node)
        return true
    }

    private static func lowerRetry(_ node: YAMLNode, _ r: inout NodeReader) -> Retry? {
        guard let map = r.mapping(node, what: "'retry'", allowed: ["attempts", "delay", "backoff"]) else { return nil }
        // Every key is checked even when 'attempts' is wrong: one pass reports them all.
        let a = r.requireKey(map, "attempts", what: "'retry'")
        // Lint judges them (ranges, `until` with one try, timeout budgets): literal values only.
        let literal = "'retry' (attempts, delay, backoff)"
        let attempts = a.flatMap { r.int($0, what: "'attempts'", literalIn: literal) }
        if let attempts, let a, attempts.value < 1 || attempts.value > 10_000 {
            r.error("out-of-range", "'attempts' must be between 1 and 10000", a)
        }
        let delay = map["delay"].flatMap { r.duration($0, what: "'delay'", literalIn: literal) }
        var backoff: Located<Double>?
        if let b = map["backoff"], let n = r.number(b, what: "'backoff'", literalIn: literal) {
            if n.value < 1 || n.value > 10 { r.error("out-of-range", "'backoff' must be between 1 and 10", b) }
            backoff = n
        }
        guard let attempts else { return nil }
        return Retry(attempts: attempts, delay: delay, backoff: backoff, location: node.reportLocation)
    }
}
