extension ModelCardExport {
    /// The card's parity table: per design with a two-class target and per attribute, Fairlearn's
    /// demographic-parity and equalized-odds differences (with their 95% Newcombe intervals) and
    /// ratios, from metrics.csv's counts (``groupSpreads(_:)``, summary.csv's rows). Nothing when
    /// no design has a two-class target. The definitions are one sentence of the section's
    /// introduction (``parityNote``), which keeps the section within its line budget.
    static func parityTable(_ md: inout MarkdownText, _ data: AuditReport, attributes: [String]) {
        let spreads = groupSpreads(data.metrics)
        var lines: [String] = []
        for design in data.designs {
            for attribute in attributes {
                let row = { (metric: SummaryRow.Measure) in
                    spreads.first { $0.design == design.name && $0.metric == metric && $0.attribute == attribute }
                }
                guard let parity = row(.demographicParity), let odds = row(.equalizedOdds) else { continue }
                func cells(_ s: SummaryRow) -> String {
                    // One group alone has the rate (recall of Female among gender groups): no gap to show.
                    guard s.groups > 1 else { return "— (one group) | —" }
                    return "\(ReportFormat.points(s.difference)) [\(ReportFormat.signedPoints(s.differenceCILow)), "
                        + "\(ReportFormat.signedPoints(s.differenceCIHigh))] | \(s.ratio.map { String(format: "%.2f", $0) } ?? "—")"
                }
                lines.append(
                    "| \(ReportFormat.escape(design.name)) | \(ReportFormat.escape(attribute)) "
                        + "| \(cells(parity)) | \(cells(odds)) |")
            }
        }
        guard !lines.isEmpty else { return }
        md.line("### Demographic parity and equalized odds")
        md.blank()
        md.line("| design | attribute | demographic parity difference (95% CI) | ratio | equalized odds difference (95% CI) | ratio |")
        md.line("|---|---|---|---:|---|---:|")
        for line in lines { md.line(line) }
        md.blank()
    }

    /// The sentence the section's introduction adds when the parity table is shown.
    static func parityNote(_ data: AuditReport) -> String {
        guard groupSpreads(data.metrics).contains(where: { $0.metric == .equalizedOdds }) else { return "" }
        return " Demographic parity and equalized odds are Fairlearn's `demographic_parity_difference` and "
            + "`equalized_odds_difference` (largest minus smallest group; the first class listed is the positive one), "
            + "with 95% Newcombe intervals, and their ratios."
    }
}
