import CLIPEngine
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A folder that clip-audit writes a set of files into (a report, a diff, a card) and that may
/// hold other people's files too: the tool replaces or removes only files it wrote itself.
///
/// What it wrote is kept in a ledger beside the files, `.clip-audit-<kind>.files` (one relative
/// path a line), one per kind of writer so that a diff written into a report folder cannot remove
/// the report. The ledger is updated *before* anything is written (to the union of what the
/// folder held and what this write makes), so a write killed half-way leaves a ledger that
/// still names every file it may have left; ``finish()`` then removes what the new set no longer
/// has and records exactly the new set.
///
/// A file the new set would replace that no ledger lists (the user's own `report.md`, or the
/// `logo.svg` in their `charts/`) stops the write with one line, before anything is touched.
public struct OutputFolder {
    /// The folder.
    public let url: URL
    /// The writer's kind (`report`, `diff`, `card`): names the ledger.
    public let kind: String
    /// The files this write makes, relative to the folder (e.g. `charts/x.svg`).
    public let files: [String]
    /// The folder, open: every file is written and removed through it, never through a link.
    public let handle: FolderHandle
    /// What the folder held that clip-audit wrote earlier (this kind's ledger).
    private var owned: Set<String>
    /// Held until the write is done: no other clip-audit process writes here meanwhile.
    private let lock: OutputLock

    /// The ledger's file name for `kind`.
    public static func ledgerName(_ kind: String) -> String { ".clip-audit-\(kind).files" }

    /// Opens `url` (created if missing) for writing `files`: locks it, reads what this kind
    /// wrote there before, refuses a folder where one of `files` exists but was not written by
    /// clip-audit or where a path it would write or remove is or lies below a symbolic link,
    /// removes the temporary files of killed writers, and records the union in the ledger.
    ///
    /// - Parameters:
    ///   - legacyOwned: for a folder written before ledgers existed, the files that an earlier
    ///     run's own records prove it wrote (e.g. the report's fixed files and the charts its
    ///     `report.md` shows); used only when there is no ledger.
    ///   - what: the folder's name in errors ("report folder").
    public init(
        url: URL, kind: String, files: [String], what: String = "output folder",
        legacyOwned: (URL) -> Set<String> = { _ in [] }
    ) throws {
        try OutputFolder.refuseRoot(url)
        try self.init(handle: FolderHandle(url: url, what: what), kind: kind, files: files, legacyOwned: legacyOwned)
    }

    /// As ``init(url:kind:files:what:legacyOwned:)``, for a folder already open (a model's folder
    /// below the top folder, reached without following links).
    public init(handle: FolderHandle, kind: String, files: [String], legacyOwned: (URL) -> Set<String> = { _ in [] }) throws {
        self.url = handle.url
        self.kind = kind
        self.files = files
        self.handle = handle
        lock = try OutputLock(handle)
        owned = try Self.owned(handle, kind: kind, legacyOwned: legacyOwned)
        try Self.refuseUnsafe(files, in: handle, owned: owned)
        try removeAbandonedTemporaries()
        try writeLedger(owned.union(files))
    }

    /// Fails, before anything is written, when `url` holds one of `files` that clip-audit did not
    /// write there, or when a path it would write or remove is a link; for a check before a long
    /// run (the chart names are only known at its end). A missing folder passes.
    public static func check(url: URL, kind: String, files: [String], legacyOwned: (URL) -> Set<String> = { _ in [] }) throws {
        try refuseRoot(url)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let handle = try FolderHandle(url: url, what: "output folder")
        try refuseUnsafe(files, in: handle, owned: owned(handle, kind: kind, legacyOwned: legacyOwned))
    }

    /// What clip-audit wrote in the folder as `kind`: its ledger, or without one what
    /// `legacyOwned` proves an earlier version wrote.
    private static func owned(_ handle: FolderHandle, kind: String, legacyOwned: (URL) -> Set<String>) throws -> Set<String> {
        switch try handle.entry(ledgerName(kind)) {
        case .missing: return legacyOwned(handle.url)
        case .link: throw handle.linkError(ledgerName(kind))
        default: return try readLedger(handle.url.appendingPathComponent(ledgerName(kind)))
        }
    }

    /// Refuses a file of `files` that exists but is not clip-audit's, and any path of `files` or
    /// of `owned` (which ``finish()`` may remove) that is a link or lies below one: a ledger line
    /// `lnk/victim.txt` with `lnk` a link out of the folder must not remove the file it leads to.
    private static func refuseUnsafe(_ files: [String], in handle: FolderHandle, owned: Set<String>) throws {
        for file in owned.union(files).sorted() {
            let entry = try handle.entry(file)
            if entry == .link { throw handle.linkError(file) }
            if entry != .missing && !owned.contains(file) {
                throw AuditError(
                    file: handle.url.appendingPathComponent(file).path,
                    "exists and was not written by clip-audit; choose another output folder or move the file away (clip-audit replaces only files it wrote)"
                )
            }
        }
    }

    /// Writes `relative` whole, through the open folder (see ``FolderHandle/write(to:_:)``).
    public func write(to relative: String, _ body: (inout AtomicFile.Output) throws -> Void) throws {
        try handle.write(to: relative, body)
    }

    /// Writes `text` to `relative` whole, through the open folder.
    public func write(_ text: String, to relative: String) throws {
        try handle.write(text, to: relative)
    }

    /// Removes what the previous set had and this one does not, and records the new set.
    /// Call after every file of ``files`` is written.
    public mutating func finish() throws {
        let keep = Set(files)
        for stale in owned.subtracting(keep).sorted() {
            // Only regular files are removed, from their folder's descriptor: a ledger line is
            // never a licence to delete a folder or to follow a link.
            try handle.removeFile(stale)
        }
        try writeLedger(keep)
        owned = keep
    }

    /// Refuses the filesystem root as an output folder: a report there would scatter files
    /// over `/` (and, as root, replace any that share a name).
    public static func refuseRoot(_ url: URL) throws {
        let resolved = url.standardizedFileURL.resolvingSymlinksInPath()
        if resolved.path == "/" {
            throw AuditError(file: url.path, "is the filesystem root; give a folder of its own for the report")
        }
    }

    /// Refuses an output folder that holds one of the run's own inputs (the audit file, the
    /// manifest, the image folder): report files replace files by name, and a manifest called
    /// `predictions.csv` in it would be overwritten by the report.
    public static func refuseHolding(_ url: URL, inputs: [(what: String, url: URL)]) throws {
        try refuseRoot(url)
        let folder = canonical(url)
        for input in inputs {
            let path = canonical(input.url)
            if path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") {
                throw AuditError(file: url.path, "holds the \(input.what) (\(input.url.path)); write the report to a folder of its own")
            }
        }
    }

    /// The path with `.`, `..` and symlinks resolved as far as it exists.
    static func canonical(_ url: URL) -> String {
        url.standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Removes the temporary files (`.NAME.PID.RANDOM.tmp`, see `AtomicFile`) that a killed
    /// writer left beside a file of this set or of the last one, or beside the ledger itself, in
    /// the folder or its subfolders (`charts/`), once their process is gone.
    private func removeAbandonedTemporaries() throws {
        let names = owned.union(files).union([Self.ledgerName(kind)])
        let folders = Set(names.map { ($0 as NSString).deletingLastPathComponent })
        for folder in folders.sorted() {
            for entry in try handle.names(in: folder) where entry.hasPrefix(".") && entry.hasSuffix(".tmp") {
                let parts = entry.dropFirst().dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), UInt32(parts[parts.count - 1]) != nil else { continue }
                let target = parts.dropLast(2).joined(separator: ".")
                let relative = folder.isEmpty ? target : "\(folder)/\(target)"
                guard names.contains(relative) else { continue }
                if kill(pid, 0) != 0 && errno == ESRCH {
                    try handle.removeFile(folder.isEmpty ? entry : "\(folder)/\(entry)")
                }
            }
        }
    }

    private func writeLedger(_ names: Set<String>) throws {
        let text = names.sorted().map { $0 + "\n" }.joined()
        try handle.write(text, to: Self.ledgerName(kind))
    }

    /// The ledger's names; a line that is absolute or climbs out of the folder is ignored, so
    /// a tampered ledger cannot point a removal outside the folder.
    private static func readLedger(_ url: URL) throws -> Set<String> {
        let data: Data
        do {
            data = try FileKind.contents(of: url, limit: 16 << 20)
        } catch {
            throw AuditError(file: url.path, "cannot read clip-audit's list of the files it wrote here: \(error.reason)")
        }
        var names = Set<String>()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let name = String(line)
            let components = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !name.hasPrefix("/"), !components.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else { continue }
            names.insert(name)
        }
        return names
    }
}
