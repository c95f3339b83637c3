import Foundation

/// Renders `report.md`: the human report, laid out like the fairness section of the CLIP model
/// card — the findings first (``Findings``), then setup, the flagged disparities, accuracy by group
/// per design, harm rates by group, variant effects, and what was skipped — and `details.md`: the
/// evidence a reader opens only to check something (intersections, predicted-class shares, ratio
/// and rate charts, confusion matrices, every design's disparity list).
public enum MarkdownReport {
    /// The name of the details file beside `report.md`.
    public static let detailsName = "details.md"

    /// The report with its charts made from `report`.
    public static func render(_ report: AuditReport) -> String {
        render(report, charts: ReportCharts.all(report) + MeasurementsReport.charts(report))
    }

    /// The report with the overview chart of `charts` (written beside it by ``ReportWriter``)
    /// embedded; every other chart is in ``renderDetails(_:charts:)``.
    public static func render(_ whole: AuditReport, charts: [ChartFile]) -> String {
        // The mitigations' variants have their own section and findings (MitigationReport).
        let report = whole.withoutMitigationVariants
        let mitigation = whole.mitigations.isEmpty ? nil : whole.mitigationReport
        var md = MarkdownText()
        md.charts = charts
        md.line("# Bias audit: \(ReportFormat.escape(report.name))")
        md.blank()
        if let description = report.description?.trimmingCharacters(in: .whitespacesAndNewlines), !description.isEmpty {
            md.line(MarkdownEscape.paragraph(description))
            md.blank()
        }
        md.line(
            "Zero-shot CLIP predictions over a labelled face manifest, disaggregated by \(report.attributes.map { MarkdownEscape.code($0) }.joined(separator: ", "))"
                + (!report.slices.contains(where: \.isIntersection)
                    ? ""
                    : " and their intersections \(report.slices.filter(\.isIntersection).map { MarkdownEscape.code($0.csvText) }.joined(separator: ", "))")
                + ". The evidence behind each table (intersections, predicted-class shares, charts, confusion matrices, every disparity by design) is in [\(detailsName)](\(detailsName))."
        )
        md.blank()
        var findings = Findings(report)
        findings.lines += mitigation?.findingLines ?? []
        md.text += findings.markdown()
        setup(&md, report)
        summary(&md, report)
        // A variant's own tables are in details.md: report.md shows it against its base.
        for design in report.designs where design.base == nil || design.target != nil {
            designSection(&md, report, design: design, part: .main)
        }
        variants(&md, report)
        if let mitigation { md.text += mitigation.markdown(chart: charts.first { $0.path == MitigationReport.chartPath }) }
        MeasurementsReport.sections(&md, report)
        skipped(&md, report)
        method(&md, report)
        return md.text
    }

    /// `details.md`: per design, the tables and charts report.md leaves out.
    public static func renderDetails(_ whole: AuditReport, charts: [ChartFile]) -> String {
        let report = whole.withoutMitigationVariants
        var md = MarkdownText()
        md.charts = charts
        md.line("# Details: \(ReportFormat.escape(report.name))")
        md.blank()
        md.line("The evidence behind [report.md](report.md): every slice, chart and list the report summarises.")
        md.blank()
        for design in report.designs {
            designSection(&md, report, design: design, part: .details)
        }
        variantCharts(&md, report)
        MeasurementsReport.detailSections(&md, report)
        return md.text
    }

    /// Which file a section is rendered for.
    enum Part { case main, details }

    // MARK: Sections

    static func setup(_ md: inout MarkdownText, _ report: AuditReport) {
        md.line("## Setup")
        md.blank()
        md.line("| | |")
        md.line("|---|---|")
        md.line(
            "| Model | \(ReportFormat.code(report.model.id))\(report.model.revision.map { " (revision \(ReportFormat.code($0)))" } ?? "") |"
        )
        md.line("| Weights SHA-256 | `\(report.model.weightsSHA256)` |")
        md.line(
            "| Manifest | \(ReportFormat.code(report.manifestName)): \(report.counts.manifestRows) rows read, \(report.counts.rowsScored) scored, \(report.skipped.count) skipped |"
        )
        if let dataset = report.dataset {
            md.line("| Dataset | \(ReportFormat.code(dataset.id))\(dataset.split.map { ", split \(ReportFormat.code($0))" } ?? "") |")
        }
        // What the cache held is provenance (run.json), not a result: a resumed or sharded run's
        // report.md must be byte-identical to an uninterrupted single-process run's.
        md.line("| Images | \(report.counts.uniqueImages) distinct |")
        md.line("| Prompts | \(report.counts.prompts) distinct |")
        md.line("| Reference groups | \(ReportFormat.escape(references(report).joined(separator: "; "))) |")
        for note in report.notes { md.line("| Note | \(ReportFormat.escape(note)) |") }
        md.line("| Significance | two-sided pooled z-test, Holm-adjusted, α = \(ReportFormat.formatNumber(report.alpha)) |")
        md.line(
            "| Four-fifths flag | ratio outside [0.8, 1.25], both sides ≥ \(report.minGroupSize) images, and \\|difference\\| ≥ \(ReportFormat.formatNumber(report.minDifference * 100)) pp |"
        )
        md.line("| Minimum group size | \(report.minGroupSize) (smaller groups are reported and marked †) |")
        md.blank()
        md.line("| Design | Target | Classes | Prompts per class | Harm categories | Extends |")
        md.line("|---|---|---|---|---|---|")
        for d in report.designs {
            let templates = d.templates.map { ReportFormat.code($0) }.joined(separator: ", ")
            let harms = d.harmCategories.map { "\($0.name): \($0.classes.joined(separator: ", "))" }.joined(separator: "; ")
            md.line(
                "| \(ReportFormat.escape(d.name)) | \(d.target.map(ReportFormat.escape) ?? "—") | \(ReportFormat.escape(d.classNames.joined(separator: ", "))) | \(templates) × phrases | \(ReportFormat.escape(harms.isEmpty ? "—" : harms)) | \(d.base.map(ReportFormat.escape) ?? "—") |"
            )
        }
        md.blank()
    }

    /// Every attribute's and intersection's reference group as the disparities used it
    /// (`race: White`, `race|gender: White|Male`); the configured one where no disparity was computed.
    static func references(_ report: AuditReport) -> [String] {
        return report.slices.map { slice in
            let group = report.disparities.first { $0.attribute == slice }?.reference ?? report.referenceGroups[slice.csvText] ?? "—"
            return "\(slice.csvText): \(group)"
        }
    }

    static func summary(_ md: inout MarkdownText, _ report: AuditReport) {
        md.line("## Flagged disparities")
        md.blank()
        // Significant differences, and four-fifths violations that are large and sized enough to
        // read (small groups keep their † in the design tables below).
        let all = report.disparities.filter { $0.metric.isHeadline && $0.isFlagged }
        // A variant's row that repeats its base's (no image changed there) says nothing new.
        let bases = Dictionary(report.designs.compactMap { d in d.base.map { (d.name, $0) } }, uniquingKeysWith: { a, _ in a })
        let headline = all.filter { d in
            guard let base = bases[d.design] else { return true }
            return !all.contains {
                $0.design == base && $0.metric == d.metric && $0.attribute == d.attribute && $0.group == d.group
                    && $0.count == d.count && $0.n == d.n && $0.referenceCount == d.referenceCount && $0.referenceN == d.referenceN
            }
        }
        if headline.isEmpty {
            md.line(
                "No group differs significantly from its reference group (Holm-adjusted p < \(ReportFormat.formatNumber(report.alpha))) "
                    + "and none falls outside the four-fifths band on accuracy or a harm rate by \(ReportFormat.formatNumber(report.minDifference * 100)) pp or more."
            )
            md.blank()
            return
        }
        let worse = headline.filter { $0.fairesWorse == true }.count
        let holm = headline.filter { $0.flagRule == .holm }.count
        let everyMetric = report.disparities.filter(\.isFlagged).count
        md.line(
            "\(headline.count) flagged row\(headline.count == 1 ? "" : "s") of accuracy and harm rates\(all.count > headline.count ? " (besides \(all.count - headline.count) in variants that repeat their base's exactly)" : ""): "
                + "\(holm) significant (Holm), \(headline.count - holm) four-fifths only; \(worse) where the group fares worse than its reference (\(Findings.worse): higher harm rate or lower accuracy), "
                + "\(headline.count - worse) where it fares better (\(Findings.better)). `disparities.csv` has \(report.disparities.count) rows over every metric, \(everyMetric) of them flagged (prediction rates, recall and false-positive rates included). "
                + "Significant (Holm): Holm-adjusted p < \(ReportFormat.formatNumber(report.alpha)); four-fifths only: not significant, but a ratio outside [0.8, 1.25] with at least \(report.minGroupSize) images on both sides "
                + "and a difference of at least \(ReportFormat.formatNumber(report.minDifference * 100)) pp. Worse first, then by size of the difference."
        )
        md.blank()
        embedCharts(&md, design: nil, metric: nil, attribute: .all, kinds: [.overview])
        let sorted = headline.sorted { a, b in
            let (wa, wb) = (a.fairesWorse == true, b.fairesWorse == true)
            return wa != wb ? wa : abs(a.difference) > abs(b.difference)
        }
        disparityTable(&md, sorted.prefix(12), showDesign: true)
        if headline.count > 12 {
            md.line("… and \(headline.count - 12) more, by design, in [\(detailsName)](\(detailsName)) and `disparities.csv`."); md.blank()
        }
    }

    static func designSection(_ md: inout MarkdownText, _ report: AuditReport, design: AuditReport.Design, part: Part) {
        let rows = report.metrics.filter { $0.design == design.name }
        md.line("## Design \(MarkdownEscape.code(design.name))")
        md.blank()
        // report.md: the model card's tables, by attribute; details.md: the intersections, and
        // the charts of every table.
        let slices = part == .main ? report.slices.filter { !$0.isIntersection } : report.slices
        let chartKinds: [ChartFile.Kind] = part == .main ? [] : [.rate, .ratio]

        if design.target != nil {
            let overall = rows.first { $0.metric == .accuracy && $0.attribute == .all }
            md.line("### Accuracy by group")
            md.blank()
            if part == .main {
                if let overall { md.line("Overall accuracy: **\(ReportFormat.percentWithCI(overall))** (n = \(overall.n))."); md.blank() }
                publishedNote(&md, design: design, metric: .accuracy, attribute: .all, rows: rows)
            }
            for attribute in slices {
                metricByGroup(&md, report, design: design, metric: .accuracy, attribute: attribute, title: "accuracy", charts: chartKinds)
            }
            gapTable(&md, report, design: design, slices: slices, compact: part == .main)
            if part == .details { confusion(&md, report, design: design) }
        }
        let harmMetrics =
            design.harmCategories.map { Metric.harmRate($0.name) }
            + (design.harmCategories.count > 1 ? [Metric.anyHarm] : [])
        // A variant's harm rates by group are in its comparison with its base (report.md) and here in details.
        if !harmMetrics.isEmpty && (part == .details || design.base == nil) {
            md.line("### Harm rates by group")
            md.blank()
            md.line(
                "Share of faces whose top prediction falls in each harm category"
                    + (design.harmCategories.count > 1 ? " (`any`: in any of them)" : "")
                    + "; \(Findings.worse) / \(Findings.better) mark groups flagged against their reference.")
            md.blank()
            for attribute in (part == .main ? [.all] : []) + slices {
                harmTable(&md, report, design: design, metrics: harmMetrics, attribute: attribute, charts: chartKinds)
            }
            if part == .main {
                // Published figures over a slice report.md has no table for (an intersection, or a
                // group it does not show) keep their own table.
                for metric in harmMetrics {
                    publishedComparisons(&md, design: design, metric: metric, rows: rows, skipping: [.all] + slices)
                }
            }
        } else if !harmMetrics.isEmpty, let base = design.base {
            md.line(
                "A variant of \(MarkdownEscape.code(base)): its harm rates by group are under Variant comparisons, beside the base's, and in [\(detailsName)](\(detailsName))."
            )
            md.blank()
            for metric in harmMetrics { publishedComparisons(&md, design: design, metric: metric, rows: rows) }
        }
        guard part == .details else { return }
        if design.target == nil {
            predictionRates(&md, report, design: design)
        }
        let disparities = report.disparities.filter {
            $0.design == design.name && ($0.significant || ($0.fourFifthsViolation && $0.metric.isHeadline))
        }
        md.line("### Disparities against the reference group")
        md.blank()
        if disparities.isEmpty {
            md.line(
                "None significant at α = \(ReportFormat.formatNumber(report.alpha)) after Holm adjustment, and no accuracy or harm rate flagged by the four-fifths rule."
            )
            md.blank()
        } else {
            disparityTable(
                &md, disparities.sorted { ($0.metric, -abs($0.difference)) < ($1.metric, -abs($1.difference)) }, showDesign: false)
        }
    }

    static func metricByGroup(
        _ md: inout MarkdownText, _ report: AuditReport, design: AuditReport.Design, metric: Metric, attribute: Slice, title: String,
        charts: [ChartFile.Kind]
    ) {
        let rows = report.metrics.filter { $0.design == design.name && $0.metric == metric && $0.attribute == attribute }
        guard !rows.isEmpty else { return }
        let published = design.published.filter { $0.metric == metric && $0.attribute == attribute }
        let disparities = report.disparities.filter { $0.design == design.name && $0.metric == metric && $0.attribute == attribute }
        md.line("**By \(ReportFormat.escape(ChartStyle.attributeTitle(attribute)))**")
        md.blank()
        var header = "| \(ReportFormat.escape(attribute)) | n | \(title) (95% CI) | vs reference | p (Holm) |"
        var rule = "|---|---:|---|---|---:|"
        for (i, _) in published.enumerated() { header += " published\(published.count > 1 ? " [\(i + 1)]" : "") |"; rule += "---:|" }
        md.line(header)
        md.line(rule)
        for row in rows {
            var line =
                "| \(ReportFormat.escape(row.group))\(row.belowMinimumN ? " †" : "") | \(row.n) | \(ReportFormat.percentWithCI(row)) | "
            if let d = disparities.first(where: { $0.group == row.group }) {
                line +=
                    "\(ReportFormat.signedPoints(d.difference))\(directionMark(d)) | \(ReportFormat.formatP(d.pAdjusted))\(d.significant ? " *" : "") |"
            } else {
                line += "reference | |"
            }
            for figure in published { line += " \(figure.value(for: row.group).map(ReportFormat.percent) ?? "") |" }
            md.line(line)
        }
        md.blank()
        // One list item per source: notes on consecutive plain lines would render as one paragraph.
        for (i, figure) in published.enumerated() {
            md.line(
                "\(published.count > 1 ? "- [\(i + 1)] " : "")Published: \(ReportFormat.escape(figure.source)). Context, not an expected value."
            )
        }
        if !published.isEmpty { md.blank() }
        embedCharts(&md, design: design.name, metric: metric.csvName, attribute: attribute, kinds: charts)
    }

    /// ` ▲ worse, significant (Holm)` / ` ▼ better, four-fifths only` after a flagged difference:
    /// words, so colour is never the only carrier, and the rule, so a four-fifths-only flag beside
    /// a large p is not read as a significant one.
    static func directionMark(_ d: DisparityRow) -> String {
        guard let rule = d.flagRule else { return "" }
        guard d.fairesWorse != nil else { return " ⚑ \(rule.label)" }
        return " " + Findings.flagWords(d)
    }

    /// Embeds the charts of one table, in the order of `kinds`.
    static func embedCharts(_ md: inout MarkdownText, design: String?, metric: String?, attribute: Slice, kinds: [ChartFile.Kind]) {
        for kind in kinds {
            for chart in md.charts
            where chart.kind == kind && chart.design == design && chart.metric == metric && chart.attribute == attribute {
                md.line("![\(ReportFormat.escapeAlt(chart.title))](\(chart.path))")
                md.blank()
            }
        }
    }

    static func harmTable(
        _ md: inout MarkdownText, _ report: AuditReport, design: AuditReport.Design, metrics: [Metric], attribute: Slice,
        charts: [ChartFile.Kind]
    ) {
        let rows = report.metrics.filter { $0.design == design.name && $0.attribute == attribute && metrics.contains($0.metric) }
        guard !rows.isEmpty else { return }
        var groups: [String] = []
        for r in rows where !groups.contains(r.group) { groups.append(r.group) }
        // Published figures over this slice, each a column after the measured one it matches.
        let published = metrics.map { metric in design.published.filter { $0.metric == metric && $0.attribute == attribute } }
        md.line(attribute == .all ? "**All images**" : "**By \(ReportFormat.escape(ChartStyle.attributeTitle(attribute)))**")
        md.blank()
        var header = "| \(attribute == .all ? "set" : ReportFormat.escape(attribute)) | n |"
        var rule = "|---|---:|"
        for (metric, figures) in zip(metrics, published) {
            header += " " + ReportFormat.escape((metric.harmCategory ?? "")) + " (95% CI) |"
            rule += "---|"
            for (i, _) in figures.enumerated() { header += " published\(figures.count > 1 ? " [\(i + 1)]" : "") |"; rule += "---:|" }
        }
        md.line(header)
        md.line(rule)
        for group in groups {
            let cells = zip(metrics, published).flatMap { metric, figures -> [String] in
                guard let r = rows.first(where: { $0.metric == metric && $0.group == group }) else { return [""] + figures.map { _ in "" } }
                let flag = report.disparities.first {
                    $0.design == design.name && $0.metric == metric && $0.attribute == attribute && $0.group == group
                }
                return [ReportFormat.percentWithCI(r) + (flag.map(directionMark) ?? "")]
                    + figures.map { $0.value(for: group).map(ReportFormat.percent) ?? "" }
            }
            let n = rows.first { $0.group == group }
            md.line(
                "| \(attribute == .all ? "all" : ReportFormat.escape(group))\((n?.belowMinimumN ?? false) ? " †" : "") | \(n?.n ?? 0) | "
                    + cells.joined(separator: " | ") + " |")
        }
        md.blank()
        var sources: [String] = []
        for figures in published { for figure in figures where !sources.contains(figure.source) { sources.append(figure.source) } }
        if !sources.isEmpty {
            md.line("Published: " + sources.map(ReportFormat.escape).joined(separator: "; ") + ". Context, not expected values.")
            md.blank()
        }
        for metric in metrics {
            embedCharts(&md, design: design.name, metric: metric.csvName, attribute: attribute, kinds: charts)
        }
    }

    static func publishedComparisons(
        _ md: inout MarkdownText, design: AuditReport.Design, metric: Metric, rows: [MetricRow],
        skipping shown: [Slice] = []
    ) {
        for figure in design.published where figure.metric == metric && !shown.contains(figure.attribute) {
            md.line(
                "**Published beside measured: \(ReportFormat.escape(metric.csvName)), by \(ReportFormat.escape(figure.attribute.csvText))** — \(ReportFormat.escape(figure.source)). Context, not an expected value."
            )
            md.blank()
            md.line("| \(ReportFormat.escape(figure.attribute.csvText)) | published | measured (95% CI) | n |")
            md.line("|---|---:|---|---:|")
            for (group, value) in figure.values {
                let measured = rows.first { $0.metric == metric && $0.attribute == figure.attribute && $0.group == group }
                md.line(
                    "| \(ReportFormat.escape(group)) | \(ReportFormat.percent(value)) | \(measured.map(ReportFormat.percentWithCI) ?? "not measured") | \(measured.map { String($0.n) } ?? "") |"
                )
            }
            md.blank()
        }
    }

    static func publishedNote(_ md: inout MarkdownText, design: AuditReport.Design, metric: Metric, attribute: Slice, rows: [MetricRow]) {
        for figure in design.published where figure.metric == metric && figure.attribute == attribute {
            let measured = rows.first { $0.metric == metric && $0.attribute == .all }
            if let value = figure.value(for: Slice.allText) {
                md.line(
                    "Published: \(ReportFormat.percent(value)) — \(ReportFormat.escape(figure.source)); measured here: \(measured.map(ReportFormat.percentWithCI) ?? "—"). Context, not an expected value."
                )
                md.blank()
            }
        }
    }

    static func confusion(_ md: inout MarkdownText, _ report: AuditReport, design: AuditReport.Design) {
        guard let whole = report.confusions.first(where: { $0.design == design.name && $0.attribute == .all }) else { return }
        md.line("**Confusion matrix** (rows: true class, columns: predicted; all images)")
        md.blank()
        md.line("| true \\ predicted | " + whole.labels.map(ReportFormat.escape).joined(separator: " | ") + " | recall |")
        md.line("|---|" + String(repeating: "---:|", count: whole.labels.count + 1))
        for (i, label) in whole.labels.enumerated() {
            md.line(
                "| \(ReportFormat.escape(label)) | " + whole.counts[i].map(String.init).joined(separator: " | ")
                    + " | \(whole.recall[i].map(ReportFormat.percent) ?? "—") |")
        }
        md.blank()
        // Per-class recall by group, one table per attribute.
        for attribute in report.slices where !attribute.isIntersection {
            let tables = report.confusions.filter { $0.design == design.name && $0.attribute == attribute }
            guard !tables.isEmpty else { continue }
            md.line("**Per-class recall by \(ReportFormat.escape(attribute))**")
            md.blank()
            md.line("| \(ReportFormat.escape(attribute)) | n | " + whole.labels.map(ReportFormat.escape).joined(separator: " | ") + " |")
            md.line("|---|---:|" + String(repeating: "---:|", count: whole.labels.count))
            for t in tables {
                let cells = whole.labels.map { label -> String in
                    guard let i = t.labels.firstIndex(of: label) else { return "—" }
                    return t.recall[i].map(ReportFormat.percent) ?? "—"
                }
                md.line("| \(ReportFormat.escape(t.group)) | \(t.n) | " + cells.joined(separator: " | ") + " |")
            }
            md.blank()
        }
    }

    static func predictionRates(_ md: inout MarkdownText, _ report: AuditReport, design: AuditReport.Design) {
        for attribute in report.slices where !attribute.isIntersection {
            let rows = report.metrics.filter { $0.design == design.name && $0.attribute == attribute && $0.metric.isPredictionRate }
            guard !rows.isEmpty else { continue }
            var groups: [String] = []
            for r in rows where !groups.contains(r.group) { groups.append(r.group) }
            md.line("**Predicted class by \(ReportFormat.escape(attribute))** (share of each group's images)")
            md.blank()
            md.line("| class | " + groups.map(ReportFormat.escape).joined(separator: " | ") + " |")
            md.line("|---|" + String(repeating: "---:|", count: groups.count))
            for cls in design.classNames {
                let cells = groups.map { g in
                    rows.first { $0.metric == .predictionRate(cls) && $0.group == g }.map { ReportFormat.percent($0.value) } ?? ""
                }
                md.line("| \(ReportFormat.escape(cls)) | " + cells.joined(separator: " | ") + " |")
            }
            md.blank()
        }
    }

    static func variants(_ md: inout MarkdownText, _ report: AuditReport) {
        let variants = report.designs.filter { $0.base != nil }
        guard !variants.isEmpty else { return }
        md.line("## Variant comparisons")
        md.blank()
        md.line(
            "Each variant against its base on the same images: Δ = variant − base, with a 95% paired (Newcombe) interval and an exact McNemar test on the images whose outcome changed, Holm-adjusted within variant × metric × attribute (comparison.csv keeps the unadjusted p); * marks p < \(ReportFormat.formatNumber(report.alpha)). Groups where no image changed are listed on one line."
        )
        md.blank()
        for variant in variants {
            let rows = report.comparisons.filter { $0.design == variant.name && $0.metric.isHeadline }
            md.line("### \(MarkdownEscape.code(variant.name)) vs \(MarkdownEscape.code(variant.base!))")
            md.blank()
            guard !rows.isEmpty else { md.line("No shared accuracy or harm metric to compare."); md.blank(); continue }
            let shown = rows.filter { !$0.attribute.isIntersection }
            let changed = shown.filter { $0.baseOnly + $0.variantOnly > 0 }
            if changed.isEmpty {
                md.line("No image changed its accuracy or harm outcome (n = \(rows.first { $0.attribute == .all }?.n ?? rows[0].n)).")
                md.blank()
                for metric in Set(rows.map(\.metric)).sorted() {
                    publishedComparisons(
                        &md, design: variant, metric: metric, rows: report.metrics.filter { $0.design == variant.name })
                }
                continue
            }
            // Published figures for the base and the variant over the same rows (the paper's Table 7:
            // without and with `child`), as a column.
            let base = report.design(named: variant.base!)
            func published(_ r: ComparisonRow) -> String? {
                let a = base?.published.first { $0.metric == r.metric && $0.attribute == r.attribute }?.value(for: r.group)
                let b = variant.published.first { $0.metric == r.metric && $0.attribute == r.attribute }?.value(for: r.group)
                guard b != nil else { return nil }
                return "\(a.map(ReportFormat.percent) ?? "—") → \(b.map(ReportFormat.percent) ?? "—")"
            }
            // The main metric (any harm, else the first harm rate, else accuracy) in every group that
            // changed; the others over all images and where the change is significant. The rest is in details.md.
            let metricNames = rows.map(\.metric)
            let main = metricNames.first { $0 == .anyHarm } ?? metricNames.first { $0.isHarm } ?? metricNames[0]
            let listed = changed.filter { $0.metric == main || $0.attribute == .all || $0.pAdjusted < report.alpha }
            let withPublished = listed.contains { published($0) != nil }
            md.line(
                "| metric | attribute | group | n | base | variant | Δ (95% CI) | McNemar p (Holm) |"
                    + (withPublished ? " published: base → variant |" : ""))
            md.line("|---|---|---|---:|---:|---:|---|---:|" + (withPublished ? "---:|" : ""))
            for r in listed {
                md.line(
                    "| \(ReportFormat.escape(r.metric.csvName)) | \(ReportFormat.wholeOrEscaped(r.attribute.csvText)) | \(ReportFormat.wholeOrEscaped(r.group))\(r.belowMinimumN ? " †" : "") | \(r.n) | \(ReportFormat.percent(r.baseValue)) | \(ReportFormat.percent(r.value)) | \(ReportFormat.signedPoints(r.delta)) [\(ReportFormat.signedPoints(r.ciLow)), \(ReportFormat.signedPoints(r.ciHigh))] | \(ReportFormat.formatP(r.pAdjusted))\(r.pAdjusted < report.alpha ? " *" : "") |"
                        + (withPublished ? " \(published(r) ?? "") |" : ""))
            }
            md.blank()
            if withPublished {
                var sources: [String] = []
                for figure in (base?.published ?? []) + variant.published
                where listed.contains(where: { $0.metric == figure.metric && $0.attribute == figure.attribute }) {
                    if !sources.contains(figure.source) { sources.append(figure.source) }
                }
                md.line("Published: " + sources.map(ReportFormat.escape).joined(separator: "; ") + ". Context, not expected values.")
                md.blank()
            }
            if listed.count < changed.count {
                md.line(
                    "\(changed.count - listed.count) more changed group(s) without a significant change, on other metrics: in [\(detailsName)](\(detailsName))."
                )
                md.blank()
            }
            // The unchanged rows on one line: a reader sees they were measured, not their zeros.
            var metrics: [Metric] = []
            for r in shown where !metrics.contains(r.metric) { metrics.append(r.metric) }
            var unchanged: [String] = []
            for metric in metrics {
                let same = shown.filter { $0.metric == metric && $0.baseOnly + $0.variantOnly == 0 }
                guard !same.isEmpty else { continue }
                if same.count == shown.filter({ $0.metric == metric }).count {
                    unchanged.append("\(ReportFormat.escape(metric.csvName)) in every group")
                } else {
                    unchanged.append(
                        "\(ReportFormat.escape(metric.csvName)) in "
                            + same.map {
                                $0.attribute == .all
                                    ? "all images" : "\(ReportFormat.escape($0.group)) (\(ReportFormat.escape($0.attribute.csvText)))"
                            }.joined(
                                separator: ", "))
                }
            }
            if !unchanged.isEmpty {
                md.line("No image changed for " + unchanged.joined(separator: "; ") + ".")
                md.blank()
            }
        }
    }

    /// The variants' every changed group, intersections included, and their delta charts (details.md).
    static func variantCharts(_ md: inout MarkdownText, _ report: AuditReport) {
        let variants = report.designs.filter { $0.base != nil }
        guard !variants.isEmpty else { return }
        md.line("## Variant comparisons, every group")
        md.blank()
        for variant in variants {
            md.line("### \(MarkdownEscape.code(variant.name)) vs \(MarkdownEscape.code(variant.base!))")
            md.blank()
            let rows = report.comparisons.filter { $0.design == variant.name && $0.metric.isHeadline }
            let changed = rows.filter { $0.baseOnly + $0.variantOnly > 0 }
            if changed.isEmpty {
                md.line("No image changed its accuracy or harm outcome.")
                md.blank()
            } else {
                md.line("| metric | attribute | group | n | base | variant | Δ (95% CI) | McNemar p (Holm) |")
                md.line("|---|---|---|---:|---:|---:|---|---:|")
                for r in changed {
                    md.line(
                        "| \(ReportFormat.escape(r.metric.csvName)) | \(ReportFormat.wholeOrEscaped(r.attribute.csvText)) | \(ReportFormat.wholeOrEscaped(r.group))\(r.belowMinimumN ? " †" : "") | \(r.n) | \(ReportFormat.percent(r.baseValue)) | \(ReportFormat.percent(r.value)) | \(ReportFormat.signedPoints(r.delta)) [\(ReportFormat.signedPoints(r.ciLow)), \(ReportFormat.signedPoints(r.ciHigh))] | \(ReportFormat.formatP(r.pAdjusted))\(r.pAdjusted < report.alpha ? " *" : "") |"
                    )
                }
                md.blank()
            }
            var metrics: [Metric] = []
            for r in rows where !metrics.contains(r.metric) { metrics.append(r.metric) }
            for metric in metrics {
                for attribute in report.slices {
                    embedCharts(&md, design: variant.name, metric: metric.csvName, attribute: attribute, kinds: [.delta])
                }
            }
        }
    }

    static func skipped(_ md: inout MarkdownText, _ report: AuditReport) {
        md.line("## Skipped rows")
        md.blank()
        guard !report.skipped.isEmpty else { md.line("None: every manifest row was scored."); md.blank(); return }
        md.line("\(report.skipped.count) row(s) were left out; every other row was scored.")
        md.blank()
        md.line("| reason | rows |")
        md.line("|---|---:|")
        for item in report.skippedByReason { md.line("| \(ReportFormat.escape(item.kind)) | \(item.count) |") }
        md.blank()
        md.line("| line | file | reason |")
        md.line("|---:|---|---|")
        for s in report.skipped.prefix(50) {
            md.line("| \(s.line.map(String.init) ?? "") | \(ReportFormat.escape(s.file ?? "")) | \(ReportFormat.escape(s.reason)) |")
        }
        if report.skipped.count > 50 { md.line("| | … | \(report.skipped.count - 50) more in `run.json` |") }
        md.blank()
    }

    static func method(_ md: inout MarkdownText, _ report: AuditReport) {
        md.line("## Method")
        md.blank()
        md.line(
            "- Scoring: each class's text embedding is the normalised mean of the normalised embeddings of every template × phrase; logits are exp(logit_scale) × cosine; the prediction is the arg-max (ties: the class listed first)."
        )
        md.line("- Intervals: 95% Wilson score intervals for rates; Newcombe's hybrid score interval for differences.")
        md.line(
            "- Disparities: each group against its attribute's reference group with a two-sided pooled two-proportion z-test, Holm-adjusted within design × metric × attribute; * marks p_adjusted < α."
        )
        md.line(
            "- Variant comparisons: each variant against its base on the same images, exact McNemar test on the discordant pairs, Holm-adjusted within variant × metric × attribute in this report; comparison.csv's p_value is unadjusted."
        )
        md.line(
            "- \(Findings.worse) / \(Findings.better) mark a flagged group and whether it fares worse (higher harm rate, lower accuracy) or better than its reference, and every flag names its rule: significant (Holm), or four-fifths only (not significant, but a ratio outside [0.8, 1.25] (the four-fifths rule, both ways) with at least \(report.minGroupSize) images on both sides and a difference of at least \(ReportFormat.formatNumber(report.minDifference * 100)) pp; against a reference rate of 0 there is no ratio). ⚑ marks a flagged prediction rate, which has no better side."
        )
        md.line("- † marks groups smaller than \(report.minGroupSize) images: reported, not dropped, but read with care.")
        md.line(
            "- Published figures are context from the CLIP paper and model card; they were measured with other backbones, prompts or probes, and are not expected values for this model."
        )
        md.blank()
    }

    static func disparityTable<S: Sequence>(_ md: inout MarkdownText, _ rows: S, showDesign: Bool) where S.Element == DisparityRow {
        md.line(
            (showDesign ? "| design " : "")
                + "| metric | attribute | group | reference | value | reference value | difference (95% CI) | ratio | p (Holm) | fares | flags |"
        )
        md.line((showDesign ? "|---" : "") + "|---|---|---|---|---:|---:|---|---:|---:|---|---|")
        for d in rows {
            var flags: [String] = []
            if let rule = d.flagRule { flags.append(rule.label) }
            if d.significant && d.fourFifthsViolation { flags.append("four-fifths too") }
            if d.belowMinimumN { flags.append("small n") }
            let fares = d.fairesWorse.map { $0 ? Findings.worse : Findings.better } ?? "—"
            md.line(
                (showDesign ? "| \(ReportFormat.escape(d.design)) " : "")
                    + "| \(ReportFormat.escape(d.metric.csvName)) | \(ReportFormat.escape(d.attribute.csvText)) | \(ReportFormat.escape(d.group)) | \(ReportFormat.escape(d.reference)) | \(ReportFormat.percent(d.value)) (n = \(d.n)) | \(ReportFormat.percent(d.referenceValue)) (n = \(d.referenceN)) | \(ReportFormat.signedPoints(d.difference)) [\(ReportFormat.signedPoints(d.differenceCILow)), \(ReportFormat.signedPoints(d.differenceCIHigh))] | \(d.ratio.map { String(format: "%.2f", $0) } ?? "— (reference 0%)") | \(ReportFormat.formatP(d.pAdjusted)) | \(fares) | \(flags.joined(separator: ", ")) |"
            )
        }
        md.blank()
    }

}
