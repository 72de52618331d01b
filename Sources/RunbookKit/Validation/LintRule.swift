/// Everything a lint rule may look at for one runbook.
public struct LintContext: Sendable {
    public let runbook: Runbook
    public let catalog: ActionCatalog
    /// The params read by the steps lint reduced to summaries while the file was read (nil:
    /// every step is whole).
    public var streamedParamsRead: ParamsRead?
    public init(runbook: Runbook, catalog: ActionCatalog, streamedParamsRead: ParamsRead? = nil) {
        self.runbook = runbook
        self.catalog = catalog
        self.streamedParamsRead = streamedParamsRead
    }
}

/// One lint rule: describes itself (id, severity, summary) and checks a runbook.
///
/// Each rule's `summary` is its user documentation (`runbook lint --rules` prints them).
public protocol LintRule: Sendable {
    /// Rule ids this rule may emit, each with its default severity and a one-line summary.
    var descriptions: [RuleDescription] { get }
    func check(_ context: LintContext) -> [Diagnostic]
}

/// What a step rule knows at one step of a runbook.
public struct StepScope: Sendable {
    public var catalog: ActionCatalog
    /// The runbook's param names; nil when not known yet (lint checking steps as the file is read,
    /// before a `params:` written after them).
    public var params: Set<String>?
    /// The same params with their declared types; nil when not known yet.
    public var paramTypes: [String: ParamType]?
    /// The allowed values of text params with an `enum`; nil when not known yet.
    public var paramEnums: [String: [String]]?
    /// Steps by id (first occurrence), with `hasRun` as it is at this step: main steps before it
    /// have run.
    public var steps: [String: ExpressionScope.StepInfo]
    /// Whether `steps` holds every step of the runbook; false while lint checks steps as the file
    /// is read (later steps are not known yet).
    public var knowsAllSteps: Bool

    public init(catalog: ActionCatalog, params: Set<String>?, steps: [String: ExpressionScope.StepInfo],
                knowsAllSteps: Bool, paramTypes: [String: ParamType]? = nil, paramEnums: [String: [String]]? = nil) {
        self.catalog = catalog
        self.params = params
        self.paramTypes = paramTypes
        self.paramEnums = paramEnums
        self.steps = steps
        self.knowsAllSteps = knowsAllSteps
    }
}

/// A rule whose findings on a step depend on that step, the catalog, the params and the steps
/// before it only. Lint can then check a large runbook step by step while reading it and keep
/// only a summary of each step (`Step.summary(keeping:)`); `check(_:)` skips summary steps.
public protocol StepLintRule: LintRule {
    /// The findings on one step, or nil when `scope` is not enough to decide them (the step
    /// names a step or param that may still come later): lint then keeps the step whole and
    /// `check(_:)` looks at it with the whole runbook.
    func check(step: Step, scope: StepScope) -> [Diagnostic]?
}

/// A step rule whose findings on a step need nothing but the step and the catalog, so each is
/// decided as soon as the step is read.
public protocol SelfContainedStepLintRule: StepLintRule {
    func check(_ step: Step, catalog: ActionCatalog, into out: inout [Diagnostic])
}

extension SelfContainedStepLintRule {
    public func check(_ context: LintContext) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for step in [context.runbook.steps, context.runbook.rollback].joined() where !step.isSummary {  // no copy of the steps (allSteps concatenates)
            check(step, catalog: context.catalog, into: &out)
        }
        return out
    }

    public func check(step: Step, scope: StepScope) -> [Diagnostic]? {
        var out: [Diagnostic] = []
        check(step, catalog: scope.catalog, into: &out)
        return out
    }
}

/// Documentation of one rule id.
public struct RuleDescription: Sendable, Hashable {
    public var id: String
    public var severity: DiagnosticSeverity
    public var summary: String
    public init(_ id: String, _ severity: DiagnosticSeverity, _ summary: String) {
        self.id = id
        self.severity = severity
        self.summary = summary
    }
}

/// The built-in rules, in the order they run.
public enum BuiltinRules {
    public static let all: [any LintRule] = [
        ActionArgumentsRule(),
        ExpressionReferencesRule(),
        ExpressionKindsRule(),
        UndoCoverageRule(),
        SecretFlowRule(),
        ConfirmationRule(),
        PagingRule(),
        TimeoutBudgetRule(),
        StepTimeoutRule(),
        FileNameRule(),
        ParamCredentialRule(),
        UnusedParamRule(),
    ]

    /// Rule ids produced by the YAML front end, lowering and the directory-wide checks.
    public static let frontEndDescriptions: [RuleDescription] = [
        RuleDescription("yaml-syntax", .error, "the file is not valid YAML"),
        RuleDescription("multiple-documents", .error, "a runbook file holds exactly one YAML document"),
        RuleDescription("empty-file", .error, "the file holds no runbook"),
        RuleDescription("invalid-utf8", .error, "the file is not valid UTF-8"),
        RuleDescription("unicode-line-break", .error,
                        "a U+0085, U+2028 or U+2029 character, which YAML 1.1 parsers read as a line break and editors do not"),
        RuleDescription("binary-file", .error, "the file is binary"),
        RuleDescription("byte-order-mark", .warning, "the file starts with a byte order mark"),
        RuleDescription("tab-indentation", .error, "tabs are not allowed in YAML indentation"),
        RuleDescription("duplicate-key", .error, "a mapping has the same key twice"),
        RuleDescription("file-too-large", .error, "the file is over the size limit"),
        RuleDescription("scalar-too-large", .error, "a scalar is over the size limit"),
        RuleDescription("nesting-too-deep", .error, "nesting is deeper than the limit"),
        RuleDescription("alias-expansion-limit", .error, "aliases expand to more nodes than the limit (billion laughs guard)"),
        RuleDescription("unknown-key", .error, "a key the format does not define"),
        RuleDescription("missing-key", .error, "a required key is missing"),
        RuleDescription("wrong-type", .error, "a value has the wrong type"),
        RuleDescription("invalid-id", .error, "an id is not lowercase snake_case"),
        RuleDescription("invalid-enum", .error, "a value is not one of the allowed values"),
        RuleDescription("invalid-duration", .error, "a duration is not like '90s', '5m' or '1h30m'"),
        RuleDescription("yaml11-bool", .warning, "yes/no/on/off are strings in YAML 1.2; booleans are true/false"),
        RuleDescription("yaml-version", .warning, "a %YAML 1.1 directive: runbooks are read as YAML 1.2 whatever it says"),
        RuleDescription("duplicate-step-id", .error, "two steps share an id"),
        RuleDescription("duplicate-runbook-id", .error, "two runbooks in one directory share an id"),
        RuleDescription("unsupported-version", .error, "the format version is not supported"),
        RuleDescription("empty-steps", .error, "a runbook has no steps"),
        RuleDescription("out-of-range", .error, "a number is outside its allowed range"),
        RuleDescription("conflicting-keys", .error, "keys that exclude each other are both present"),
        RuleDescription("until-without-retry", .warning, "'until' without 'retry' is tried only once"),
        RuleDescription("undoes-outside-rollback", .error, "'undoes' on a step outside the rollback list"),
        RuleDescription("expression-syntax", .error, "a ${{ }} expression does not parse"),
        RuleDescription("expression-too-long", .error, "a ${{ }} expression is longer than the limit"),
        RuleDescription("complex-key", .error, "a mapping key is not a plain scalar"),
        RuleDescription("invalid-tag", .error, "an explicit YAML tag that is not read (only !!str, !!int, !!float, !!bool, !!null), or on a value it does not fit"),
        RuleDescription("invalid-merge", .error, "a '<<' merge key does not refer to a mapping"),
        RuleDescription("unknown-anchor", .error, "an alias names an anchor that was not defined"),
        RuleDescription("recursive-alias", .error, "an alias refers to its own anchor"),
        RuleDescription("io-error", .error, "the file cannot be read"),
        RuleDescription("required-with-default", .warning, "a param says 'required: true' but has a default, which a run uses when it is not given"),
        RuleDescription("expression-not-evaluated", .warning, "a ${{ }} in text that is used as written (a title, a description, an alert label, a mapping key), where it is not evaluated"),
        RuleDescription("optional-without-default", .warning, "a param says 'required: false' but has no default, so it is still required"),
        RuleDescription("duplicate-trigger-id", .error, "two trigger conditions share an id"),
        RuleDescription("unknown-rule", .warning, "a runbook-lint comment names a rule that does not exist"),
        RuleDescription("bad-suppression", .warning, "a runbook-lint comment is malformed (no directive, an unknown one, no rule, 'ignore-file all') and silences nothing"),
    ]

    /// Every rule id with its documentation.
    public static var descriptions: [RuleDescription] {
        frontEndDescriptions + all.flatMap(\.descriptions)
    }

    /// Every rule id (made once: lint looks suppression comments up in it for each file).
    public static let ids = Set(descriptions.map(\.id))
}
