import AuditEngine
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Readies a report folder for a new set of files.
///
/// Each report file is written atomically and `run.json` last, so `run.json` is what says "the
/// files beside me are one complete set". Removing the old `run.json` first keeps that true when
/// a run is killed half-way through replacing an earlier report: the folder then has no
/// `run.json` until the next run completes. The temporary files that a killed writer leaves
/// (`.NAME.PID.RANDOM.tmp`, see `AtomicFile`) are removed when their process is gone.
enum ReportFolder {
    static func prepare(_ directory: URL) throws {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: directory.path) else { return }
        for entry in entries where entry.hasPrefix(".") && entry.hasSuffix(".tmp") {
            // .predictions.csv.1234.987654321.tmp
            let parts = entry.dropFirst().dropLast(4).split(separator: ".")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), UInt32(parts[parts.count - 1]) != nil,
                  ReportWriter.fileNames.contains(parts.dropLast(2).joined(separator: ".")) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? fm.removeItem(at: directory.appendingPathComponent(entry))
            }
        }
        let runJSON = directory.appendingPathComponent("run.json")
        if fm.fileExists(atPath: runJSON.path) {
            do {
                try fm.removeItem(at: runJSON)
            } catch {
                throw AuditError(file: runJSON.path, "cannot replace the earlier report: \((error as NSError).localizedDescription)")
            }
        }
    }
}
