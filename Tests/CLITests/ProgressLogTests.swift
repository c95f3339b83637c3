import Foundation
import Testing

/// `run` with stderr going to a file (as in a Slurm or Kubernetes log): progress as plain lines.
@Suite("Progress in logs")
struct ProgressLogTests {
    @Test func aRunLoggedToAFileWritesProgressLines() throws {
        let dir = try CLI.temporaryDirectory("progress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["run", "Audits/demo.yaml", "--no-cache", "--output", dir.appendingPathComponent("out").path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("progress: ") }
        // The last line says all 13 images are done, with a rate and the time left.
        let last = try #require(lines.last, "no progress line in: \(result.stderr)")
        #expect(last.hasPrefix("progress: 13/13 images (100%), "), "\(last)")
        #expect(last.contains(" img/s, ") && last.hasSuffix(" left"), "\(last)")
        // Plain lines: no carriage-return redraws or bars in a log.
        #expect(!result.stderr.contains("\r") && !result.stderr.contains("█"))
    }
}
