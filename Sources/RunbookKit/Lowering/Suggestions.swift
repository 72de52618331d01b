/// "Did you mean" hints for unknown names.
public enum Suggestions {
    /// The closest candidate within a small edit distance, if any.
    public static func closest(to name: String, in candidates: [String]) -> String? {
        // A name of one or two characters is a typo of a name one edit away at most: `x` is
        // not a misspelt `id`.
        let limit = name.count <= 2 ? 1 : max(2, name.count / 3)
        var best: (String, Int)?
        var tied = false
        for candidate in candidates {
            let d = editDistance(name.lowercased(), candidate.lowercased())
            guard d <= limit else { continue }
            if best == nil || d < best!.1 { best = (candidate, d); tied = false }
            else if d == best!.1, candidate.lowercased() != best!.0.lowercased() { tied = true }
        }
        // `sev9` is as close to sev1 as to sev4: a hint would only be a guess.
        if tied { return nil }
        if best == nil {
            // A prefix or suffix match catches `check` for `http.check`.
            best = candidates.first { $0.hasSuffix("." + name) || $0.hasPrefix(name + ".") }.map { ($0, 0) }
        }
        return best?.0
    }

    /// "; did you mean 'x'?" or "".
    public static func hint(for name: String, in candidates: [String]) -> String {
        closest(to: name, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// "; did you mean 'x'?" or "" for a value written instead of one of `values`: the closest
    /// by spelling, else the one that starts with the same 4 or more letters, longest first (a
    /// word of the same stem: 'success' for 'succeeded', 'skip' for 'skipped').
    public static func valueHint(for value: String, in values: [String]) -> String {
        if let near = closest(to: value, in: values) { return "; did you mean '\(near)'?" }
        func sharedStart(_ candidate: String) -> Int {
            zip(value.lowercased(), candidate.lowercased()).prefix { $0 == $1 }.count
        }
        let best = values.map { ($0, sharedStart($0)) }.filter { $0.1 >= 4 }.max { $0.1 < $1.1 }
        return best.map { "; did you mean '\($0.0)'?" } ?? ""
    }

    /// Levenshtein distance over characters (bounded inputs: names and keys).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.prefix(64)), b = Array(b.prefix(64))
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
