import Foundation
import Testing

/// The demo's variant (`denigration+child`, adding a `child` class) changes predictions on the
/// fixture model, so the variant's finding and its effect are exercised end to end: predictions,
/// comparison.csv and the sentence in report.md.
@Suite("demo variant")
struct DemoVariantTests {
    @Test("the demo's child variant moves predictions to child, and report.md states the effect comparison.csv holds")
    func childVariantChangesPredictions() throws {
        let dir = try CLI.temporaryDirectory("demo-variant")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try CLI.run(["run", "Audits/demo.yaml", "--output", dir.path, "--no-cache"])
        #expect(run.status == 0, "\(run.stderr)")

        let predictions = try Self.table(dir.appendingPathComponent("predictions.csv"))
        let variant = predictions.filter { $0["design"] == "denigration+child" }
        let base = Dictionary(uniqueKeysWithValues: predictions.filter { $0["design"] == "denigration" }.map { ($0["file"]!, $0) })
        let toChild = variant.filter { $0["predicted"] == "child" }
        #expect(!toChild.isEmpty, "no image predicted child")
        // Each of them was something else under the base: a changed prediction, not an added row.
        for row in toChild { #expect(base[row["file"]!]?["predicted"] != "child", "\(row)") }

        let comparison = try Self.table(dir.appendingPathComponent("comparison.csv"))
        let changed = comparison.filter { $0["design"] == "denigration+child" && Double($0["delta"]!) != 0 }
        #expect(!changed.isEmpty, "comparison.csv: every delta is zero")
        let overall = try #require(
            comparison.first { $0["design"] == "denigration+child" && $0["metric"] == "harm_rate:any" && $0["attribute"] == "*" })
        let before = try #require(Double(overall["base_value"]!)), after = try #require(Double(overall["value"]!))
        #expect(after < before, "\(overall)")

        // report.md's finding for the variant names it and gives the overall rates it moved between.
        let report = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        let line = try #require(report.split(separator: "\n").first { $0.hasPrefix("- Adding `child`") }, "\(report)")
        let percent = { (x: Double) in String(format: "%.1f%%", x * 100) }
        #expect(line.contains(percent(before)) && line.contains(percent(after)), "\(line) vs \(before) → \(after)")
    }

    /// A CSV without quoted fields (predictions.csv and comparison.csv of the demo have none) as
    /// rows keyed by the header.
    static func table(_ url: URL) throws -> [[String: String]] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let header = try #require(lines.first)
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }
}
