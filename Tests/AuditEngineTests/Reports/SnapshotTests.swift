import Foundation
import Testing

@testable import AuditEngine

/// Pins report.md and the model-card exports of the hand-built run to committed files under
/// `Snapshots/`. After an intended change, regenerate them with
/// `UPDATE_SNAPSHOTS=1 swift test --filter SnapshotTests` and review the diff. A missing
/// snapshot fails (it never passes by writing one), and so does an empty rendering.
@Suite("Report snapshots")
struct SnapshotTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    static let updating = ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1"

    static func check(_ name: String, _ rendered: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(rendered.count > 200, "\(name): the rendering is (almost) empty", sourceLocation: sourceLocation)
        let url = folder.appendingPathComponent(name)
        if updating {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try rendered.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("no snapshot \(url.path): run with UPDATE_SNAPSHOTS=1 and commit it", sourceLocation: sourceLocation)
            return
        }
        if rendered != expected {
            let a = rendered.components(separatedBy: "\n"), b = expected.components(separatedBy: "\n")
            let line = Array(zip(a, b)).firstIndex { $0.0 != $0.1 } ?? min(a.count, b.count)
            Issue.record(
                """
                \(name) differs from its snapshot at line \(line + 1):
                  expected: \(line < b.count ? b[line] : "<end>")
                  rendered: \(line < a.count ? a[line] : "<end>")
                (UPDATE_SNAPSHOTS=1 regenerates it after an intended change)
                """, sourceLocation: sourceLocation)
        }
    }

    @Test func reportMarkdown() throws {
        let run = ReportFixture.run()
        let markdown = MarkdownReport.render(AuditReport(run: run))
        let details = MarkdownReport.renderDetails(AuditReport(run: run), charts: ReportCharts.all(AuditReport(run: run)))
        // The per-table charts are evidence: in details.md, not in report.md.
        #expect(details.contains("![gender: accuracy by race](charts/gender-rate-accuracy-race.svg)"))
        #expect(!markdown.contains("charts/gender-rate-accuracy-race.svg"))
        try Self.check("report.md", markdown)
        try Self.check("details.md", details)
    }

    @Test func cardExports() throws {
        let outputs = ModelCardExport.render(AuditReport(run: ReportFixture.run()))
        #expect(outputs.map(\.name) == ModelCardExport.fileNames)
        for (name, text) in outputs { try Self.check("card-\(name)", text) }
    }

    @Test func forestPlotSVG() throws {
        let chart = try #require(
            ReportCharts.all(AuditReport(run: ReportFixture.run())).first { $0.path == "charts/gender-rate-accuracy-race.svg" })
        try Self.check("gender-rate-accuracy-race.svg", chart.svg)
    }
}
