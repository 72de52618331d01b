// Does a literal value fit a declared type? Used for declared defaults (a registry test); lint
// checks literal `with:` values with the same `TypeCheck`. Expressions are checked elsewhere: a
// `${{ }}` string is only a literal here.

extension ValueType {
    /// Whether a literal `value` (no expressions left in it) is acceptable where this type is declared.
    ///
    /// Ints widen to numbers, and numbers are accepted where text goes; a duration is a
    /// non-negative number of seconds or a string such as `90s`, `5m`, `1h30m`, `250ms`; a url is
    /// an absolute http(s) URL with a host. `null` is accepted only by `any`.
    public func accepts(_ value: Value) -> Bool {
        // One type checker for literals: lint's (`TypeCheck`), so a declared default and a
        // `with:` value are held to the same rules.
        TypeCheck.literalFits(value, self)
    }

    /// Seconds in a duration literal such as `90s`, `5m`, `1h30m`, `1.5s` or `250ms`; nil when malformed.
    /// The one duration grammar is `RunbookDuration.parse`'s.
    public static func parseDurationLiteral(_ text: String) -> Double? {
        RunbookDuration.parse(text)?.seconds
    }
}
