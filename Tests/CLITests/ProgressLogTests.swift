import AuditEngine
import Foundation
import Testing

/// Progress lines for logs (stderr that is not a terminal).
@Suite("Progress in logs")
struct ProgressLogTests {
    @Test func aLineEveryFivePercentAndAtLeastEveryThirtySecondsAfterTheGrace() {
        var log = ProgressLog()
        // Nothing in the first 10 s, however far the run got.
        #expect(log.line(done: 500, total: 1000, elapsed: 9.9) == nil)
        #expect(log.line(done: 510, total: 1000, elapsed: 10) == "progress: 510/1000 images (51%), 51.0 img/s, 0m10s left")
        // Then not again until another 5% (50 images) …
        #expect(log.line(done: 559, total: 1000, elapsed: 11) == nil)
        #expect(log.line(done: 560, total: 1000, elapsed: 12) != nil)
        // … or 30 s, when a slow run has done anything since.
        #expect(log.line(done: 561, total: 1000, elapsed: 41.9) == nil)
        #expect(log.line(done: 561, total: 1000, elapsed: 42)?.hasPrefix("progress: 561/1000 images (56%), ") == true)
        #expect(log.line(done: 561, total: 1000, elapsed: 80) == nil)
        // And the end, always.
        #expect(log.line(done: 1000, total: 1000, elapsed: 81)?.hasPrefix("progress: 1000/1000 images (100%), ") == true)
        #expect(ProgressLog.duration(3900) == "1h05m")
    }

    @Test func aShortRunLoggedToAFileKeepsStderrToItsSummary() throws {
        let dir = try CLI.temporaryDirectory("progress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["run", "Audits/demo.yaml", "--no-cache", "--output", dir.appendingPathComponent("out").path])
        #expect(result.status == 0, "\(result.stderr)")
        // Plain lines at most: no carriage-return redraws or bars in a log.
        #expect(!result.stderr.contains("\r") && !result.stderr.contains("█"))
        #expect(!result.stderr.contains("progress: "), "\(result.stderr)")
    }
}
