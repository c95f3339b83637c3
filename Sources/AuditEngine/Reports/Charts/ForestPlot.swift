import Foundation

/// Rates by group (accuracy or a harm rate) with their 95% Wilson intervals as whiskers and the
/// whole set's rate as a dashed line: a forest plot. Groups keep their natural order (FairFace
/// ages in age order, as `metrics.csv` lists them), so the same chart reads the same way across
/// designs and runs; the flagged ones stand out by colour, weight and position against the line.
enum ForestPlot {
    static func make(_ data: AuditReport, design: String, metric: Metric, attribute: String) -> DotWhiskerPlot? {
        let rows = data.rows(design: design, metric: metric, attribute: attribute)
        guard !rows.isEmpty else { return nil }
        let disparities = data.disparities(design: design, metric: metric, attribute: attribute)
        let reference = disparities.first?.reference
        let overall = data.overall(design: design, metric: metric)
        let plotRows = rows.map { row -> DotWhiskerPlot.Row in
            let d = disparities.first { $0.group == row.group }
            var role = DotWhiskerPlot.Role.neutral
            if row.group == reference { role = .reference }
            if let d { role = ReportCharts.role(d) }
            var note = "\(ChartStyle.percent(row.value))  n = \(row.n)"
            if let d, d.significant { note += "  p = \(ReportFormat.formatP(d.pAdjusted))" }
            if row.group == reference { note += "  (reference)" }
            return DotWhiskerPlot.Row(
                label: ReportCharts.groupLabel(row.group), value: row.value, low: row.ciLow, high: row.ciHigh,
                role: role, small: row.belowMinimumN, note: note)
        }
        let title = "\(design): \(metric.title) by \(ChartStyle.attributeTitle(attribute))"
        var subtitle = "Each group's rate with its 95% Wilson interval; groups in natural order"
        subtitle += reference.map { "; reference: \(ReportCharts.groupLabel($0))" } ?? ""
        var lines: [DotWhiskerPlot.Line] = []
        if let overall {
            lines.append(.init(x: overall.value, label: "all images \(ChartStyle.percent(overall.value))", dashed: true))
        }
        return DotWhiskerPlot(
            title: title, subtitle: subtitle, rows: plotRows,
            axis: .init(
                domain: 0...1, ticks: stride(from: 0.0, through: 1.0, by: 0.2).map { ($0, String(format: "%.0f%%", $0 * 100)) },
                title: metric.title),
            lines: lines,
            flaggedMeaning: "flagged, fares worse than the reference: significant (Holm) or outside the four-fifths band",
            neutralMeaning: "no flagged difference from the reference",
            showReferenceInLegend: reference != nil,
            minGroupSize: data.minGroupSize)
    }
}
