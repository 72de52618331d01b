import Foundation
import Testing
@testable import RunbookKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private let file = "rb.yaml"

private func parse(_ text: String, limits: YAMLLimits = .default) -> YAMLParseResult {
    YAMLParser.parse(bytes: Array(text.utf8), file: file, limits: limits)
}

private func parse(bytes: [UInt8], limits: YAMLLimits = .default) -> YAMLParseResult {
    YAMLParser.parse(bytes: bytes, file: file, limits: limits)
}

/// `rule@line:column` of each diagnostic, the shape most tests compare.
private func summary(_ result: YAMLParseResult) -> [String] {
    result.diagnostics.map { "\($0.ruleID)@\($0.location.line):\($0.location.column)" }
}

private func lineColumn(_ location: RunbookKit.SourceLocation) -> String { "\(location.line):\(location.column)" }

private func value(_ node: YAMLNode?, _ key: String) -> YAMLNode? {
    node?.mapping?.first { $0.key.scalar?.text == key }?.value
}

private func key(_ node: YAMLNode?, _ key: String) -> YAMLNode? {
    node?.mapping?.first { $0.key.scalar?.text == key }?.key
}

private func keys(_ node: YAMLNode?) -> [String] {
    node?.mapping?.compactMap { $0.key.scalar?.text } ?? []
}

@Suite("YAMLParser")
struct YAMLParserTests {
    // MARK: - Tree and locations

    @Test func blockStyleLocations() throws {
        let result = parse("version: 1\nid: demo\nsteps:\n  - id: first\n    action: log\n")
        #expect(result.diagnostics.isEmpty)
        let root = try #require(result.root)
        #expect(keys(root) == ["version", "id", "steps"])
        #expect(lineColumn(root.location) == "1:1")
        #expect(lineColumn(try #require(key(root, "id")).location) == "2:1")
        let id = try #require(value(root, "id"))
        #expect(id.scalar?.text == "demo")
        #expect(id.scalar?.style == .plain)
        #expect(lineColumn(id.location) == "2:5")
        #expect(id.location.offset == 15)
        #expect(lineColumn(id.endLocation) == "2:9")
        #expect(id.endLocation.offset == 19)
        let steps = try #require(value(root, "steps"))
        #expect(lineColumn(steps.location) == "4:3")
        let step = try #require(steps.sequence?.first)
        #expect(lineColumn(step.location) == "4:5")
        let action = try #require(value(step, "action"))
        #expect(lineColumn(try #require(key(step, "action")).location) == "5:5")
        #expect(lineColumn(action.location) == "5:13")
        #expect(action.location.file == file)
    }

    @Test func flowStyleLocations() throws {
        let result = parse("with: {path: '/x', n: [1, \"two\"]}\n")
        #expect(result.diagnostics.isEmpty)
        let with = try #require(value(result.root, "with"))
        #expect(lineColumn(with.location) == "1:7")
        #expect(lineColumn(with.endLocation) == "1:34")
        #expect(lineColumn(try #require(key(with, "path")).location) == "1:8")
        let path = try #require(value(with, "path"))
        #expect(path.scalar?.style == .singleQuoted)
        #expect(lineColumn(path.location) == "1:14")
        let list = try #require(value(with, "n")?.sequence)
        #expect(list.map { lineColumn($0.location) } == ["1:24", "1:27"])
        #expect(list[1].scalar?.style == .doubleQuoted)
        #expect(list[1].scalar?.text == "two")
    }

    @Test func multiByteUTF8CountsColumnsInScalarsAndOffsetsInBytes() throws {
        // "é" is 2 bytes, "€" 3, "🙂" 4: one column each.
        let result = parse("title: é€🙂\né€🙂: x\n")
        #expect(result.diagnostics.isEmpty)
        let root = try #require(result.root)
        let title = try #require(value(root, "title"))
        #expect(lineColumn(title.endLocation) == "1:11")
        #expect(title.endLocation.offset == 7 + 9)
        let emojiKey = try #require(key(root, "é€🙂"))
        #expect(lineColumn(emojiKey.location) == "2:1")
        #expect(emojiKey.location.offset == 17)
        let x = try #require(value(root, "é€🙂"))
        #expect(lineColumn(x.location) == "2:6")
        #expect(x.location.offset == 17 + 9 + 2)
    }

    @Test func crlfLineEndings() throws {
        let result = parse("a: 1\r\nb:\r\n  - x\r\n  - y\r\nc: |\r\n  text\r\n")
        #expect(result.diagnostics.isEmpty)
        let root = try #require(result.root)
        #expect(keys(root) == ["a", "b", "c"])
        #expect(lineColumn(try #require(key(root, "b")).location) == "2:1")
        let items = try #require(value(root, "b")?.sequence)
        #expect(items.map { lineColumn($0.location) } == ["3:5", "4:5"])
        #expect(items[1].location.offset == 21)
        #expect(value(root, "c")?.scalar?.text == "text\n")
        #expect(value(root, "c")?.scalar?.style == .literal)
    }

    @Test func explicitTagsAreRecorded() throws {
        let result = parse("a: !!str 123\nb: 123\nc: !custom x\n")
        let root = try #require(result.root)
        let a = try #require(value(root, "a")?.scalar)
        #expect(a.tag == "tag:yaml.org,2002:str")
        #expect(YAMLNode.resolvePlain(a) == .string("123"))
        #expect(value(root, "b")?.scalar?.tag == nil)
        #expect(value(root, "c")?.scalar?.tag == "!custom")
    }

    @Test("plain scalars resolve to numbers by the YAML 1.2 core schema", arguments: [
        ("0", YAMLNode.ResolvedScalar.int(0)), ("007", .int(7)), ("-12", .int(-12)), ("+7", .int(7)),
        ("0x1F", .int(31)), ("-0x10", .int(-16)), ("0o17", .int(15)),
        ("999999999999999999", .int(999_999_999_999_999_999)),
        ("123456789012345678901", .double(123456789012345678901.0)),
        ("1.5", .double(1.5)), (".5", .double(0.5)), ("-1e3", .double(-1000)), ("1.", .double(1)),
        ("+1.5E-2", .double(0.015)), ("+.inf", .double(.infinity)),
        ("15s", .string("15s")), ("1e", .string("1e")), ("+", .string("+")), ("-", .string("-")),
        ("1_000", .string("1_000")), ("1.5x", .string("1.5x")), ("--1", .string("--1")), ("1-", .string("1-")),
        ("\u{663}", .string("\u{663}")), ("1\u{663}", .string("1\u{663}")), ("0x", .string("0x")),
        ("9223372036854775807", .int(.max)), ("-9223372036854775808", .double(-9223372036854775808.0)), ("0X1F", .string("0X1F")),
        ("0x1G", .string("0x1G")), ("1x2", .string("1x2")), ("00x1", .string("00x1")), ("1+", .string("1+")),
        ("12ab", .string("12ab")), ("-0o7", .int(-7)), ("0o8", .string("0o8")),
    ])
    func numbers(_ text: String, _ expected: YAMLNode.ResolvedScalar) {
        #expect(YAMLNode.resolvePlain(YAMLNode.Scalar(text: text, style: .plain)) == expected)
    }

    @Test func documentMarkersAroundOneDocument() throws {
        let result = parse("%YAML 1.2\n---\na: 1\n...\n")
        #expect(result.diagnostics.isEmpty)
        #expect(keys(result.root) == ["a"])
        // A YAML 1.1 directive is read all the same, as YAML 1.2, with a warning saying so.
        let old = parse("%YAML 1.1\n---\na: 1\n...\n")
        #expect(old.diagnostics.map(\.ruleID) == ["yaml-version"])
        #expect(old.diagnostics.first?.location.line == 1)
        #expect(keys(old.root) == ["a"])
        // After a %TAG directive the warning still points at the %YAML line.
        let tagged = parse("%TAG !e! tag:e,2000:\n%YAML 1.1\n---\na: 1\n")
        #expect(tagged.diagnostics.map(\.ruleID) == ["yaml-version"])
        #expect(tagged.diagnostics.first?.location.line == 2)
    }

    // MARK: - Syntax

    @Test func libyamlSyntaxErrorAtProblemMark() throws {
        let result = parse("a: b: c\n")
        #expect(result.root == nil)
        #expect(summary(result) == ["yaml-syntax@1:5"])
        #expect(result.diagnostics[0].message == "mapping values are not allowed in this context")
        #expect(result.diagnostics[0].severity == .error)
    }

    @Test func syntaxErrorWithContextAddsNote() throws {
        let result = parse("a: \"open\nb: 1\n")
        #expect(result.root == nil)
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.ruleID == "yaml-syntax")
        #expect(diagnostic.message == "found unexpected end of stream while scanning a quoted scalar")
        #expect(lineColumn(diagnostic.location) == "3:1")
        #expect(diagnostic.notes.map(\.message) == ["the quoted scalar starts here"])
        #expect(diagnostic.notes.first?.location.map { lineColumn($0) } == "1:4")
    }

    @Test func endOfStreamErrorPointsAtTheLastLineWithoutTrailingNewline() throws {
        let result = parse("a: 1\nb: [x, y")
        #expect(summary(result) == ["yaml-syntax@2:9"])
        #expect(result.diagnostics[0].location.offset == 13)
        let ended = parse("a: 1\nb: [x, y\n")
        #expect(summary(ended) == ["yaml-syntax@3:1"])
    }

    @Test func controlCharacterIsASyntaxErrorAtItsPosition() throws {
        let result = parse(bytes: Array("a: 1\nb: x\u{1}y\n".utf8))
        #expect(result.root == nil)
        #expect(summary(result) == ["yaml-syntax@2:5"])
        #expect(result.diagnostics[0].message.hasPrefix("control characters are not allowed"))
        #expect(result.diagnostics[0].location.offset == 9)
    }

    @Test func secondDocumentIsReportedAtItsStart() throws {
        let result = parse("a: 1\n---\nb: 2\n")
        #expect(summary(result) == ["multiple-documents@2:1"])
        #expect(result.diagnostics[0].message == "a runbook file holds one YAML document; found a second one")
        #expect(keys(result.root) == ["a"])
    }

    @Test(arguments: ["", "# just a comment\n", "\n\n   \n", "# a\n# b"])
    func emptyFile(text: String) throws {
        let result = parse(text)
        #expect(result.root == nil)
        #expect(summary(result) == ["empty-file@1:1"])
    }

    @Test func byteOrderMarkIsAWarningAndParsingGoesOn() throws {
        let result = parse(bytes: [0xEF, 0xBB, 0xBF] + Array("a: 1\nb: x\n".utf8))
        #expect(summary(result) == ["byte-order-mark@1:1"])
        #expect(result.diagnostics[0].severity == .warning)
        let root = try #require(result.root)
        let a = try #require(key(root, "a"))
        #expect(lineColumn(a.location) == "1:1")
        #expect(a.location.offset == 3)
        let x = try #require(value(root, "b"))
        #expect(lineColumn(x.location) == "2:4")
        #expect(x.location.offset == 11)
    }

    @Test func utf16IsRejected() {
        let result = parse(bytes: [0xFF, 0xFE, 0x61, 0x00])
        #expect(summary(result) == ["invalid-utf8@1:1"])
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.message.contains("utf-16 byte order mark") == true)
    }

    @Test func utf32IsNamedAsSuch() {
        for bom: [UInt8] in [[0xFF, 0xFE, 0x00, 0x00], [0x00, 0x00, 0xFE, 0xFF]] {
            let result = parse(bytes: bom + [0x61, 0, 0, 0])
            #expect(result.diagnostics.first?.message == "file starts with a utf-32 byte order mark; runbook files must be utf-8 encoded")
        }
    }

    @Test func invalidUTF8AtTheBadByte() throws {
        let result = parse(bytes: Array("a: 1\nbé: \u{20AC}".utf8) + [0xFF] + Array("x\n".utf8))
        #expect(result.root == nil)
        #expect(summary(result) == ["invalid-utf8@2:6"])
        #expect(result.diagnostics[0].location.offset == 13)
        #expect(result.diagnostics[0].message == "invalid utf-8 byte 0xff; runbook files must be utf-8 encoded")
    }

    @Test func truncatedUTF8SequenceAtItsLeadByte() throws {
        let result = parse(bytes: Array("k: ab".utf8) + [0xE2, 0x82] + Array("\n".utf8))
        #expect(summary(result) == ["invalid-utf8@1:6"])
        #expect(result.diagnostics[0].message.contains("0xe2"))
    }

    @Test func nulByteMeansBinaryFile() throws {
        let result = parse(bytes: Array("a: 1\nbb".utf8) + [0x00, 0xFF, 0x00])
        #expect(result.root == nil)
        #expect(summary(result) == ["binary-file@2:3"])
        #expect(result.diagnostics[0].location.offset == 7)
    }

    // MARK: - Tabs

    @Test func tabIndentingAKeyIsReportedAtTheTab() throws {
        let result = parse("a:\n\tb: 1\n")
        #expect(result.root == nil)
        #expect(summary(result) == ["tab-indentation@2:1"])
        #expect(result.diagnostics[0].message == "tab character in indentation; indent with spaces")
    }

    @Test func tabAfterSpacesIsReportedAtTheTab() throws {
        let result = parse("a: 1\n  \tb: 2\n")
        #expect(summary(result) == ["tab-indentation@2:3"])
    }

    @Test func tabIndentedPlainContinuationIsReported() throws {
        let result = parse("a: one\n  \ttwo\n")
        #expect(summary(result) == ["tab-indentation@2:3"])
        #expect(value(result.root, "a")?.scalar?.text == "one two")
    }

    @Test func tabStartingABlockScalarLine() throws {
        let result = parse("script: |\n\techo hi\n")
        #expect(summary(result) == ["tab-indentation@2:1"])
    }

    @Test(arguments: ["c: x\n\t# comment\n", "c: x\n\t\nd: y\n", "c: 'x'\n  \t# comment\n"])
    func tabBeforeACommentOrOnABlankLine(text: String) throws {
        let result = parse(text)
        #expect(summary(result).first == "tab-indentation@2:\(text.hasPrefix("c: 'x'") ? 3 : 1)")
    }

    @Test func tabInsideFlowCollectionIsReportedButTreeKept() throws {
        let result = parse("a: [1,\n\t2]\n")
        #expect(summary(result) == ["tab-indentation@2:1"])
        #expect(value(result.root, "a")?.sequence?.count == 2)
    }

    @Test func tabsThatAreContentAreFine() throws {
        let text = "a: |\n  line\n  \tindented\nb: \"one\n\ttwo\"\nc: x # \tcomment\n"
        let result = parse(text)
        #expect(result.diagnostics.isEmpty)
        #expect(value(result.root, "a")?.scalar?.text == "line\n\tindented\n")
        #expect(value(result.root, "b")?.scalar?.text == "one two")
    }

    // MARK: - Limits

    @Test func fileTooLarge() throws {
        let result = parse("a: 1234567890\n", limits: YAMLLimits(maxFileBytes: 10))
        #expect(result.root == nil)
        #expect(summary(result) == ["file-too-large@1:1"])
    }

    @Test func defaultLimitsAdmitAFiftyMegabyteRunbook() {
        #expect(YAMLLimits.default.maxFileBytes >= 50_000_000)
        #expect(YAMLLimits.default.maxScalarBytes == 1 << 20)
        #expect(YAMLLimits.default.maxDepth == 128)
        #expect(YAMLLimits.default.maxAliasExpandedNodes == 100_000)
        #expect(YAMLLimits.default.maxAliasExpandedBytes == 4 << 20)
    }

    @Test func scalarTooLarge() throws {
        let result = parse("a: ok\nb: \(String(repeating: "x", count: 100))\n", limits: YAMLLimits(maxScalarBytes: 64))
        #expect(result.root == nil)
        #expect(summary(result) == ["scalar-too-large@2:4"])
    }

    @Test func deepFlowNestingStopsAtTheLevelThatCrossesTheLimit() throws {
        let result = parse(String(repeating: "[", count: 100_000))
        #expect(result.root == nil)
        #expect(summary(result) == ["nesting-too-deep@1:129"])
    }

    @Test func deepBlockSequenceNesting() throws {
        let result = parse(String(repeating: "- ", count: 100_000) + "x\n")
        #expect(result.root == nil)
        #expect(summary(result) == ["nesting-too-deep@1:257"])
    }

    @Test func nestingAtTheLimitIsAdmitted() throws {
        let result = parse(String(repeating: "[", count: 128) + String(repeating: "]", count: 128))
        #expect(result.diagnostics.isEmpty)
        #expect(result.root != nil)
    }

    @Test func aliasThatNestsTooDeep() throws {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let result = parse("a: &d \(deep)\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*d]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n")
        #expect(result.root == nil)
        #expect(summary(result) == ["nesting-too-deep@2:34"])
    }

    @Test func billionLaughsFailsFast() throws {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        let result = parse(text)
        #expect(result.root == nil)
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.ruleID == "alias-expansion-limit")
        #expect(diagnostic.location.line == 5)
    }

    @Test("a large scalar aliased a few times stops at the alias that copies past 4 MiB of text")
    func aliasedTextIsBounded() throws {
        let big = String(repeating: "${{ x }}", count: 100_000)  // 800 KB
        var text = "a: &big \"\(big)\"\n"
        for i in 1...6 { text += "b\(i): *big\n" }
        let result = parse(text)
        #expect(result.root == nil)
        #expect(summary(result) == ["alias-expansion-limit@7:5"], "the sixth copy is 4.8 MB")
        #expect(result.diagnostics.first?.message == "alias '*big' expands the document past the limit of 4096 KiB of text copied through aliases")
        let five = parse("a: &big \"\(big)\"\n" + (1...5).map { "b\($0): *big\n" }.joined())
        #expect(five.diagnostics.isEmpty)
    }

    // MARK: - Anchors and aliases

    @Test func aliasIsExpandedWithItsOrigin() throws {
        let text = """
        defaults: &net
          timeout: 30s
          retries: 3
        check:
          with: *net

        """
        let result = parse(text)
        #expect(result.diagnostics.isEmpty)
        let with = try #require(value(value(result.root, "check"), "with"))
        #expect(keys(with) == ["timeout", "retries"])
        let origin = try #require(with.aliasOrigin)
        #expect(origin.anchor == "net")
        #expect(lineColumn(origin.aliasLocation) == "5:9")
        #expect(lineColumn(origin.anchorLocation) == "1:11")
        #expect(lineColumn(with.reportLocation) == "5:9")
        let timeout = try #require(value(with, "timeout"))
        #expect(timeout.aliasOrigin == origin)
        #expect(lineColumn(timeout.location) == "2:12")
        #expect(lineColumn(timeout.reportLocation) == "5:9")
        #expect(timeout.aliasNotes.map(\.message) == ["value comes from anchor 'net' defined here"])
        #expect(timeout.aliasNotes.first?.location.map { lineColumn($0) } == "1:11")
        // The anchored original is untouched.
        #expect(value(result.root, "defaults")?.aliasOrigin == nil)
    }

    @Test func outermostAliasWinsOnNestedAliases() throws {
        let result = parse("a: &a x\nb: &b [*a]\nc: *b\n")
        let c = try #require(value(result.root, "c")?.sequence?.first)
        #expect(c.scalar?.text == "x")
        #expect(c.aliasOrigin?.anchor == "b")
        #expect(c.aliasOrigin.map { lineColumn($0.aliasLocation) } == "3:4")
    }

    @Test func unknownAnchor() throws {
        let result = parse("a: 1\nb: *nope\n")
        #expect(summary(result) == ["unknown-anchor@2:4"])
        #expect(result.diagnostics[0].message == "alias '*nope' refers to an unknown anchor 'nope'")
        #expect(value(result.root, "b")?.scalar?.text == "")
    }

    @Test func recursiveAliasIsGuarded() throws {
        let result = parse("a: &a [1, *a]\n")
        #expect(summary(result) == ["recursive-alias@1:11"])
        #expect(result.root != nil)
    }

    // MARK: - Merge keys

    @Test func mergeKeyExplicitKeysWin() throws {
        let text = """
        base: &base {timeout: 30s, retries: 3}
        step:
          retries: 5
          <<: *base
          name: x

        """
        let result = parse(text)
        #expect(result.diagnostics.isEmpty)
        let step = try #require(value(result.root, "step"))
        #expect(keys(step) == ["retries", "timeout", "name"])
        #expect(value(step, "retries")?.scalar?.text == "5")
        #expect(value(step, "timeout")?.aliasOrigin?.anchor == "base")
    }

    @Test func mergeListEarlierSourcesWin() throws {
        let result = parse("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n")
        #expect(result.diagnostics.isEmpty)
        let c = try #require(value(result.root, "c"))
        #expect(keys(c) == ["x", "y", "z"])
        #expect(value(c, "y")?.scalar?.text == "1")
        #expect(value(c, "z")?.scalar?.text == "3")
    }

    @Test func quotedMergeKeyIsAnOrdinaryKey() throws {
        let result = parse("a: &a {x: 1}\nb: {'<<': *a}\n")
        #expect(result.diagnostics.isEmpty)
        #expect(keys(value(result.root, "b")) == ["<<"])
    }

    @Test func invalidMerge() throws {
        let result = parse("a: &s text\nb:\n  <<: *s\nc:\n  <<: [{x: 1}, 2]\n")
        #expect(summary(result) == ["invalid-merge@3:7", "invalid-merge@5:16"])
        #expect(result.diagnostics[0].message == "merge key '<<' expects a mapping or a list of mappings, not a string")
        #expect(keys(value(result.root, "c")) == ["x"])
    }

    // MARK: - Keys

    @Test func duplicateKeyAtSecondWithNoteAtFirst() throws {
        let result = parse("id: a\nsteps: []\nid: b\n")
        #expect(summary(result) == ["duplicate-key@3:1"])
        let diagnostic = result.diagnostics[0]
        #expect(diagnostic.message == "duplicate key 'id'")
        #expect(diagnostic.notes.map(\.message) == ["first defined here"])
        #expect(diagnostic.notes.first?.location.map { lineColumn($0) } == "1:1")
        #expect(value(result.root, "id")?.scalar?.text == "a")
        #expect(keys(result.root) == ["id", "steps"])
    }

    @Test func duplicateKeyInFlowMappingAndAcrossQuoting() throws {
        let result = parse("with: {a: 1, 'a': 2}\n")
        #expect(summary(result) == ["duplicate-key@1:14"])
        #expect(result.diagnostics[0].notes.first?.location.map { lineColumn($0) } == "1:8")
    }

    @Test func complexKey() throws {
        let result = parse("? [a, b]\n: 1\nc: 2\n")
        #expect(summary(result) == ["complex-key@1:3"])
        #expect(keys(result.root) == ["c"])
    }

    // MARK: - Files and source text

    @Test func unreadableFileIsAnIOError() throws {
        let result = YAMLParser.parse(fileAt: "/nonexistent/dir/rb.yaml")
        #expect(result.root == nil)
        #expect(result.diagnostics.map(\.ruleID) == ["io-error"])
        #expect(result.diagnostics[0].location.file == "/nonexistent/dir/rb.yaml")
        #expect(result.diagnostics[0].message.contains("no such file"))
        #expect(YAMLParser.parse(fileAt: "/").diagnostics.map(\.ruleID) == ["io-error"])
    }

    @Test func byteSearchFindsTheFirstWholeMatch() {
        func find(_ needle: StaticString, in text: String, from start: Int = 0) -> Int? {
            Array(text.utf8).withUnsafeBufferPointer { ByteSearch.firstOffset(of: needle, in: $0, from: start) }
        }
        #expect(find("runbook-lint:", in: "# runbook-lint: ignore x") == 2)
        #expect(find("runbook-lint:", in: "# runbook-lin runbook-lint:") == 14)  // a partial match first
        #expect(find("ab", in: "xxab") == 2)                                   // at the very end
        #expect(find("ab", in: "xxa") == nil)                                  // cut off by the end
        #expect(find("ab", in: "ab ab", from: 1) == 3)
        #expect(find("ab", in: "ab", from: 1) == nil)
        #expect(find("abc", in: "ab") == nil)
        #expect(find("a", in: "") == nil)
        #expect(find("é", in: "café") == 3)
        #expect(find("\0", in: "a\u{0}b") == 1)
    }

    /// A pipe has no size to go by: the reader reads to its end, and stops one byte past the limit.
    @Test func readsAPipeWholeAndStopsPastTheLimit() throws {
        let limit = 100_000
        for (length, fits) in [(150_000, true), (limit + 1, false), (limit, true)] {
            let path = "/tmp/runbook-yaml-fifo-\(getpid())-\(length)"
            unlink(path)
            try #require(mkfifo(path, 0o600) == 0)
            defer { unlink(path) }
            let content = (0..<length).map { UInt8(ascii: "a") &+ UInt8($0 % 26) }
            let writer = Thread {
                let fd = open(path, O_WRONLY)
                _ = content.withUnsafeBytes { writeFully(fd, $0) }
                close(fd)
            }
            writer.start()
            let limits = YAMLLimits(maxFileBytes: fits ? max(length, limit) : limit)
            switch YAMLParser.readFile(path, limits: limits) {
            case .success(let bytes):
                #expect(fits && bytes == content, "\(length) bytes")
            case .failure(let failure):
                #expect(!fits, "\(length) bytes: \(failure.diagnostic.message)")
                #expect(failure.diagnostic.message == "file is over the limit of \(limit) bytes")
            }
        }
    }

    @Test func parsesAFile() throws {
        var template = Array("/tmp/runbook-yaml-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        let text = Array("id: x\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let result = YAMLParser.parse(fileAt: path)
        #expect(result.diagnostics.isEmpty)
        #expect(value(result.root, "id")?.location.file == path)
        let tooLarge = YAMLParser.parse(fileAt: path, limits: YAMLLimits(maxFileBytes: 3))
        #expect(tooLarge.diagnostics.map(\.ruleID) == ["file-too-large"])
    }

    @Test func sourceTextLines() {
        let text = SourceText(bytes: [0xEF, 0xBB, 0xBF] + Array("a: 1\r\nb: é\n\nlast".utf8))
        #expect(text.line(0) == nil)
        #expect(text.line(1) == "a: 1")
        #expect(text.line(2) == "b: é")
        #expect(text.line(3) == "")
        #expect(text.line(4) == "last")
        #expect(text.line(5) == nil)
    }

    /// The line table and the screening skip plain ASCII eight bytes at a time: a break, a tab
    /// or a multi-byte character at every position of a word must still be seen where it is.
    @Test func breaksAndCharactersAtEveryPositionOfAWord() {
        let specials = ["\n", "\r\n", "\r", "\u{85}", "\u{2028}", "é", "\t"]
        for special in specials {
            for position in 0..<20 {
                let line = String(repeating: "k", count: position) + special + String(repeating: "v", count: 19 - position)
                let input = "a: " + line + "\nb: " + line + "\n"
                let bytes = Array(input.utf8)
                // The reference: lines split by Swift's own line-break rules (the ones libyaml uses).
                var expected: [String] = []
                var current = ""
                var previousWasCR = false
                for scalar in input.unicodeScalars {
                    if previousWasCR, scalar == "\n" { previousWasCR = false; continue }
                    previousWasCR = scalar == "\r"
                    if ["\n", "\r", "\u{85}", "\u{2028}"].contains(scalar) {
                        expected.append(current)
                        current = ""
                    } else {
                        current.unicodeScalars.append(scalar)
                    }
                }
                expected.append(current)
                let text = SourceText(bytes: bytes)
                #expect((1...text.lineCount).map { text.line($0)! } == expected, "\(special) at \(position)")
                #expect(text.lineCount == expected.count)
                // The screening ends at the line and column a byte-by-byte walk finds.
                let screened = InputScreening.screen(bytes, file: "w.yaml", limits: .default)
                if special == "\u{85}" || special == "\u{2028}" {
                    // Refused (unicode-line-break) at its own column on the first line.
                    #expect(screened.fatal?.ruleID == "unicode-line-break")
                    #expect(screened.fatal.map { [$0.location.line, $0.location.column] } == [1, 4 + position])
                    continue
                }
                let end = LineBreaks.location(ofByte: bytes.count, in: bytes, from: 0, file: "w.yaml")
                #expect(screened.endOfInput.map { [$0.line, $0.column] } == [end.line, end.column], "\(special) at \(position)")
                #expect(screened.fatal == nil && screened.tabSites.isEmpty)
            }
        }
        // A bad byte anywhere in a word is reported at its own column.
        for position in 0..<20 {
            let bytes = Array("x: 1\na: ".utf8) + Array(repeating: UInt8(ascii: "k"), count: position) + [0xFF]
                + Array(repeating: UInt8(ascii: "v"), count: 19 - position) + [0x0A]
            let diagnostics = YAMLParser.parse(bytes: bytes, file: "w.yaml").diagnostics
            #expect(diagnostics.map(\.ruleID) == ["invalid-utf8"])
            #expect(diagnostics.first.map { [$0.location.line, $0.location.column] } == [2, position + 4])
        }
    }
}
