import Foundation
import Testing

@testable import AuditEngine

/// summary.csv in a written report folder, and read back by `card` and `diff`.
@Suite("summary.csv written and read back")
struct SummaryCSVTests {
    @Test func theFolderHasTheSpreadsOfItsMetrics() throws {
        let (dir, run) = try ReportFolderTests.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOf: dir.appendingPathComponent("summary.csv"), encoding: .utf8)
        #expect(text == MetricsCSV.renderSummary(groupSpreads(run.metrics.metrics)))
        // The fixture's `gender` design has a two-class target: its parity rows are there.
        #expect(text.contains("\ngender,demographic_parity,race,"))
        #expect(text.contains("\ngender,equalized_odds,race|gender,"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run.json"))) as? [String: Any]
        #expect((json?["files"] as? [String])?.contains("summary.csv") == true)
        #expect(ReportFolderTests.failure(dir) == nil)
    }

    @Test func aFolderWithoutSummaryCSVStillReads() throws {
        let (message, dir) = try ReportFolderTests.failure {
            try FileManager.default.removeItem(at: $0.appendingPathComponent("summary.csv"))
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(message == nil)
    }

    @Test func anEditedSummaryIsALineError() throws {
        let file = { (dir: URL) in "\(dir.path)/summary.csv" }
        let edited = { (changes: [String: String]) in
            try ReportFolderTests.failure { try ReportFolderTests.corrupt($0, "summary.csv", row: 1, changes) }
        }
        let (difference, dir1) = try edited(["difference": "0.9"])
        defer { try? FileManager.default.removeItem(at: dir1) }
        #expect(difference?.hasPrefix("\(file(dir1)): line 2: difference 0.9 does not match metrics.csv's counts = ") == true)
        let (group, dir2) = try edited(["max_group": "Martian"])
        defer { try? FileManager.default.removeItem(at: dir2) }
        #expect(group?.hasPrefix("\(file(dir2)): line 2: max_group is \"Martian\", but metrics.csv gives ") == true)
        let (unknown, dir3) = try edited(["metric": "recall:Martian"])
        defer { try? FileManager.default.removeItem(at: dir3) }
        #expect(unknown?.hasPrefix("\(file(dir3)): line 2: no groups in metrics.csv for ") == true)
        for message in [difference, group, unknown] { #expect(message?.contains("\n") == false) }
    }

    @Test func aMissingOrRepeatedRowIsAnError() throws {
        func keeping(_ dir: URL, _ transform: ([[String]]) -> [[String]]) throws {
            let url = dir.appendingPathComponent("summary.csv")
            var writer = CSVWriter()
            for r in transform(try SimpleCSV.parse(String(contentsOf: url, encoding: .utf8))) { writer.writeRow(r.map(CSVCell.verbatim)) }
            try writer.text.write(to: url, atomically: true, encoding: .utf8)
        }
        let (missing, dir1) = try ReportFolderTests.failure { try keeping($0) { Array($0.prefix(1) + $0.dropFirst(2)) } }
        defer { try? FileManager.default.removeItem(at: dir1) }
        #expect(missing?.hasPrefix("\(dir1.path)/summary.csv: no row for ") == true)
        let (repeated, dir2) = try ReportFolderTests.failure { try keeping($0) { $0 + [$0[1]] } }
        defer { try? FileManager.default.removeItem(at: dir2) }
        #expect(repeated?.contains("/summary.csv: line ") == true && repeated?.contains("repeats line 2") == true)
    }
}
