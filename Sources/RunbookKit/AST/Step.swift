/// One step of a runbook's `steps:` or `rollback:` list.
///
/// The fields live in one immutable box: lint rules and the engine copy steps as they walk
/// them, and a copy is now one reference count instead of one per field. Setting a field
/// replaces the box (copy on write).
public struct Step: Sendable {
    private struct Fields: Sendable {
        var id: Located<String>
        var name: String?
        var action: Located<String>
        var with: [WithArgument]
        /// Where the `with:` key is written (nil without `with:`).
        var withLocation: SourceLocation?
        var timeout: Located<RunbookDuration>?
        var onFailure: Located<OnFailure>?
        var rollbackNone: Bool
        var undoes: [Located<String>]
        var isRollbackStep: Bool
        var isSummary: Bool
        var location: SourceLocation
        /// `when`, `until`, `confirm` and `retry`: most steps have none of them, and inline they
        /// were most of a step's size (lint keeps every step of a runbook in memory).
        var rare: RareFields?
    }

    private struct RareFieldsValue: Sendable {
        var when: LocatedTemplate?
        var confirm: Confirmation?
        var retry: Retry?
        var until: LocatedTemplate?
        var nameTemplate: LocatedTemplate?
        var isEmpty: Bool { when == nil && confirm == nil && retry == nil && until == nil && nameTemplate == nil }
    }

    private final class RareFields: Sendable {
        let value: RareFieldsValue
        init(_ value: RareFieldsValue) { self.value = value }
    }

    private var rare: RareFieldsValue {
        box.fields.rare?.value ?? RareFieldsValue()
    }

    private mutating func updateRare(_ change: (inout RareFieldsValue) -> Void) {
        var value = rare
        change(&value)
        update { $0.rare = value.isEmpty ? nil : RareFields(value) }
    }

    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    private mutating func update(_ change: (inout Fields) -> Void) {
        var fields = box.fields
        change(&fields)
        box = Box(fields)
    }

    public var id: Located<String> {
        get { box.fields.id }
        set { update { $0.id = newValue } }
    }
    public var name: String? {
        get { box.fields.name }
        set { update { $0.name = newValue } }
    }
    public var action: Located<String> {
        get { box.fields.action }
        set { update { $0.action = newValue } }
    }
    /// The `with:` block in document order.
    public var with: [WithArgument] {
        get { box.fields.with }
        set { update { $0.with = newValue } }
    }
    /// Where the `with:` key is written (nil when the step has no `with:`): findings about
    /// the block as a whole (a missing parameter) point there.
    public var withLocation: SourceLocation? {
        get { box.fields.withLocation }
        set { update { $0.withLocation = newValue } }
    }
    public var when: LocatedTemplate? {
        get { rare.when }
        set { updateRare { $0.when = newValue } }
    }
    public var timeout: Located<RunbookDuration>? {
        get { box.fields.timeout }
        set { update { $0.timeout = newValue } }
    }
    public var onFailure: Located<OnFailure>? {
        get { box.fields.onFailure }
        set { update { $0.onFailure = newValue } }
    }
    public var confirm: Confirmation? {
        get { rare.confirm }
        set { updateRare { $0.confirm = newValue } }
    }
    /// `rollback: none`: this mutating step needs no undo.
    public var rollbackNone: Bool {
        get { box.fields.rollbackNone }
        set { update { $0.rollbackNone = newValue } }
    }
    public var retry: Retry? {
        get { rare.retry }
        set { updateRare { $0.retry = newValue } }
    }
    public var until: LocatedTemplate? {
        get { rare.until }
        set { updateRare { $0.until = newValue } }
    }
    /// The name parsed as a template when it holds a `${{ }}` (`name: "Scale ${{ params.deployment }}"`):
    /// a run shows it evaluated when the step starts. Nil for a plain name.
    public var nameTemplate: LocatedTemplate? {
        get { rare.nameTemplate }
        set { updateRare { $0.nameTemplate = newValue } }
    }
    /// For rollback steps: which steps this one undoes.
    public var undoes: [Located<String>] {
        get { box.fields.undoes }
        set { update { $0.undoes = newValue } }
    }
    /// True for steps of the `rollback:` list.
    public var isRollbackStep: Bool {
        get { box.fields.isRollbackStep }
        set { update { $0.isRollbackStep = newValue } }
    }
    /// A step lint has already checked with every step rule (`StepLintRule`) and reduced to what
    /// the whole-runbook rules read (`summary(keeping:)`): it has no `with:` arguments but the
    /// kept ones, no `when`, `until` or name.
    public var isSummary: Bool { box.fields.isSummary }
    /// Every template of the step an expression can be in: the `with:` values (nested ones too),
    /// `when`, `until`, the `confirm:` message and a name with `${{ }}`.
    public var templates: [LocatedTemplate] {
        var out: [LocatedTemplate] = []
        forEachTemplate { out.append($0) }
        return out
    }

    /// `body` for every template of `templates`, in that order, without building the list
    /// (lint's step rules call this for every step).
    public func forEachTemplate(_ body: (LocatedTemplate) -> Void) {
        for argument in with { argument.value.forEachTemplate(body) }
        if let when { body(when) }
        if let until { body(until) }
        if let message = confirm?.message { body(message) }
        if let nameTemplate { body(nameTemplate) }
    }
    /// Where the step's mapping starts.
    public var location: SourceLocation {
        get { box.fields.location }
        set { update { $0.location = newValue } }
    }

    public init(id: Located<String>, name: String? = nil, action: Located<String>, with: [WithArgument] = [],
                withLocation: SourceLocation? = nil, when: LocatedTemplate? = nil, timeout: Located<RunbookDuration>? = nil,
                onFailure: Located<OnFailure>? = nil, confirm: Confirmation? = nil, rollbackNone: Bool = false,
                retry: Retry? = nil, until: LocatedTemplate? = nil, undoes: [Located<String>] = [],
                isRollbackStep: Bool = false, location: SourceLocation) {
        let rare = RareFieldsValue(when: when, confirm: confirm, retry: retry, until: until)
        box = Box(Fields(id: id, name: name, action: action, with: with, withLocation: withLocation, timeout: timeout,
                         onFailure: onFailure,
                         rollbackNone: rollbackNone, undoes: undoes, isRollbackStep: isRollbackStep, isSummary: false,
                         location: location, rare: rare.isEmpty ? nil : RareFields(rare)))
    }

    /// This step reduced to what the whole-runbook lint rules read, once every step rule has
    /// checked it: id, action, timeout, on_failure, confirm, retry, rollback: none, undoes and
    /// locations; of `with:`, only the arguments `keeping` names for the step's action. Lint keeps
    /// these for a large runbook instead of whole steps. Not for running.
    public func summary(keeping arguments: [String: Set<String>] = [:]) -> Step {
        var fields = box.fields
        let kept = arguments[fields.action.value] ?? []
        fields.with = kept.isEmpty ? [] : fields.with.filter { kept.contains($0.name.value) }
        fields.name = nil
        fields.isSummary = true
        if var value = fields.rare?.value {
            // `when: false` is kept: whole-runbook rules must not count a step that never runs.
            if value.when?.template.isConstantFalse != true { value.when = nil }
            value.until = nil
            value.nameTemplate = nil
            fields.rare = value.isEmpty ? nil : RareFields(value)
        }
        var copy = self
        copy.box = Box(fields)
        return copy
    }

    /// The on_failure mode in force (default `rollback`).
    public var failureMode: OnFailure { onFailure?.value ?? .rollback }

    /// The `with:` argument of that name.
    public func argument(_ name: String) -> WithArgument? { with.first { $0.name.value == name } }

    /// What the step asks a person before it acts, as written, and after how long an
    /// unanswered question counts as declined: a `confirm:` gate's message and timeout, or the
    /// `confirm` action's `message` and `timeout` (else the step's timeout, else the action's
    /// 30m, as the run does). Nil when the step asks nothing.
    public var question: (text: String, expiry: String?)? {
        if let c = confirm { return (c.message.template.source, c.timeout.map { $0.value.description }) }
        guard action.value == "confirm" else { return nil }
        let expiry = argument("timeout")?.value.writtenText ?? (timeout?.value ?? RunbookDuration(seconds: 1800)).description
        return (argument("message")?.value.writtenText ?? title, expiry)
    }

    /// A display title: the name, else the id.
    public var title: String { name ?? id.value }
}

/// What happens when a step fails.
public enum OnFailure: String, Sendable, CaseIterable {
    case rollback, abort, `continue`
}

/// One `key: value` of a step's `with:` block.
public struct WithArgument: Sendable {
    public var name: Located<String>
    public var value: TemplateValue
    /// Plain (unquoted) `yes`/`no`/`on`/`off`/`y`/`n` in the value, top level or nested (at
    /// most 8): strings in YAML 1.2, booleans to whoever wrote YAML 1.1 (Ansible). Lint warns
    /// where the parameter takes any value (`feature_flag.set value: off` would store the text
    /// "off", which reads as true; so would `json: {maintenance: off}`).
    public var plainYAML11Bools: [Located<String>]
    public init(name: Located<String>, value: TemplateValue, plainYAML11Bools: [Located<String>] = []) {
        self.name = name
        self.value = value
        self.plainYAML11Bools = plainYAML11Bools
    }
}

/// A YAML value whose strings may hold `${{ }}` expressions, resolved at run time.
public indirect enum TemplateValue: Sendable {
    case literal(Value, SourceLocation)
    case template(LocatedTemplate)
    case list([TemplateValue], SourceLocation)
    case map([(key: Located<String>, value: TemplateValue)], SourceLocation)

    public var location: SourceLocation {
        switch self {
        case .literal(_, let l), .list(_, let l), .map(_, let l): l
        case .template(let t): t.location
        }
    }

    /// Every template inside, depth first.
    public var templates: [LocatedTemplate] {
        var out: [LocatedTemplate] = []
        forEachTemplate { out.append($0) }
        return out
    }

    /// `body` for every template inside, depth first, without building a list.
    public func forEachTemplate(_ body: (LocatedTemplate) -> Void) {
        switch self {
        case .literal: return
        case .template(let t): body(t)
        case .list(let items, _): for item in items { item.forEachTemplate(body) }
        case .map(let pairs, _): for pair in pairs { pair.value.forEachTemplate(body) }
        }
    }

    /// The value as written, for people: a literal's text, a template's source.
    public var writtenText: String {
        switch self {
        case .literal(let v, _): v.interpolationText
        case .template(let t): t.template.source
        default: staticValue?.interpolationText ?? "…"
        }
    }

    /// The value when it holds no expression.
    public var staticValue: Value? {
        switch self {
        case .literal(let v, _): return v
        case .template(let t): return t.template.hasExpressions ? nil : .string(t.template.source)
        case .list(let items, _):
            var out: [Value] = []
            for item in items {
                guard let v = item.staticValue else { return nil }
                out.append(v)
            }
            return .list(out)
        case .map(let pairs, _):
            var out: [String: Value] = [:]
            for p in pairs {
                guard let v = p.value.staticValue else { return nil }
                out[p.key.value] = v
            }
            return .map(out)
        }
    }
}

/// A parsed template plus where its string was written, so expression issues get exact columns.
public struct LocatedTemplate: Sendable {
    public var template: Template
    /// Where the YAML scalar starts (its quote, if quoted).
    public var location: SourceLocation
    /// Maps a Unicode-scalar offset within the template source to a file location.
    public var positions: TemplatePositions

    public init(template: Template, location: SourceLocation, positions: TemplatePositions) {
        self.template = template
        self.location = location
        self.positions = positions
    }

    public func location(ofOffset offset: Int) -> SourceLocation { positions.location(ofOffset: offset) }

    /// A lint-time issue of one of the template's expressions, at its exact place in the file.
    public func diagnostic(_ issue: ExpressionIssue) -> Diagnostic {
        Diagnostic(issue.severity, issue.ruleID, issue.message, at: location(ofOffset: issue.offset))
    }
}

/// Offset → line/column for text inside a scalar: piecewise, one segment per run of characters
/// copied verbatim from one source line (`ScalarPositions` builds them for escapes, folded lines
/// and block scalars). A character an escape produced maps to its backslash.
public struct TemplatePositions: Sendable {
    /// Location of the first character of the scalar's content (after any quote).
    public var contentStart: SourceLocation
    /// Where each segment starts in the file; empty when the whole value is one segment from
    /// `contentStart`.
    public var lineStarts: [SourceLocation]
    /// Offsets (in Unicode scalars of the value) where each segment starts (parallel to `lineStarts`).
    public var lineOffsets: [Int]
    /// Every offset is at `contentStart`: the text was copied in by an alias, and findings in
    /// it point at the alias (its columns say nothing about the alias's line).
    public var pinned: Bool

    public init(contentStart: SourceLocation, lineStarts: [SourceLocation] = [], lineOffsets: [Int] = [],
                pinned: Bool = false) {
        self.contentStart = contentStart
        self.lineStarts = lineStarts
        self.lineOffsets = lineOffsets
        self.pinned = pinned
    }

    public func location(ofOffset offset: Int) -> SourceLocation {
        if pinned { return contentStart }
        if let n = lineOffsets.lastIndex(where: { $0 <= offset }) {
            let start = lineStarts[n]
            return start.moved(toLine: start.line, column: start.column + offset - lineOffsets[n])
        }
        return contentStart.moved(toLine: contentStart.line, column: contentStart.column + offset)
    }

    /// The same positions for the value with `count` characters put in front of it (a bare
    /// condition is parsed as `${{` + text + `}}`): the added ones map to the columns before it.
    public func prefixed(by count: Int) -> TemplatePositions {
        guard !pinned else { return self }
        var shifted = self
        shifted.contentStart.column -= count
        shifted.lineOffsets = lineOffsets.map { $0 + count }
        return shifted
    }
}

/// A step's confirmation gate.
public struct Confirmation: Sendable {
    public var message: LocatedTemplate
    public var timeout: Located<RunbookDuration>?
    public var location: SourceLocation
    public init(message: LocatedTemplate, timeout: Located<RunbookDuration>? = nil, location: SourceLocation) {
        self.message = message
        self.timeout = timeout
        self.location = location
    }
}

/// `retry: {attempts, delay, backoff}`; `attempts` counts every try.
public struct Retry: Sendable {
    public var attempts: Located<Int>
    public var delay: Located<RunbookDuration>?
    public var backoff: Located<Double>?
    public var location: SourceLocation
    public init(attempts: Located<Int>, delay: Located<RunbookDuration>? = nil, backoff: Located<Double>? = nil,
                location: SourceLocation) {
        self.attempts = attempts
        self.delay = delay
        self.backoff = backoff
        self.location = location
    }

    /// For people (`show`, `docs`): "up to 4 tries, 2s apart (×2 each time)", or "1 try".
    public var summary: String {
        guard attempts.value > 1 else { return "1 try" }
        var text = "up to \(attempts.value) tries"
        if let d = delay { text += ", \(d.value) apart" }
        if let b = backoff, b.value != 1 { text += " (×\(Value.formatDouble(b.value)) each time)" }
        return text
    }

    /// The delay before try number `attempt` (2-based: the first retry), with backoff applied.
    public func delay(beforeAttempt attempt: Int) -> Double {
        let base = delay?.value.seconds ?? 0
        let factor = backoff?.value ?? 1
        return base * pow(factor, Double(max(0, attempt - 2)))
    }

    /// Worst-case total wait between tries.
    public var totalDelay: Double {
        guard attempts.value > 1 else { return 0 }
        return (2...attempts.value).reduce(0) { $0 + delay(beforeAttempt: $1) }
    }
}

import Foundation
