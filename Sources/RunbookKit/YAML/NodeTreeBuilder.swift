// Builds the YAMLNode tree of one document from parser events, with an explicit stack:
// no recursion here depends on how deeply the input nests. Anchors, aliases, merge keys,
// duplicate keys and the depth and alias limits are handled here.

/// A finished node with what the limits need to know about its subtree.
struct BuiltNode {
    var node: YAMLNode
    /// Collection levels inside the node: 0 for a scalar, 1 + the highest child for a collection.
    /// An upper bound after merge keys dropped pairs.
    var height: Int
    /// Nodes in the subtree (an upper bound after merge keys dropped pairs).
    var size: Int
    /// Bytes of scalar text in the subtree (an upper bound, likewise).
    var scalarBytes: Int
}

/// What stops the builder: a diagnostic after which no tree is returned.
struct FatalBuildError: Error {
    var diagnostic: Diagnostic
}

/// Takes the items of some lists of the root mapping (a runbook's `steps:` and `rollback:`) as each
/// item is complete, so that the whole document never has to be in memory as one tree.
///
/// Such a list stays in the tree as an empty sequence at the same location; the sink learns its
/// length at `listEnded`. A list is not streamed when it carries an anchor (an alias could copy
/// it) or when its key is a repetition (the duplicate is dropped, unread, as in any mapping).
public protocol YAMLListItemSink: AnyObject {
    /// Keys of the root mapping whose list items are handed over.
    var streamedKeys: [String] { get }
    /// The list under `key` starts; `precedingPairs` are the root mapping's pairs before it, as
    /// written (duplicates and merge keys not yet resolved).
    func listStarted(_ key: String, precedingPairs: [YAMLNode.Pair])
    /// One complete item of the list under `key`, in document order.
    func item(_ node: consuming YAMLNode, ofList key: String)
    /// The list under `key`, starting at `location`, ended after `count` items.
    func listEnded(_ key: String, at location: SourceLocation, count: Int)
}

struct NodeTreeBuilder {
    /// An open sequence or mapping.
    private struct Frame {
        var isMapping: Bool
        var anchor: String?
        var start: SourceLocation
        /// Set on a root-mapping list whose items go to the sink instead of `items`.
        var streamKey: String?
        var streamedCount = 0
        var items: [YAMLNode] = []
        var pairs: [YAMLNode.Pair] = []
        var pendingKey: YAMLNode?
        var childHeight = 0
        var size = 1
        var scalarBytes = 0
    }

    private let file: String
    private let limits: YAMLLimits
    private var stack: [Frame] = []
    private var anchors: [String: BuiltNode] = [:]
    private var aliasExpandedNodes = 0
    private var aliasExpandedBytes = 0
    private(set) var diagnostics: [Diagnostic] = []
    /// Every alias expanded so far: later stages note the anchor on findings at an alias.
    private(set) var aliases: [YAMLNode.AliasOrigin] = []
    /// The document's root, once its last event was seen.
    private(set) var root: YAMLNode?
    private let sink: (any YAMLListItemSink)?

    init(file: String, limits: YAMLLimits, sink: (any YAMLListItemSink)? = nil) {
        self.file = file
        self.limits = limits
        self.sink = sink
    }

    /// Feeds one node event (not stream or document events).
    mutating func consume(_ event: consuming YAMLEvent) throws(FatalBuildError) {
        let start = event.start, end = event.end
        switch (consume event).kind {
        case .streamStart, .streamEnd, .documentStart, .documentEnd:
            return
        case let .scalar(scalar, anchor):
            if scalar.tag != nil, let problem = YAMLNode.tagProblem(scalar) {
                diagnostics.append(.error("invalid-tag", problem, at: start))
            }
            let bytes = scalar.text.utf8.count
            let node = YAMLNode(content: .scalar(scalar), location: start, endLocation: end)
            finish(BuiltNode(node: node, height: 0, size: 1, scalarBytes: bytes), anchor: anchor)
        case let .sequenceStart(anchor, tag):
            if let tag, let problem = YAMLNode.tagProblem(collectionTag: tag, isMapping: false) {
                diagnostics.append(.error("invalid-tag", problem, at: start))
            }
            try open(isMapping: false, anchor: anchor, at: start)
        case let .mappingStart(anchor, tag):
            if let tag, let problem = YAMLNode.tagProblem(collectionTag: tag, isMapping: true) {
                diagnostics.append(.error("invalid-tag", problem, at: start))
            }
            try open(isMapping: true, anchor: anchor, at: start)
        case .sequenceEnd, .mappingEnd:
            guard var frame = stack.popLast() else { return }
            if frame.isMapping, let key = frame.pendingKey {
                // libyaml always sends a value; keep the tree well formed if it did not.
                frame.pairs.append(YAMLNode.Pair(key: key, value: nullNode(at: key.endLocation)))
            }
            if let key = frame.streamKey { sink?.listEnded(key, at: frame.start, count: frame.streamedCount) }
            let content: YAMLNode.Content = frame.isMapping ? .mapping(resolveMapping(frame.pairs)) : .sequence(frame.items)
            let node = YAMLNode(content: content, location: frame.start, endLocation: end)
            finish(BuiltNode(node: node, height: frame.childHeight + 1, size: frame.size,
                             scalarBytes: frame.scalarBytes),
                   anchor: frame.anchor)
        case let .alias(anchor):
            try alias(anchor, at: start, end: end)
        }
    }

    private mutating func open(isMapping: Bool, anchor: String?, at location: SourceLocation) throws(FatalBuildError) {
        guard stack.count < limits.maxDepth else {
            throw FatalBuildError(diagnostic: .error(
                "nesting-too-deep", "nesting is deeper than the limit of \(limits.maxDepth) levels", at: location))
        }
        var frame = Frame(isMapping: isMapping, anchor: anchor, start: location)
        // One allocation for a typical collection instead of growing through 1, 2, 4, 8.
        if isMapping { frame.pairs.reserveCapacity(8) } else { frame.items.reserveCapacity(4) }
        if !isMapping, anchor == nil, let sink, stack.count == 1, stack[0].isMapping,
           let key = stack[0].pendingKey?.scalar?.text, sink.streamedKeys.contains(key),
           !stack[0].pairs.contains(where: { $0.key.scalar?.text == key }) {
            frame.streamKey = key
            sink.listStarted(key, precedingPairs: stack[0].pairs)
        }
        stack.append(frame)
    }

    /// Attaches a finished node to its parent (or makes it the root) and records its anchor.
    ///
    /// `built` is consumed and its node moved into place: this runs for every node, and a copy
    /// of a node (retaining its strings and arrays) here was a tenth of building the tree.
    private mutating func finish(_ built: consuming BuiltNode, anchor: String?) {
        if let anchor {
            // A later anchor of the same name replaces the earlier one (YAML 1.1/1.2).
            anchors[anchor] = copy built
        }
        let height = built.height, size = built.size, scalarBytes = built.scalarBytes
        let node = (consume built).node
        guard !stack.isEmpty else {
            root = node
            return
        }
        let top = stack.count - 1
        stack[top].childHeight = max(stack[top].childHeight, height)
        stack[top].size += size
        stack[top].scalarBytes += scalarBytes
        if let key = stack[top].streamKey {
            stack[top].streamedCount += 1
            sink?.item(node, ofList: key)
        } else if !stack[top].isMapping {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey.take() {
            stack[top].pairs.append(YAMLNode.Pair(key: key, value: node))
        } else {
            stack[top].pendingKey = node
        }
    }

    /// Replaces an alias by a copy of its anchored node, within the depth and expansion limits.
    private mutating func alias(_ name: String, at location: SourceLocation, end: SourceLocation) throws(FatalBuildError) {
        guard let target = anchors[name] else {
            // libyaml's parser reports aliases as events without checking them, so an alias
            // to an anchor that is still open (`&a [*a]`) does reach us: guard against it.
            if stack.contains(where: { $0.anchor == name }) {
                diagnostics.append(.error("recursive-alias",
                                          "alias '*\(Self.short(name))' refers to its own enclosing anchor '\(Self.short(name))'",
                                          at: location))
            } else {
                diagnostics.append(.error("unknown-anchor",
                                          "alias '*\(Self.short(name))' refers to an unknown anchor '\(Self.short(name))'",
                                          at: location))
            }
            // A null stands in so the tree keeps its shape; the error is already reported.
            finish(BuiltNode(node: nullNode(at: location, end: end), height: 0, size: 1, scalarBytes: 0), anchor: nil)
            return
        }
        guard stack.count + target.height <= limits.maxDepth else {
            throw FatalBuildError(diagnostic: .error(
                "nesting-too-deep",
                "alias '*\(Self.short(name))' nests the document deeper than the limit of \(limits.maxDepth) levels",
                at: location))
        }
        // Counted from the sizes recorded when anchors were defined, so a "billion laughs"
        // file fails at the first alias over the limit, before anything is copied.
        aliasExpandedNodes += target.size
        aliasExpandedBytes += target.scalarBytes
        guard aliasExpandedNodes <= limits.maxAliasExpandedNodes else {
            throw FatalBuildError(diagnostic: .error(
                "alias-expansion-limit",
                "alias '*\(Self.short(name))' expands the document past the limit of \(limits.maxAliasExpandedNodes) nodes copied through aliases",
                at: location))
        }
        // Scalar text is shared, not copied, but later stages (duplicate-key checks, lowering)
        // read every copy: bound the total like the file size is bounded.
        guard aliasExpandedBytes <= limits.maxAliasExpandedBytes else {
            throw FatalBuildError(diagnostic: .error(
                "alias-expansion-limit",
                "alias '*\(Self.short(name))' expands the document past the limit of \(limits.maxAliasExpandedBytes / 1024) KiB of text copied through aliases",
                at: location))
        }
        let origin = YAMLNode.AliasOrigin(anchor: name, aliasLocation: location, anchorLocation: target.node.location)
        aliases.append(origin)
        var copy = target
        // One node carries the origin; every stamped node shares its box.
        let carrier = YAMLNode(content: .sequence([]), location: location, aliasOrigin: origin)
        copy.node = Self.stamped(target.node, with: carrier)
        finish(copy, anchor: nil)
    }

    /// A copy of `node` whose every node carries the alias origin of `origin`.
    ///
    /// The outermost alias wins: nodes that an inner alias put inside the anchored node get
    /// this alias's origin, because this alias is the place the user reads when a later
    /// stage reports on the value. Recursion depth is bounded by `maxDepth` (checked before).
    private static func stamped(_ node: YAMLNode, with origin: YAMLNode) -> YAMLNode {
        var copy = node.withAliasOrigin(of: origin)
        switch node.content {
        case .scalar:
            break
        case .sequence(let items):
            copy.content = .sequence(items.map { stamped($0, with: origin) })
        case .mapping(let pairs):
            copy.content = .mapping(pairs.map {
                YAMLNode.Pair(key: stamped($0.key, with: origin), value: stamped($0.value, with: origin))
            })
        }
        return copy
    }

    /// Checks keys and applies merge keys.
    ///
    /// - Non-scalar keys: `complex-key`, the pair is dropped.
    /// - A repeated key (same scalar text): `duplicate-key` at the repetition with a note at
    ///   the first; the first pair is kept, so later stages see what the note points at.
    /// - `<<` (plain, untagged or `!!merge`): the pairs of the mapping (or of each mapping of
    ///   the list) it names are inserted where the `<<` was, unless the key is already
    ///   present: explicit keys win wherever they are written, earlier merge sources win over
    ///   later ones (YAML 1.1 merge semantics).
    private mutating func resolveMapping(_ pairs: [YAMLNode.Pair]) -> [YAMLNode.Pair] {
        if Self.isPlainMapping(pairs) { return pairs }
        // Explicit pairs in order; each merge remembers how many explicit pairs preceded it.
        var explicit: [YAMLNode.Pair] = []
        explicit.reserveCapacity(pairs.count)
        var merges: [(position: Int, pairs: [YAMLNode.Pair])] = []
        var explicitKeys = KeyIndex()
        var mergeKeyLocation: SourceLocation?

        for pair in pairs {
            guard let key = pair.key.scalar else {
                diagnostics.append(.error("complex-key",
                                          "a mapping key must be a scalar, not \(pair.key.kindDescription)",
                                          at: pair.key.reportLocation, notes: pair.key.aliasNotes))
                continue
            }
            if Self.isMergeKey(key) {
                if let first = mergeKeyLocation {
                    diagnostics.append(.error("duplicate-key", "duplicate merge key '<<'",
                                              at: pair.key.reportLocation,
                                              notes: [DiagnosticNote("first defined here", at: first)]))
                    continue
                }
                mergeKeyLocation = pair.key.reportLocation
                merges.append((explicit.count, mergeSources(pair.value)))
                continue
            }
            if let first = explicitKeys[key.text] {
                diagnostics.append(.error("duplicate-key", "duplicate key '\(Self.short(key.text))'",
                                          at: pair.key.reportLocation,
                                          notes: [DiagnosticNote("first defined here", at: first)] + pair.key.aliasNotes))
                continue
            }
            explicitKeys.insert(key.text, pair.key.reportLocation)
            explicit.append(pair)
        }

        guard !merges.isEmpty else { return explicit }
        var result: [YAMLNode.Pair] = []
        var mergedKeys = Set<String>()
        var next = 0
        for (position, sourcePairs) in merges {
            result.append(contentsOf: explicit[next..<position])
            next = position
            for pair in sourcePairs {
                guard let text = pair.key.scalar?.text,
                      explicitKeys[text] == nil,
                      mergedKeys.insert(text).inserted else { continue }
                result.append(pair)
            }
        }
        result.append(contentsOf: explicit[next...])
        return result
    }

    /// Whether `pairs` has nothing to resolve: every key a scalar, no merge key, no repeated key.
    /// Nearly every mapping of a runbook is small and plain, and this decides it without
    /// allocating; a larger mapping, or one with something to resolve, takes the full path.
    private static func isPlainMapping(_ pairs: [YAMLNode.Pair]) -> Bool {
        guard pairs.count <= KeyIndex.scanLimit else { return false }
        for i in pairs.indices {
            guard case .scalar(let key) = pairs[i].key.content, !isMergeKey(key) else { return false }
            for j in 0..<i where pairs[j].key.scalar?.text == key.text { return false }
        }
        return true
    }

    /// Keys seen in one mapping and where: a linear scan while the mapping is small (nearly
    /// every mapping of a runbook), a dictionary past that, so hashing is only paid when it pays.
    private struct KeyIndex {
        static let scanLimit = 16
        private var small: [(key: String, location: SourceLocation)] = []
        private var large: [String: SourceLocation]?

        subscript(key: String) -> SourceLocation? {
            if let large { return large[key] }
            for entry in small where entry.key == key { return entry.location }
            return nil
        }

        mutating func insert(_ key: String, _ location: SourceLocation) {
            if large != nil {
                large![key] = location
                return
            }
            small.append((key, location))
            if small.count > Self.scanLimit {
                large = Dictionary(small.map { ($0.key, $0.location) }, uniquingKeysWith: { first, _ in first })
                small = []
            }
        }
    }

    /// The pairs a `<<` value brings in, in priority order; reports values that cannot merge.
    private mutating func mergeSources(_ value: YAMLNode) -> [YAMLNode.Pair] {
        switch value.content {
        case .mapping(let pairs):
            return pairs
        case .sequence(let items):
            var pairs: [YAMLNode.Pair] = []
            for item in items {
                if let itemPairs = item.mapping {
                    pairs.append(contentsOf: itemPairs)
                } else {
                    diagnostics.append(.error("invalid-merge",
                                              "merge key '<<' expects a list of mappings; this item is \(item.kindDescription)",
                                              at: item.reportLocation, notes: item.aliasNotes))
                }
            }
            return pairs
        case .scalar:
            diagnostics.append(.error("invalid-merge",
                                      "merge key '<<' expects a mapping or a list of mappings, not \(value.kindDescription)",
                                      at: value.reportLocation, notes: value.aliasNotes))
            return []
        }
    }

    private static func isMergeKey(_ key: YAMLNode.Scalar) -> Bool {
        key.text == "<<" && key.style == .plain && (key.tag == nil || key.tag == "tag:yaml.org,2002:merge")
    }

    private func nullNode(at location: SourceLocation, end: SourceLocation? = nil) -> YAMLNode {
        YAMLNode(content: .scalar(YAMLNode.Scalar(text: "", style: .plain)), location: location, endLocation: end)
    }

    /// Text for a message: long keys and anchor names are cut so a message stays one line.
    static func short(_ text: String) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == 60 { return out + "…" }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}
