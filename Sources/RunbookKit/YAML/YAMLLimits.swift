/// Resource limits of the YAML front end. Each one turns a hostile or broken file into a
/// diagnostic instead of a crash, a hang or unbounded memory.
public struct YAMLLimits: Sendable {
    /// Largest file admitted, in bytes (default 128 MiB). Over it: `file-too-large`.
    public var maxFileBytes: Int
    /// Largest single scalar, in bytes of its decoded text (default 1 MiB). Over it: `scalar-too-large`.
    public var maxScalarBytes: Int
    /// Deepest nesting of sequences and mappings, counted in collection levels; the root
    /// collection is level 1 (default 128). Over it: `nesting-too-deep`.
    public var maxDepth: Int
    /// Most nodes copied in through aliases, in total per document (default 100 000).
    /// Over it: `alias-expansion-limit`.
    public var maxAliasExpandedNodes: Int
    /// Most bytes of scalar text copied in through aliases, in total per document (default
    /// 4 MiB: a step template aliased a hundred times is a few hundred KiB). Later stages read
    /// every copy, so this bounds their work as the file size bounds it.
    /// Over it: `alias-expansion-limit`.
    public var maxAliasExpandedBytes: Int

    /// The limits used when none are given.
    public static let `default` = YAMLLimits()

    /// Creates limits; every parameter defaults to the value documented on its property.
    public init(maxFileBytes: Int = 128 * 1024 * 1024,
                maxScalarBytes: Int = 1024 * 1024,
                maxDepth: Int = 128,
                maxAliasExpandedNodes: Int = 100_000,
                maxAliasExpandedBytes: Int = 4 * 1024 * 1024) {
        self.maxFileBytes = maxFileBytes
        self.maxScalarBytes = maxScalarBytes
        self.maxDepth = maxDepth
        self.maxAliasExpandedNodes = maxAliasExpandedNodes
        self.maxAliasExpandedBytes = maxAliasExpandedBytes
    }
}
