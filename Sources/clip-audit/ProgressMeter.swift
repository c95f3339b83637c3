import AuditEngine
import Foundation

/// Progress of a run on stderr (images done/total, images per second, time left): on a terminal,
/// one line redrawn in place; otherwise (a batch log, a pipe) plain lines as ``ProgressLog`` decides.
final class ProgressMeter: @unchecked Sendable {
    private let terminal: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drew = false
    private var log = ProgressLog()

    init(enabled: Bool) { terminal = enabled }

    func update(done: Int, total: Int) {
        guard total > 0 else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard terminal else {
            if let line = log.line(done: done, total: total, elapsed: elapsed) {
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            return
        }
        guard done == total || now.timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = now
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let width = 30
        let filled = Int(Double(width) * Double(done) / Double(total))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let line = String(format: "\r%@ %d/%d images  %.1f img/s  %@ left ", bar, done, total, rate, ProgressLog.duration(left))
        FileHandle.standardError.write(Data(line.utf8))
        drew = true
    }

    func finish() {
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
