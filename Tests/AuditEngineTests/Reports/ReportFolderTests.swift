import Foundation
import Testing
@testable import AuditEngine

@Suite("Report folders read back, card and diff")
struct ReportFolderTests {
    static func writtenFolder(minGroupSize: Int = 8) throws -> (URL, AuditRun) {
        let run = ReportFixture.run(minGroupSize: minGroupSize)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-report-\(UUID().uuidString)")
        try ReportWriter.write(run, to: dir)
        return (dir, run)
    }

    @Test func csvReaderInvertsTheWriter() throws {
        let rows = [["a", "b,c", "d\"e", ""], ["line\nbreak", " spaced ", "White|Male", "more than 70"], [""]]
        var writer = CSVWriter()
        for r in rows { writer.writeRow(r) }
        #expect(try SimpleCSV.parse(writer.text) == rows)
        #expect(try SimpleCSV.parse("a,b\r\nc,d\r\n") == [["a", "b"], ["c", "d"]])
        #expect(throws: SimpleCSV.Failure.self) { try SimpleCSV.parse("a,\"open\n") }
    }

    @Test func writerAddsChartsAndHTMLAndKeepsTheSpecFiles() throws {
        let (dir, run) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["predictions.csv", "metrics.csv", "disparities.csv", "comparison.csv", "report.md", "run.json", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
        let charts = ReportCharts.all(ReportData(run: run))
        let svgs = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("charts").path).filter { $0.hasSuffix(".svg") }
        #expect(svgs.count == charts.count)
        // Every chart is embedded in report.md and inline in report.html, which loads nothing.
        let markdown = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        for chart in charts { #expect(markdown.contains("](\(chart.path))")) }
        let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.components(separatedBy: "<svg ").count - 1 == charts.count)
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("@import") && !html.contains("url("))
        #expect(html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").range(of: "https?://", options: .regularExpression) == nil)
        #expect(html.contains("At a glance") && html.contains("<script>") && html.contains("aria-sort"))
        // The banner names the flagged groups of each design.
        let banner = String(html[html.range(of: "<section class=\"banner\"")!.lowerBound..<html.range(of: "</section>")!.upperBound])
        #expect(banner.contains("<span class=\"flag\">Black</span>"))
        // Stale charts of an earlier run go; a rerun gives identical bytes.
        let stale = dir.appendingPathComponent("charts/old-design-rate-accuracy-race.svg")
        try "<svg/>".write(to: stale, atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: dir.appendingPathComponent("charts/gender-rate-accuracy-race.svg"))
        try ReportWriter.write(run, to: dir)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(try Data(contentsOf: dir.appendingPathComponent("charts/gender-rate-accuracy-race.svg")) == before)
        #expect(try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8) == html)
    }

    @Test func cardFromTheFolderMatchesCardFromTheRun() throws {
        let (dir, run) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        #expect(folder.data.designs == ReportData(run: run).designs)
        #expect(folder.predictions.count == run.predictions.count)
        let fromFolder = ModelCardExport.render(folder.data), fromRun = ModelCardExport.render(ReportData(run: run))
        for (a, b) in zip(fromFolder, fromRun) { #expect(a.text == b.text, "\(a.name)") }
        // The toolkit JSON parses and has one metric per design × metric × slice, with intervals.
        let json = try JSONSerialization.jsonObject(with: Data(fromFolder[2].text.utf8)) as! [String: Any]
        let metrics = (json["quantitative_analysis"] as! [String: Any])["performance_metrics"] as! [[String: Any]]
        #expect(metrics.count == run.metrics.metrics.filter { MarkdownReport.isHeadline($0.metric) }.count)
        let white = try #require(metrics.first { $0["slice"] as? String == "gender/race_White" })
        #expect(white["type"] as? String == "accuracy")
        let ci = try #require(white["confidence_interval"] as? [String: Double])
        let value = try #require(white["value"] as? Double)
        #expect(ci["lower_bound"]! <= value && value <= ci["upper_bound"]!)
        // model-index: one result per slice.
        let yaml = fromFolder[1].text
        let slices = Set(run.metrics.metrics.filter { MarkdownReport.isHeadline($0.metric) }.map { "\($0.design)|\($0.attribute)|\($0.group)" })
        #expect(yaml.components(separatedBy: "  - task:\n").count - 1 == slices.count)
        #expect(yaml.contains("split: \"race_Black,gender_Female\""))
    }

    @Test func diffOfARunWithItselfIsPairedAndZero() throws {
        let (dir, _) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        let rows = RunDiff.compare(folder, folder)
        #expect(rows.count == folder.data.metrics.count)
        #expect(rows.allSatisfy { $0.test == .paired && $0.delta == 0 && $0.pValue == 1 && !$0.significant })
    }

    @Test func diffPairsMatchingImagesAndFallsBackToUnpaired() throws {
        let (dirA, runA) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dirA) }
        // Run B: the same images, but every Black woman now correctly classified, and one image
        // fewer in the White group (so White's slice is unpaired).
        var runB = runA
        var outcomes = ReportFixture.outcomes()
        for i in outcomes.indices {
            outcomes[i].records = outcomes[i].records.compactMap { r in
                var r = r
                if outcomes[i].design == "gender" && r.groups[0] == "Black" && r.groups[1] == "Female" { r.predicted = "Female" }
                return r.imageKey == "img/017.jpg" ? nil : r
            }
        }
        let settings = MetricSettings(
            attributes: ["race", "gender", "age"], intersections: [["race", "gender"]],
            referenceGroups: ["race": "White", "gender": "Male"], minGroupSize: 8)
        runB.table = PredictionTable(attributes: settings.attributes, outcomes: outcomes)
        runB.metrics = computeAuditMetrics(runB.table, settings: settings)
        let dirB = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dirB) }
        try ReportWriter.write(runB, to: dirB)
        let a = try ReportFolder.read(dirA), b = try ReportFolder.read(dirB)
        let rows = RunDiff.compare(a, b)
        let blackWomen = try #require(rows.first { $0.design == "gender" && $0.metric == "accuracy" && $0.attribute == "race|gender" && $0.group == "Black|Female" })
        #expect(blackWomen.test == .paired)
        let aCount = runA.metrics.metrics.first { $0.design == "gender" && $0.metric == "accuracy" && $0.attribute == "race|gender" && $0.group == "Black|Female" }!
        #expect(blackWomen.nA == 8 && blackWomen.valueB == 1)
        let changed = aCount.n - aCount.count
        #expect(abs(blackWomen.pValue - exactMcNemarPValue(b: 0, c: changed)) < 1e-12)
        let ci = newcombePairedDifferenceInterval(bothPositive: aCount.count, firstOnly: changed, secondOnly: 0, neither: 0)!
        #expect(abs(blackWomen.ciLow - ci.lower) < 1e-12 && abs(blackWomen.ciHigh - ci.upper) < 1e-12)
        let white = try #require(rows.first { $0.design == "gender" && $0.metric == "accuracy" && $0.attribute == "race" && $0.group == "White" })
        #expect(white.test == .unpaired && white.nA == 16 && white.nB == 15)
        let z = pooledTwoProportionZTest(successes1: Int((white.valueB * 15).rounded()), trials1: 15,
                                         successes2: Int((white.valueA * 16).rounded()), trials2: 16)
        #expect(abs(white.pValue - z.pValue) < 1e-9)
        // Writing: csv, md, html and charts.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-diff-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try RunDiff.write(rows, a: a, b: b, to: out)
        let csv = try SimpleCSV.parse(String(contentsOf: out.appendingPathComponent("diff.csv"), encoding: .utf8))
        #expect(csv.first == RunDiff.header && csv.count == rows.count + 1)
        let html = try String(contentsOf: out.appendingPathComponent("diff.html"), encoding: .utf8)
        let svgs = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("charts").path)
        #expect(!svgs.isEmpty && html.components(separatedBy: "<svg ").count - 1 == svgs.count)
    }

    @Test func notAReportFolderIsAOneLineError() {
        #expect(throws: AuditError.self) { try ReportFolder.read(URL(fileURLWithPath: "/nonexistent/report")) }
    }
}
