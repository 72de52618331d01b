import Foundation

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
