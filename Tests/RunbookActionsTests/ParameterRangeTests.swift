// The numeric ranges the built-in actions declare: where they are, that they agree with what the
// actions accept, and that a run's argument conversion holds values to them.
import RunbookActions
import RunbookKit
import Testing

@Suite("Built-in parameter ranges")
struct ParameterRangeTests {
    static func parameter(_ action: String, _ name: String) throws -> ParameterDescriptor {
        try #require(BuiltinActions.catalog[action]?.parameter(named: name), "\(action).\(name)")
    }

    /// Whether a type takes a number somewhere (the value, a list item, one of the alternatives).
    static func takesNumbers(_ type: ValueType) -> Bool {
        switch type {
        case .int, .number: true
        case .list(let element): takesNumbers(element)
        case .oneOf(let types): types.contains(where: takesNumbers)
        default: false
        }
    }

    @Test("the ranges an SRE expects are declared", arguments: [
        ("kubernetes.scale", "replicas", 0.0 as Double?, nil as Double?),
        ("tcp.check", "port", 1, 65535),
        ("http.check", "expect_status", 100, 599),
        ("http.request", "expect_status", 100, 599),
        ("notify.webhook", "expect_status", 100, 599),
        ("exec", "expect_exit", 0, 255),
        ("exec", "max_output_bytes", 0, nil),
        ("process.stop", "signal", 1, 64),
        ("postgres.check", "max_usage", 0, 1),
    ])
    func declared(_ action: String, _ name: String, _ minimum: Double?, _ maximum: Double?) throws {
        let p = try Self.parameter(action, name)
        #expect(p.minimum == minimum && p.maximum == maximum)
    }

    @Test("bounds sit on numeric parameters only, are ordered, and hold every default",
          arguments: BuiltinActions.catalog.descriptors)
    func consistent(_ action: ActionDescriptor) throws {
        for p in action.parameters where p.hasRange {
            #expect(Self.takesNumbers(p.type), "\(action.id).\(p.name) has a range but takes no number")
            if let low = p.minimum, let high = p.maximum { #expect(low <= high, "\(action.id).\(p.name)") }
            if let d = p.defaultValue {
                #expect(ParameterDescriptor.numbers(in: d).allSatisfy { p.inRange($0.number) }, "\(action.id).\(p.name)")
            }
        }
    }

    @Test("a run converts a value outside the range into an error naming the parameter and the range", arguments: [
        ("kubernetes.scale", "replicas", Value.int(-3), "parameter 'replicas' of 'kubernetes.scale' must be at least 0, got -3"),
        ("tcp.check", "port", .string("70000"), "parameter 'port' of 'tcp.check' must be between 1 and 65535, got 70000"),
        ("http.check", "expect_status", .int(99), "parameter 'expect_status' of 'http.check' must be between 100 and 599, got 99"),
        ("http.check", "expect_status", .list([.int(200), .int(600)]),
         "each item of parameter 'expect_status' of 'http.check' must be between 100 and 599, got 600"),
        ("postgres.check", "max_usage", .double(1.5), "parameter 'max_usage' of 'postgres.check' must be between 0 and 1, got 1.5"),
        ("process.stop", "signal", .string("99"), "parameter 'signal' of 'process.stop' must be between 1 and 64, got 99"),
        ("exec", "max_output_bytes", .int(-1), "parameter 'max_output_bytes' of 'exec' must be at least 0, got -1"),
    ])
    func refusedAtRunTime(_ action: String, _ name: String, _ value: Value, _ message: String) throws {
        let p = try Self.parameter(action, name)
        #expect {
            try ArgumentConversion.convert(value, to: p, action: action)
        } throws: { error in
            "\(error)" == message
        }
    }

    @Test("values inside the range, the bounds included, convert as before", arguments: [
        ("kubernetes.scale", "replicas", Value.int(0), Value.int(0)),
        ("tcp.check", "port", .int(65535), .int(65535)),
        ("tcp.check", "port", .double(1), .int(1)),
        ("http.check", "expect_status", .list([.int(100), .int(599)]), .list([.int(100), .int(599)])),
        ("postgres.check", "max_usage", .int(1), .double(1)),
        ("process.stop", "signal", .string("KILL"), .string("KILL")),
        ("process.stop", "signal", .int(64), .int(64)),
        ("exec", "expect_exit", .null, .null),
    ])
    func acceptedAtRunTime(_ action: String, _ name: String, _ value: Value, _ converted: Value) throws {
        let p = try Self.parameter(action, name)
        #expect(try ArgumentConversion.convert(value, to: p, action: action) == converted)
    }
}
