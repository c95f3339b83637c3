import Testing
@testable import AuditEngine

/// Per-class recall and FPR, and the spreads of summary.csv, on the hand-counted audit of
/// ``MetricsTests`` (design `gender`, classes Male then Female; rows 1–9 there).
@Suite("Per-class recall and FPR, and the spread between groups")
struct GroupSpreadTests {
    let result = computeAuditMetrics(MetricsTests.designs(), settings: MetricsTests.settings)

    func metric(_ metric: String, _ attribute: String, _ group: String) -> MetricRow? {
        result.metrics.first { $0.design == "gender" && $0.metric == metric && $0.attribute == attribute && $0.group == group }
    }

    func spread(_ metric: String, _ attribute: String) -> SummaryRow? {
        groupSpreads(result.metrics).first { $0.design == "gender" && $0.metric == metric && $0.attribute == attribute }
    }

    @Test func recallCountsRowsOfTheClassAndFPRTheOthers() throws {
        // Truth Male: 1, 2, 5, 8, predicted Male: 1, 2, 8. Truth Female: 3, 4, 6, 7, 9, predicted Male: 4, 7.
        let checks: [(String, String, String, Int, Int)] = [
            ("recall:Male", "*", "*", 4, 3), ("fpr:Male", "*", "*", 5, 2),
            ("recall:Female", "*", "*", 5, 3), ("fpr:Female", "*", "*", 4, 1),   // 5 predicted Female
            ("recall:Male", "race", "A", 2, 2), ("recall:Male", "race", "B", 1, 0), ("fpr:Male", "race", "C", 1, 0),
            ("recall:Male", "gender", "Male", 4, 3), ("fpr:Male", "gender", "Female", 5, 2),
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
        let rows = result.disparities.filter { $0.design == "gender" && $0.metric == "recall:Male" && $0.attribute == "race" }
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
        let recall = try #require(comparisons.first { $0.metric == "recall:Male" && $0.attribute == "*" })
        #expect(recall.n == 4 && recall.variantOnly == 1 && recall.baseOnly == 0 && recall.delta == 0.25)
        let fpr = try #require(comparisons.first { $0.metric == "fpr:Male" && $0.attribute == "*" })
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
        let harm = try #require(groupSpreads(result.metrics).first {
            $0.design == "harm" && $0.metric == "harm_rate:non-human" && $0.attribute == "race"
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
            MetricRow(design: "d", metric: "harm_rate:x", attribute: "race", group: group, n: 5, count: 0, value: 0,
                      ciLow: 0, ciHigh: 0.5, belowMinimumN: false)
        }
        let spread = try #require(groupSpreads(rows).first)
        #expect(spread.ratio == nil && spread.difference == 0)
        #expect(MetricsCSV.renderSummary([spread]).split(separator: "\n").last?.hasSuffix(",") == true)
    }

    @Test func demographicParityAndEqualizedOddsForTheTwoClassTarget() throws {
        // Positive class: Male (listed first). Prediction rate of Male by race: A 3/4, B 1/3, C 1/2.
        let parity = try #require(spread(SummaryRow.demographicParity, "race"))
        #expect(parity.maxGroup == "A" && parity.minGroup == "B")
        #expect(abs(parity.difference - 5.0 / 12) < 1e-15 && abs(parity.ratio! - 4.0 / 9) < 1e-15)
        // Recall spread 1 (A vs B) beats the FPR spread 1/2 (A 1/2, B 1/2, C 0/1): the recall
        // component names the groups; the ratio is the smaller of 0 and 0.
        let odds = try #require(spread(SummaryRow.equalizedOdds, "race"))
        #expect(odds.maxGroup == "A" && odds.minGroup == "B" && odds.difference == 1 && odds.ratio == 0)
        // By gender each component has one group: both spreads 0, a tie that the recall component takes.
        let tied = try #require(spread(SummaryRow.equalizedOdds, "gender"))
        #expect(tied.maxGroup == "Male" && tied.difference == 0 && tied.ratio == 1)
        // The harm design has no target, the variant none either: no parity rows.
        #expect(!groupSpreads(result.metrics).contains {
            $0.design != "gender" && [SummaryRow.demographicParity, SummaryRow.equalizedOdds].contains($0.metric)
        })
    }

    @Test func equalizedOddsTakesTheLargerSpreadAndTheSmallerRatio() throws {
        // TPR by group: A 1/2, B 2/2 (spread 1/2, ratio 1/2); FPR: A 1/4, B 0/4 (spread 1/4, ratio 0).
        func rows(_ metric: String, _ a: (Int, Int), _ b: (Int, Int)) -> [MetricRow] {
            [("*", "*", (a.0 + b.0, a.1 + b.1)), ("g", "A", a), ("g", "B", b)].map { attribute, group, c in
                MetricRow(design: "d", metric: metric, attribute: attribute, group: group, n: c.1, count: c.0,
                          value: Double(c.0) / Double(c.1), ciLow: 0, ciHigh: 1, belowMinimumN: false)
            }
        }
        let metrics = rows("recall:yes", (1, 2), (2, 2)) + rows("fpr:yes", (1, 4), (0, 4))
            + rows("prediction_rate:yes", (2, 6), (2, 6)) + rows("prediction_rate:no", (4, 6), (4, 6))
        let odds = try #require(groupSpreads(metrics).first { $0.metric == SummaryRow.equalizedOdds })
        #expect(odds.maxGroup == "B" && odds.minGroup == "A" && odds.difference == 0.5)
        #expect(odds.ratio == 0)   // the FPR component's ratio, smaller than the recall component's 1/2
        // The interval is the recall component's: B 2/2 against A 1/2.
        let interval = try #require(newcombeUnpairedDifferenceInterval(successes1: 2, trials1: 2, successes2: 1, trials2: 2))
        #expect(odds.differenceCILow == interval.lower && odds.differenceCIHigh == interval.upper)
        // A third class makes it no two-class target.
        let three = metrics + rows("prediction_rate:maybe", (0, 6), (0, 6))
        #expect(!groupSpreads(three).contains { $0.metric == SummaryRow.equalizedOdds || $0.metric == SummaryRow.demographicParity })
    }

    @Test func summaryCSVHasSPECsColumns() {
        let text = MetricsCSV.renderSummary(groupSpreads(result.metrics))
        let lines = text.split(separator: "\n")
        #expect(lines.first == "design,metric,attribute,max_group,max_value,min_group,min_value,difference,diff_ci_low,diff_ci_high,ratio")
        #expect(lines.contains { $0.hasPrefix("gender,recall:Male,race,A,1,B,0,1,") })
    }
}
