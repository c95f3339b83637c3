import CLIPEngine
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An output folder open as a descriptor, and every path clip-audit writes or removes below it
/// reached from that descriptor one component at a time, never through a symbolic link.
///
/// A report folder may have been handed over by someone else (docs/robustness.md, threat model):
/// a link inside it (`charts -> /elsewhere`, or `lnk/victim.txt` in a ledger with `lnk` a link)
/// would otherwise make a removal or a write land outside the folder. A link on the way to any
/// path is refused with one line naming it. The folder's own path may hold links: that is the
/// folder the user named. Folders clip-audit names inside a report folder (`card/`, a model's
/// `<label>/`) are opened with ``init(_:in:what:)``, so they may not be links either.
public final class FolderHandle: @unchecked Sendable {
    /// The folder.
    public let url: URL
    /// The folder's name in errors ("report folder").
    public let what: String
    let fd: Int32

    /// Opens `url`, created with its parents when missing; links in `url` itself are followed.
    public init(url: URL, what: String) throws {
        try AuditError.createFolder(url, what)
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw AuditError(file: url.path, "cannot open the \(what): \(Self.reason())") }
        self.url = url
        self.what = what
        self.fd = fd
    }

    /// Opens the folder `relative` below `parent` (created when missing), reached without
    /// following a link.
    public init(_ relative: String, in parent: FolderHandle, what: String) throws {
        guard let fd = try parent.folder(Self.components(relative), create: true) else {
            throw AuditError(file: parent.url.appendingPathComponent(relative).path, "cannot open the \(what)")
        }
        self.url = parent.url.appendingPathComponent(relative, isDirectory: true)
        self.what = what
        self.fd = fd
    }

    deinit { close(fd) }

    /// What is at a path below the folder, seen without following links.
    public enum Entry: Equatable {
        case missing, regular, directory, link
        /// A FIFO, device or socket, or a path under a file: never clip-audit's.
        case other
    }

    /// What is at `relative`; a link on the way to it is an error naming the link, a link at
    /// `relative` itself is ``Entry/link``.
    public func entry(_ relative: String) throws -> Entry {
        let parts = Self.components(relative)
        guard let name = parts.last else { return .directory }
        guard let parent = try folder(parts.dropLast(), create: false) else { return .missing }
        defer { close(parent) }
        var info = stat()
        guard fstatat(parent, String(name), &info, AT_SYMLINK_NOFOLLOW) == 0 else { return errno == ENOENT ? .missing : .other }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .link
        default: return .other
        }
    }

    /// Fails with one line when `relative` is a link or lies below one: a path clip-audit would
    /// write or remove.
    public func refuseLink(_ relative: String) throws {
        if try entry(relative) == .link { throw linkError(relative) }
    }

    /// Removes the regular file at `relative` (a link, a folder or anything else stays); true
    /// when it was removed.
    @discardableResult
    public func removeFile(_ relative: String) throws -> Bool {
        let parts = Self.components(relative)
        guard let name = parts.last, let parent = try folder(parts.dropLast(), create: false) else { return false }
        defer { close(parent) }
        var info = stat()
        guard fstatat(parent, String(name), &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        guard unlinkat(parent, String(name), 0) == 0 else {
            if errno == ENOENT { return false }
            throw AuditError(file: url.appendingPathComponent(relative).path, "cannot remove: \(Self.reason())")
        }
        return true
    }

    /// Writes `relative` (its folders created when missing) whole or not at all, through
    /// `AtomicFile`, without following a link.
    public func write(to relative: String, _ body: (inout AtomicFile.Output) throws -> Void) throws {
        let parts = Self.components(relative)
        guard let name = parts.last, let parent = try folder(parts.dropLast(), create: true) else {
            throw AuditError(file: url.appendingPathComponent(relative).path, "not a file name")
        }
        defer { close(parent) }
        try AtomicFile.write(named: String(name), in: parent, url: url.appendingPathComponent(relative), body)
    }

    /// Writes `text` to `relative` (see ``write(to:_:)``).
    public func write(_ text: String, to relative: String) throws {
        try write(to: relative) { try $0.write(text) }
    }

    /// Creates the folder `relative` (and those above it) when missing, without following links.
    public func makeFolder(_ relative: String) throws {
        if let folder = try folder(Self.components(relative), create: true) { close(folder) }
    }

    /// Removes the folder `name` of this folder when it is empty (and not a link).
    public func removeEmptyFolder(_ name: String) {
        unlinkat(fd, name, AT_REMOVEDIR)
    }

    /// The names in the folder `relative` (reached without following links); empty when it is
    /// missing or not a folder.
    public func names(in relative: String) throws -> [String] {
        guard let directory = try folder(Self.components(relative), create: false) else { return [] }
        guard let stream = fdopendir(directory) else {
            close(directory)
            return []
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The descriptor of the folder `parts` below this one (the caller closes it): each component
    /// opened with `O_NOFOLLOW` from the one before. Nil when a component is missing (and
    /// `create` is false) or is not a folder and `create` is false; a link is an error.
    func folder<C: Collection>(_ parts: C, create: Bool) throws -> Int32? where C.Element == Substring {
        var current = dup(fd)
        guard current >= 0 else { throw AuditError(file: url.path, "cannot open the \(what): \(Self.reason())") }
        var walked: [Substring] = []
        for part in parts {
            walked.append(part)
            let name = String(part)
            var next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(current, name, 0o755) != 0 && errno != EEXIST {
                    let why = Self.reason()
                    close(current)
                    throw AuditError(
                        file: url.appendingPathComponent(walked.joined(separator: "/")).path, "cannot create the folder: \(why)")
                }
                next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if next < 0 {
                let code = errno
                var info = stat()
                let isLink = fstatat(current, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && info.st_mode & S_IFMT == S_IFLNK
                close(current)
                let path = walked.joined(separator: "/")
                if isLink { throw linkError(path) }
                if !create && (code == ENOENT || code == ENOTDIR) { return nil }
                let why = code == ENOTDIR ? "is a file, not a folder" : String(cString: strerror(code))
                throw AuditError(file: url.appendingPathComponent(path).path, "cannot be used as a folder of the \(what): \(why)")
            }
            close(current)
            current = next
        }
        return current
    }

    func linkError(_ relative: String) -> AuditError {
        AuditError(
            file: url.appendingPathComponent(relative).path,
            "is a symbolic link inside the \(what); clip-audit never writes or removes anything through a link there (remove the link, or choose another folder)"
        )
    }

    static func components(_ relative: String) -> [Substring] {
        relative.split(separator: "/")
    }

    static func reason() -> String { String(cString: strerror(errno)) }
}
