import Foundation

/// The C library's text for error `code` (default: the current `errno`) as a phrase for a
/// message, e.g. "no such file or directory".
public func systemErrorText(_ code: Int32 = errno) -> String {
    let text = String(cString: strerror(code))
    return text.prefix(1).lowercased() + text.dropFirst()
}

/// Writes all of `bytes` to `fd`, going on after short writes and EINTR. False on an error, with
/// `errno` set.
@discardableResult
public func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    return writeFully(fd, bytes, written: &done)
}

/// `writeFully`, telling in `done` how many bytes reached the file (all of them on success).
public func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, written done: inout Int) -> Bool {
    done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        done += n
    }
    return true
}

/// Creates directory `path` with `mode` (exactly: not narrowed by the umask), and any missing
/// parent with the same mode, like `mkdir -p`; a directory that exists is left as it is. On
/// failure, the OS's reason as `systemErrorText` words it ("no such file or directory",
/// "permission denied"), where Foundation's `FileManager` says "The operation could not be
/// completed. The file doesn't exist."
public func createDirectories(_ path: String, mode: mode_t = 0o700) throws(DirectoryCreationError) {
    if let code = makeDirectories(path, mode: mode) {
        throw DirectoryCreationError(path: path, reason: systemErrorText(code))
    }
}

/// `createDirectories` with the errno of the failure, nil on success.
private func makeDirectories(_ path: String, mode: mode_t) -> Int32? {
    if makeDirectory(path, mode) { return nil }
    let code = errno
    switch code {
    case EEXIST:
        return isDirectory(path) ? nil : ENOTDIR
    case ENOENT:
        // A parent is missing: create it, then try again (once more: the parent may not have been the cause).
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty, parent != path else { return code }
        if let failure = makeDirectories(parent, mode: mode) { return failure }
        if makeDirectory(path, mode) { return nil }
        let again = errno
        return again == EEXIST && isDirectory(path) ? nil : again
    default:
        return code
    }
}

/// mkdir, then chmod to `mode` (mkdir's mode is narrowed by the umask); false with `errno` set
/// when mkdir fails.
private func makeDirectory(_ path: String, _ mode: mode_t) -> Bool {
    guard mkdir(path, mode) == 0 else { return false }
    _ = chmod(path, mode)
    return true
}

private func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// A directory that could not be created, with the OS's reason.
public struct DirectoryCreationError: Error, Sendable, CustomStringConvertible {
    /// The directory asked for (a missing parent is created on the way).
    public var path: String
    /// `systemErrorText` of the failure, e.g. "no such file or directory".
    public var reason: String
    public var description: String { "cannot create directory \(path): \(reason)" }
}
