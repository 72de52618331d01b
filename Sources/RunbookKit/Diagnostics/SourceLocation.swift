import Foundation

/// A position in a source file: 1-based line and column (columns count Unicode scalars).
///
/// Stored compactly (16 bytes, no reference counting): the file is an id into a process-wide
/// table of file names, line, column and offset are 32-bit. The front end makes one of these
/// for every YAML node boundary, so their size and copy cost set lint's memory and speed.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file's id in `SourceFiles` (equal ids ⇔ equal file names).
    var fileID: UInt32
    private var line32: Int32
    private var column32: Int32
    /// -1 when unknown (or past what 32 bits hold).
    private var offset32: Int32

    /// The file path as the user gave it (or a label such as `<stdin>`).
    public var file: String {
        get { SourceFiles.name(of: fileID) }
        set { fileID = SourceFiles.id(of: newValue) }
    }
    /// 1-based line number.
    public var line: Int {
        get { Int(line32) }
        set { line32 = Int32(clamping: newValue) }
    }
    /// 1-based column, counted in Unicode scalars.
    public var column: Int {
        get { Int(column32) }
        set { column32 = Int32(clamping: newValue) }
    }
    /// 0-based byte offset into the file, when known (used to find text inside scalars); -1 otherwise.
    public var offset: Int {
        get { Int(offset32) }
        set { offset32 = Self.storedOffset(newValue) }
    }

    public init(file: String, line: Int, column: Int, offset: Int = -1) {
        self.init(fileID: SourceFiles.id(of: file), line: line, column: column, offset: offset)
    }

    /// A location in the file with id `fileID` (from `SourceFiles.id(of:)`), without a table lookup.
    init(fileID: UInt32, line: Int, column: Int, offset: Int = -1) {
        self.fileID = fileID
        line32 = Int32(clamping: line)
        column32 = Int32(clamping: column)
        offset32 = Self.storedOffset(offset)
    }

    private static func storedOffset(_ offset: Int) -> Int32 {
        offset >= 0 && offset <= Int(Int32.max) ? Int32(offset) : -1
    }

    /// `file:line:col`.
    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        if lhs.fileID != rhs.fileID { return lhs.file < rhs.file }
        if lhs.line32 != rhs.line32 { return lhs.line32 < rhs.line32 }
        return lhs.column32 < rhs.column32
    }

    /// The same position moved right by `columns` on the same line.
    public func advanced(byColumns columns: Int) -> SourceLocation {
        SourceLocation(fileID: fileID, line: line, column: column + columns,
                       offset: offset >= 0 ? offset + columns : -1)
    }

    /// Another position in the same file.
    public func moved(toLine line: Int, column: Int, offset: Int = -1) -> SourceLocation {
        SourceLocation(fileID: fileID, line: line, column: column, offset: offset)
    }
}

/// The process-wide table of file names that `SourceLocation`s refer to by id. Names are never
/// removed: a process sees few distinct files (one entry per linted file).
enum SourceFiles {
    private final class Table: @unchecked Sendable {
        let lock = NSLock()
        var ids: [String: UInt32] = [:]
        var names: [String] = []
    }

    private static let table = Table()

    /// The id of `name`, added to the table on first use.
    static func id(of name: String) -> UInt32 {
        let t = table
        t.lock.lock()
        defer { t.lock.unlock() }
        if let id = t.ids[name] { return id }
        let id = UInt32(t.names.count)
        t.names.append(name)
        t.ids[name] = id
        return id
    }

    static func name(of id: UInt32) -> String {
        let t = table
        t.lock.lock()
        defer { t.lock.unlock() }
        return t.names[Int(id)]
    }
}

/// A value together with where it was written.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation
    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}
