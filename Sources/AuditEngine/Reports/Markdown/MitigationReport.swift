import Foundation

/// What report.md says about `mitigations:`: one finding per mitigation (its widest headline gap
/// before and after, each with its interval, and what it cost in accuracy with the paired
/// interval), a table per design, and the chart of gap change against accuracy change.
/// Built from the measured rows alone: mitigations.csv's rows, summary.csv's intervals and
/// comparison.csv's paired changes of the variants `<design>~<name>`.
struct MitigationReport: Sendable {
    /// One gap (max − min between an attribute's groups) before and after.
    struct Gap: Sendable {
        var design: String
        var metric: Metric
        var attribute: Slice
        var before: SummaryRow
        var after: SummaryRow
        var change: Double { after.difference - before.difference }
    }

    /// The paired change of a design's accuracy over the whole set.
    struct Cost: Sendable {
        var design: String
        var comparison: ComparisonRow
    }

    struct Entry: Sendable {
        var name: String
        var method: String
        var designs: [String]
        /// The widest headline gap (accuracy or a harm rate, any attribute or intersection)
        /// among the designs it applies to, before the fix; nil when none has a gap.
        var widest: Gap?
        /// Accuracy changes of the designs with a target, in its designs' order.
        var costs: [Cost]
        /// The headline gaps of each design, in mitigations.csv's order.
        var gaps: [Gap]

        /// The mean accuracy change over its designs with a target (the chart's x), if any.
        var meanAccuracyChange: Double? {
            costs.isEmpty ? nil : costs.map(\.comparison.delta).reduce(0, +) / Double(costs.count)
        }
    }

    var entries: [Entry] = []

    /// The report of `mitigations` from a run's metric rows and variant comparisons.
    init(mitigations: [(name: String, method: String, designs: [String])], metrics: [MetricRow], comparisons: [ComparisonRow]) {
        let spreads = groupSpreads(metrics)
        func spread(_ design: String, _ metric: Metric, _ attribute: Slice) -> SummaryRow? {
            spreads.first { $0.design == design && $0.metric == .metric(metric) && $0.attribute == attribute }
        }
        for mitigation in mitigations {
            var entry = Entry(
                name: mitigation.name, method: mitigation.method, designs: mitigation.designs, widest: nil, costs: [], gaps: [])
            for design in mitigation.designs {
                let variant = design + MitigationSpec.separator + mitigation.name
                for before in spreads where before.design == design {
                    guard case .metric(let metric) = before.metric, metric.isHeadline,
                        let after = spread(variant, metric, before.attribute)
                    else { continue }
                    let gap = Gap(design: design, metric: metric, attribute: before.attribute, before: before, after: after)
                    entry.gaps.append(gap)
                    if entry.widest.map({ before.difference > $0.before.difference }) ?? true { entry.widest = gap }
                }
                if let accuracy = comparisons.first(where: {
                    $0.design == variant && $0.metric == .accuracy && $0.attribute == .all
                }) {
                    entry.costs.append(Cost(design: design, comparison: accuracy))
                }
            }
            entries.append(entry)
        }
        remember(comparisons)
    }

    // MARK: Findings

    /// "`gender-proj` (projection) narrows the crime-related gap by race in `denigration` from
    /// 8.1 pp [5.0, 11.2] to 1.2 pp [−1.0, 3.4] (−6.9 pp); accuracy: `race` −0.8 pp [−1.2, −0.4]."
    var findingLines: [String] {
        entries.map { entry in
            var line = "\(Findings.code(entry.name)) (\(Self.methodName(entry.method))) "
            if let gap = entry.widest {
                let verb = gap.change < 0 ? "narrows" : gap.change > 0 ? "widens" : "leaves"
                line +=
                    "\(verb) the widest gap it was measured on, \(Findings.text(gap.metric.title)) by \(Findings.text(ChartStyle.attributeTitle(gap.attribute))) in "
                    + "\(Findings.code(gap.design)), from \(Self.gapText(gap.before)) to \(Self.gapText(gap.after)) "
                    + "(\(ChartStyle.points(gap.change)); \(Findings.text(gap.before.maxGroup)) vs \(Findings.text(gap.before.minGroup)) before, "
                    + "\(Findings.text(gap.after.maxGroup)) vs \(Findings.text(gap.after.minGroup)) after)"
            } else {
                line += "applies to designs with no gap between groups"
            }
            if entry.costs.isEmpty {
                line += "; no design it applies to has a target, so its cost in accuracy is not measured."
            } else {
                line +=
                    "; accuracy "
                    + entry.costs.map { cost in
                        let c = cost.comparison
                        return
                            "\(Findings.code(cost.design)) \(ChartStyle.points(c.delta)) [\(Self.pointsRange(c.ciLow, c.ciHigh))] (paired, p = \(ReportFormat.formatP(c.pValue)))"
                    }.joined(separator: ", ") + "."
            }
            return line
        }
    }

    /// A method as the report names it.
    static func methodName(_ method: String) -> String {
        switch method {
        case "clip_clip": return "CLIP-clip"
        case "calibrated_projection": return "calibrated projection"
        default: return method.replacingOccurrences(of: "_", with: " ")
        }
    }

    static func gapText(_ row: SummaryRow) -> String {
        String(format: "%.1f pp", row.difference * 100) + " [\(pointsRange(row.differenceCILow, row.differenceCIHigh))]"
    }

    static func pointsRange(_ low: Double, _ high: Double) -> String {
        String(format: "%.1f, %.1f", low * 100, high * 100)
    }

    // MARK: Section

    /// The `## Mitigations` section: what the rows are, the chart, then per design a table of
    /// each mitigation's headline gaps before and after.
    func markdown(chart: ChartFile?, heading: String = "##") -> String {
        var md = MarkdownText()
        md.line("\(heading) Mitigations")
        md.blank()
        md.line(
            "Each mitigation is scored as a variant `<design>~<name>` on the same images (mitigations.csv; every row of the "
                + "variants is in metrics.csv, summary.csv and comparison.csv). A gap is the largest minus the smallest group "
                + "rate of an attribute, with its 95% Newcombe interval; changes over the whole set are paired (Newcombe). "
                + "Intersections are in mitigations.csv.")
        md.blank()
        if let chart {
            md.line("![\(MarkdownEscape.text(chart.title))](\(chart.path))")
            md.blank()
        }
        var designs: [String] = []
        for entry in entries { for d in entry.designs where !designs.contains(d) { designs.append(d) } }
        for design in designs {
            md.line("\(heading)# \(Findings.code(design))")
            md.blank()
            md.line("| mitigation | metric | attribute | gap before | gap after | change | whole set before → after |")
            md.line("|---|---|---|---|---|---|---|")
            for entry in entries {
                // The attributes here; intersections are in mitigations.csv.
                for gap in entry.gaps where gap.design == design && !gap.attribute.isIntersection {
                    md.line(
                        "| \(ReportFormat.code(entry.name)) | \(MarkdownEscape.text(gap.metric.title)) | \(MarkdownEscape.text(ChartStyle.attributeTitle(gap.attribute))) | "
                            + "\(Self.gapText(gap.before)) | \(Self.gapText(gap.after)) | \(ChartStyle.points(gap.change)) | "
                            + "\(wholeSet(entry, gap)) |")
                }
            }
            md.blank()
        }
        return md.text
    }

    private func wholeSet(_ entry: Entry, _ gap: Gap) -> String {
        guard let c = comparison(entry, gap) else { return "" }
        return
            "\(ReportFormat.percent(c.baseValue)) → \(ReportFormat.percent(c.value)) (\(ChartStyle.points(c.delta)) [\(Self.pointsRange(c.ciLow, c.ciHigh))])"
    }

    /// The whole-set comparison row of a gap's metric (kept from init's input).
    private func comparison(_ entry: Entry, _ gap: Gap) -> ComparisonRow? {
        wholeSetComparisons["\(gap.design)\(MitigationSpec.separator)\(entry.name)\u{1F}\(gap.metric.csvName)"]
    }

    private var wholeSetComparisons: [String: ComparisonRow] = [:]

    // MARK: Chart

    /// Where the chart goes in the report folder.
    static let chartPath = "\(ReportCharts.folder)/mitigations-gap-vs-accuracy.svg"

    /// The chart of gap change against accuracy change: one point per mitigation that has both.
    func chart() -> ChartFile? {
        let points = entries.compactMap { entry -> MitigationChart.Point? in
            guard let gap = entry.widest, let accuracy = entry.meanAccuracyChange else { return nil }
            return MitigationChart.Point(label: entry.name, gapChange: gap.change, accuracyChange: accuracy)
        }
        guard !points.isEmpty else { return nil }
        let title = "Mitigations: change in the widest gap against change in accuracy"
        return ChartFile(
            kind: .delta, design: nil, metric: nil, attribute: .all, path: Self.chartPath,
            title: title,
            svg: MitigationChart.render(
                points, title: title,
                subtitle: "Each mitigation's widest headline gap (after − before) against its mean whole-set accuracy change"))
    }
}

extension MitigationReport {
    /// Keeps the whole-set comparisons of the variants for the tables.
    mutating func remember(_ comparisons: [ComparisonRow]) {
        for c in comparisons where c.attribute == .all && c.design.contains(MitigationSpec.separator) {
            wholeSetComparisons["\(c.design)\u{1F}\(c.metric.csvName)"] = c
        }
    }
}
