import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Download progress on stderr: on a terminal, one line redrawn in place with a bar, bytes,
/// percent and rate; otherwise (a log, CI) one line per finished file.
///
/// Pass `update` as the `DownloadProgress` of `HubDownloader.pull`.
public final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal: Bool
    private let write: @Sendable (String) -> Void
    private let width: Int
    private var current: String?
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var lastFinished: String?

    /// - Parameters:
    ///   - isTerminal: draw the live bar (default: whether stderr is a terminal).
    ///   - write: where text goes (default: stderr).
    public init(
        isTerminal: Bool = isatty(2) != 0, width: Int = 30,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.isTerminal = isTerminal
        self.width = width
        self.write = write
    }

    /// One progress report; `received == total` marks the file as finished.
    public func update(file: String, received: Int64, total: Int64?) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if current != file {
            current = file
            started = now
            lastDraw = .distantPast
        }
        let finished = total == received
        // The downloader reports a file's end twice (last chunk, then completion): draw it once.
        if finished && lastFinished == file { return }
        if finished { lastFinished = file }
        let elapsed = now.timeIntervalSince(started)
        if isTerminal {
            guard finished || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            let line = Self.render(file: file, received: received, total: total, elapsed: elapsed, width: width)
            write("\r\u{1B}[2K" + line + (finished ? "\n" : ""))
        } else if finished {
            write(Self.render(file: file, received: received, total: total, elapsed: elapsed, width: 0) + "\n")
        }
    }

    /// The text of one progress line; `width` 0 leaves the bar out.
    public static func render(file: String, received: Int64, total: Int64?, elapsed: TimeInterval, width: Int) -> String {
        var parts = [file]
        if let total, total > 0 {
            let fraction = min(1, max(0, Double(received) / Double(total)))
            if width > 0 {
                let filled = Int((fraction * Double(width)).rounded(.down))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]")
            }
            parts.append(String(format: "%3d%%", Int((fraction * 100).rounded(.down))))
            parts.append("\(formatBytes(received)) / \(formatBytes(total))")
        } else {
            parts.append(formatBytes(received))
        }
        if elapsed > 0.05 {
            parts.append(formatBytes(Int64(Double(received) / elapsed)) + "/s")
        }
        return parts.joined(separator: "  ")
    }

    /// `1536` → `1.5 KB` (decimal units, as the hub shows sizes).
    public static func formatBytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
