import Foundation
import Testing

/// `run` with `retrieval:` and `associations:`: the three files of docs/report-files.md, their shape, and the
/// errors only the scored rows can reveal.
@Suite("retrieval and association sections of a run", .serialized)
struct EmbeddingMeasuresTests {
    static let sections = """
        retrieval:
          templates: ["a photo of a {} person"]
          concepts: [good, criminal]
          queries: ["a photo of a nurse"]
          k: [2, 4]
          permutations: 50
        associations:
          - name: gender-career
            attribute: gender
            groups: [Male, Female]
            targets: {career: [office, salary], family: [home, parents]}
            templates: ["a photo of {}"]
            permutations: 100
        """

    static func csv(_ url: URL) throws -> [[String]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    @Test("the three files: a row per query × attribute × k × desired, group counts that add up to k")
    func filesAndShapes() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(8)))
        try ws.writeAudit(extra: Self.sections)
        let out = ws.url.appendingPathComponent("out")
        let result = try CLI.run(["run", ws.audit.path, "--output", out.path, "--no-cache", "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")

        let retrieval = try Self.csv(out.appendingPathComponent("retrieval.csv"))
        #expect(
            retrieval[0] == [
                "query", "attribute", "k", "desired", "max_skew", "min_skew", "ndkl", "max_group",
                "min_group", "null_max_skew", "p_value"
            ])
        // 3 queries (+ `*`) × 3 attributes (race, gender, race|gender) × 2 k × 2 desired.
        #expect(retrieval.count - 1 == 4 * 3 * 2 * 2)
        let queries = Set(retrieval.dropFirst().map { $0[0] })
        #expect(queries == ["*", "a photo of a good person", "a photo of a criminal person", "a photo of a nurse"])
        for row in retrieval.dropFirst() where row[0] != "*" {
            let p = try #require(Double(row[10]))
            #expect(p > 0 && p <= 1)
        }

        let groups = try Self.csv(out.appendingPathComponent("retrieval_groups.csv"))
        #expect(groups[0] == ["query", "attribute", "group", "k", "count", "share", "desired_share", "skew"])
        var sums: [String: Int] = [:]
        for row in groups.dropFirst() { sums["\(row[0])|\(row[1])|\(row[3])", default: 0] += Int(row[4])! }
        #expect(!sums.isEmpty && sums.allSatisfy { Int($0.key.split(separator: "|").last!)! == $0.value })

        let association = try Self.csv(out.appendingPathComponent("association.csv"))
        #expect(association.count == 2)
        #expect(Array(association[1].prefix(8)) == ["gender-career", "gender", "Male", "Female", "career", "family", "4", "4"])
        // C(8, 4) = 70 re-partitions, fewer than the 100 asked: the exact test.
        #expect(association[1][12] == "70")

        // report.md states both beside their baselines in one compact section; details.md has
        // them in full, with a chart each.
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("## Retrieval skew and association tests"))
        #expect(report.contains("| retrieval by | MaxSkew@2 (null) | MaxSkew@4 (null) | queries beyond the null (Holm), k = 2/4 |"))
        #expect(report.contains("| `gender-career` | Male vs Female (4, 4) | career vs family | "))
        let details = try String(contentsOf: out.appendingPathComponent("details.md"), encoding: .utf8)
        #expect(details.contains("## Retrieval skew") && details.contains("| attribute | k | mean MaxSkew | null MaxSkew |"))
        #expect(
            details.contains("## Association tests") && details.contains("| `gender-career` | Male | Female | career | family | 4, 4 |"))
        for chart in ["retrieval-skew-race.svg", "retrieval-skew-gender.svg", "association-effect-sizes.svg"] {
            #expect(details.contains("](charts/\(chart))"), "\(chart) not embedded")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("charts/\(chart)").path), "\(chart)")
        }

        // Both join the findings at the top, and the card made from the folder.
        let findings = String(report[report.range(of: "## Findings")!.lowerBound..<report.range(of: "## Setup")!.lowerBound])
        #expect(findings.contains("- Retrieval over 3 neutral queries: at k = 4, the queries whose top k is skewed beyond"))
        #expect(
            findings.contains(
                "- Association tests (effect size, positive: the first group's faces closer to the first word set): `gender-career` "))
        let card = try CLI.run(["card", out.path])
        #expect(card.status == 0, "\(card.stderr)")
        let fairness = try String(contentsOf: out.appendingPathComponent("card/fairness.md"), encoding: .utf8)
        #expect(fairness.contains("Retrieval over 3 neutral queries") && fairness.contains("Association tests (effect size"))
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Retrieval skew") && html.contains("Association tests: effect sizes"))
    }

    @Test("a k above the scored images and a group no scored image has are errors at their lines")
    func runTimeErrors() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(5)))
        try ws.writeAudit(extra: Self.sections.replacingOccurrences(of: "k: [2, 4]", with: "k: [2, 40]"))
        let tooLarge = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--no-cache", "--threads", "1"])
        #expect(tooLarge.status != 0)
        #expect(
            tooLarge.stderr.contains("audit.yaml:") && tooLarge.stderr.contains("retrieval.k[1]")
                && tooLarge.stderr.contains("more than the 5 scored images"), "\(tooLarge.stderr)")

        try ws.writeAudit(extra: Self.sections.replacingOccurrences(of: "groups: [Male, Female]", with: "groups: [Male, Femal]"))
        let unknown = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--no-cache", "--threads", "1"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("associations[0].groups[1]") && unknown.stderr.contains("\"Femal\""), "\(unknown.stderr)")
    }
}
