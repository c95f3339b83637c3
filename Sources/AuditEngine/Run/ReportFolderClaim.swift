import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The report folder a run will write, checked before an hour of encoding rather than after it,
/// and with ``RunOptions/lockOutputFolder`` locked (with each model's folder) until the report is
/// written, so that another process's report never mixes with this one.
final class ReportFolderClaim {
    /// The locks taken; handed to the run's result, which holds them while it lives.
    private(set) var locks: [OutputLock] = []
    /// Folders the claim created, outermost first.
    private var created: [URL] = []

    /// Checks (and locks) `folder` for the report of `config`: a one-model layout when `labels`
    /// is empty, else a top folder with one folder per label.
    func claim(_ folder: URL, labels: [String], lock: Bool, for config: AuditConfig) throws {
        if lock {
            try OutputFolder.refuseRoot(folder)
            if !FileManager.default.fileExists(atPath: folder.path) { created.append(folder) }
            let top = try FolderHandle(url: folder, what: "report folder")
            locks.append(try OutputLock(top))
            for label in labels {
                let entry = try top.entry(label)
                if entry == .link { throw top.linkError(label) }
                if entry == .missing { created.append(folder.appendingPathComponent(label)) }
                locks.append(try OutputLock(FolderHandle(label, in: top, what: "report folder")))
            }
        }
        if labels.isEmpty {
            try ReportWriter.checkFolder(folder, for: config)
        } else {
            try ModelsWriter.checkFolder(folder, labels: labels, for: config)
        }
    }

    /// Undoes the claim of a run that failed: it leaves no empty folder of its own making behind.
    /// The locks go first: their files are in the folders.
    func abandon() {
        locks = []
        for folder in created.reversed() { rmdir(folder.path) }
    }
}
