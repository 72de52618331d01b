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
