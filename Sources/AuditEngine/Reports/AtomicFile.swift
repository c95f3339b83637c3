import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes files whole or not at all: the bytes go to a temporary file in the same folder, are
/// flushed to disk, and the temporary file is renamed over the target. A crash at any point
/// leaves either the old file or the new one, never half of one.
public enum AtomicFile {
    /// Writes `data` to `url` atomically and durably.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError("cannot create", temporary) }
        var ok = false
        defer {
            if !ok { unlink(temporary.path) }
        }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw posixError("cannot write", url)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw posixError("cannot flush", url) }
        }
        guard rename(temporary.path, url.path) == 0 else { throw posixError("cannot rename into place", url) }
        ok = true
        // Make the rename itself durable.
        let dirFD = open(directory.path, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    /// Writes a UTF-8 string to `url` atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    private static func posixError(_ what: String, _ url: URL) -> AuditError {
        AuditError(file: url.path, "\(what): \(String(cString: strerror(errno)))")
    }
}
