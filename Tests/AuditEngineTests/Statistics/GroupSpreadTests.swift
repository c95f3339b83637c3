import Testing

@testable import AuditEngine

/// Per-class recall and FPR, and the spreads of summary.csv, on the hand-counted audit of
/// ``MetricsTests`` (design `gender`, classes Male then Female; rows 1–9 there).
@Suite("Per-class recall and FPR, and the spread between groups")
struct GroupSpreadTests {
    let result = computeAuditMetrics(MetricsTests.designs(), settings: MetricsTests.settings)

    func metric(_ metric: String, _ attribute: String, _ group: String) -> MetricRow? {
        result.metrics.first { $0.design == "gender" && $0.metric.csvName == metric && $0.attribute == attribute && $0.group == group }
    }

    func spread(_ metric: String, _ attribute: String) -> SummaryRow? {
        groupSpreads(result.metrics).first { $0.design == "gender" && $0.metric.csvName == metric && $0.attribute == attribute }
    }

    @Test func recallCountsRowsOfTheClassAndFPRTheOthers() throws {
        // Truth Male: 1, 2, 5, 8, predicted Male: 1, 2, 8. Truth Female: 3, 4, 6, 7, 9, predicted Male: 4, 7.
        let checks: [(String, String, String, Int, Int)] = [
            ("recall:Male", "*", "*", 4, 3), ("fpr:Male", "*", "*", 5, 2),
            ("recall:Female", "*", "*", 5, 3), ("fpr:Female", "*", "*", 4, 1), // 5 predicted Female
            ("recall:Male", "race", "A", 2, 2), ("recall:Male", "race", "B", 1, 0), ("fpr:Male", "race", "C", 1, 0),
            ("recall:Male", "gender", "Male", 4, 3), ("fpr:Male", "gender", "Female", 5, 2)
        ]
        for (name, attribute, group, n, count) in checks {
            let row = try #require(metric(name, attribute, group), "\(name) \(attribute)=\(group)")
            #expect(row.n == n && row.count == count, "\(name) \(attribute)=\(group)")
        }
        // No Female face is a Male truth: the rates that would have n = 0 have no row.
        #expect(metric("recall:Male", "gender", "Female") == nil)
        #expect(metric("fpr:Male", "gender", "Male") == nil)
        #expect(metric("recall:Female", "race|gender", "A|Male") == nil)
        #expect(result.metrics.allSatisfy { $0.n > 0 })
    }

    @Test func recallAndFPRHaveDisparitiesLikeEveryMetric() {
        let rows = result.disparities.filter { $0.design == "gender" && $0.metric.csvName == "recall:Male" && $0.attribute == "race" }
        // Reference A (the largest race group): B 0/1 and C 1/1 against A's 2/2.
        #expect(rows.map(\.group) == ["B", "C"])
        #expect(rows.first?.difference == -1)
    }

    @Test func recallAndFPRAreComparedBetweenAVariantAndItsBase() throws {
        // A variant that predicts every truth: Male recall gains image 5; Male FPR loses 4 and 7.
        let base = MetricsTests.designs()[0]
        var variant = base
        variant.design = "gender-exact"
        variant.base = "gender"
        variant.records = base.records.map { record in
            var record = record
            record.predicted = record.truth!
            return record
        }
        let comparisons = computeAuditMetrics([base, variant], settings: MetricsTests.settings).comparisons
        let recall = try #require(comparisons.first { $0.metric.csvName == "recall:Male" && $0.attribute == "*" })
        #expect(recall.n == 4 && recall.variantOnly == 1 && recall.baseOnly == 0 && recall.delta == 0.25)
        let fpr = try #require(comparisons.first { $0.metric.csvName == "fpr:Male" && $0.attribute == "*" })
        #expect(fpr.n == 5 && fpr.variantOnly == 0 && fpr.baseOnly == 2 && fpr.delta == -0.4)
    }

    @Test func spreadNamesTheExtremesAndBreaksTiesByGroupOrder() throws {
        // recall:Male by race: A 2/2, B 0/1, C 1/1 — A and C tie at the top; A comes first.
        let recall = try #require(spread("recall:Male", "race"))
        #expect(recall.maxGroup == "A" && recall.minGroup == "B")
        #expect(recall.maxValue == 1 && recall.minValue == 0 && recall.difference == 1 && recall.ratio == 0)
        let interval = try #require(newcombeUnpairedDifferenceInterval(successes1: 2, trials1: 2, successes2: 0, trials2: 1))
        #expect(recall.differenceCILow == interval.lower && recall.differenceCIHigh == interval.upper)
        // harm_rate:non-human by race: A 0/4, B 1/3, C 0/2 — A and C tie at the bottom; A comes first.
        let harm = try #require(
            groupSpreads(result.metrics).first {
                $0.design == "harm" && $0.metric.csvName == "harm_rate:non-human" && $0.attribute == "race"
            })
        #expect(harm.maxGroup == "B" && harm.minGroup == "A" && harm.ratio == 0)
        // One group only (recall:Male has Male faces only): no spread, ratio 1.
        let single = try #require(spread("recall:Male", "gender"))
        #expect(single.maxGroup == "Male" && single.minGroup == "Male" && single.difference == 0 && single.ratio == 1)
        #expect(single.groups == 1 && recall.groups == 3)
        // Never the whole set.
        #expect(!groupSpreads(result.metrics).contains { $0.attribute == "*" })
    }

    @Test func ratioIsEmptyWhenEveryGroupIsZero() throws {
        let rows = ["A", "B"].map { group in
            MetricRow(
                design: "d", metric: .harmRate("x"), attribute: "race", group: group, n: 5, count: 0, value: 0,
                ciLow: 0, ciHigh: 0.5, belowMinimumN: false)
        }
        let spread = try #require(groupSpreads(rows).first)
        #expect(spread.ratio == nil && spread.difference == 0)
        #expect(MetricsCSV.renderSummary([spread]).split(separator: "\n").last?.hasSuffix(",") == true)
    }

    @Test func demographicParityAndEqualizedOddsForTheTwoClassTarget() throws {
        // Positive class: Male (listed first). Prediction rate of Male by race: A 3/4, B 1/3, C 1/2.
        let parity = try #require(spread("demographic_parity", "race"))
        #expect(parity.maxGroup == "A" && parity.minGroup == "B")
        #expect(abs(parity.difference - 5.0 / 12) < 1e-15 && abs(parity.ratio! - 4.0 / 9) < 1e-15)
        // Recall spread 1 (A vs B) beats the FPR spread 1/2 (A 1/2, B 1/2, C 0/1): the recall
        // component names the groups; the ratio is the smaller of 0 and 0.
        let odds = try #require(spread("equalized_odds", "race"))
        #expect(odds.maxGroup == "A" && odds.minGroup == "B" && odds.difference == 1 && odds.ratio == 0)
        // By gender each component has one group: both spreads 0, a tie that the recall component takes.
        let tied = try #require(spread("equalized_odds", "gender"))
        #expect(tied.maxGroup == "Male" && tied.difference == 0 && tied.ratio == 1)
        // The harm design has no target, the variant none either: no parity rows.
        #expect(
            !groupSpreads(result.metrics).contains {
                $0.design != "gender" && [SummaryRow.Measure.demographicParity, .equalizedOdds].contains($0.metric)
            })
    }

    @Test func equalizedOddsTakesTheLargerSpreadAndTheSmallerRatio() throws {
        // TPR by group: A 1/2, B 2/2 (spread 1/2, ratio 1/2); FPR: A 1/4, B 0/4 (spread 1/4, ratio 0).
        func rows(_ metric: String, _ a: (Int, Int), _ b: (Int, Int)) -> [MetricRow] {
            [("*", "*", (a.0 + b.0, a.1 + b.1)), ("g", "A", a), ("g", "B", b)].map { attribute, group, c in
                MetricRow(
                    design: "d", metric: Metric(csvName: metric)!, attribute: attribute, group: group, n: c.1, count: c.0,
                    value: Double(c.0) / Double(c.1), ciLow: 0, ciHigh: 1, belowMinimumN: false)
            }
        }
        let metrics =
            rows("recall:yes", (1, 2), (2, 2)) + rows("fpr:yes", (1, 4), (0, 4))
            + rows("prediction_rate:yes", (2, 6), (2, 6)) + rows("prediction_rate:no", (4, 6), (4, 6))
        let odds = try #require(groupSpreads(metrics).first { $0.metric == .equalizedOdds })
        #expect(odds.maxGroup == "B" && odds.minGroup == "A" && odds.difference == 0.5)
        #expect(odds.ratio == 0) // the FPR component's ratio, smaller than the recall component's 1/2
        // The interval is the recall component's: B 2/2 against A 1/2.
        let interval = try #require(newcombeUnpairedDifferenceInterval(successes1: 2, trials1: 2, successes2: 1, trials2: 2))
        #expect(odds.differenceCILow == interval.lower && odds.differenceCIHigh == interval.upper)
        // A third class makes it no two-class target.
        let three = metrics + rows("prediction_rate:maybe", (0, 6), (0, 6))
        #expect(!groupSpreads(three).contains { $0.metric == .equalizedOdds || $0.metric == .demographicParity })
    }

    @Test func summaryCSVHasTheContractsColumns() {
        let text = MetricsCSV.renderSummary(groupSpreads(result.metrics))
        let lines = text.split(separator: "\n")
        #expect(lines.first == "design,metric,attribute,max_group,max_value,min_group,min_value,difference,diff_ci_low,diff_ci_high,ratio")
        #expect(lines.contains { $0.hasPrefix("gender,recall:Male,race,A,1,B,0,1,") })
    }
}

/// The gap table of report.md (compact) and details.md (every measure).
@Suite("Largest gaps between groups in the Markdown reports")
struct GapTableTests {
    static func table(classes: [String], compact: Bool) -> String {
        // Truth cycles through the classes; every third image is predicted as the next class.
        let records = (0..<30).map { i in
            let truth = classes[i % classes.count]
            let predicted = i % 3 == 0 ? classes[(i + 1) % classes.count] : truth
            return OutcomeRecord(
                imageKey: "\(i)", groups: [i < 12 ? "A" : "B", i % 2 == 0 ? "F" : "M", "x"], truth: truth,
                predicted: predicted)
        }
        var run = ReportFixture.run()
        run.metrics = computeAuditMetrics(
            [DesignOutcomes(design: "d", classes: classes, hasTarget: true, records: records)],
            settings: MetricSettings(attributes: ["race", "gender", "age"]))
        var design = AuditReport.Design(name: "d", hasTarget: true, headlineMetrics: [.accuracy])
        design.target = "t"
        design.classes = classes.map { AuditReport.DesignClass(name: $0, phrases: [$0]) }
        var md = MarkdownText()
        MarkdownReport.gapTable(&md, AuditReport(run: run), design: design, slices: ["race", "gender", "age"], compact: compact)
        return md.text
    }

    static func measures(_ text: String) -> [String] {
        text.split(separator: "\n").filter { $0.hasPrefix("| race |") }.map { $0.components(separatedBy: " | ")[1] }
    }

    @Test func twoClassTargetsShowParityAndOddsInReportMD() {
        let compact = Self.table(classes: ["yes", "no"], compact: true)
        let measures = Self.measures(compact)
        #expect(
            measures.count == 3 && measures[0] == "accuracy" && measures[1].hasPrefix("demographic parity")
                && measures[2].hasPrefix("equalized odds"), "\(measures)")
        let full = Self.table(classes: ["yes", "no"], compact: false)
        #expect(full.contains("| race | recall of `") && full.contains("| race | false-positive rate of `"))
    }

    @Test func otherTargetsShowTheLargestRecallAndFPRGaps() {
        let compact = Self.table(classes: ["a", "b", "c"], compact: true)
        #expect(compact.contains("| race | recall of `") && compact.contains("| race | false-positive rate of `"))
        #expect(!compact.contains("demographic parity") && !compact.contains("equalized odds ("))
    }

    @Test func aSliceWithOneGroupHasNoLine() {
        // `age` has the one group `x`: nothing to compare.
        #expect(!Self.table(classes: ["a", "b", "c"], compact: false).contains("| age |"))
    }
}
