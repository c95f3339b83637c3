import Foundation
import Testing

/// `clip-audit bench` prints the README's one JSON line on any checkpoint
/// directory, and its peak RSS is the process's own.
@Suite("bench")
struct BenchCommandTests {
    static let specKeys: Set<String> = ["model", "batch", "threads", "images_per_s", "texts_per_s", "peak_rss_mb"]

    /// The one JSON line of a run that succeeded.
    static func jsonLine(_ result: CLI.Result) throws -> [String: Any] {
        try #require(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == 1, "expected one line, got: \(result.stdout)")
        return try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    }

    @Test("one JSON line with the contract's keys, for the batch and threads asked")
    func oneJSONLine() throws {
        let result = try CLI.run(["bench", "--model", CLI.tinyCLIP.path, "--batch", "3", "--threads", "1", "--seconds", "0.2"])
        let line = try Self.jsonLine(result)
        #expect(Set(line.keys) == Self.specKeys)
        #expect(line["batch"] as? Int == 3)
        #expect(line["threads"] as? Int == 1)
        #expect(line["model"] as? String == CLI.tinyCLIP.path)
        for key in ["images_per_s", "texts_per_s", "peak_rss_mb"] {
            let value = try #require(line[key] as? Double, "\(key) in \(line)")
            #expect(value > 0, "\(key) = \(value)")
        }
    }

    /// The measure that `bench` used before, `ru_maxrss`, starts a forked and exec'd process at
    /// its parent's peak: started by perl holding 600 MB, it reported over 600 MB for a model of
    /// a few MB. GNU time measures the same command independently (it forks from itself, a few
    /// MB, so its child starts clean; it cannot sit between perl and bench for the same reason).
    @Test("peak RSS is the process's own, not the peak of the process that started it")
    func peakIsTheProcessOwn() throws {
        let gnuTime = URL(fileURLWithPath: "/usr/bin/time"), perl = URL(fileURLWithPath: "/usr/bin/perl")
        try #require(
            FileManager.default.isExecutableFile(atPath: gnuTime.path),
            "GNU time is needed: install Debian's `time` (scripts/install-deps.sh --test)")
        try #require(FileManager.default.isExecutableFile(atPath: perl.path))
        let directory = try CLI.temporaryDirectory("bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let bench = ["bench", "--model", CLI.tinyCLIP.path, "--batch", "2", "--threads", "1", "--seconds", "0.2"]

        let holdAndRun = #"my $held = "a" x 600_000_000; system(@ARGV); exit($? >> 8);"#
        let fromPerl = try CLI.run(["-e", holdAndRun, CLI.binary.path] + bench, tool: perl)
        let reported = try #require(try Self.jsonLine(fromPerl)["peak_rss_mb"] as? Double)

        let timeOutput = directory.appendingPathComponent("time-kib")
        let timed = try CLI.run(["-f", "%M", "-o", timeOutput.path, CLI.binary.path] + bench, tool: gnuTime)
        _ = try Self.jsonLine(timed)
        let kib = try String(contentsOf: timeOutput, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let measured = try #require(Double(kib), "GNU time wrote \(kib)") / 1024

        #expect(reported < 300, "bench reported \(reported) MB; GNU time measured \(measured) MB")
        #expect(abs(reported - measured) <= max(8, 0.15 * measured), "bench \(reported) MB, GNU time \(measured) MB")
    }

    @Test("a directory that is not a checkpoint: one line naming it, and a failing status")
    func notACheckpoint() throws {
        let directory = try CLI.temporaryDirectory("bench-empty")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CLI.run(["bench", "--model", directory.path, "--seconds", "0.1"])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(directory.path), "\(result.stderr)")
    }

    @Test("--batch 0 and --seconds 0 are refused before any model is loaded")
    func invalidOptions() throws {
        for (option, value) in [("--batch", "0"), ("--seconds", "0"), ("--threads", "0")] {
            let result = try CLI.run(["bench", "--model", CLI.tinyCLIP.path, option, value])
            #expect(result.status != 0, "\(option) \(value)")
            #expect(result.stderr.contains(option), "\(option): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }
}
