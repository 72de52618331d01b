/// `triggers:`: when `check`, `watch` and `serve` should fire the runbook.
public struct Triggers: Sendable {
    public enum Match: String, Sendable, CaseIterable { case any, all }
    public var match: Match
    public var conditions: [TriggerCondition]
    public var location: SourceLocation
    public init(match: Match, conditions: [TriggerCondition], location: SourceLocation) {
        self.match = match
        self.conditions = conditions
        self.location = location
    }

    /// The templates of the probes (an HTTP probe's URL, a Prometheus query and its URL).
    public var templates: [LocatedTemplate] {
        conditions.flatMap { condition -> [LocatedTemplate] in
            switch condition.probe {
            case .http(let url, _, _): [url]
            case .prometheus(let query, let url): [query] + [url].compactMap { $0 }
            case .alert: []
            }
        }
    }
}

/// One trigger condition: a probe, plus how its result turns into "firing".
public struct TriggerCondition: Sendable {
    public enum Probe: Sendable {
        /// HTTP health probe: fails when the status differs or the request times out.
        case http(url: LocatedTemplate, expectStatus: [Int], timeout: RunbookDuration?)
        /// A PromQL instant query compared with a threshold.
        case prometheus(query: LocatedTemplate, url: LocatedTemplate?)
        /// An Alertmanager alert whose labels match.
        case alert(matchers: [(key: String, value: String)])
    }

    /// How a Prometheus value is compared.
    public enum Comparison: Sendable, Equatable {
        case above(Double), below(Double), equals(Double)

        public func holds(for value: Double) -> Bool {
            switch self {
            case .above(let t): value > t
            case .below(let t): value < t
            case .equals(let t): value == t
            }
        }

        public var text: String {
            switch self {
            case .above(let t): "above \(Value.double(t).interpolationText)"
            case .below(let t): "below \(Value.double(t).interpolationText)"
            case .equals(let t): "equals \(Value.double(t).interpolationText)"
            }
        }
    }

    public var id: Located<String>
    public var description: String?
    public var probe: Probe
    public var comparison: Comparison?
    public var consecutiveFailures: Int?
    public var forDuration: Located<RunbookDuration>?
    public var location: SourceLocation

    public init(id: Located<String>, description: String? = nil, probe: Probe, comparison: Comparison? = nil,
                consecutiveFailures: Int? = nil, forDuration: Located<RunbookDuration>? = nil,
                location: SourceLocation) {
        self.id = id
        self.description = description
        self.probe = probe
        self.comparison = comparison
        self.consecutiveFailures = consecutiveFailures
        self.forDuration = forDuration
        self.location = location
    }
}
