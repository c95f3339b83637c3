import Foundation

/// Every flagged disparity of the run in one chart: the difference from the reference group in
/// percentage points with its 95% Newcombe interval, designs in order, largest differences first
/// within a design. It is the first thing report.html shows.
enum OverviewChart {
    static let maxRows = 30

    static func make(_ data: AuditReport) -> DotWhiskerPlot? {
        let flagged = data.headlineDisparities
        guard !flagged.isEmpty else { return nil }
        var ordered: [DisparityRow] = []
        for design in data.designs {
            ordered += flagged.filter { $0.design == design.name }.sorted { abs($0.difference) > abs($1.difference) }
        }
        let shown = ordered.prefix(maxRows)
        let reach = shown.flatMap { [abs($0.differenceCILow), abs($0.differenceCIHigh)] }.max() ?? 0
        let limit = [0.1, 0.2, 0.25, 0.5, 1.0].first { $0 >= reach } ?? 1.0
        let step = limit / 4
        let rows = shown.map { d -> DotWhiskerPlot.Row in
            var why: [String] = []
            if d.significant { why.append("significant") }
            if d.fourFifthsViolation { why.append("four-fifths") }
            return DotWhiskerPlot.Row(
                label: "\(d.design) · \(d.metric.title) · \(ReportCharts.groupLabel(d.group)) vs \(ReportCharts.groupLabel(d.reference))",
                value: d.difference, low: d.differenceCILow, high: d.differenceCIHigh, role: ReportCharts.role(d), small: d.belowMinimumN,
                note: "\(ChartStyle.points(d.difference))  \(why.joined(separator: ", "))\(ReportCharts.directionNote(d))")
        }
        var subtitle = "Group minus reference group, 95% Newcombe interval; flagged = significant (Holm) or outside the four-fifths band"
        if ordered.count > maxRows { subtitle += "; first \(maxRows) of \(ordered.count)" }
        return DotWhiskerPlot(
            title: "Groups that stand apart: difference from the reference group",
            subtitle: subtitle, rows: rows,
            axis: .init(
                domain: -limit...limit,
                ticks: stride(from: -limit, through: limit + step / 2, by: step).map {
                    ($0, String(format: "%+.0f", $0 * 100).replacingOccurrences(of: "+0", with: "0"))
                },
                title: "difference from the reference group (percentage points)"),
            lines: [.init(x: 0, label: "same as reference", dashed: false)],
            flaggedMeaning: "flagged, fares worse than the reference (the note says why)",
            neutralMeaning: "",
            minGroupSize: data.minGroupSize)
    }
}
