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

    /// Opens the regular file at `url` for reading and returns its descriptor and size.
    ///
    /// The file is opened with `O_NONBLOCK` and checked with `fstat` on the descriptor itself, so
    /// a FIFO is refused without waiting for a writer, and a path swapped between a check and the
    /// open cannot slip a device or FIFO in. A directory, device, FIFO or socket is refused;
    /// other failures give the system's reason. The caller closes the descriptor.
    public static func openRegular(_ url: URL) throws(ReadError) -> (fd: Int32, size: Int) {
        let fd = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(reason: String(cString: strerror(errno)), kind: nil) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ReadError(reason: reason, kind: nil)
        }
        if let kind = describe(mode: info.st_mode) {
            close(fd)
            throw ReadError(reason: "is \(kind), not a regular file", kind: kind)
        }
        // Regular files ignore O_NONBLOCK for reads; clear it all the same so nothing downstream
        // sees EAGAIN.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return (fd, Int(info.st_size))
    }

    /// The most bytes a checkpoint's text files (`config.json`, `preprocessor_config.json`,
    /// `vocab.json`, `merges.txt`) may have: CLIP's are a few kB and about 1.6 MB, and a file
    /// many times that is not a tokenizer or a configuration but a mistake or an attack on memory.
    public static let checkpointTextLimit = 64 << 20

    /// The bytes of the regular file at `url`, at most `limit` of them. A FIFO, device or
    /// directory is refused without waiting on it (reading a FIFO would wait for a writer
    /// forever, a device never ends); a file larger than `limit` is refused with its size, so a
    /// hostile or mistaken input cannot grow memory without bound; other failures give the
    /// system's reason.
    public static func contents(of url: URL, limit: Int = 1 << 30) throws(ReadError) -> Data {
        let (fd, size) = try openRegular(url)
        defer { close(fd) }
        if size > limit {
            throw ReadError(reason: "is \(size) bytes, more than the \(limit) this file may have", kind: nil)
        }
        var data = Data(count: size)
        var offset = 0
        // Read to the size fstat gave; a file that grew meanwhile is cut there, one that shrank
        // ends early.
        while offset < size {
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, size - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(reason: String(cString: strerror(errno)), kind: nil)
            }
            if n == 0 { break }
            offset += n
        }
        if offset < size { data.removeSubrange(offset...) }
        return data
    }

    /// The bytes of the regular file at `url`, memory-mapped (read-only, private): an image is
    /// hashed and decoded without a private copy. Refuses what ``openRegular(_:)`` refuses, on
    /// the descriptor it maps, so a path swapped for a FIFO after an earlier check cannot make
    /// the read wait.
    public static func mappedContents(of url: URL) throws(ReadError) -> Data {
        let (fd, size) = try openRegular(url)
        defer { close(fd) }
        guard size > 0 else { return Data() }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw ReadError(reason: String(cString: strerror(errno)), kind: nil)
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

    /// Gives back the resident pages wholly inside `bytes`, a part of the read-only private
    /// mapping at `base` of `length` bytes, once they have been copied elsewhere, so that they stop
    /// counting in the process's memory; a page read again later is simply read from the file.
    /// Bytes outside the mapping are left alone.
    public static func releaseMappedPages(_ bytes: UnsafeRawBufferPointer, mapping base: UnsafeRawPointer, length: Int) {
        guard let start = bytes.baseAddress, start >= base, start + bytes.count <= base + length else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + bytes.count) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, end - first, MADV_DONTNEED)
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
