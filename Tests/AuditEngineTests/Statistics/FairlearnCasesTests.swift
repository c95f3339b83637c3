import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// Prediction sets and what Fairlearn (`MetricFrame`, `demographic_parity_*`,
/// `equalized_odds_*`) and statsmodels (`confint_proportions_2indep(method="newcomb")`) make of
/// them, from `Fixtures/fairlearn/cases.json` (written by
/// `Fixtures/Generators/make_fairlearn_cases.py`).
struct FairlearnCases: Decodable {
    struct Record: Decodable { let image: String; let groups: [String]; let truth: String; let predicted: String }
    struct Spread: Decodable {
        let metric: String?
        let attribute: String?
        let max_group: String
        let max_value: Double
        let min_group: String
        let min_value: Double
        let difference: Double
        let diff_ci_low: Double
        let diff_ci_high: Double
        let ratio: Double?
    }
    struct Metric: Decodable {
        let metric: String
        let attribute: String
        /// Fairlearn's value per group; `nil` where the rate is undefined (no row in metrics.csv).
        let by_group: [String: Double?]
        /// [count, n] per group that has rows for the metric.
        let counts: [String: [Int]]
        let summary: Spread?
    }
    struct Case: Decodable {
        let name: String
        let classes: [String]
        let attributes: [String]
        let intersections: [[String]]
        let records: [Record]
        let metrics: [Metric]
        let parity: [Spread]
    }

    let cases: [Case]

    static let shared: FairlearnCases = {
        let url = FixturePaths.packageRoot.appendingPathComponent("Fixtures/fairlearn/cases.json")
        do {
            return try JSONDecoder().decode(FairlearnCases.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()
}

@Suite("recall, FPR and summary spreads against Fairlearn and statsmodels")
struct FairlearnCasesTests {
    static func audit(_ c: FairlearnCases.Case) -> AuditMetrics {
        let design = DesignOutcomes(
            design: "target", classes: c.classes, hasTarget: true,
            records: c.records.map { OutcomeRecord(imageKey: $0.image, groups: $0.groups, truth: $0.truth, predicted: $0.predicted) })
        return computeAuditMetrics([design], settings: MetricSettings(attributes: c.attributes, intersections: c.intersections))
    }

    static func near(_ actual: Double?, _ expected: Double?) -> Bool {
        guard let actual, let expected else { return actual == nil && expected == nil }
        return abs(actual - expected) <= 1e-9
    }

    static func agrees(_ row: SummaryRow, _ expected: FairlearnCases.Spread) -> Bool {
        row.maxGroup == expected.max_group && row.minGroup == expected.min_group
            && near(row.maxValue, expected.max_value) && near(row.minValue, expected.min_value)
            && near(row.difference, expected.difference) && near(row.differenceCILow, expected.diff_ci_low)
            && near(row.differenceCIHigh, expected.diff_ci_high) && near(row.ratio, expected.ratio)
    }

    @Test(
        "every group's accuracy, recall, FPR and prediction rate is Fairlearn's",
        arguments: FairlearnCases.shared.cases.map(\.name))
    func groupValues(_ name: String) throws {
        let c = try #require(FairlearnCases.shared.cases.first { $0.name == name })
        let metrics = Self.audit(c).metrics
        for expected in c.metrics {
            let rows = metrics.filter { $0.metric.csvName == expected.metric && $0.attribute.csvText == expected.attribute }
            // A group where Fairlearn's rate is undefined (NaN) has no row.
            let defined = expected.by_group.filter { $0.value != nil }
            #expect(Set(rows.map(\.group)) == Set(defined.keys), "\(expected.metric) by \(expected.attribute)")
            for row in rows {
                #expect(Self.near(row.value, defined[row.group] ?? nil), "\(expected.metric) \(row.group): \(row.value)")
                #expect([row.count, row.n] == expected.counts[row.group], "\(expected.metric) \(row.group)")
            }
        }
    }

    @Test(
        "each spread is MetricFrame.difference/ratio, with statsmodels' Newcombe interval",
        arguments: FairlearnCases.shared.cases.map(\.name))
    func spreads(_ name: String) throws {
        let c = try #require(FairlearnCases.shared.cases.first { $0.name == name })
        let summary = groupSpreads(Self.audit(c).metrics)
        for expected in c.metrics {
            let row = summary.first { $0.metric.csvName == expected.metric && $0.attribute.csvText == expected.attribute }
            guard let spread = expected.summary else {
                #expect(row == nil, "\(expected.metric) by \(expected.attribute): no group has the rate")
                continue
            }
            let found = try #require(row, "\(expected.metric) by \(expected.attribute)")
            #expect(Self.agrees(found, spread), "\(expected.metric) by \(expected.attribute): \(found) vs \(spread)")
        }
    }

    @Test(
        "demographic parity and equalized odds are Fairlearn's, for two-class targets only",
        arguments: FairlearnCases.shared.cases.map(\.name))
    func parity(_ name: String) throws {
        let c = try #require(FairlearnCases.shared.cases.first { $0.name == name })
        let summary = groupSpreads(Self.audit(c).metrics)
        let parity = summary.filter { [SummaryRow.Measure.demographicParity, .equalizedOdds].contains($0.metric) }
        #expect(parity.count == c.parity.count)
        #expect(c.classes.count == 2 || parity.isEmpty)
        for expected in c.parity {
            let found = try #require(
                parity.first { $0.metric.csvName == expected.metric && $0.attribute.csvText == expected.attribute },
                "\(expected.metric ?? "") by \(expected.attribute ?? "")")
            #expect(Self.agrees(found, expected), "\(found) vs \(expected)")
        }
        // Nothing but the metrics' spreads and the two-class rows.
        #expect(summary.count == c.metrics.filter { $0.summary != nil }.count + c.parity.count)
    }
}
