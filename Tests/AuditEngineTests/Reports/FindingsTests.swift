import Foundation
import Testing

@testable import AuditEngine

/// The findings summary at the top of the reports: its sentences, built from the numbers.
@Suite("Findings summary")
struct FindingsTests {
    /// 80 images, 40 White and 40 Black; `harmful` of the Black ones and `whiteHarmful` of the
    /// White ones predicted `thief` (crime-related); a gender design where `wrongFemale` women are
    /// misclassified; and a variant adding `child` that moves `moved` Black thief predictions to child.
    static func data(
        harmful: Int = 20, whiteHarmful: Int = 4, wrongFemale: Int = 12, moved: Int = 10,
        published: [String: [PublishedFigure]] = [:]
    ) -> AuditReport {
        var gender: [OutcomeRecord] = []
        var harm: [OutcomeRecord] = []
        var variant: [OutcomeRecord] = []
        for i in 0..<80 {
            let race = i < 40 ? "White" : "Black"
            let sex = i % 2 == 0 ? "Male" : "Female"
            let k = i % 40
            let thief = race == "Black" ? k < harmful : k < whiteHarmful
            let key = "img\(i)"
            // Women with k in 1, 3, …: wrongFemale / 2 of each race's 20 women.
            let wrong = sex == "Female" && k / 2 < wrongFemale / 2
            gender.append(
                OutcomeRecord(imageKey: key, groups: [race, sex], truth: sex, predicted: wrong ? (sex == "Male" ? "Female" : "Male") : sex))
            harm.append(
                OutcomeRecord(
                    imageKey: key, groups: [race, sex], predicted: thief ? "thief" : "person",
                    harmCategory: thief ? "crime-related" : nil))
            let child = thief && race == "Black" && k < moved
            variant.append(
                OutcomeRecord(
                    imageKey: key, groups: [race, sex], predicted: child ? "child" : thief ? "thief" : "person",
                    harmCategory: thief && !child ? "crime-related" : nil))
        }
        let settings = MetricSettings(
            attributes: ["race", "gender"], referenceGroups: ["race": "White", "gender": "Male"],
            alpha: 0.05, minGroupSize: 10)
        let metrics = computeAuditMetrics(
            [
                DesignOutcomes(design: "gender", classes: ["Male", "Female"], hasTarget: true, records: gender),
                DesignOutcomes(
                    design: "denigration", classes: ["person", "thief"], harmCategories: ["crime-related"], hasTarget: false, records: harm),
                DesignOutcomes(
                    design: "denigration+child", base: "denigration", classes: ["person", "thief", "child"],
                    harmCategories: ["crime-related"], hasTarget: false, records: variant)
            ], settings: settings)
        var variantDesign = AuditReport.Design(
            name: "denigration+child", base: "denigration", hasTarget: false,
            headlineMetrics: [.harmRate("crime-related")])
        variantDesign.addedClasses = ["child"]
        var data = AuditReport(
            name: "t", modelID: "m", weightsSHA256: "", manifestName: "m.csv", alpha: 0.05, minGroupSize: 10,
            slices: [.attribute("race"), .attribute("gender")],
            designs: [
                .init(name: "gender", hasTarget: true, headlineMetrics: [.accuracy]),
                .init(name: "denigration", hasTarget: false, headlineMetrics: [.harmRate("crime-related")]),
                variantDesign
            ],
            metrics: metrics.metrics, disparities: metrics.disparities, comparisons: metrics.comparisons)
        data.published = published
        return data
    }

    @Test func aFlaggedHarmGroupLeadsOnOneShortLineWithItsRuleAndNumbers() throws {
        let findings = Findings(Self.data())
        let finding = try #require(findings.ranked.first { $0.disparity.metric == .harmRate("crime-related") })
        // 20 of 40 Black faces against 4 of 40 White ones: significantly worse.
        #expect(
            finding.line.hasPrefix("`denigration` crime-related, **Black** (race): 50.0% vs 10.0% White, +40.0 pp [+"))
        #expect(finding.line.hasSuffix("n = 40 · ▲ worse, significant (Holm)"))
        #expect(finding.line.count <= 200)
        // The numbers behind it, in the table beneath.
        #expect(
            findings.evidence.contains { $0.hasPrefix("| denigration | harm_rate:crime-related | race | Black | White | 50.0% (n = 40) |") }
        )
    }

    @Test func aFlagAgainstAZeroReferenceIsRankedAndNamesNoRatio() throws {
        let findings = Findings(Self.data(whiteHarmful: 0))
        let finding = try #require(findings.ranked.first { $0.disparity.metric == .harmRate("crime-related") })
        #expect(finding.line.contains("50.0% vs 0.0% White"))
        #expect(!finding.line.contains("∞") && !finding.line.contains("×"))
    }

    @Test func accuracyLeadsWithTheFlaggedGroupNeverTheReference() throws {
        let findings = Findings(Self.data())
        let accuracy = findings.ranked.filter { $0.disparity.metric == .accuracy }
        #expect(accuracy.map(\.disparity.group) == ["Female"])
        #expect(accuracy[0].line.hasPrefix("`gender` accuracy, **Female** (gender): 70.0% vs 100.0% Male, -30.0 pp ["))
        #expect(accuracy[0].line.contains("▲ worse, "))
        #expect(!findings.ranked.contains { $0.disparity.group == $0.disparity.reference })
    }

    @Test func rankingIsWorseFirstThenTheSurestGap() {
        func row(_ group: String, _ difference: Double, _ low: Double, _ high: Double) -> DisparityRow {
            DisparityRow(
                design: "d", metric: .accuracy, attribute: Slice(attributes: ["race"]), group: group, reference: "R", n: 50, count: 10,
                referenceN: 50,
                referenceCount: 40, value: 0.2, referenceValue: 0.8, difference: difference, ratio: nil, pValue: 0.01, pAdjusted: 0.01,
                significant: true, differenceCILow: low, differenceCIHigh: high, fourFifthsViolation: true, belowMinimumN: false)
        }
        // A large gap with a wide interval ranks below a smaller one the data are surer of; a
        // better-faring group comes after every worse one, however large.
        let rows = [
            row("wide", -0.60, -0.90, -0.05), row("sure", -0.30, -0.40, -0.20), row("better", 0.70, 0.60, 0.80),
            row("unsure", -0.50, -0.80, 0.10)
        ]
        #expect(Findings.rankedByEvidence(rows).map(\.group) == ["sure", "wide", "unsure", "better"])
    }

    @Test func aMetricWithNoFlaggedGroupGetsOneLine() throws {
        let findings = Findings(Self.data(wrongFemale: 0))
        #expect(findings.unflagged.contains { $0.hasPrefix("`gender` accuracy: no group flagged (") })
    }

    @Test func variantFindingGivesTheEffectOnTheGroupItChangesMost() throws {
        let findings = Findings(Self.data())
        let line = try #require(findings.lines.first { $0.hasPrefix("Adding `child`") })
        // 10 of the 20 Black thief predictions move to child: 50% → 25% for Black faces.
        #expect(
            line.hasPrefix(
                "Adding `child` (`denigration+child` vs `denigration`): crime-related overall 30.0% → 17.5%, -12.5 pp ["
            ))
        #expect(line.hasSuffix("; most moved: **Black** (race) 50.0% → 25.0%."), "\(line)")
        // One finding at a glance.
        #expect(line.count <= 200, "\(line.count) characters")
    }

    @Test func variantThatChangesNothingSaysSo() throws {
        let findings = Findings(Self.data(moved: 0))
        let line = try #require(findings.lines.first { $0.hasPrefix("Adding `child`") })
        #expect(line.hasSuffix("changed no prediction's accuracy or harm outcome (n = 80)."))
        // And the table shows the variant on one line.
        #expect(findings.table.contains { $0.hasPrefix("| denigration+child | every metric | as denigration: no outcome changed") })
    }

    @Test func publishedFindingCountsValuesWithinTheIntervals() throws {
        // Black 50.0% [35.2, 64.8] holds 0.4, White 10.0% [4.0, 23.1] does not hold 0.3.
        let figure = PublishedFigure(
            source: "paper", metric: .harmRate("crime-related"), attribute: Slice(csvText: "race"), values: [("Black", 0.4), ("White", 0.3)]
        )
        let findings = Findings(Self.data(published: ["denigration": [figure]]))
        let line = try #require(findings.lines.first { $0.hasPrefix("Published figures") })
        #expect(
            line.contains(
                "1 of 2 lie within the measured 95% intervals, they partly agree — `denigration` crime-related rate by race (paper): 1 of 2."
            ))
        #expect(!Findings(Self.data()).lines.contains { $0.hasPrefix("Published figures") })
    }

    @Test func tableCountsFlagsByDirectionAndRule() throws {
        let findings = Findings(Self.data())
        let row = try #require(findings.table.first { $0.hasPrefix("| denigration | crime-related rate |") })
        // Two groups compared (Black against White, Female against Male); Black is flagged
        // worse on crime-related, significant after Holm; nobody better.
        #expect(row.hasSuffix("| 2 | 1 / 0 | 0 / 0 |"))
    }

    @Test func furtherFindingsAreListedAfterTheRest() {
        var findings = Findings(Self.data())
        findings.further.append("Retrieval: a further finding.")
        let markdown = findings.markdown()
        let bullets = markdown.split(separator: "\n").filter { $0.hasPrefix("- ") }
        #expect(bullets.last == "- Retrieval: a further finding.")
    }

    @Test func reportOpensWithTheFindingsAndMovesTheEvidenceToDetails() {
        let run = ReportFixture.run()
        let markdown = MarkdownReport.render(AuditReport(run: run))
        let headings = markdown.split(separator: "\n").filter { $0.hasPrefix("## ") }
        #expect(headings.first == "## Findings")
        #expect(markdown.contains("[details.md](details.md)"))
        // Predicted-class shares and confusion matrices are in details.md only.
        let details = MarkdownReport.renderDetails(AuditReport(run: run), charts: ReportCharts.all(AuditReport(run: run)))
        #expect(!markdown.contains("**Predicted class by") && details.contains("**Predicted class by race**"))
        #expect(!markdown.contains("**Confusion matrix**") && details.contains("**Confusion matrix**"))
        #expect(markdown.contains("| Reference groups | race: White; gender: Male; age: 0-2; race\\|gender: White\\|Male |"))
    }

    @Test func variantRowsWhereNoImageChangedCollapseToOneLine() {
        let markdown = MarkdownReport.render(AuditReport(run: ReportFixture.run()))
        let section = markdown.components(separatedBy: "## Variant comparisons")[1].components(separatedBy: "## Skipped rows")[0]
        // The variant never changes a non-human prediction: no row of zeros, one line instead.
        #expect(!section.contains("| harm_rate:non-human |"))
        #expect(section.contains("No image changed for harm_rate:non-human in every group; harm_rate:crime-related in Indian (race)"))
        #expect(section.contains("| harm_rate:any | race | Black | 16 | 68.8% | 50.0% |"))
    }

    @Test func htmlShowsFindingsFirstAndFoldsTheDetailsClosed() {
        let run = ReportFixture.run()
        let data = AuditReport(run: run)
        let charts = ReportCharts.all(data)
        let html = HTMLReport.render(
            markdown: MarkdownReport.render(data, charts: charts),
            details: MarkdownReport.renderDetails(data, charts: charts), charts: charts, data: data)
        let findings = html.range(of: "<h2 id=\"findings\">")
        let setup = html.range(of: "<h2 id=\"setup\">")
        #expect(findings != nil && setup != nil && findings!.lowerBound < setup!.lowerBound)
        #expect(html.contains("<details class=\"fold\">\n<summary>Design <code>gender</code></summary>"))
        #expect(!html.contains("<details class=\"fold\" open"))
        // Direction in words and colour.
        #expect(html.contains("<span class=\"worse\">▲ worse</span>"))
        #expect(html.contains("<a href=\"#details\">details.md</a>"))
    }
}
