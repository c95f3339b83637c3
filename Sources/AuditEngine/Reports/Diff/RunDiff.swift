import CLIPEngine
import Foundation

/// `clip-audit diff RUN_A RUN_B`: two report folders compared group by group (two models, two
/// dates, two manifests), with the statistics of the variant comparisons where the images match
/// and the unpaired ones where they do not.
public enum RunDiff {
    public static let header = [
        "design", "metric", "attribute", "group", "n_a", "value_a", "n_b", "value_b", "delta",
        "ci_low", "ci_high", "p_value", "p_adjusted", "significant", "test", "design_changed"
    ]

    /// The significance level of a comparison: the stricter of the two runs'.
    public static func alpha(_ a: ReportFolder, _ b: ReportFolder) -> Double { min(a.data.alpha, b.data.alpha) }

    /// The designs both runs have by name but define differently. From the signatures in
    /// `run.json`; for a folder written before `run.json` had them, from the classes its
    /// `prediction_rate:` metrics name (phrases and templates then go unchecked).
    public static func designChanges(_ a: ReportFolder, _ b: ReportFolder) -> [DesignChange] {
        func classes(_ folder: ReportFolder, _ design: String) -> Set<String> {
            Set(
                folder.data.metrics.compactMap { row -> String? in
                    guard row.design == design, case .predictionRate(let cls) = row.metric else { return nil }
                    return cls
                })
        }
        var out: [DesignChange] = []
        for design in a.data.designs.map(\.name) where b.data.designs.contains(where: { $0.name == design }) {
            if let sa = a.data.design(named: design)?.signature, let sb = b.data.design(named: design)?.signature {
                let differences = sa.differences(to: sb)
                if !differences.isEmpty { out.append(DesignChange(design: design, differences: differences)) }
            } else {
                let ca = classes(a, design), cb = classes(b, design)
                if ca != cb {
                    out.append(
                        DesignChange(
                            design: design,
                            differences: [
                                "classes differ (\(ca.count) in A, \(cb.count) in B; a run.json without design definitions: phrases and templates not checked)"
                            ]))
                }
            }
        }
        return out
    }

    /// The rows of `diff.csv`. Designs whose definition differs between the runs
    /// (`designChanges`) are left out unless `includeChangedDesigns`, and then marked.
    ///
    /// Both `predictions.csv` files are read a line at a time, design by design, side by side
    /// (``PredictionJoin``): what is kept per metric × group is a few counts, not the images.
    public static func compare(_ a: ReportFolder, _ b: ReportFolder, includeChangedDesigns: Bool = false) throws -> [DiffRow] {
        let alpha = alpha(a, b)
        let changedDesigns = Set(designChanges(a, b).map(\.design))
        var bRows: [MetricRow.Key: MetricRow] = [:]
        for m in b.data.metrics { bRows[key(m)] = m }
        var rows: [DiffRow] = []
        var cells = Cells()
        for design in Set(a.data.metrics.map(\.design)) where !changedDesigns.contains(design) || includeChangedDesigns {
            let compared = a.data.metrics.filter { $0.design == design && bRows[key($0)] != nil }
            guard !compared.isEmpty, let blockA = a.predictionBlock(design), let blockB = b.predictionBlock(design) else { continue }
            try countPairs(blockA, blockB, design: design, metrics: compared, into: &cells)
        }
        for ma in a.data.metrics {
            guard let mb = bRows[key(ma)] else { continue }
            let designChanged = changedDesigns.contains(ma.design)
            if designChanged && !includeChangedDesigns { continue }
            var row = DiffRow(
                design: ma.design, metric: ma.metric, attribute: ma.attribute, group: ma.group, nA: ma.n,
                valueA: ma.value, nB: mb.n, valueB: mb.value, delta: 0, ciLow: 0, ciHigh: 0, pValue: 1,
                pAdjusted: 1, significant: false, test: .unpaired,
                belowMinimumN: ma.n < a.data.minGroupSize || mb.n < b.data.minGroupSize,
                designChanged: designChanged)
            let counts = cells.counts(ma)
            // Paired when both runs scored the same images in the slice: none in one run only.
            if counts.tally.n > 0, counts.onlyA == 0, counts.onlyB == 0 {
                // Run B is the compared condition, run A the base.
                let tally = counts.tally
                row.test = .paired
                row.nA = tally.n; row.nB = tally.n
                row.valueA = tally.baseValue
                row.valueB = tally.value
                row.delta = tally.delta
                let ci = tally.interval!
                row.ciLow = ci.lower; row.ciHigh = ci.upper
                row.pValue = tally.pValue
            } else {
                row.delta = Double(mb.count) / Double(mb.n) - Double(ma.count) / Double(ma.n)
                if let ci = newcombeUnpairedDifferenceInterval(successes1: mb.count, trials1: mb.n, successes2: ma.count, trials2: ma.n) {
                    row.ciLow = ci.lower; row.ciHigh = ci.upper
                }
                row.pValue = pooledTwoProportionZTest(successes1: mb.count, trials1: mb.n, successes2: ma.count, trials2: ma.n).pValue
            }
            rows.append(row)
        }
        // Holm within design × metric × attribute, as for disparities.
        let adjusted = holmAdjusted(rows.map(\.pValue), families: rows.map { [$0.design, $0.metric.csvName, $0.attribute] })
        for i in rows.indices {
            rows[i].pAdjusted = adjusted[i]
            rows[i].significant = adjusted[i] < alpha
        }
        return rows
    }

    static func key(_ m: MetricRow) -> MetricRow.Key { m.key }

    /// One group of a design's slice.
    struct GroupKey: Hashable {
        var design: String
        var attribute: String
        var group: String
    }

    /// A metric's images in one group: those with the indicator defined in both runs (paired,
    /// with both indicators), and those in one run only (missing from the other, in another
    /// group there, or with the indicator undefined there).
    struct PairCounts {
        var tally = PairedTally()
        var onlyA = 0
        var onlyB = 0
    }

    /// Per group, the counts of each of a design's metrics (in `metrics` order).
    struct Cells {
        var metrics: [String: [Metric]] = [:]
        var groups: [GroupKey: [PairCounts]] = [:]

        func counts(_ m: MetricRow) -> PairCounts {
            guard let index = metrics[m.design]?.firstIndex(of: m.metric),
                let counts = groups[GroupKey(design: m.design, attribute: m.attribute, group: m.group)]
            else { return PairCounts() }
            return counts[index]
        }
    }

    /// Counts the cells of `metrics` (rows of one design) over the design's lines in both runs.
    static func countPairs(
        _ blockA: PredictionBlock, _ blockB: PredictionBlock, design: String, metrics rows: [MetricRow],
        into cells: inout Cells
    ) throws {
        var measured: [Metric] = []
        for row in rows where !measured.contains(row.metric) { measured.append(row.metric) }
        cells.metrics[design] = measured
        let empty = Array(repeating: PairCounts(), count: measured.count)
        var slices: [(String, Slice)] = []
        for row in rows where !slices.contains(where: { $0.0 == row.attribute }) {
            slices.append((row.attribute, Slice(csvText: row.attribute)))
        }
        try PredictionJoin.join(blockA, blockB, into: &cells.groups) { groups, pa, pb in
            let ia = measured.map { metric in
                pa.flatMap { metric.indicator(truth: $0.truth, predicted: $0.predicted, harmCategory: $0.harmCategory) }
            }
            let ib = measured.map { metric in
                pb.flatMap { metric.indicator(truth: $0.truth, predicted: $0.predicted, harmCategory: $0.harmCategory) }
            }
            for (attribute, slice) in slices {
                let ga = pa.map { p in slice.groupText(slice.attributes.map { p.groups[$0] ?? "" }) }
                let gb = pb.map { p in slice.groupText(slice.attributes.map { p.groups[$0] ?? "" }) }
                if let ga, ga == gb {
                    // One lookup for the group, every metric updated in place.
                    update(&groups[GroupKey(design: design, attribute: attribute, group: ga), default: empty]) { counts in
                        for i in measured.indices {
                            if let a = ia[i], let b = ib[i] {
                                counts[i].tally.add(b, a)
                            } else if ia[i] != nil {
                                counts[i].onlyA += 1
                            } else if ib[i] != nil {
                                counts[i].onlyB += 1
                            }
                        }
                    }
                    continue
                }
                if let ga, ia.contains(where: { $0 != nil }) {
                    update(&groups[GroupKey(design: design, attribute: attribute, group: ga), default: empty]) { counts in
                        for i in measured.indices where ia[i] != nil { counts[i].onlyA += 1 }
                    }
                }
                if let gb, ib.contains(where: { $0 != nil }) {
                    update(&groups[GroupKey(design: design, attribute: attribute, group: gb), default: empty]) { counts in
                        for i in measured.indices where ib[i] != nil { counts[i].onlyB += 1 }
                    }
                }
            }
        }
    }

    private static func update<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }

    // MARK: Output

    public static func csv(_ rows: [DiffRow]) -> String {
        var w = CSVWriter()
        w.writeRow(header)
        for r in rows {
            w.writeRow([
                .text(r.design), .text(r.metric.csvName), .text(r.attribute), .text(r.group), .number(r.nA), .number(r.valueA),
                .number(r.nB), .number(r.valueB), .number(r.delta), .number(r.ciLow),
                .number(r.ciHigh), .number(r.pValue), .number(r.pAdjusted),
                .number(r.significant), .verbatim(r.test.rawValue), .number(r.designChanged)
            ])
        }
        return w.text
    }

    /// Delta charts: one per design × accuracy/harm metric, the whole set and every attribute.
    public static func charts(_ rows: [DiffRow], a: ReportFolder, b: ReportFolder) -> [ChartFile] {
        var files: [ChartFile] = []
        var seen: [String] = []
        for r in rows where r.metric.isHeadline && !seen.contains("\(r.design)\u{1F}\(r.metric)") {
            seen.append("\(r.design)\u{1F}\(r.metric)")
            let slice = rows.filter { $0.design == r.design && $0.metric == r.metric && !Slice(csvText: $0.attribute).isIntersection }
            let items = slice.map { s in
                DeltaChart.Item(
                    label: s.attribute == "*" ? "all images" : "\(s.attribute): \(s.group)", delta: s.delta,
                    low: s.ciLow, high: s.ciHigh, n: min(s.nA, s.nB), pValue: s.pAdjusted, small: s.belowMinimumN)
            }
            guard items.count > 1 else { continue }
            let plot = DeltaChart.plot(
                items,
                title:
                    "\(r.design)\(r.designChanged ? " (design differs)" : ""): \(r.metric.title), \(runNames(a, b).b) − \(runNames(a, b).a)",
                subtitle: "Run B minus run A, 95% Newcombe interval (paired where the images match); p: Holm-adjusted",
                alpha: alpha(a, b), minGroupSize: min(a.data.minGroupSize, b.data.minGroupSize),
                axisTitle: "change in \(r.metric.title) (percentage points)")
            var stem = ChartStyle.slug("diff-\(r.design)-\(r.metric)")
            var i = 2
            while files.contains(where: { $0.path == "\(ReportCharts.folder)/\(stem).svg" }) {
                stem = ChartStyle.slug("diff-\(r.design)-\(r.metric)") + "-\(i)"; i += 1
            }
            files.append(
                ChartFile(
                    kind: .delta, design: r.design, metric: r.metric.csvName, attribute: "*",
                    path: "\(ReportCharts.folder)/\(stem).svg", title: plot.title, svg: plot.render()))
        }
        return files
    }

    /// How the two runs are named in titles: their audit names, or their folder names when
    /// both runs are of the same audit.
    static func runNames(_ a: ReportFolder, _ b: ReportFolder) -> (a: String, b: String) {
        a.data.name == b.data.name ? (a.url.lastPathComponent, b.url.lastPathComponent) : (a.data.name, b.data.name)
    }

    /// The title, in the order of the arguments: run A (the baseline), then run B.
    public static func title(_ a: ReportFolder, _ b: ReportFolder) -> String {
        let names = runNames(a, b)
        return "Run comparison: \(names.a) → \(names.b)"
    }

    public static func markdown(_ rows: [DiffRow], a: ReportFolder, b: ReportFolder, charts: [ChartFile]) -> String {
        var md = MarkdownText()
        md.charts = charts
        md.line("# \(ReportFormat.escape(title(a, b)))")
        md.blank()
        md.line("| | run A | run B |")
        md.line("|---|---|---|")
        md.line("| Report folder | \(ReportFormat.code(a.url.lastPathComponent)) | \(ReportFormat.code(b.url.lastPathComponent)) |")
        md.line("| Audit | \(ReportFormat.escape(a.data.name)) | \(ReportFormat.escape(b.data.name)) |")
        md.line("| Model | \(ReportFormat.code(a.data.modelID)) | \(ReportFormat.code(b.data.modelID)) |")
        md.line(
            "| Weights SHA-256 | \(ReportFormat.code(String(a.data.weightsSHA256.prefix(12)))) | \(ReportFormat.code(String(b.data.weightsSHA256.prefix(12)))) |"
        )
        md.line("| Manifest | \(ReportFormat.code(a.data.manifestName)) | \(ReportFormat.code(b.data.manifestName)) |")
        md.line("| α | \(ReportFormat.formatNumber(a.data.alpha)) | \(ReportFormat.formatNumber(b.data.alpha)) |")
        md.line("| Minimum group size | \(a.data.minGroupSize) | \(b.data.minGroupSize) |")
        md.blank()
        let changes = designChanges(a, b)
        if !changes.isEmpty {
            let compared = Set(rows.filter(\.designChanged).map(\.design))
            md.line("## Designs that differ between the runs")
            md.blank()
            md.line(
                "These designs have the same name in both runs but are not the same design: a change in their figures "
                    + "measures the change of design as much as that of the model or data.")
            md.blank()
            for change in changes {
                let fate = compared.contains(change.design) ? "compared anyway, marked ⚠ below" : "not compared"
                md.line(
                    "- ⚠ **\(ReportFormat.escape(change.design))** (\(fate)): \(ReportFormat.escape(change.differences.joined(separator: "; ")))"
                )
            }
            md.blank()
        }
        let paired = rows.filter { $0.test == .paired }.count
        md.line(
            "Δ = run B − run A for every metric and group both runs report (\(rows.count) rows): \(paired) paired on the same images "
                + "(Newcombe paired interval, exact McNemar test), \(rows.count - paired) unpaired (Newcombe hybrid score interval, pooled z-test); "
                + "p Holm-adjusted within design × metric × attribute, * marks p < \(ReportFormat.formatNumber(alpha(a, b)))"
                + (a.data.alpha == b.data.alpha ? "" : " (the stricter of the two runs' α)") + ". "
                + (a.data.minGroupSize == b.data.minGroupSize
                    ? "† marks groups under \(a.data.minGroupSize) images."
                    : "† marks groups under run A's minimum group size (\(a.data.minGroupSize)) in run A or under run B's (\(b.data.minGroupSize)) in run B.")
        )
        md.blank()
        let headline = rows.filter { $0.metric.isHeadline }
        let changed = headline.filter(\.significant).sorted { abs($0.delta) > abs($1.delta) }
        md.line("## Significant changes")
        md.blank()
        if changed.isEmpty {
            md.line("No accuracy or harm rate changed significantly.")
            md.blank()
        } else {
            table(&md, changed)
        }
        for chart in charts {
            md.line("![\(ReportFormat.escapeAlt(chart.title))](\(chart.path))")
            md.blank()
        }
        md.line("## All accuracy and harm rates")
        md.blank()
        table(&md, headline)
        return md.text
    }

    static func table(_ md: inout MarkdownText, _ rows: [DiffRow]) {
        md.line("| design | metric | attribute | group | run A | run B | Δ (95% CI) | p (Holm) | test |")
        md.line("|---|---|---|---|---:|---:|---|---:|---|")
        for r in rows {
            md.line(
                "| \(ReportFormat.escape(r.design))\(r.designChanged ? " ⚠" : "") | \(ReportFormat.escape(r.metric.csvName)) | \(ReportFormat.wholeOrEscaped(r.attribute)) | \(ReportFormat.wholeOrEscaped(r.group))\(r.belowMinimumN ? " †" : "") "
                    + "| \(ReportFormat.percent(r.valueA)) (n = \(r.nA)) | \(ReportFormat.percent(r.valueB)) (n = \(r.nB)) "
                    + "| \(ReportFormat.signedPoints(r.delta)) [\(ReportFormat.signedPoints(r.ciLow)), \(ReportFormat.signedPoints(r.ciHigh))] "
                    + "| \(ReportFormat.formatP(r.pAdjusted))\(r.significant ? " *" : "") | \(r.test.rawValue) |")
        }
        md.blank()
    }

    /// Writes `diff.csv`, `diff.md`, `diff.html` and the charts into `directory`.
    public static func write(_ rows: [DiffRow], a: ReportFolder, b: ReportFolder, to directory: URL) throws {
        let charts = charts(rows, a: a, b: b)
        let markdown = markdown(rows, a: a, b: b, charts: charts)
        let names = ["diff.csv", "diff.md", "diff.html"]
        // A diff folder from before ledgers: diff.md and diff.csv together, and the charts diff.md shows.
        var folder = try OutputFolder(url: directory, kind: "diff", files: charts.map(\.path) + names) { url in
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("diff.csv").path),
                let md = try? FileKind.contents(of: url.appendingPathComponent("diff.md"), limit: 256 << 20)
            else { return [] }
            return Set(names).union(ReportWriter.chartReferences(in: String(decoding: md, as: UTF8.self)))
        }
        try ReportWriter.writeCharts(charts, to: folder)
        try folder.write(csv(rows), to: "diff.csv")
        try folder.write(markdown, to: "diff.md")
        let body = MarkdownHTML.convert(markdown) { path in charts.first { $0.path == path } }
        try folder.write(HTMLReport.page(title: title(a, b), body: body), to: "diff.html")
        try folder.finish()
    }
}
