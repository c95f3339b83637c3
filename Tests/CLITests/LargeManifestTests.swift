import Foundation
import Testing

/// A large manifest (many rows sharing few images) runs in memory that does not
/// grow with the row count beyond the compact prediction table.
@Suite("large manifests", .serialized)
struct LargeManifestTests {
    /// The rows of the two runs: the slope is measured over the difference.
    static let smallRows = 4_000
    static let largeRows = 24_000

    /// What an extra row may add to the peak RSS, for three designs. What a run keeps per row:
    /// its line (4 bytes), its path packed with the others (~14 bytes + a 4-byte end), 4-byte ids
    /// for 2 attributes and 1 target column (12), and per design a label (2) and the confidence
    /// (8), 30 for three: ~64 bytes. Arrays grow by doubling (up to 2× that), and the passes
    /// that come and go — the validator's path hashes (~20 bytes), one slice's group per row
    /// while measuring (8) — add less than 50 at any moment. So ~180 bytes at the very most;
    /// 400 leaves room for the allocator while anything that keeps a `String`, a `Dictionary`
    /// or an embedding per row (the earlier run kept ~2,500 bytes a row) is far over it.
    static let bytesPerRowBound = 400.0

    /// GNU time (`%M`: the peak RSS of the command, in KiB). It is the one measure here that is
    /// the child's own: a process started straight from this test process (posix_spawn shares
    /// its memory until exec) gets this test process's peak as its starting `ru_maxrss`, and
    /// that grows while other tests run. GNU time forks from itself, a few MB.
    static let gnuTime = URL(fileURLWithPath: "/usr/bin/time")

    @Test("peak RSS grows by at most 400 bytes per extra row (3 designs, 6 distinct images)")
    func memoryDoesNotGrowWithRowsBeyondTheTable() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.gnuTime.path),
            "GNU time is needed to measure a run's peak RSS: install Debian's `time` (scripts/install-deps.sh --test)")
        let ws = try Workspace()
        defer { ws.cleanUp() }
        // Every row its own file, hard links to six fixture images (as Benchmarks/large_manifest.sh).
        let fm = FileManager.default
        let sources = try Workspace.smallImages.map { name in
            let source = ws.url.appendingPathComponent("src-\(name)")
            try fm.copyItem(at: CLI.fixtures.appendingPathComponent("images/\(name)"), to: source)
            return source
        }
        var files: [String] = []
        for i in 0..<Self.largeRows {
            let source = sources[i % sources.count]
            let name = String(format: "images/%06d.", i) + source.pathExtension
            try fm.linkItem(at: source, to: ws.url.appendingPathComponent(name))
            files.append(name)
        }
        try ws.writeAudit(
            extra: """
                  - name: harm+child
                    extends: harm
                    add_classes: {child: [child]}
                """)

        func peakKiB(rows: Int) throws -> Int {
            try ws.writeManifest(Workspace.rows(Array(files.prefix(rows))))
            let output = ws.path("report-\(rows)"), peak = ws.path("peak-\(rows)")
            let result = try CLI.run(
                [
                    "-f", "%M", "-o", peak, CLI.binary.path, "run", ws.audit.path, "--output", output,
                    "--cache", ws.path("cache-\(rows).sqlite")
                ], tool: Self.gnuTime)
            try #require(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("\(rows) row(s) scored with 3 design(s)"), "\(result.stderr)")
            let predictions = try String(
                contentsOf: URL(fileURLWithPath: output).appendingPathComponent("predictions.csv"), encoding: .utf8)
            #expect(predictions.split(separator: "\n").count == 1 + 3 * rows)
            let kib = try String(contentsOf: URL(fileURLWithPath: peak), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return try #require(Int(kib), "GNU time wrote \(kib)")
        }
        let small = try peakKiB(rows: Self.smallRows)
        let large = try peakKiB(rows: Self.largeRows)
        let perRow = Double(large - small) * 1024 / Double(Self.largeRows - Self.smallRows)
        #expect(
            perRow <= Self.bytesPerRowBound,
            "peak RSS \(small) KiB at \(Self.smallRows) rows, \(large) KiB at \(Self.largeRows): \(Int(perRow)) bytes per extra row")
    }
}
