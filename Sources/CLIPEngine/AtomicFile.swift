import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes files whole or not at all: the bytes go to a temporary file in the same folder, are
/// flushed to disk, and the temporary file is renamed over the target. A crash at any point
/// leaves either the old file or the new one, never half of one. The target must be a new name or
/// a regular file: renaming over a device, a FIFO or a socket would replace it with a plain file
/// (as root, a report or `embed --output` aimed at /dev/null would destroy /dev/null).
///
/// Used for report files and for `embed`'s safetensors output.
public enum AtomicFile {
    /// Why a write failed, in one line: the target and what went wrong.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var file: String
        public var message: String
        public var description: String { "\(file): \(message)" }
    }

    /// For the interruption tests only: the file name (last path component) before whose rename
    /// the process stops itself (SIGSTOP), its temporary file written and flushed. A kill sent
    /// then lands mid-write at a known point, every time, where a kill timed from outside lands
    /// wherever the scheduler lets it. Unset in every real run (nothing else reads it).
    static let stopBeforeRename: String? = ProcessInfo.processInfo.environment["CLIP_AUDIT_TEST_STOP_BEFORE_RENAME"]

    /// Writes `data` to `url` atomically and durably.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { try $0.write(data) }
    }

    /// Writes to `url` atomically and durably what `body` writes to the output it is given, in
    /// pieces as they are made (a file of any size is never whole in memory).
    public static func write(to url: URL, _ body: (inout Output) throws -> Void) throws {
        if let kind = FileKind.nonRegular(url.path) {
            throw Failure(file: url.path, message: "is \(kind); give the name of a new file or of a regular file to replace")
        }
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError("cannot create a file in \(directory.path)", url) }
        var ok = false
        defer {
            if !ok { unlink(temporary.path) }
        }
        do {
            defer { close(fd) }
            var output = Output(fd: fd, url: url)
            try body(&output)
            try output.flush()
            guard fsync(fd) == 0 else { throw posixError("cannot flush", url) }
        }
        if let name = stopBeforeRename, name == url.lastPathComponent { raise(SIGSTOP) }
        guard rename(temporary.path, url.path) == 0 else { throw posixError("cannot rename into place", url) }
        ok = true
        // Make the rename itself durable.
        let dirFD = open(directory.path, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    /// Writes the file `name` of the folder open as `directory` (a descriptor) atomically and
    /// durably, as ``write(to:_:)`` does, but with every step relative to that descriptor: a
    /// folder reached without following links (see the report writers) stays the folder written
    /// into, and a symbolic link at `name` is refused rather than replaced or written through.
    /// `url` names the file in errors.
    public static func write(named name: String, in directory: Int32, url: URL, _ body: (inout Output) throws -> Void) throws {
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            if info.st_mode & S_IFMT == S_IFLNK {
                throw Failure(
                    file: url.path,
                    message: "is a symbolic link; clip-audit does not write through links in its output folders (remove the link)")
            }
            if let kind = FileKind.describe(mode: info.st_mode) {
                throw Failure(file: url.path, message: "is \(kind); give the name of a new file or of a regular file to replace")
            }
        }
        let temporary = ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw posixError("cannot create a file in \(url.deletingLastPathComponent().path)", url) }
        var ok = false
        defer {
            if !ok { unlinkat(directory, temporary, 0) }
        }
        do {
            defer { close(fd) }
            var output = Output(fd: fd, url: url)
            try body(&output)
            try output.flush()
            guard fsync(fd) == 0 else { throw posixError("cannot flush", url) }
        }
        if let stop = stopBeforeRename, stop == url.lastPathComponent { raise(SIGSTOP) }
        guard renameat(directory, temporary, directory, name) == 0 else { throw posixError("cannot rename into place", url) }
        ok = true
        fsync(directory)
    }

    /// Where ``write(to:_:)``'s body writes: bytes are buffered and go to the temporary file
    /// 64 KiB at a time.
    public struct Output {
        fileprivate let fd: Int32
        fileprivate let url: URL
        private var buffer: [UInt8] = []
        static let bufferSize = 64 * 1024

        fileprivate init(fd: Int32, url: URL) {
            self.fd = fd
            self.url = url
            buffer.reserveCapacity(Self.bufferSize)
        }

        public mutating func write(_ text: String) throws {
            buffer.append(contentsOf: text.utf8)
            if buffer.count >= Self.bufferSize { try flush() }
        }

        public mutating func write(_ data: Data) throws {
            try flush()
            try data.withUnsafeBytes { try writeAll($0) }
        }

        fileprivate mutating func flush() throws {
            try buffer.withUnsafeBytes { try writeAll($0) }
            buffer.removeAll(keepingCapacity: true)
        }

        private func writeAll(_ raw: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < raw.count {
                #if os(Linux)
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #else
                    let n = Darwin.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #endif
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFile.posixError("cannot write", url)
                }
                offset += n
            }
        }
    }

    /// Writes a UTF-8 string to `url` atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    fileprivate static func posixError(_ what: String, _ url: URL) -> Failure {
        Failure(file: url.path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
