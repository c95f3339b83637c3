import Foundation

/// When a run writes a progress line to a log (stderr that is not a terminal: a Slurm or
/// Kubernetes log, a pipe) and what the line says.
///
/// After a short grace period (a run that ends sooner needs no progress in its log, and a bad
/// input that stops it early leaves its one error line alone), a line whenever another 5% of the
/// images is done or 30 s have passed since the last line, and at the end: `progress: 1200/10954
/// images (11%), 41.2 img/s, 3m57s left`.
public struct ProgressLog: Sendable {
    /// Seconds before the first line.
    public var grace: TimeInterval = 10
    /// The longest a log goes without a line while images are being done.
    public var interval: TimeInterval = 30
    /// The share of the images between lines.
    public var step = 0.05

    private var last: (elapsed: TimeInterval, done: Int)?

    public init(grace: TimeInterval = 10, interval: TimeInterval = 30, step: Double = 0.05) {
        self.grace = grace
        self.interval = interval
        self.step = step
    }

    /// The line to write after `elapsed` seconds with `done` of `total` images, or nil.
    public mutating func line(done: Int, total: Int, elapsed: TimeInterval) -> String? {
        guard total > 0, done > 0, elapsed >= grace else { return nil }
        if let last {
            let stride = max(1, Int((Double(total) * step).rounded(.up)))
            guard done > last.done, done == total || done - last.done >= stride || elapsed - last.elapsed >= interval else { return nil }
        }
        last = (elapsed, done)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        return String(
            format: "progress: %d/%d images (%.0f%%), %.1f img/s, %@ left", done, total,
            100 * Double(done) / Double(total), rate, Self.duration(left))
    }

    /// `1h05m`, `3m57s`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
