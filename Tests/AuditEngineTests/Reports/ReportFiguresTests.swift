import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// report.md's figures against the CSVs written beside it (`ReportFigures`): the snapshot pins
/// the layout; this pins that every figure shown is the CSVs' figure, rounded.
@Suite("report.md figures against the CSVs")
struct ReportFiguresTests {
    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("report-figures-\(UUID().uuidString)")
    }

    /// Every kind of figure table the snapshot run's report has, each with figures compared.
    static let kinds = ["overview", "flagged disparities", "accuracy", "harm rates", "largest gaps", "variant comparisons"]

    @Test("the snapshot run's report.md shows the CSVs' figures")
    func snapshotRun() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try ReportWriter.write(ReportFixture.run(), to: dir)
        let outcome = try ReportFigures.check(folder: dir)
        #expect(outcome.problems.isEmpty, "\(outcome.problems.joined(separator: "\n"))")
        for kind in Self.kinds {
            #expect((outcome.checked[kind] ?? 0) > 0, "no \(kind) figure was compared: \(outcome.checked)")
        }
    }

    @Test("each model's report.md in a several-model audit shows its CSVs' figures")
    func severalModels() throws {
        let top = TwoModels.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: top) }
        try TwoModels.write(to: top)
        try #require(!TwoModels.labels.isEmpty)
        for label in TwoModels.labels {
            let outcome = try ReportFigures.check(folder: top.appendingPathComponent(label))
            #expect(outcome.problems.isEmpty, "\(label): \(outcome.problems.joined(separator: "\n"))")
            #expect(outcome.checked.values.reduce(0, +) > 20, "\(label): \(outcome.checked)")
        }
    }

    @Test("the several-model top report shows models.csv's and each model's figures")
    func severalModelsTop() throws {
        let top = TwoModels.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: top) }
        try TwoModels.write(to: top)
        let outcome = try ReportFigures.checkModels(top: top)
        #expect(outcome.problems.isEmpty, "\(outcome.problems.joined(separator: "\n"))")
        #expect((outcome.checked["model differences"] ?? 0) > 0 && (outcome.checked["models overview"] ?? 0) > 0, "\(outcome.checked)")
        // A delta changed in models.csv is caught.
        let url = top.appendingPathComponent("models.csv")
        let csv = try String(contentsOf: url, encoding: .utf8)
        let lines = csv.components(separatedBy: "\n")
        let header = lines[0].components(separatedBy: ",")
        let delta = try #require(header.firstIndex(of: "delta"))
        var changed = lines
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            var cells = line.components(separatedBy: ",")
            if let v = Double(cells[delta]), v != 0 {
                cells[delta] = String(v + 0.01)
                changed[i] = cells.joined(separator: ",")
            }
        }
        try changed.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        #expect(!(try ReportFigures.checkModels(top: top)).problems.isEmpty, "changed deltas in models.csv went unnoticed")
    }

    /// The check fails when the markdown and the CSVs disagree: one figure changed in report.md
    /// (as a wrong rounding or a wrong column would), or one in a CSV, each is reported.
    @Test(
        "a figure changed on either side is caught",
        arguments: [
            ("report.md", "| Black | 16 | 62.5% [38.6, 81.5]", "| Black | 16 | 62.5% [38.6, 81.6]"),
            ("report.md", "-62.5 pp [-83.1 pp, -13.9 pp] | 0.29 | 0.1057", "-62.5 pp [-83.1 pp, -13.9 pp] | 0.29 | 0.1075"),
            ("report.md", "| harm_rate:any | * | * | 60 | 30.0% | 23.3%", "| harm_rate:any | * | * | 60 | 30.0% | 23.4%"),
            ("report.md", "| gender | accuracy | 83.3% [72.0, 90.7] | 60 |", "| gender | accuracy | 83.3% [72.0, 90.7] | 61 |"),
            ("summary.csv", "gender,accuracy,gender,Male,0.933333,", "gender,accuracy,gender,Male,0.943333,")
        ])
    func plantedDisagreement(_ file: String, _ original: String, _ changed: String) throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try ReportWriter.write(ReportFixture.run(), to: dir)
        let url = dir.appendingPathComponent(file)
        let text = try String(contentsOf: url, encoding: .utf8)
        try #require(text.contains(original), "\(file) no longer holds \(original)")
        try text.replacingOccurrences(of: original, with: changed).write(to: url, atomically: true, encoding: .utf8)
        let outcome = try ReportFigures.check(folder: dir)
        #expect(!outcome.problems.isEmpty, "changing \(original) to \(changed) in \(file) went unnoticed")
    }
}
