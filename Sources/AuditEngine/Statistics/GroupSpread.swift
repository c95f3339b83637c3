/// One row of `summary.csv`: how far apart the groups of one attribute (or intersection) are on
/// one metric of one design — Fairlearn's `MetricFrame.difference(method="between_groups")` and
/// `ratio(method="between_groups")`, Aequitas' disparity — or, with `metric` set to
/// `demographic_parity` or `equalized_odds`, Fairlearn's function of that name.
public struct SummaryRow: Sendable, Equatable {
    /// What a summary row spreads: a metric of `metrics.csv`, or one of Fairlearn's two
    /// group-fairness measures of a two-class target.
    public enum Measure: Hashable, Sendable, CustomStringConvertible {
        case metric(Metric)
        /// Fairlearn's `demographic_parity_difference`/`_ratio`.
        case demographicParity
        /// Fairlearn's `equalized_odds_difference`/`_ratio`.
        case equalizedOdds

        /// The name in `summary.csv`'s `metric` column.
        public var csvName: String {
            switch self {
            case .metric(let metric): return metric.csvName
            case .demographicParity: return "demographic_parity"
            case .equalizedOdds: return "equalized_odds"
            }
        }

        public var description: String { csvName }

        /// Parses a `metric` cell of summary.csv.
        public init?(csvName: String) {
            switch csvName {
            case "demographic_parity": self = .demographicParity
            case "equalized_odds": self = .equalizedOdds
            default:
                guard let metric = Metric(csvName: csvName) else { return nil }
                self = .metric(metric)
            }
        }
    }

    public var design: String
    /// A metric of `metrics.csv`, `demographic_parity` or `equalized_odds`.
    public var metric: Measure
    /// An attribute or an intersection such as `race|gender` (never the whole set).
    public var attribute: Slice
    /// The group with the largest value (ties: the first in group order).
    public var maxGroup: String
    public var maxValue: Double
    /// The group with the smallest value (ties: the first in group order).
    public var minGroup: String
    public var minValue: Double
    /// maxValue − minValue (for `equalized_odds`, the larger of the two components' spreads).
    public var difference: Double
    /// Newcombe's hybrid score 95% interval of maxValue − minValue, the two groups taken as
    /// independent samples (``newcombeUnpairedDifferenceInterval(successes1:trials1:successes2:trials2:z:)``).
    public var differenceCILow: Double
    public var differenceCIHigh: Double
    /// minValue / maxValue; `nil` when maxValue is 0 (every group at 0: Fairlearn's 0/0, NaN).
    /// For `equalized_odds`, the smaller of the two components' ratios.
    public var ratio: Double?
    /// Rows behind the two named groups' values (not columns of summary.csv).
    public var maxN: Int
    public var minN: Int
    /// How many groups have the rate (one: nothing to compare, the difference is 0).
    public var groups: Int
    /// The metric whose spread this row's groups, values and interval are: the row's own, or for
    /// `demographic_parity` the positive class's `prediction_rate:`, for `equalized_odds` its
    /// `recall:` or `fpr:` (not a column of summary.csv).
    public var decidedBy: Metric
}

/// The spread between groups of every metric in `metrics` (rows of ``computeAuditMetrics(_:settings:)``,
/// or of `metrics.csv` read back: only their counts are used), plus demographic parity and
/// equalized odds for designs whose target has exactly two classes.
///
/// - Per design × metric × attribute (attributes and intersections, not `*`), over the groups
///   that have a row (n > 0; `metrics.csv` has no others): the largest and the smallest
///   value and their groups — ties go to the first group in group order
///   (``compareGroupValues(_:_:)``, the rows' order), so when every group has the same value
///   both are the first group —, `difference` = max − min, `ratio` = min / max.
/// - A design has a two-class target when it has `recall:`/`fpr:` rows and exactly two classes
///   (its `prediction_rate:` metrics over the whole set, which name every class, in listed
///   order); the first class is the positive one. `demographic_parity` is the spread of
///   `prediction_rate:<positive>` (Fairlearn's selection rate). `equalized_odds` takes the
///   spreads of `recall:<positive>` (true-positive rate) and `fpr:<positive>`: its difference is
///   the larger of the two (ties: the recall spread) and the group columns and interval are
///   that component's; its ratio is the smaller of the two ratios (Fairlearn's
///   `equalized_odds_ratio`), which may be the other component's (a component with no ratio
///   is left out; none: empty). Fairlearn takes the rate over every group; a group without a
///   positive (or negative) truth has no recall (or FPR) here, and is left out as Fairlearn
///   leaves out a NaN.
///
/// Order: designs as in `metrics`, then each metric in its order, then `demographic_parity`
/// and `equalized_odds`; within each, attributes in the order they appear.
public func groupSpreads(_ metrics: [MetricRow]) -> [SummaryRow] {
    var designs: [String] = []
    var byDesign: [String: [MetricRow]] = [:]
    for row in metrics {
        if byDesign[row.design] == nil { designs.append(row.design) }
        byDesign[row.design, default: []].append(row)
    }
    var result: [SummaryRow] = []
    for design in designs {
        let rows = byDesign[design]!
        var spreads: [Metric: [Slice: SummaryRow]] = [:] // metric → attribute → row
        var metricOrder: [Metric] = [], attributeOrder: [Slice] = []
        var groups: [Metric: [Slice: [MetricRow]]] = [:]
        for row in rows where row.attribute != .all {
            if groups[row.metric] == nil { metricOrder.append(row.metric) }
            if !attributeOrder.contains(row.attribute) { attributeOrder.append(row.attribute) }
            groups[row.metric, default: [:]][row.attribute, default: []].append(row)
        }
        for metric in metricOrder {
            for attribute in attributeOrder {
                guard let members = groups[metric]?[attribute], let spread = spread(members) else { continue }
                spreads[metric, default: [:]][attribute] = spread
                result.append(spread)
            }
        }
        let classes = rows.compactMap { row -> String? in
            guard row.attribute == .all, case .predictionRate(let cls) = row.metric else { return nil }
            return cls
        }
        let hasTarget = rows.contains {
            switch $0.metric {
            case .recall, .falsePositiveRate: return true
            default: return false
            }
        }
        guard hasTarget, classes.count == 2 else { continue }
        let positive = classes[0]
        for attribute in attributeOrder {
            guard var parity = spreads[.predictionRate(positive)]?[attribute] else { continue }
            parity.metric = .demographicParity
            result.append(parity)
        }
        for attribute in attributeOrder {
            let components = [spreads[.recall(positive)]?[attribute], spreads[.falsePositiveRate(positive)]?[attribute]].compactMap { $0 }
            guard var odds = components.max(by: { $0.difference < $1.difference }) else { continue }
            // `max(by:)` returns the last of equal elements; a tie goes to the recall spread.
            if components.count == 2, components[0].difference == components[1].difference { odds = components[0] }
            let ratios = components.compactMap(\.ratio)
            odds.metric = .equalizedOdds
            odds.ratio = ratios.min()
            result.append(odds)
        }
    }
    return result
}

/// The spread of one design × metric × attribute over its groups' rows (in group order).
private func spread(_ members: [MetricRow]) -> SummaryRow? {
    guard var high = members.first else { return nil }
    var low = high
    for row in members.dropFirst() {
        if rate(row) > rate(high) { high = row }
        if rate(row) < rate(low) { low = row }
    }
    guard
        let interval = newcombeUnpairedDifferenceInterval(
            successes1: high.count, trials1: high.n,
            successes2: low.count, trials2: low.n)
    else { return nil }
    let (maxValue, minValue) = (rate(high), rate(low))
    return SummaryRow(
        design: high.design, metric: .metric(high.metric), attribute: high.attribute, maxGroup: high.group,
        maxValue: maxValue, minGroup: low.group, minValue: minValue, difference: maxValue - minValue,
        differenceCILow: interval.lower, differenceCIHigh: interval.upper,
        ratio: maxValue == 0 ? nil : minValue / maxValue, maxN: high.n, minN: low.n, groups: members.count,
        decidedBy: high.metric)
}

/// A row's value from its counts: exact even for rows read back from a CSV's six digits.
private func rate(_ row: MetricRow) -> Double { Double(row.count) / Double(row.n) }
