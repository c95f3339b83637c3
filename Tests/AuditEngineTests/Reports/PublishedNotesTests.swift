import Foundation
import Testing

@testable import AuditEngine

/// Published sources under a table are separate list items: notes on consecutive plain lines
/// render as one run-on paragraph in every Markdown viewer.
@Suite("published sources under a table")
struct PublishedNotesTests {
    @Test("two sources are two list items, one source a plain line")
    func sourcesAreListItems() throws {
        var run = ReportFixture.run()
        let index = try #require(run.config.designs.firstIndex { $0.name == "gender" })
        run.config.designs[index].published = [
            PublishedFigure(
                source: "CLIP paper, Table 4", metric: .accuracy, attribute: "race", values: [("Black", 0.967), ("White", 0.959)]),
            PublishedFigure(source: "CLIP model card", metric: .accuracy, attribute: "race", values: [("White", 0.965)])
        ]
        let markdown = MarkdownReport.render(AuditReport(run: run))
        let notes = markdown.split(separator: "\n").filter { $0.contains("Published: CLIP") }
        #expect(notes.contains("- [1] Published: CLIP paper, Table 4. Context, not an expected value."), "\(notes)")
        #expect(notes.contains("- [2] Published: CLIP model card. Context, not an expected value."), "\(notes)")

        run.config.designs[index].published.removeLast()
        let single = MarkdownReport.render(AuditReport(run: run)).split(separator: "\n").filter { $0.contains("Published: CLIP") }
        #expect(single.contains("Published: CLIP paper, Table 4. Context, not an expected value."), "\(single)")
    }
}

/// Published figures go into run.json under their metric's CSV name and come back, as typed
/// metrics, when `card` or `diff` read the folder.
@Suite("published figures in run.json")
struct PublishedRunJSONTests {
    @Test("a report folder with published figures is written and read back with them")
    func publishedFiguresRoundTrip() throws {
        var run = ReportFixture.run()
        let index = try #require(run.config.designs.firstIndex { $0.name == "gender" })
        let figure = PublishedFigure(
            source: "CLIP paper, Table 4", metric: .accuracy, attribute: "race", values: [("Black", 0.967), ("White", 0.959)])
        run.config.designs[index].published = [figure]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-published-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ReportWriter.write(run, to: dir)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run.json"))) as? [String: Any])
        let designs = try #require(json["designs"] as? [[String: Any]])
        let written = try #require(designs.first { $0["name"] as? String == "gender" }?["published"] as? [[String: Any]])
        #expect(written.count == 1 && written[0]["metric"] as? String == "accuracy")
        let back = try #require(try ReportFolder.read(dir).data.published["gender"])
        #expect(back == [figure])
        #expect(back[0].values.map(\.1) == [0.967, 0.959])
    }
}

/// `disparities.csv` has the appended columns of docs/report-files.md, and a folder written before them still reads.
@Suite("disparities.csv's appended columns")
struct DisparitiesColumnsTests {
    @Test("sizes, the Newcombe interval and the two flags follow the contract's columns; the old header is read")
    func appendedColumns() throws {
        let run = ReportFixture.run()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-disp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ReportWriter.write(run, to: dir)
        let url = dir.appendingPathComponent("disparities.csv")
        let records = try SimpleCSV.parse(String(contentsOf: url, encoding: .utf8))
        #expect(
            records[0] == [
                "design", "metric", "attribute", "group", "reference", "value", "reference_value", "difference",
                "ratio", "p_value", "p_adjusted", "significant", "n", "reference_n", "diff_ci_low", "diff_ci_high",
                "four_fifths", "small_group"
            ])
        // zip stops at the shorter side: the counts must agree, and there must be rows to check.
        #expect(records.count - 1 == run.metrics.disparities.count && !run.metrics.disparities.isEmpty)
        for (record, row) in zip(records.dropFirst(), run.metrics.disparities) {
            #expect(record[12] == String(row.n) && record[13] == String(row.referenceN))
            #expect(record[14] == CSVNumber.format(row.differenceCILow) && record[15] == CSVNumber.format(row.differenceCIHigh))
            // The interval holds the difference; the flags are the contract's.
            #expect(row.differenceCILow <= row.difference + 1e-12 && row.difference <= row.differenceCIHigh + 1e-12)
            #expect(record[16] == String(row.fourFifthsViolation) && record[17] == String(row.belowMinimumN))
            #expect(row.belowMinimumN == (row.n < run.config.minGroupSize || row.referenceN < run.config.minGroupSize))
        }
        #expect(records.dropFirst().contains { $0[16] == "true" } && records.dropFirst().contains { $0[17] == "true" })
        let before = try ReportFolder.read(dir)

        // The same folder as written before the columns were appended.
        let old = records.map { Array($0.prefix(12)) }
        var writer = CSVWriter()
        for r in old { writer.writeRow(r.map(CSVCell.verbatim)) }
        try writer.text.write(to: url, atomically: true, encoding: .utf8)
        let after = try ReportFolder.read(dir)
        #expect(after.data.disparities == before.data.disparities)
    }
}
