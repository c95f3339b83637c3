import Foundation

/// Each group's rate divided by its reference group's (the ratio of `disparities.csv`) on a
/// log scale, so ×0.5 and ×2 lie equally far from ×1, with the four-fifths band [0.8, 1.25]
/// shaded: a point outside the band is a four-fifths violation. Ratios of 0, of an undefined
/// reference (0%), or beyond the axis are drawn as arrows at the edge with their text.
enum DisparityChart {
    static func make(_ data: AuditReport, design: String, metric: Metric, attribute: String) -> DotWhiskerPlot? {
        let rows = data.rows(design: design, metric: metric, attribute: attribute)
        let disparities = data.disparities(design: design, metric: metric, attribute: attribute)
        guard let reference = disparities.first?.reference else { return nil }
        let finite = disparities.compactMap(\.ratio).filter { $0 > 0 }
        var lo = 0.5, hi = 2.0
        while lo > 1.0 / 16 && lo > (finite.min() ?? 1) / 1.2 { lo /= 2 }
        while hi < 16 && hi < (finite.max() ?? 1) * 1.2 { hi *= 2 }
        var plotRows: [DotWhiskerPlot.Row] = []
        for row in rows {
            if row.group == reference {
                plotRows.append(
                    .init(
                        label: ReportCharts.groupLabel(row.group), value: 1, role: .reference, small: row.belowMinimumN,
                        note: "\(ChartStyle.percent(row.value))  n = \(row.n)", placeholder: "reference"))
                continue
            }
            guard let d = disparities.first(where: { $0.group == row.group }) else { continue }
            let role = ReportCharts.role(d)
            var note = d.ratio.map { String(format: "×%.2f", $0) } ?? "no ratio"
            note += "  p = \(ReportFormat.formatP(d.pAdjusted))\(d.significant ? " *" : "")\(ReportCharts.directionNote(d))"
            var plotRow = DotWhiskerPlot.Row(
                label: ReportCharts.groupLabel(row.group), value: nil, role: role,
                small: d.belowMinimumN, note: note, stemFrom: 1)
            switch d.ratio {
            case nil where d.value == 0:
                plotRow.placeholder = nil
                plotRow.note = "both 0%"
            case nil:
                plotRow.value = hi
                plotRow.edge = .right("no ratio: reference 0%")
            case let r? where r < lo:
                plotRow.value = lo
                plotRow.edge = .left(r == 0 ? "0" : String(format: "×%.2f", r))
            case let r? where r > hi:
                plotRow.value = hi
                plotRow.edge = .right(String(format: "×%.1f", r))
            case let r?:
                plotRow.value = r
            }
            plotRows.append(plotRow)
        }
        guard plotRows.count > 1 else { return nil }
        var ticks: [(Double, String)] = []
        var t = lo
        while t <= hi * 1.0001 {
            ticks.append((t, t >= 1 ? String(format: "×%.0f", t) : "×" + CSVNumber.format(t)))
            t *= 2
        }
        return DotWhiskerPlot(
            title: "\(design): \(metric.title) ratio to \(ReportCharts.groupLabel(reference)), by \(ChartStyle.attributeTitle(attribute))",
            subtitle: "Group rate ÷ reference rate, log scale; shaded: the four-fifths band 0.8–1.25; p: Holm-adjusted z-test",
            rows: plotRows,
            axis: .init(domain: lo...hi, transform: { log2($0) }, ticks: ticks, title: "ratio to the reference group (log scale)"),
            lines: [.init(x: 1, label: "", dashed: false)],
            band: .init(low: 0.8, high: 1.25, label: "four-fifths band (0.8–1.25)"),
            flaggedMeaning: "flagged, fares worse: significant (Holm), or outside the band with enough images and difference",
            neutralMeaning: "no flagged difference",
            showReferenceInLegend: true,
            minGroupSize: data.minGroupSize)
    }
}
