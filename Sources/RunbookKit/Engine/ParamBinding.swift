/// Binds `--param name=value` text to a runbook's typed params.
public enum ParamBinding {
    /// A usage error that names the param.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `name=value` pairs (the first `=` splits). A name given twice is an error: the
    /// last value winning silently would run with a value the operator may not have meant (a
    /// replica count typed twice, an old value left in shell history before a new one). The
    /// message names the param, not its values.
    public static func parseAssignments(_ items: [String]) throws(Problem) -> [String: String] {
        var out: [String: String] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw Problem(description: "--param '\(item)': expected name=value")
            }
            let name = String(item[..<eq])
            guard out[name] == nil else {
                throw Problem(description: "--param '\(name)' is given more than once; give each param once")
            }
            out[name] = String(item[item.index(after: eq)...])
        }
        return out
    }

    /// Converts and checks every given value; applies defaults; requires the required ones.
    public static func bind(_ runbook: Runbook, _ given: [String: String]) throws(Problem) -> [String: Value] {
        let names = runbook.params.map(\.name.value)
        for name in given.keys.sorted() where runbook.param(name) == nil {
            throw Problem(description: "unknown param '\(name)' for runbook '\(runbook.id.value)'" + Suggestions.hint(for: name, in: names)
                          + (names.isEmpty ? " (it takes no params)" : "; params: " + names.joined(separator: ", ")))
        }
        var values: [String: Value] = [:]
        for param in runbook.params {
            let name = param.name.value
            if let text = given[name] {
                switch param.type.convert(text) {
                case .success(let v): values[name] = v
                case .failure(let e): throw Problem(description: "param '\(name)' (\(param.type.rawValue)): \(e.message)")
                }
            } else if let d = param.defaultValue {
                values[name] = param.type == .number ? (d.value.numberValue.map(Value.double) ?? d.value) : d.value
            } else {
                throw Problem(description: "param '\(name)' is required: pass --param \(name)=<\(param.type.rawValue)>")
            }
            if let allowed = param.enumValues, let v = values[name], !Param.enumAllows(allowed, v) {
                throw Problem(description: "param '\(name)' must be one of " + allowed.map(\.interpolationText).joined(separator: ", ")
                              + ", got '\(values[name]!.interpolationText)'")
            }
        }
        return values
    }
}
