import Foundation
import Testing

/// `card` and `diff` read a report folder's `predictions.csv` a line at a time: their peak memory
/// does not grow with the file. (`card` on a 230 MB predictions.csv needed 4.3 GB when the file was
/// read whole; the run that wrote it needed 300 MB.)
@Suite("card and diff memory", .serialized)
struct ReportReadMemoryTests {
    /// Images per design in the two folders compared; three designs each.
    static let smallImages = 5_000
    static let largeImages = 45_000

    /// What an extra predictions.csv line (about 60 bytes) may add to the peak RSS. Reading the
    /// file whole took over a kilobyte a line; reading it a line at a time adds nothing but
    /// allocator noise, a few MB over the 120,000 extra lines (64 bytes a line allow 7.7 MB, a
    /// sixteenth of what the whole-file read needed). Sized for CI's time, not for the largest file.
    static let bytesPerLineBound = 64.0

    static let gnuTime = URL(fileURLWithPath: "/usr/bin/time")

    /// A copy of `report` whose predictions.csv holds `images` lines per design (distinct file
    /// names, the groups and predictions of the real lines in turn), design by design as `run`
    /// writes them.
    static func scaled(_ report: URL, images: Int, to folder: URL) throws {
        let fm = FileManager.default
        try fm.copyItem(at: report, to: folder)
        let file = folder.appendingPathComponent("predictions.csv")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        var designs: [(String, [String])] = []
        for line in lines.dropFirst() {
            let design = String(line.prefix { $0 != "," })
            if designs.last?.0 != design { designs.append((design, [])) }
            designs[designs.count - 1].1.append(line)
        }
        try (lines[0] + "\n").write(to: file, atomically: false, encoding: .utf8)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        for (design, rows) in designs {
            var chunk = ""
            for i in 0..<images {
                // design,file,rest: the file replaced by a new name.
                let row = rows[i % rows.count]
                let rest = row.dropFirst(design.count + 1).drop { $0 != "," }
                chunk += "\(design),images/scaled\(i).png\(rest)\n"
                if chunk.utf8.count > 1 << 20 {
                    try handle.write(contentsOf: Data(chunk.utf8))
                    chunk = ""
                }
            }
            try handle.write(contentsOf: Data(chunk.utf8))
        }
    }

    @Test("peak RSS of card and diff grows by at most 64 bytes per extra predictions.csv line")
    func cardAndDiffReadPredictionsStreaming() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.gnuTime.path),
            "GNU time is needed to measure peak RSS: install Debian's `time` (scripts/install-deps.sh --test)")
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(6)))
        try ws.writeAudit(
            extra: """
                  - name: harm+child
                    extends: harm
                    add_classes: {child: [child]}
                """)
        let report = URL(fileURLWithPath: ws.path("report"))
        let run = try CLI.run(["run", ws.audit.path, "--output", report.path, "--no-cache"])
        try #require(run.status == 0, "\(run.stderr)")

        func peakKiB(_ arguments: [String], _ name: String) throws -> Int {
            let peak = ws.path("peak-\(name)")
            let result = try CLI.run(["-f", "%M", "-o", peak, CLI.binary.path] + arguments, tool: Self.gnuTime)
            try #require(result.status == 0, "\(arguments[0]): \(result.stderr)")
            let kib = try String(contentsOf: URL(fileURLWithPath: peak), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return try #require(Int(kib), "GNU time wrote \(kib)")
        }
        var card: [Int] = [], diff: [Int] = []
        for images in [Self.smallImages, Self.largeImages] {
            let folder = URL(fileURLWithPath: ws.path("big-\(images)"))
            try Self.scaled(report, images: images, to: folder)
            card.append(try peakKiB(["card", folder.path, "--output", ws.path("card-\(images)")], "card-\(images)"))
            diff.append(try peakKiB(["diff", folder.path, folder.path, "--output", ws.path("diff-\(images)")], "diff-\(images)"))
            // The variant's discordant pairs come from the scaled lines: the card's comparison holds them.
            let fairness = try String(contentsOf: URL(fileURLWithPath: ws.path("card-\(images)/fairness.md")), encoding: .utf8)
            #expect(fairness.contains("harm+child"))
        }
        let extraLines = Double(3 * (Self.largeImages - Self.smallImages))
        for (command, peaks) in [("card", card), ("diff", diff)] {
            let perLine = Double(peaks[1] - peaks[0]) * 1024 / extraLines
            #expect(
                perLine <= Self.bytesPerLineBound,
                "\(command): peak RSS \(peaks[0]) KiB at \(Self.smallImages) images per design, \(peaks[1]) KiB at \(Self.largeImages): \(Int(perLine)) bytes per extra line"
            )
        }
    }
}
