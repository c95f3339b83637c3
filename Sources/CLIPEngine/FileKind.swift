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
    /// file", "No such file or directory"), for the caller's one-line error.
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    /// The bytes of the regular file at `url`. A FIFO, device or directory is refused before it
    /// is opened (reading a FIFO would wait for a writer forever); other failures give the
    /// system's reason.
    public static func contents(of url: URL) throws(ReadError) -> Data {
        if let kind = nonRegular(url.path) { throw ReadError(reason: "is \(kind), not a regular file") }
        do {
            return try Data(contentsOf: url)
        } catch {
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            let reason = underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
            throw ReadError(reason: reason ?? (error as NSError).localizedDescription)
        }
    }
}
