import CLIPEngine
import Foundation

/// Reading a report folder's files: run.json into an ``AuditReport``, and any file's bytes with
/// a one-line error when it cannot be read.
enum ReportFile {
    /// The report `folder`'s run.json holds, without its rows.
    static func runJSON(in folder: URL) throws -> AuditReport {
        let url = folder.appendingPathComponent("run.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AuditError(file: folder.path, "not a report folder (no run.json): run `clip-audit run` first, or check the path")
        }
        return try AuditReport.decodeRunJSON(try contents(of: url), path: url.path)
    }

    /// The bytes of a file of the folder; a directory, FIFO or device is an error (reading a
    /// FIFO would wait forever).
    static func contents(of url: URL) throws -> Data {
        do {
            return try FileKind.contents(of: url)
        } catch {
            throw readError(error, url)
        }
    }

    /// A file of the folder that could not be read, as one line: what it is when it is no
    /// regular file, else the reason (shared with ``CSVStream``, which opens the CSVs).
    static func readError(_ error: FileKind.ReadError, _ url: URL) -> AuditError {
        switch error.kind {
        case "a directory": return AuditError(file: url.path, "is a directory, expected a file")
        case "a FIFO": return AuditError(file: url.path, "is a FIFO, expected a regular file")
        case .some: return AuditError(file: url.path, "is not a regular file")
        case nil: return AuditError(file: url.path, "cannot read: \(error.reason)")
        }
    }
}
