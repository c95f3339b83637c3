import CLIPEngine
import Foundation
import Testing

/// The reports as a person sees them: the demo audit is run with the built `clip-audit`, its
/// report.html is rendered by headless Chromium (`scripts/screenshot-report.sh`, which installs
/// Debian's `chromium` when missing), and the screenshot must be a drawn page, not a blank one,
/// with every chart in the HTML. Then `card` and `diff` run on the folder.
///
/// Chromium is required: when it cannot be found or installed the test fails with the script's
/// reason. `CLIP_AUDIT_SKIP_BROWSER=1` skips only the screenshot (for machines that cannot
/// install packages); every other check still runs.
@Suite("Reports as a reader sees them", .serialized)
struct ReportScreenshotTests {
    /// Runs a tool (the CLI or the screenshot script) in the package root.
    @discardableResult
    static func run(_ tool: URL, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let result = try CLI.run(arguments, tool: tool)
        return (result.status, result.stdout, result.stderr)
    }

    @Test func demoReportRendersInChromiumWithEveryChart() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-screenshot-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let report = tmp.appendingPathComponent("demo")
        let tool = CLI.binary
        try #require(FileManager.default.isExecutableFile(atPath: tool.path), "build clip-audit first (swift build): \(tool.path)")
        let audit = try Self.run(tool, ["run", "Audits/demo.yaml", "--no-cache", "--output", report.path])
        try #require(audit.status == 0, "clip-audit run failed: \(audit.err)")

        // Every chart written is inline in the HTML.
        let charts = try FileManager.default.contentsOfDirectory(atPath: report.appendingPathComponent("charts").path).filter {
            $0.hasSuffix(".svg")
        }
        let html = try String(contentsOf: report.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(charts.count >= 30)
        #expect(html.components(separatedBy: "<svg ").count - 1 == charts.count)
        #expect(html.contains("<h2 id=\"findings\">Findings</h2>"))

        // card and diff on the folder.
        let card = try Self.run(tool, ["card", report.path])
        #expect(card.status == 0, "\(card.err)")
        for name in ["fairness.md", "model-index.yaml", "model-card.json"] {
            #expect(FileManager.default.fileExists(atPath: report.appendingPathComponent("card/\(name)").path), "\(name)")
        }
        let diff = try Self.run(tool, ["diff", report.path, report.path, "--output", tmp.appendingPathComponent("diff").path])
        #expect(diff.status == 0, "\(diff.err)")
        #expect(diff.out.contains("paired"))
        let bad = try Self.run(tool, ["card", tmp.appendingPathComponent("nowhere").path])
        #expect(bad.status != 0 && bad.err.hasPrefix("clip-audit: ") && bad.err.split(separator: "\n").count == 1)

        if ProcessInfo.processInfo.environment["CLIP_AUDIT_SKIP_BROWSER"] == "1" { return }
        let png = tmp.appendingPathComponent("report.png")
        let shot = try Self.run(
            URL(fileURLWithPath: "/bin/sh"),
            [CLI.packageRoot.appendingPathComponent("scripts/screenshot-report.sh").path, report.path, png.path])
        try #require(
            shot.status == 0,
            "headless Chromium screenshot failed (install Debian's chromium, or set CLIP_AUDIT_SKIP_BROWSER=1 to skip): \(shot.err)")
        let image = try ImageDecoder.decode(contentsOf: png)
        #expect(image.width == 1280 && image.height == 2400)
        // Not blank: the pixels vary, a fair share is ink, and the flagged colour (Okabe–Ito
        // vermillion, the banner and flagged groups) is on screen.
        var sum = 0.0, sumSquares = 0.0, ink = 0, vermillion = 0
        let count = image.width * image.height
        for i in 0..<count {
            let r = Int(image.pixels[3 * i]), g = Int(image.pixels[3 * i + 1]), b = Int(image.pixels[3 * i + 2])
            let grey = Double(r + g + b) / 3
            sum += grey; sumSquares += grey * grey
            if grey < 160 { ink += 1 }
            if abs(r - 0xD5) < 24 && abs(g - 0x5E) < 24 && b < 40 { vermillion += 1 }
        }
        let mean = sum / Double(count)
        let variance = sumSquares / Double(count) - mean * mean
        #expect(variance > 100, "screenshot looks blank (grey variance \(variance))")
        #expect(Double(ink) / Double(count) > 0.01, "hardly any text or lines drawn")
        #expect(vermillion > 500, "the flagged colour is missing from the first screen")
    }
}
