import Foundation

/// The report's retrieval-skew and association-test sections, their charts, and the sentences
/// they add to the findings. Every figure is set beside its null baseline: MaxSkew of a random
/// ranking is well above 0 at small k and with many groups, so a raw MaxSkew says little alone.
enum MeasurementsReport {
    /// Charts go under `charts/` with the others; these names cannot clash with theirs
    /// (`retrieval-…`, `association-…` are not design names followed by a chart kind).
    static func charts(_ report: AuditReport) -> [ChartFile] {
        var files: [ChartFile] = []
        for attribute in retrievalAttributes(report) {
            guard let top = mostSkewed(report, attribute: attribute), let plot = skewChart(report, top) else { continue }
            files.append(
                ChartFile(
                    kind: .rate, design: "*", metric: "retrieval", attribute: attribute,
                    path: "\(ReportCharts.folder)/\(ChartStyle.slug("retrieval-skew-\(attribute)")).svg",
                    title: plot.title, svg: plot.render()))
        }
        if let plot = associationChart(report) {
            files.append(
                ChartFile(
                    kind: .rate, design: "*", metric: "association", attribute: "*",
                    path: "\(ReportCharts.folder)/association-effect-sizes.svg", title: plot.title, svg: plot.render()))
        }
        return files
    }

    /// The findings at the top of the report, as data: how many queries per attribute are skewed
    /// beyond the null and the most skewed one, and each association test with its uncertainty.
    static func findings(_ report: AuditReport) -> [MeasurementFinding] {
        var findings: [MeasurementFinding] = []
        let rows = report.retrieval
        if !rows.isEmpty {
            // How many queries go beyond the null, per attribute at the largest k, then the one
            // query that stands furthest above it.
            let kmax = rows.map(\.k).max() ?? 0
            var finding = MeasurementFinding.Retrieval(
                queries: Set(rows.map(\.query)).subtracting(["*"]).count, k: kmax,
                beyondNull: retrievalAttributes(report).map {
                    .init(attribute: $0, count: beyondNull(report, attribute: $0, k: kmax)?.count ?? 0)
                },
                mostSkewed: nil)
            let top = retrievalAttributes(report).compactMap { mostSkewed(report, attribute: $0) }.max { excess($0) < excess($1) }
            if let top, let over = overRepresented(report, top) {
                finding.mostSkewed = .init(
                    query: top.query, attribute: top.attribute, k: top.k, group: over.group, share: over.share,
                    desiredShare: over.desiredShare, maxSkew: top.maxSkew, nullMaxSkew: top.nullMaxSkew, pValue: top.pValue)
            }
            findings.append(.retrieval(finding))
        }
        if !report.associations.isEmpty {
            findings.append(
                .associations(
                    report.associations.map {
                        .init(
                            name: $0.name, effectSize: $0.result.effectSize, ciLow: $0.result.ciLow, ciHigh: $0.result.ciHigh,
                            pValue: $0.result.pValue)
                    }))
        }
        return findings
    }

    /// The report's measurement findings in words, in order.
    static func sentences(_ report: AuditReport) -> [String] {
        report.findings.map { sentence($0, alpha: report.alpha) }
    }

    /// A finding in words (escaped Markdown), as the findings list at the top shows it.
    static func sentence(_ finding: MeasurementFinding, alpha: Double) -> String {
        switch finding {
        case .retrieval(let r):
            let counts = r.beyondNull.map { "\(MarkdownEscape.text($0.attribute)) \($0.count)" }
            var line =
                "Retrieval over \(r.queries) neutral queries: at k = \(r.k), the queries whose top k is skewed beyond what "
                + "a random ranking gives (Holm, α = \(ReportFormat.formatNumber(alpha))) number \(counts.joined(separator: ", "))"
            if let top = r.mostSkewed {
                line +=
                    "; the most skewed, the top \(top.k) for “\(MarkdownEscape.text(top.query))”, holds "
                    + "\(MarkdownEscape.text(top.group)) (\(MarkdownEscape.text(top.attribute))) at \(percent(top.share)) against "
                    + "\(percent(top.desiredShare)) of the set (MaxSkew \(number(top.maxSkew)) against \(number(top.nullMaxSkew ?? .nan)) "
                    + "for a random ranking, p = \(ReportFormat.formatP(top.pValue ?? 1)))"
            }
            return line + "."
        case .associations(let tests):
            let parts = tests.map { t -> String in
                "\(MarkdownEscape.code(t.name)) \(number(t.effectSize)) [\(number(t.ciLow)), \(number(t.ciHigh))], "
                    + "p = \(ReportFormat.formatP(t.pValue))" + (t.pValue < alpha ? " (significant)" : "")
            }
            return "Association tests (effect size, positive: the first group's faces closer to the first word set): "
                + parts.joined(separator: "; ") + "."
        case .sentence(let text):
            return text
        }
    }

    /// The group a sentence names as over-represented in `row`'s top k: the one with the largest
    /// skew among the groups that are there (under Berg et al.'s convention an absent group counts
    /// as 1/k and can have the largest skew, which is no over-representation to report).
    static func overRepresented(_ report: AuditReport, _ row: RetrievalRow) -> RetrievalGroupRow? {
        report.retrievalGroups
            .filter { $0.query == row.query && $0.attribute == row.attribute && $0.k == row.k && $0.count > 0 }
            .max { $0.skew < $1.skew }
    }

    /// report.md's part: one table per kind, each figure beside its baseline; the rest is in
    /// details.md (``detailSections(_:_:)``).
    static func sections(_ md: inout MarkdownText, _ report: AuditReport) {
        let rows = report.retrieval, tests = report.associations
        guard !rows.isEmpty || !tests.isEmpty else { return }
        md.line("## Retrieval skew and association tests")
        md.blank()
        if !rows.isEmpty {
            let ks = Array(Set(rows.map(\.k))).sorted()
            let queries = Set(rows.map(\.query)).subtracting(["*"]).count
            md.line(
                "| retrieval by | " + ks.map { "MaxSkew@\($0) (null)" }.joined(separator: " | ")
                    + " | queries beyond the null (Holm), k = \(ks.map(String.init).joined(separator: "/")) |")
            md.line("|---|" + ks.map { _ in "---:|" }.joined() + "---:|")
            for attribute in retrievalAttributes(report) {
                var cells: [String] = [], beyond: [String] = []
                for k in ks {
                    let mean = rows.first { $0.query == "*" && $0.attribute == attribute && $0.k == k && $0.desired == .dataset }
                    cells.append(mean.map { "\(number($0.maxSkew)) (\($0.nullMaxSkew.map(number) ?? "—"))" } ?? "—")
                    beyond.append(beyondNull(report, attribute: attribute, k: k).map { "\($0.count)" } ?? "—")
                }
                md.line(
                    "| \(MarkdownEscape.text(attribute)) | " + cells.joined(separator: " | ")
                        + " | \(beyond.joined(separator: "/")) of \(queries) |")
            }
            md.blank()
        }
        if !tests.isEmpty {
            md.line("| association | X vs Y | A vs B | effect size (95% CI) | p |")
            md.line("|---|---|---|---|---:|")
            for test in tests {
                let r = test.result
                md.line(
                    "| \(MarkdownEscape.code(test.name, inTable: true)) | \(MarkdownEscape.text(test.groupX)) vs \(MarkdownEscape.text(test.groupY)) (\(r.nX), \(r.nY)) | "
                        + "\(MarkdownEscape.text(test.targetA)) vs \(MarkdownEscape.text(test.targetB)) | "
                        + "\(number(r.effectSize)) [\(number(r.ciLow)), \(number(r.ciHigh))] | \(ReportFormat.formatP(r.pValue))\(r.exact ? " (exact)" : "") |"
                )
            }
            md.blank()
        }
        md.line(
            "MaxSkew: the log-ratio of the most over-represented group's share of the top k to its share of the set (0: as in the set), mean over the queries; "
                + "null: the same for rankings with the labels permuted, what chance alone gives. Effect size: the two groups' mean association with A rather than B, "
                + "in pooled standard deviations. The most skewed queries, NDKL and the charts are in [details.md](details.md).")
        md.blank()
    }

    /// details.md's part: `## Retrieval skew` and `## Association tests` in full.
    static func detailSections(_ md: inout MarkdownText, _ report: AuditReport) {
        retrievalSection(&md, report)
        associationSection(&md, report)
    }

    // MARK: Retrieval

    static func retrievalAttributes(_ report: AuditReport) -> [String] {
        var seen: [String] = []
        for row in report.retrieval where !seen.contains(row.attribute) { seen.append(row.attribute) }
        return seen
    }

    /// The query row (desired: dataset) whose MaxSkew stands furthest above the null's, at any k.
    static func mostSkewed(_ report: AuditReport, attribute: String) -> RetrievalRow? {
        report.retrieval
            .filter { $0.query != "*" && $0.attribute == attribute && $0.desired == .dataset }
            .max { excess($0) < excess($1) }
    }

    /// How many queries' MaxSkew at `k` (desired: dataset) goes beyond the permutation null after
    /// Holm's adjustment over the queries, of how many; nil without permutations.
    static func beyondNull(_ report: AuditReport, attribute: String, k: Int) -> (count: Int, of: Int)? {
        let p = report.retrieval
            .filter { $0.query != "*" && $0.attribute == attribute && $0.k == k && $0.desired == .dataset }
            .compactMap(\.pValue)
        guard !p.isEmpty else { return nil }
        return (holmAdjusted(p).filter { $0 < report.alpha }.count, p.count)
    }

    /// A symmetric axis around 0 wide enough for `reach`: the first of `limits` that holds it
    /// (else the last), with ticks at halves.
    static func symmetricAxis(reach: Double, limits: [Double], title: String) -> DotWhiskerPlot.Axis {
        let limit = limits.first { $0 >= reach } ?? limits.last!
        let ticks = stride(from: -limit, through: limit + limit / 8, by: limit / 2).map { ($0, String(format: "%g", $0)) }
        return .init(domain: -limit...limit, ticks: ticks, title: title)
    }

    static func excess(_ row: RetrievalRow) -> Double { row.maxSkew - (row.nullMaxSkew ?? 0) }

    static func group(_ report: AuditReport, _ row: RetrievalRow, _ name: String?) -> RetrievalGroupRow? {
        report.retrievalGroups.first {
            $0.query == row.query && $0.attribute == row.attribute && $0.k == row.k && $0.group == name
        }
    }

    static func retrievalSection(_ md: inout MarkdownText, _ report: AuditReport) {
        let rows = report.retrieval
        guard !rows.isEmpty else { return }
        let alpha = report.alpha
        let queries = Set(rows.map(\.query)).subtracting(["*"]).count
        md.line("## Retrieval skew")
        md.blank()
        md.line(
            "Every scored image ranked by its similarity to each of \(queries) neutral queries; in the top k, each group's share against its share of the set. "
                + "MaxSkew is the log-ratio of the most over-represented group (0: as in the set), NDKL the rank-weighted divergence from the set's mix; "
                + "the null MaxSkew is the mean for rankings with the labels permuted, which is what chance alone gives.")
        md.blank()
        md.line(
            "| attribute | k | mean MaxSkew | null MaxSkew | mean NDKL | queries beyond the null (Holm, α = \(ReportFormat.formatNumber(alpha))) |"
        )
        md.line("|---|---:|---:|---:|---:|---:|")
        for mean in rows where mean.query == "*" && mean.desired == .dataset {
            let beyond = beyondNull(report, attribute: mean.attribute, k: mean.k).map { "\($0.count) of \($0.of)" } ?? "—"
            md.line(
                "| \(MarkdownEscape.text(mean.attribute)) | \(mean.k) | \(number(mean.maxSkew)) | \(mean.nullMaxSkew.map(number) ?? "—") | \(number(mean.ndkl)) | \(beyond) |"
            )
        }
        md.blank()
        md.line("The queries that skew most (desired: the set's mix; p: permutation test of MaxSkew, unadjusted):")
        md.blank()
        md.line("| attribute | k | query | over-represented | under-represented | MaxSkew (null) | p |")
        md.line("|---|---:|---|---|---|---:|---:|")
        for attribute in retrievalAttributes(report) {
            let top = rows.filter { $0.query != "*" && $0.attribute == attribute && $0.desired == .dataset }
                .sorted { excess($0) > excess($1) }.prefix(3)
            for row in top {
                func describe(_ name: String?) -> String {
                    guard let g = group(report, row, name) else { return "" }
                    return "\(MarkdownEscape.text(g.group)): \(percent(g.share)) vs \(percent(g.desiredShare))"
                }
                md.line(
                    "| \(MarkdownEscape.text(attribute)) | \(row.k) | \(MarkdownEscape.text(row.query)) | \(describe(row.maxGroup)) | \(describe(row.minGroup)) | "
                        + "\(number(row.maxSkew)) (\(row.nullMaxSkew.map(number) ?? "—")) | \(row.pValue.map(ReportFormat.formatP) ?? "—") |"
                )
            }
        }
        md.blank()
        for attribute in retrievalAttributes(report) {
            if let chart = md.charts.first(where: { $0.metric == "retrieval" && $0.attribute == attribute }) {
                md.line("![\(MarkdownEscape.alt(chart.title))](\(chart.path))")
                md.blank()
            }
        }
        md.line(
            "All figures, both desired mixes (the set's and equal shares) and every group's count: `retrieval.csv`, `retrieval_groups.csv`."
        )
        md.blank()
    }

    static func skewChart(_ report: AuditReport, _ row: RetrievalRow) -> DotWhiskerPlot? {
        let groups = report.retrievalGroups.filter { $0.query == row.query && $0.attribute == row.attribute && $0.k == row.k }
        guard !groups.isEmpty else { return nil }
        let rows = groups.map { g in
            DotWhiskerPlot.Row(
                label: ReportCharts.groupLabel(g.group), value: g.skew, low: nil, high: nil,
                role: g.group == row.maxGroup && (row.pValue ?? 1) < report.alpha ? .flagged : .neutral,
                small: false,
                note: "\(percent(g.share)) vs \(percent(g.desiredShare))  (\(g.count) of \(g.k)"
                    + (g.count == 0 ? "; absent, taken as 1/k)" : ")"))
        }
        return DotWhiskerPlot(
            title: "Top \(row.k) for “\(row.query)”: skew by \(ChartStyle.attributeTitle(row.attribute))",
            subtitle:
                "ln(share in the top k / share of the set); absent groups count as 1/k. MaxSkew \(number(row.maxSkew)), null \(row.nullMaxSkew.map(number) ?? "—")",
            rows: rows,
            axis: symmetricAxis(
                reach: groups.map { abs($0.skew) }.max() ?? 0, limits: [0.5, 1, 2, 3, 5],
                title: "skew (0: as in the set)"),
            lines: [.init(x: 0, label: "as in the set", dashed: false)],
            flaggedMeaning: "over-represented beyond the permutation null (p < \(ReportFormat.formatNumber(report.alpha)))",
            neutralMeaning: "within what a random ranking gives", minGroupSize: 0)
    }

    // MARK: Associations

    static func associationSection(_ md: inout MarkdownText, _ report: AuditReport) {
        let tests = report.associations
        guard !tests.isEmpty else { return }
        md.line("## Association tests")
        md.blank()
        md.line(
            "WEAT-style tests with the faces as targets: s(w) is a face's mean cosine to word set A minus to word set B; the effect size is the difference of the two groups' mean s over the pooled standard deviation (positive: X closer to A). "
                + "p is one-sided over re-partitions of the faces (exact when they can all be counted); the interval is a 95% percentile bootstrap."
        )
        md.blank()
        md.line("| test | X | Y | A | B | n (X, Y) | effect size (95% CI) | p |")
        md.line("|---|---|---|---|---|---:|---|---:|")
        for test in tests {
            let r = test.result
            md.line(
                "| \(MarkdownEscape.code(test.name, inTable: true)) | \(MarkdownEscape.text(test.groupX)) | \(MarkdownEscape.text(test.groupY)) | "
                    + "\(MarkdownEscape.text(test.targetA)) | \(MarkdownEscape.text(test.targetB)) | \(r.nX), \(r.nY) | "
                    + "\(number(r.effectSize)) [\(number(r.ciLow)), \(number(r.ciHigh))] | \(ReportFormat.formatP(r.pValue))\(r.exact ? " (exact)" : "") |"
            )
        }
        md.blank()
        if let chart = md.charts.first(where: { $0.metric == "association" }) {
            md.line("![\(MarkdownEscape.alt(chart.title))](\(chart.path))")
            md.blank()
        }
    }

    static func associationChart(_ report: AuditReport) -> DotWhiskerPlot? {
        let tests = report.associations
        guard !tests.isEmpty else { return nil }
        let reach = tests.flatMap { [abs($0.result.ciLow), abs($0.result.ciHigh), abs($0.result.effectSize)] }.filter(\.isFinite).max() ?? 0
        let rows = tests.map { test in
            let r = test.result
            return DotWhiskerPlot.Row(
                label: test.name, value: r.effectSize.isFinite ? r.effectSize : nil, low: r.ciLow, high: r.ciHigh,
                role: r.pValue < report.alpha ? .flagged : .neutral, small: false,
                note: "\(test.groupX)–\(test.targetA) vs \(test.groupY)–\(test.targetB)  p = \(ReportFormat.formatP(r.pValue))")
        }
        return DotWhiskerPlot(
            title: "Association tests: effect sizes",
            subtitle: "Positive: X faces closer to word set A than Y faces are; 95% bootstrap interval",
            rows: rows, axis: symmetricAxis(reach: reach, limits: [0.5, 1, 1.5, 2], title: "effect size (pooled standard deviations)"),
            lines: [.init(x: 0, label: "no association", dashed: false)],
            flaggedMeaning: "p < \(ReportFormat.formatNumber(report.alpha)) (one-sided permutation test)",
            neutralMeaning: "not significant", minGroupSize: 0)
    }

    // MARK: Formatting

    static func number(_ value: Double) -> String { value.isFinite ? String(format: "%.2f", value) : "—" }
    static func percent(_ value: Double) -> String { String(format: "%.0f%%", value * 100) }

}
