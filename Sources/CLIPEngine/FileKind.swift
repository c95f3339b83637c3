import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a path names when it is not a regular file, for one-line errors: reading a FIFO waits
/// for a writer forever, a device never ends, and Foundation's own errors for these say
/// "you don't have permission" or "(NSCocoaErrorDomain error 256.)".
public enum FileKind {
    /// "a directory", "a FIFO", "a character device", … for what `path` names (symlinks
    /// followed); nil for a regular file or a path that does not exist (the read that follows
    /// reports that).
    public static func nonRegular(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return describe(mode: info.st_mode)
    }

    /// The kind of a `st_mode`, nil for a regular file.
    public static func describe(mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// Why `contents(of:)` could not read a file, in a few words ("is a FIFO, not a regular
    /// file", "No such file or directory"), for the caller's one-line error; `kind` is set when
    /// the path is not a regular file ("a FIFO", "a directory", …).
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public let kind: String?
        public var description: String { reason }
    }

    /// The bytes of the regular file at `url`. A FIFO, device or directory is refused before it
    /// is opened (reading a FIFO would wait for a writer forever); other failures give the
    /// system's reason.
    public static func contents(of url: URL) throws(ReadError) -> Data {
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw ReadError(reason: String(cString: strerror(errno)), kind: nil) }
        if let kind = describe(mode: info.st_mode) { throw ReadError(reason: "is \(kind), not a regular file", kind: kind) }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw ReadError(reason: systemReason(error), kind: nil)
        }
    }

    /// The operating system's reason for a Foundation file error (`Is a directory`,
    /// `Permission denied`) rather than Foundation's "The operation could not be completed" or
    /// "(NSCocoaErrorDomain error 512.)".
    public static func systemReason(_ error: Error) -> String {
        var error = error as NSError
        while error.domain != NSPOSIXErrorDomain, let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError {
            error = underlying
        }
        if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
        return error.localizedDescription
    }
}
