import CLIPEngine
import Foundation

/// The lock a writer holds on its output folder for as long as it writes there (a whole `run`,
/// from the folder check before encoding to `run.json`): `flock` on `.clip-audit.lock` in the
/// folder. A second clip-audit process that wants the folder stops at once with one line naming
/// it, so two writers never mix their files in one folder. Within one process the lock is
/// re-entrant (the run holds it, and the report writer takes it again); the last ``OutputLock``
/// of the folder to go away removes the lock file and releases the lock (a killed process's lock
/// is released by the system; its file stays until the next writer is done).
public final class OutputLock: @unchecked Sendable {
    /// The lock file's name, in the locked folder.
    public static let fileName = ".clip-audit.lock"
    private static let mutex = NSLock()
    nonisolated(unsafe) private static var held: [String: (folder: FolderHandle, fd: Int32, count: Int)] = [:]
    private let key: String

    /// Takes the lock of `folder`, or fails with one line when another process holds it.
    public init(_ folder: FolderHandle) throws {
        var info = stat()
        guard fstat(folder.fd, &info) == 0 else { throw AuditError(file: folder.url.path, "cannot lock: \(FolderHandle.reason())") }
        key = "\(info.st_dev):\(info.st_ino)"
        Self.mutex.lock()
        defer { Self.mutex.unlock() }
        if let entry = Self.held[key] {
            Self.held[key] = (entry.folder, entry.fd, entry.count + 1)
            return
        }
        let path = folder.url.appendingPathComponent(Self.fileName).path
        while true {
            let fd = openat(folder.fd, Self.fileName, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let why = errno == ELOOP ? "is a symbolic link; remove it" : FolderHandle.reason()
                throw AuditError(file: path, "cannot open the output folder's lock file: \(why)")
            }
            var own = stat()
            guard fstat(fd, &own) == 0, own.st_mode & S_IFMT == S_IFREG else {
                close(fd)
                throw AuditError(file: path, "the output folder's lock file is not a regular file; remove it")
            }
            var locked = flock(fd, LOCK_EX | LOCK_NB)
            while locked != 0 && errno == EINTR { locked = flock(fd, LOCK_EX | LOCK_NB) }
            if locked != 0 {
                let busy = errno == EWOULDBLOCK
                let why = FolderHandle.reason()
                close(fd)
                if busy {
                    throw AuditError(
                        file: folder.url.path,
                        "another clip-audit process is writing into this folder (it holds \(Self.fileName)); wait for it to finish, or choose another folder"
                    )
                }
                throw AuditError(file: path, "cannot lock the output folder: \(why)")
            }
            // The holder before us removes the file before it lets go: the lock is ours only if
            // the file we locked is still the one at the name.
            var current = stat()
            if fstatat(folder.fd, Self.fileName, &current, AT_SYMLINK_NOFOLLOW) == 0, current.st_dev == own.st_dev,
                current.st_ino == own.st_ino
            {
                Self.held[key] = (folder, fd, 1)
                return
            }
            close(fd)
        }
    }

    /// Takes the lock of the folder at `url` (created when missing).
    public convenience init(url: URL, what: String = "output folder") throws {
        try self.init(FolderHandle(url: url, what: what))
    }

    deinit {
        Self.mutex.lock()
        defer { Self.mutex.unlock() }
        guard let entry = Self.held[key] else { return }
        if entry.count > 1 {
            Self.held[key] = (entry.folder, entry.fd, entry.count - 1)
        } else {
            Self.held[key] = nil
            unlinkat(entry.folder.fd, Self.fileName, 0)
            close(entry.fd)
        }
    }
}
