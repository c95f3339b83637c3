import Foundation

/// A variant design against its base on the same images: Δ = variant − base per group, in
/// percentage points, with the 95% Newcombe paired interval, the whole set first. Groups whose
/// exact McNemar p, Holm-adjusted within the attribute, is below α are flagged.
enum DeltaChart {
    struct Item {
        var label: String
        var delta: Double
        var low: Double
        var high: Double
        var n: Int
        var pValue: Double
        var small: Bool
    }

    static func make(_ data: AuditReport, design: String, metric: Metric, attribute: String) -> DotWhiskerPlot? {
        guard let base = data.designs.first(where: { $0.name == design })?.base else { return nil }
        let rows =
            data.comparisons(design: design, metric: metric, attribute: "*")
            + data.comparisons(design: design, metric: metric, attribute: attribute)
        guard rows.count > 1 else { return nil }
        let items = rows.map { r in
            Item(
                label: r.attribute == "*" ? "all images" : ReportCharts.groupLabel(r.group), delta: r.delta,
                low: r.ciLow, high: r.ciHigh, n: r.n, pValue: r.pAdjusted, small: r.belowMinimumN)
        }
        return plot(
            items, title: "\(design) − \(base): \(metric.title) by \(ChartStyle.attributeTitle(attribute))",
            subtitle: "Variant minus base on the same images, 95% Newcombe paired interval; p: exact McNemar, Holm-adjusted",
            alpha: data.alpha, minGroupSize: data.minGroupSize, axisTitle: "change in \(metric.title) (percentage points)")
    }

    static func plot(
        _ items: [Item], title: String, subtitle: String, alpha: Double, minGroupSize: Int,
        axisTitle: String
    ) -> DotWhiskerPlot {
        let reach = items.flatMap { [abs($0.low), abs($0.high), abs($0.delta)] }.max() ?? 0
        let limit = [0.05, 0.1, 0.2, 0.25, 0.5, 1.0].first { $0 >= reach } ?? 1.0
        let step = limit / 4
        let ticks = stride(from: -limit, through: limit + step / 2, by: step).map {
            ($0, String(format: "%+.0f", $0 * 100).replacingOccurrences(of: "+0", with: "0"))
        }
        let plotRows = items.map { item in
            DotWhiskerPlot.Row(
                label: item.label, value: item.delta, low: item.low, high: item.high,
                role: item.pValue < alpha ? .flagged : .neutral, small: item.small,
                note: "\(ChartStyle.points(item.delta))  n = \(item.n)  p = \(ReportFormat.formatP(item.pValue))")
        }
        return DotWhiskerPlot(
            title: title, subtitle: subtitle, rows: plotRows,
            axis: .init(domain: -limit...limit, ticks: ticks, title: axisTitle),
            lines: [.init(x: 0, label: "no change", dashed: false)],
            flaggedMeaning: "changed significantly (p < \(ReportFormat.formatNumber(alpha)))",
            neutralMeaning: "no significant change",
            minGroupSize: minGroupSize)
    }
}
