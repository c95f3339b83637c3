import Foundation

/// Progress of a run on stderr (images done/total, images per second, time left).
///
/// On a terminal: one line redrawn in place. Otherwise (a Slurm or Kubernetes log, a pipe): a
/// plain line whenever 30 s have passed or another 5% of the images is done, and at the end, so a
/// batch log shows a live run without filling up with redraws.
final class ProgressMeter: @unchecked Sendable {
    /// How the meter writes.
    enum Mode { case terminal, log, off }

    private let mode: Mode
    private let start: Date
    private let write: (String) -> Void
    private var lastDraw = Date.distantPast
    private var lastLogged: (time: Date, done: Int)?
    private var drew = false

    /// The longest a log goes without a line, and the share of images between lines.
    static let logInterval: TimeInterval = 30
    static let logStep = 0.05

    init(mode: Mode, start: Date = Date(), write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.mode = mode
        self.start = start
        self.write = write
    }

    convenience init(enabled: Bool) { self.init(mode: enabled ? .terminal : .log) }

    func update(done: Int, total: Int, now: Date = Date()) {
        guard total > 0 else { return }
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        switch mode {
        case .off:
            return
        case .terminal:
            guard done == total || now.timeIntervalSince(lastDraw) > 0.2 else { return }
            lastDraw = now
            let width = 30
            let filled = Int(Double(width) * Double(done) / Double(total))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write(String(format: "\r%@ %d/%d images  %.1f img/s  %@ left ", bar, done, total, rate, Self.duration(left)))
            drew = true
        case .log:
            let step = max(1, Int((Double(total) * Self.logStep).rounded(.up)))
            let due: Bool
            if let last = lastLogged {
                due = done > last.done && (done == total || done - last.done >= step || now.timeIntervalSince(last.time) >= Self.logInterval)
            } else {
                // The first line as soon as there is a rate to show, or after the interval.
                due = done > 0 && (done == total || done >= step || elapsed >= Self.logInterval)
            }
            guard due else { return }
            lastLogged = (now, done)
            write(String(format: "progress: %d/%d images (%.0f%%), %.1f img/s, %@ left\n", done, total,
                         100 * Double(done) / Double(total), rate, Self.duration(left)))
        }
    }

    func finish() {
        if drew { write("\n") }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
