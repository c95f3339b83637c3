import Foundation

/// The report's retrieval-skew and association-test sections, their charts, and the sentences
/// they add to the findings. Every figure is set beside its null baseline: MaxSkew of a random
/// ranking is well above 0 at small k and with many groups, so a raw MaxSkew says little alone.
enum MeasurementsReport {
    /// Charts go under `charts/` with the others; these names cannot clash with theirs
    /// (`retrieval-…`, `association-…` are not design names followed by a chart kind).
    static func charts(_ run: AuditRun) -> [ChartFile] {
        var files: [ChartFile] = []
        for attribute in retrievalAttributes(run) {
            guard let top = mostSkewed(run, attribute: attribute), let plot = skewChart(run, top) else { continue }
            files.append(
                ChartFile(
                    kind: .rate, design: "*", metric: "retrieval", attribute: attribute,
                    path: "\(ReportCharts.folder)/\(ChartStyle.slug("retrieval-skew-\(attribute)")).svg",
                    title: plot.title, svg: plot.render()))
        }
        if let plot = associationChart(run) {
            files.append(
                ChartFile(
                    kind: .rate, design: "*", metric: "association", attribute: "*",
                    path: "\(ReportCharts.folder)/association-effect-sizes.svg", title: plot.title, svg: plot.render()))
        }
        return files
    }

    /// Sentences for the findings at the top of the report: the most skewed query per attribute
    /// and each association test, with their uncertainty.
    static func findings(_ run: AuditRun) -> [String] {
        var lines: [String] = []
        let alpha = run.config.alpha
        let rows = run.measurements.retrieval
        if !rows.isEmpty {
            // How many queries go beyond the null, per attribute at the largest k, then the one
            // query that stands furthest above it.
            let queries = Set(rows.map(\.query)).subtracting(["*"]).count
            let kmax = rows.map(\.k).max() ?? 0
            let counts = retrievalAttributes(run).map { attribute -> String in
                "\(MarkdownEscape.text(attribute)) \(beyondNull(run, attribute: attribute, k: kmax)?.count ?? 0)"
            }
            var line =
                "Retrieval over \(queries) neutral queries: at k = \(kmax), the queries whose top k is skewed beyond what "
                + "a random ranking gives (Holm, α = \(MarkdownReport.formatNumber(alpha))) number \(counts.joined(separator: ", "))"
            let top = retrievalAttributes(run).compactMap { mostSkewed(run, attribute: $0) }.max { excess($0) < excess($1) }
            if let top, let over = overRepresented(run, top) {
                line +=
                    "; the most skewed, the top \(top.k) for “\(MarkdownEscape.text(top.query))”, holds "
                    + "\(MarkdownEscape.text(over.group)) (\(MarkdownEscape.text(top.attribute))) at \(percent(over.share)) against "
                    + "\(percent(over.desiredShare)) of the set (MaxSkew \(number(top.maxSkew)) against \(number(top.nullMaxSkew ?? .nan)) "
                    + "for a random ranking, p = \(MarkdownReport.formatP(top.pValue ?? 1)))"
            }
            lines.append(line + ".")
        }
        let tests = run.measurements.associations.map { spec, r -> String in
            "\(MarkdownEscape.code(spec.name)) \(number(r.effectSize)) [\(number(r.ciLow)), \(number(r.ciHigh))], "
                + "p = \(MarkdownReport.formatP(r.pValue))" + (r.pValue < alpha ? " (significant)" : "")
        }
        if !tests.isEmpty {
            lines.append(
                "Association tests (effect size, positive: the first group's faces closer to the first word set): "
                    + tests.joined(separator: "; ") + ".")
        }
        return lines
    }

    /// The group a sentence names as over-represented in `row`'s top k: the one with the largest
    /// skew among the groups that are there (under Berg et al.'s convention an absent group counts
    /// as 1/k and can have the largest skew, which is no over-representation to report).
    static func overRepresented(_ run: AuditRun, _ row: RetrievalRow) -> RetrievalGroupRow? {
        run.measurements.retrievalGroups
            .filter { $0.query == row.query && $0.attribute == row.attribute && $0.k == row.k && $0.count > 0 }
            .max { $0.skew < $1.skew }
    }

    /// report.md's part: one table per kind, each figure beside its baseline; the rest is in
    /// details.md (``detailSections(_:_:)``).
    static func sections(_ md: inout MarkdownText, _ run: AuditRun) {
        let rows = run.measurements.retrieval, tests = run.measurements.associations
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
            for attribute in retrievalAttributes(run) {
                var cells: [String] = [], beyond: [String] = []
                for k in ks {
                    let mean = rows.first { $0.query == "*" && $0.attribute == attribute && $0.k == k && $0.desired == .dataset }
                    cells.append(mean.map { "\(number($0.maxSkew)) (\($0.nullMaxSkew.map(number) ?? "—"))" } ?? "—")
                    beyond.append(beyondNull(run, attribute: attribute, k: k).map { "\($0.count)" } ?? "—")
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
            for (spec, r) in tests {
                md.line(
                    "| \(MarkdownEscape.code(spec.name, inTable: true)) | \(MarkdownEscape.text(spec.groupX)) vs \(MarkdownEscape.text(spec.groupY)) (\(r.nX), \(r.nY)) | "
                        + "\(MarkdownEscape.text(spec.targetA.name)) vs \(MarkdownEscape.text(spec.targetB.name)) | "
                        + "\(number(r.effectSize)) [\(number(r.ciLow)), \(number(r.ciHigh))] | \(MarkdownReport.formatP(r.pValue))\(r.exact ? " (exact)" : "") |"
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
    static func detailSections(_ md: inout MarkdownText, _ run: AuditRun) {
        retrievalSection(&md, run)
        associationSection(&md, run)
    }

    // MARK: Retrieval

    static func retrievalAttributes(_ run: AuditRun) -> [String] {
        var seen: [String] = []
        for row in run.measurements.retrieval where !seen.contains(row.attribute) { seen.append(row.attribute) }
        return seen
    }

    /// The query row (desired: dataset) whose MaxSkew stands furthest above the null's, at any k.
    static func mostSkewed(_ run: AuditRun, attribute: String) -> RetrievalRow? {
        run.measurements.retrieval
            .filter { $0.query != "*" && $0.attribute == attribute && $0.desired == .dataset }
            .max { excess($0) < excess($1) }
    }

    /// How many queries' MaxSkew at `k` (desired: dataset) goes beyond the permutation null after
    /// Holm's adjustment over the queries, of how many; nil without permutations.
    static func beyondNull(_ run: AuditRun, attribute: String, k: Int) -> (count: Int, of: Int)? {
        let p = run.measurements.retrieval
            .filter { $0.query != "*" && $0.attribute == attribute && $0.k == k && $0.desired == .dataset }
            .compactMap(\.pValue)
        guard !p.isEmpty else { return nil }
        return (holmAdjusted(p).filter { $0 < run.config.alpha }.count, p.count)
    }

    /// A symmetric axis around 0 wide enough for `reach`: the first of `limits` that holds it
    /// (else the last), with ticks at halves.
    static func symmetricAxis(reach: Double, limits: [Double], title: String) -> DotWhiskerPlot.Axis {
        let limit = limits.first { $0 >= reach } ?? limits.last!
        let ticks = stride(from: -limit, through: limit + limit / 8, by: limit / 2).map { ($0, String(format: "%g", $0)) }
        return .init(domain: -limit...limit, ticks: ticks, title: title)
    }

    static func excess(_ row: RetrievalRow) -> Double { row.maxSkew - (row.nullMaxSkew ?? 0) }

    static func group(_ run: AuditRun, _ row: RetrievalRow, _ name: String?) -> RetrievalGroupRow? {
        run.measurements.retrievalGroups.first {
            $0.query == row.query && $0.attribute == row.attribute && $0.k == row.k && $0.group == name
        }
    }

    static func retrievalSection(_ md: inout MarkdownText, _ run: AuditRun) {
        let rows = run.measurements.retrieval
        guard !rows.isEmpty else { return }
        let alpha = run.config.alpha
        let queries = Set(rows.map(\.query)).subtracting(["*"]).count
        md.line("## Retrieval skew")
        md.blank()
        md.line(
            "Every scored image ranked by its similarity to each of \(queries) neutral queries; in the top k, each group's share against its share of the set. "
                + "MaxSkew is the log-ratio of the most over-represented group (0: as in the set), NDKL the rank-weighted divergence from the set's mix; "
                + "the null MaxSkew is the mean for rankings with the labels permuted, which is what chance alone gives.")
        md.blank()
        md.line(
            "| attribute | k | mean MaxSkew | null MaxSkew | mean NDKL | queries beyond the null (Holm, α = \(MarkdownReport.formatNumber(alpha))) |"
        )
        md.line("|---|---:|---:|---:|---:|---:|")
        for mean in rows where mean.query == "*" && mean.desired == .dataset {
            let beyond = beyondNull(run, attribute: mean.attribute, k: mean.k).map { "\($0.count) of \($0.of)" } ?? "—"
            md.line(
                "| \(MarkdownEscape.text(mean.attribute)) | \(mean.k) | \(number(mean.maxSkew)) | \(mean.nullMaxSkew.map(number) ?? "—") | \(number(mean.ndkl)) | \(beyond) |"
            )
        }
        md.blank()
        md.line("The queries that skew most (desired: the set's mix; p: permutation test of MaxSkew, unadjusted):")
        md.blank()
        md.line("| attribute | k | query | over-represented | under-represented | MaxSkew (null) | p |")
        md.line("|---|---:|---|---|---|---:|---:|")
        for attribute in retrievalAttributes(run) {
            let top = rows.filter { $0.query != "*" && $0.attribute == attribute && $0.desired == .dataset }
                .sorted { excess($0) > excess($1) }.prefix(3)
            for row in top {
                func describe(_ name: String?) -> String {
                    guard let g = group(run, row, name) else { return "" }
                    return "\(MarkdownEscape.text(g.group)): \(percent(g.share)) vs \(percent(g.desiredShare))"
                }
                md.line(
                    "| \(MarkdownEscape.text(attribute)) | \(row.k) | \(MarkdownEscape.text(row.query)) | \(describe(row.maxGroup)) | \(describe(row.minGroup)) | "
                        + "\(number(row.maxSkew)) (\(row.nullMaxSkew.map(number) ?? "—")) | \(row.pValue.map(MarkdownReport.formatP) ?? "—") |"
                )
            }
        }
        md.blank()
        for attribute in retrievalAttributes(run) {
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

    static func skewChart(_ run: AuditRun, _ row: RetrievalRow) -> DotWhiskerPlot? {
        let groups = run.measurements.retrievalGroups.filter { $0.query == row.query && $0.attribute == row.attribute && $0.k == row.k }
        guard !groups.isEmpty else { return nil }
        let rows = groups.map { g in
            DotWhiskerPlot.Row(
                label: ReportCharts.groupLabel(g.group), value: g.skew, low: nil, high: nil,
                role: g.group == row.maxGroup && (row.pValue ?? 1) < run.config.alpha ? .flagged : .neutral,
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
            flaggedMeaning: "over-represented beyond the permutation null (p < \(MarkdownReport.formatNumber(run.config.alpha)))",
            neutralMeaning: "within what a random ranking gives", minGroupSize: 0)
    }

    // MARK: Associations

    static func associationSection(_ md: inout MarkdownText, _ run: AuditRun) {
        let tests = run.measurements.associations
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
        for (spec, r) in tests {
            md.line(
                "| \(MarkdownEscape.code(spec.name, inTable: true)) | \(MarkdownEscape.text(spec.groupX)) | \(MarkdownEscape.text(spec.groupY)) | "
                    + "\(MarkdownEscape.text(spec.targetA.name)) | \(MarkdownEscape.text(spec.targetB.name)) | \(r.nX), \(r.nY) | "
                    + "\(number(r.effectSize)) [\(number(r.ciLow)), \(number(r.ciHigh))] | \(MarkdownReport.formatP(r.pValue))\(r.exact ? " (exact)" : "") |"
            )
        }
        md.blank()
        if let chart = md.charts.first(where: { $0.metric == "association" }) {
            md.line("![\(MarkdownEscape.alt(chart.title))](\(chart.path))")
            md.blank()
        }
    }

    static func associationChart(_ run: AuditRun) -> DotWhiskerPlot? {
        let tests = run.measurements.associations
        guard !tests.isEmpty else { return nil }
        let reach = tests.flatMap { [abs($0.result.ciLow), abs($0.result.ciHigh), abs($0.result.effectSize)] }.filter(\.isFinite).max() ?? 0
        let rows = tests.map { spec, r in
            DotWhiskerPlot.Row(
                label: spec.name, value: r.effectSize.isFinite ? r.effectSize : nil, low: r.ciLow, high: r.ciHigh,
                role: r.pValue < run.config.alpha ? .flagged : .neutral, small: false,
                note: "\(spec.groupX)–\(spec.targetA.name) vs \(spec.groupY)–\(spec.targetB.name)  p = \(MarkdownReport.formatP(r.pValue))")
        }
        return DotWhiskerPlot(
            title: "Association tests: effect sizes",
            subtitle: "Positive: X faces closer to word set A than Y faces are; 95% bootstrap interval",
            rows: rows, axis: symmetricAxis(reach: reach, limits: [0.5, 1, 1.5, 2], title: "effect size (pooled standard deviations)"),
            lines: [.init(x: 0, label: "no association", dashed: false)],
            flaggedMeaning: "p < \(MarkdownReport.formatNumber(run.config.alpha)) (one-sided permutation test)",
            neutralMeaning: "not significant", minGroupSize: 0)
    }

    // MARK: Formatting

    static func number(_ value: Double) -> String { value.isFinite ? String(format: "%.2f", value) : "—" }
    static func percent(_ value: Double) -> String { String(format: "%.0f%%", value * 100) }

}
