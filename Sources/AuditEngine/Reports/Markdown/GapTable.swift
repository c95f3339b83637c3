extension MarkdownReport {
    /// One compact table per design with a target: for each slice, the spread between its groups
    /// (summary.csv's figures) of accuracy, of the class whose recall differs most, of the class
    /// whose false-positive rate differs most, and for a two-class target demographic parity and
    /// equalized odds. What a deployment reader asks first — "how far apart are the groups on
    /// errors?" — without reading a table per class; summary.csv has every metric.
    ///
    /// `compact` (report.md): for a two-class target only accuracy, demographic parity and
    /// equalized odds, since there the recall of one class is one minus the false-positive rate
    /// of the other and equalized odds already takes the larger of the two gaps. A slice where
    /// one group alone has the rate (recall of `Female` by gender) has no gap and no line; † marks
    /// a group below `min_group_size`, as in the other tables.
    static func gapTable(_ md: inout MarkdownText, _ report: AuditReport, design: AuditReport.Design, slices: [String], compact: Bool) {
        let spreads = groupSpreads(report.metrics.filter { $0.design == design.name })
        guard !spreads.isEmpty else { return }
        var lines: [String] = []
        for attribute in slices {
            let here = spreads.filter { $0.attribute == attribute }
            // The largest spread of a family of metrics (ties: the first class listed).
            func largest(_ kind: (Metric) -> Bool) -> SummaryRow? {
                here.filter { if case .metric(let m) = $0.metric { kind(m) } else { false } }.reduce(nil) { best, row in
                    best.map { row.difference > $0.difference ? row : $0 } ?? row
                }
            }
            func className(_ metric: Metric) -> String { ReportFormat.code(metric.className ?? "") }
            let twoClass = here.contains { $0.metric == .equalizedOdds }
            var measures: [(String, SummaryRow)] = []
            if let row = here.first(where: { $0.metric == .metric(.accuracy) }) { measures.append(("accuracy", row)) }
            if !(compact && twoClass) {
                if let row = largest({ if case .recall = $0 { true } else { false } }) {
                    measures.append(("recall of \(className(row.decidedBy))", row))
                }
                if let row = largest({ if case .falsePositiveRate = $0 { true } else { false } }) {
                    measures.append(("false-positive rate of \(className(row.decidedBy))", row))
                }
            }
            if let row = here.first(where: { $0.metric == .demographicParity }) {
                measures.append(("demographic parity (predicted \(className(row.decidedBy)))", row))
            }
            if let row = here.first(where: { $0.metric == .equalizedOdds }) {
                let component = if case .recall = row.decidedBy { "recall" } else { "false-positive rate" }
                measures.append(("equalized odds (\(component) of \(className(row.decidedBy)))", row))
            }
            let small = { (n: Int) in n < report.minGroupSize ? " †" : "" }
            for (measure, row) in measures where row.groups > 1 {
                lines.append(
                    "| \(ReportFormat.escape(attribute)) | \(measure) "
                        + "| \(ReportFormat.escape(row.maxGroup))\(small(row.maxN)) \(ReportFormat.percent(row.maxValue)) (n = \(row.maxN)) "
                        + "| \(ReportFormat.escape(row.minGroup))\(small(row.minN)) \(ReportFormat.percent(row.minValue)) (n = \(row.minN)) "
                        + "| \(ReportFormat.points(row.difference)) [\(ReportFormat.signedPoints(row.differenceCILow)), \(ReportFormat.signedPoints(row.differenceCIHigh))] "
                        + "| \(row.ratio.map { String(format: "%.2f", $0) } ?? "— (all 0%)") |")
            }
        }
        guard !lines.isEmpty else { return }
        md.line("### Largest gaps between groups")
        md.blank()
        md.line(
            "Highest minus lowest group (Fairlearn's `difference`, `between_groups`), with its 95% Newcombe interval, "
                + "and lowest over highest (`ratio`). "
                + (compact && spreads.contains { $0.metric == .equalizedOdds }
                    ? ""
                    : "Recall and false-positive rate: the class whose groups differ most. ")
                + (spreads.contains { $0.metric == .equalizedOdds }
                    ? "Demographic parity: the gap in how often the first class listed is predicted; equalized odds: "
                        + "the larger of its recall and false-positive-rate gaps (Fairlearn's definitions). " : "")
                + (compact
                    ? "Every class, slice and metric: [\(detailsName)](\(detailsName)) and `summary.csv`."
                    : "Every metric's gap: `summary.csv`.")
                + " † marks a group smaller than \(report.minGroupSize) images.")
        md.blank()
        md.line("| slice | measure | highest | lowest | gap (95% CI) | ratio |")
        md.line("|---|---|---|---|---|---:|")
        for line in lines { md.line(line) }
        md.blank()
    }

}
