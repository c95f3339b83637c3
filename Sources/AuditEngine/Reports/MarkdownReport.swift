import Foundation

/// Renders `report.md`: the human report, laid out like the fairness section of the CLIP model
/// card — setup, accuracy by group per design, harm rates by group, the disparities that matter,
/// variant effects, and what was skipped.
public enum MarkdownReport {
    public static func render(_ run: AuditRun) -> String {
        render(run, charts: ReportCharts.all(ReportData(run: run)) + MeasurementsReport.charts(run))
    }

    /// The report with `charts` (written beside it by ``ReportWriter``) embedded as images
    /// under the tables they draw.
    public static func render(_ run: AuditRun, charts: [ChartFile]) -> String {
        var md = MarkdownText()
        md.charts = charts
        let config = run.config
        md.line("# Bias audit: \(escape(config.name))")
        md.blank()
        if let description = config.description?.trimmingCharacters(in: .whitespacesAndNewlines), !description.isEmpty {
            md.line(MarkdownEscape.paragraph(description))
            md.blank()
        }
        md.line("Zero-shot CLIP predictions over a labelled face manifest, disaggregated by \(config.attributes.map { MarkdownEscape.code($0) }.joined(separator: ", "))"
                + (config.intersections.isEmpty ? "" : " and their intersections \(config.intersections.map { MarkdownEscape.code($0.joined(separator: "|")) }.joined(separator: ", "))") + ".")
        md.blank()

        setup(&md, run)
        summary(&md, run)
        for design in config.designs {
            designSection(&md, run, design: design)
        }
        variants(&md, run)
        MeasurementsReport.sections(&md, run)
        skipped(&md, run)
        method(&md, run)
        return md.text
    }

    // MARK: Sections

    static func setup(_ md: inout MarkdownText, _ run: AuditRun) {
        let config = run.config
        md.line("## Setup")
        md.blank()
        md.line("| | |")
        md.line("|---|---|")
        md.line("| Model | \(code(run.model.id))\(run.model.revision.map { " (revision \(code($0)))" } ?? "") |")
        md.line("| Weights SHA-256 | `\(run.modelFingerprint.split(separator: ":").first ?? "")` |")
        md.line("| Manifest | \(code(config.manifest.path.lastPathComponent)): \(run.manifestRows) rows read, \(run.usableRows) scored, \(run.skipped.count) skipped |")
        // What the cache held is provenance (run.json), not a result: a resumed or sharded run's
        // report.md must be byte-identical to an uninterrupted single-process run's.
        md.line("| Images | \(run.uniqueImages) distinct |")
        md.line("| Prompts | \(run.promptsTotal) distinct |")
        let references = config.attributes.map { attribute -> String in
            let group = run.metrics.disparities.first { $0.attribute == attribute }?.reference ?? config.referenceGroups[attribute] ?? "—"
            return "\(attribute): \(group)"
        }
        md.line("| Reference groups | \(escape(references.joined(separator: "; "))) |")
        for note in run.notes { md.line("| Note | \(escape(note)) |") }
        md.line("| Significance | two-sided pooled z-test, Holm-adjusted, α = \(formatNumber(config.alpha)) |")
        md.line("| Minimum group size | \(config.minGroupSize) (smaller groups are reported and marked †) |")
        md.blank()
        md.line("| Design | Target | Classes | Prompts per class | Harm categories | Extends |")
        md.line("|---|---|---|---|---|---|")
        for d in config.designs {
            let templates = d.templates.map { code($0) }.joined(separator: ", ")
            let harms = d.harmCategories.map { "\($0.name): \($0.classes.joined(separator: ", "))" }.joined(separator: "; ")
            md.line("| \(escape(d.name)) | \(d.target.map(escape) ?? "—") | \(escape(d.classNames.joined(separator: ", "))) | \(templates) × phrases | \(escape(harms.isEmpty ? "—" : harms)) | \(d.base.map(escape) ?? "—") |")
        }
        md.blank()
    }

    static func summary(_ md: inout MarkdownText, _ run: AuditRun) {
        md.line("## Disparities that matter")
        md.blank()
        // Significant differences, and four-fifths violations on groups large enough to read
        // (small groups keep their ⚠ in the design tables below).
        let headline = run.metrics.disparities.filter {
            isHeadline($0.metric) && ($0.significant || ($0.fourFifthsViolation && !$0.belowMinimumN))
        }
        if headline.isEmpty {
            md.line("No group differs significantly from its reference group (Holm-adjusted p < \(formatNumber(run.config.alpha))) "
                    + "and none falls outside the four-fifths band on accuracy or a harm rate.")
            md.blank()
            return
        }
        md.line("Groups whose accuracy or harm rate differs from the reference group's significantly (Holm-adjusted), "
                + "or whose ratio to it is outside the four-fifths band [0.8, 1.25] with at least \(run.config.minGroupSize) images on both sides; largest differences first.")
        md.blank()
        embedCharts(&md, design: "*", metric: "*", attribute: "*", kinds: [.overview])
        disparityTable(&md, headline.sorted { abs($0.difference) > abs($1.difference) }.prefix(25), showDesign: true)
        if headline.count > 25 { md.line("… and \(headline.count - 25) more in `disparities.csv`."); md.blank() }
    }

    static func designSection(_ md: inout MarkdownText, _ run: AuditRun, design: DesignSpec) {
        let config = run.config
        let rows = run.metrics.metrics.filter { $0.design == design.name }
        md.line("## Design \(MarkdownEscape.code(design.name))")
        md.blank()
        var slices = config.attributes
        slices += config.intersections.map { $0.joined(separator: "|") }

        if design.target != nil {
            let overall = rows.first { $0.metric == "accuracy" && $0.attribute == "*" }
            md.line("### Accuracy by group")
            md.blank()
            if let overall { md.line("Overall accuracy: **\(percentWithCI(overall))** (n = \(overall.n)).") ; md.blank() }
            publishedNote(&md, design: design, metric: "accuracy", attribute: "*", rows: rows)
            for attribute in slices {
                metricByGroup(&md, run, design: design, metric: "accuracy", attribute: attribute, title: "accuracy")
            }
            confusion(&md, run, design: design)
        }
        let harmMetrics = (design.harmCategories.map { "harm_rate:\($0.name)" }
                           + (design.harmCategories.count > 1 ? ["harm_rate:\(anyHarmCategory)"] : []))
        if !harmMetrics.isEmpty {
            md.line("### Harm rates by group")
            md.blank()
            md.line("Share of faces whose top prediction falls in each harm category"
                    + (design.harmCategories.count > 1 ? " (`any`: in any of them)" : "") + ".")
            md.blank()
            for attribute in ["*"] + slices {
                harmTable(&md, run, design: design, metrics: harmMetrics, attribute: attribute)
            }
            for metric in harmMetrics { publishedComparisons(&md, design: design, metric: metric, rows: rows) }
        }
        if design.target == nil {
            predictionRates(&md, run, design: design)
        }
        let disparities = run.metrics.disparities.filter {
            $0.design == design.name && ($0.significant || ($0.fourFifthsViolation && isHeadline($0.metric)))
        }
        md.line("### Disparities against the reference group")
        md.blank()
        if disparities.isEmpty {
            md.line("None significant at α = \(formatNumber(config.alpha)) after Holm adjustment, and no accuracy or harm rate outside the four-fifths band.")
            md.blank()
        } else {
            disparityTable(&md, disparities.sorted { ($0.metric, -abs($0.difference)) < ($1.metric, -abs($1.difference)) }.prefix(40), showDesign: false)
            if disparities.count > 40 { md.line("… and \(disparities.count - 40) more in `disparities.csv`."); md.blank() }
        }
    }

    static func metricByGroup(_ md: inout MarkdownText, _ run: AuditRun, design: DesignSpec, metric: String, attribute: String, title: String) {
        let rows = run.metrics.metrics.filter { $0.design == design.name && $0.metric == metric && $0.attribute == attribute }
        guard !rows.isEmpty else { return }
        let published = design.published.filter { $0.metric == metric && $0.attribute == attribute }
        let disparities = run.metrics.disparities.filter { $0.design == design.name && $0.metric == metric && $0.attribute == attribute }
        md.line("**By \(escape(ChartStyle.attributeTitle(attribute)))**")
        md.blank()
        var header = "| \(escape(attribute)) | n | \(title) (95% CI) | vs reference | p (Holm) |"
        var rule = "|---|---:|---|---|---:|"
        for (i, _) in published.enumerated() { header += " published\(published.count > 1 ? " [\(i + 1)]" : "") |"; rule += "---:|" }
        md.line(header)
        md.line(rule)
        for row in rows {
            var line = "| \(escape(row.group))\(row.belowMinimumN ? " †" : "") | \(row.n) | \(percentWithCI(row)) | "
            if let d = disparities.first(where: { $0.group == row.group }) {
                line += "\(signedPoints(d.difference))\(d.fourFifthsViolation ? " ⚠" : "") | \(formatP(d.pAdjusted))\(d.significant ? " *" : "") |"
            } else {
                line += "reference | |"
            }
            for figure in published { line += " \(figure.value(for: row.group).map(percent) ?? "") |" }
            md.line(line)
        }
        md.blank()
        for (i, figure) in published.enumerated() {
            md.line("\(published.count > 1 ? "[\(i + 1)] " : "")Published: \(escape(figure.source)). Context, not an expected value.")
        }
        if !published.isEmpty { md.blank() }
        embedCharts(&md, design: design.name, metric: metric, attribute: attribute, kinds: [.rate, .ratio])
    }

    /// Embeds the charts of one table, in the order of `kinds`.
    static func embedCharts(_ md: inout MarkdownText, design: String, metric: String, attribute: String, kinds: [ChartFile.Kind]) {
        for kind in kinds {
            for chart in md.charts where chart.kind == kind && chart.design == design && chart.metric == metric && chart.attribute == attribute {
                md.line("![\(escapeAlt(chart.title))](\(chart.path))")
                md.blank()
            }
        }
    }

    /// Alt text: no brackets or line breaks that would end it early, and escaped (``MarkdownEscape/alt(_:)``).
    static func escapeAlt(_ text: String) -> String { MarkdownEscape.alt(text) }

    static func harmTable(_ md: inout MarkdownText, _ run: AuditRun, design: DesignSpec, metrics: [String], attribute: String) {
        let rows = run.metrics.metrics.filter { $0.design == design.name && $0.attribute == attribute && metrics.contains($0.metric) }
        guard !rows.isEmpty else { return }
        var groups: [String] = []
        for r in rows where !groups.contains(r.group) { groups.append(r.group) }
        md.line(attribute == "*" ? "**All images**" : "**By \(escape(ChartStyle.attributeTitle(attribute)))**")
        md.blank()
        md.line("| \(attribute == "*" ? "set" : escape(attribute)) | n | " + metrics.map { escape(String($0.dropFirst("harm_rate:".count))) + " (95% CI)" }.joined(separator: " | ") + " |")
        md.line("|---|---:|" + String(repeating: "---|", count: metrics.count))
        for group in groups {
            let cells = metrics.map { metric -> String in
                guard let r = rows.first(where: { $0.metric == metric && $0.group == group }) else { return "" }
                let flag = run.metrics.disparities.first { $0.design == design.name && $0.metric == metric && $0.attribute == attribute && $0.group == group }
                return percentWithCI(r) + ((flag?.significant ?? false) ? " *" : "")
            }
            let n = rows.first { $0.group == group }
            md.line("| \(group == "*" ? "all" : escape(group))\((n?.belowMinimumN ?? false) ? " †" : "") | \(n?.n ?? 0) | " + cells.joined(separator: " | ") + " |")
        }
        md.blank()
        for metric in metrics {
            embedCharts(&md, design: design.name, metric: metric, attribute: attribute, kinds: [.rate, .ratio])
        }
    }

    static func publishedComparisons(_ md: inout MarkdownText, design: DesignSpec, metric: String, rows: [MetricRow]) {
        for figure in design.published where figure.metric == metric {
            md.line("**Published beside measured: \(escape(metric)), by \(escape(figure.attribute))** — \(escape(figure.source)). Context, not an expected value.")
            md.blank()
            md.line("| \(escape(figure.attribute)) | published | measured (95% CI) | n |")
            md.line("|---|---:|---|---:|")
            for (group, value) in figure.values {
                let measured = rows.first { $0.metric == metric && $0.attribute == figure.attribute && $0.group == group }
                md.line("| \(escape(group)) | \(percent(value)) | \(measured.map(percentWithCI) ?? "not measured") | \(measured.map { String($0.n) } ?? "") |")
            }
            md.blank()
        }
    }

    static func publishedNote(_ md: inout MarkdownText, design: DesignSpec, metric: String, attribute: String, rows: [MetricRow]) {
        for figure in design.published where figure.metric == metric && figure.attribute == attribute {
            let measured = rows.first { $0.metric == metric && $0.attribute == "*" }
            if let value = figure.value(for: "*") {
                md.line("Published: \(percent(value)) — \(escape(figure.source)); measured here: \(measured.map(percentWithCI) ?? "—"). Context, not an expected value.")
                md.blank()
            }
        }
    }

    static func confusion(_ md: inout MarkdownText, _ run: AuditRun, design: DesignSpec) {
        guard let whole = run.metrics.confusions.first(where: { $0.design == design.name && $0.attribute == "*" }) else { return }
        md.line("**Confusion matrix** (rows: true class, columns: predicted; all images)")
        md.blank()
        md.line("| true \\ predicted | " + whole.labels.map(escape).joined(separator: " | ") + " | recall |")
        md.line("|---|" + String(repeating: "---:|", count: whole.labels.count + 1))
        for (i, label) in whole.labels.enumerated() {
            md.line("| \(escape(label)) | " + whole.counts[i].map(String.init).joined(separator: " | ") + " | \(whole.recall[i].map(percent) ?? "—") |")
        }
        md.blank()
        // Per-class recall by group, one table per attribute.
        for attribute in run.config.attributes {
            let tables = run.metrics.confusions.filter { $0.design == design.name && $0.attribute == attribute }
            guard !tables.isEmpty else { continue }
            md.line("**Per-class recall by \(escape(attribute))**")
            md.blank()
            md.line("| \(escape(attribute)) | n | " + whole.labels.map(escape).joined(separator: " | ") + " |")
            md.line("|---|---:|" + String(repeating: "---:|", count: whole.labels.count))
            for t in tables {
                let cells = whole.labels.map { label -> String in
                    guard let i = t.labels.firstIndex(of: label) else { return "—" }
                    return t.recall[i].map(percent) ?? "—"
                }
                md.line("| \(escape(t.group)) | \(t.n) | " + cells.joined(separator: " | ") + " |")
            }
            md.blank()
        }
    }

    static func predictionRates(_ md: inout MarkdownText, _ run: AuditRun, design: DesignSpec) {
        for attribute in run.config.attributes {
            let rows = run.metrics.metrics.filter { $0.design == design.name && $0.attribute == attribute && $0.metric.hasPrefix("prediction_rate:") }
            guard !rows.isEmpty else { continue }
            var groups: [String] = []
            for r in rows where !groups.contains(r.group) { groups.append(r.group) }
            md.line("**Predicted class by \(escape(attribute))** (share of each group's images)")
            md.blank()
            md.line("| class | " + groups.map(escape).joined(separator: " | ") + " |")
            md.line("|---|" + String(repeating: "---:|", count: groups.count))
            for cls in design.classNames {
                let cells = groups.map { g in rows.first { $0.metric == "prediction_rate:\(cls)" && $0.group == g }.map { percent($0.value) } ?? "" }
                md.line("| \(escape(cls)) | " + cells.joined(separator: " | ") + " |")
            }
            md.blank()
        }
    }

    static func variants(_ md: inout MarkdownText, _ run: AuditRun) {
        let variants = run.config.designs.filter { $0.base != nil }
        guard !variants.isEmpty else { return }
        md.line("## Variant comparisons")
        md.blank()
        md.line("Each variant against its base on the same images: Δ = variant − base, with a 95% paired (Newcombe) interval and an exact McNemar test on the images whose outcome changed, Holm-adjusted within variant × metric × attribute (comparison.csv keeps the unadjusted p); * marks p < \(formatNumber(run.config.alpha)).")
        md.blank()
        for variant in variants {
            let rows = run.metrics.comparisons.filter { $0.design == variant.name && isHeadline($0.metric) }
            md.line("### \(MarkdownEscape.code(variant.name)) vs \(MarkdownEscape.code(variant.base!))")
            md.blank()
            guard !rows.isEmpty else { md.line("No shared accuracy or harm metric to compare."); md.blank(); continue }
            md.line("| metric | attribute | group | n | base | variant | Δ (95% CI) | McNemar p (Holm) |")
            md.line("|---|---|---|---:|---:|---:|---|---:|")
            for r in rows where r.attribute == "*" || run.config.attributes.contains(r.attribute) {
                md.line("| \(escape(r.metric)) | \(wholeOrEscaped(r.attribute)) | \(wholeOrEscaped(r.group))\(r.belowMinimumN ? " †" : "") | \(r.n) | \(percent(r.baseValue)) | \(percent(r.value)) | \(signedPoints(r.delta)) [\(signedPoints(r.ciLow)), \(signedPoints(r.ciHigh))] | \(formatP(r.pAdjusted))\(r.pAdjusted < run.config.alpha ? " *" : "") |")
            }
            md.blank()
            var metrics: [String] = []
            for r in rows where !metrics.contains(r.metric) { metrics.append(r.metric) }
            for metric in metrics {
                for attribute in run.config.attributes + run.config.intersections.map({ $0.joined(separator: "|") }) {
                    embedCharts(&md, design: variant.name, metric: metric, attribute: attribute, kinds: [.delta])
                }
            }
        }
    }

    static func skipped(_ md: inout MarkdownText, _ run: AuditRun) {
        md.line("## Skipped rows")
        md.blank()
        guard !run.skipped.isEmpty else { md.line("None: every manifest row was scored."); md.blank(); return }
        md.line("\(run.skipped.count) row(s) were left out; every other row was scored.")
        md.blank()
        let kinds = SkipSummary.counts(run.skipped)
        md.line("| reason | rows |")
        md.line("|---|---:|")
        for (kind, count) in kinds { md.line("| \(escape(kind)) | \(count) |") }
        md.blank()
        md.line("| line | file | reason |")
        md.line("|---:|---|---|")
        for s in run.skipped.prefix(50) {
            md.line("| \(s.line.map(String.init) ?? "") | \(escape(s.file ?? "")) | \(escape(s.reason)) |")
        }
        if run.skipped.count > 50 { md.line("| | … | \(run.skipped.count - 50) more in `run.json` |") }
        md.blank()
    }

    static func method(_ md: inout MarkdownText, _ run: AuditRun) {
        md.line("## Method")
        md.blank()
        md.line("- Scoring: each class's text embedding is the normalised mean of the normalised embeddings of every template × phrase; logits are exp(logit_scale) × cosine; the prediction is the arg-max (ties: the class listed first).")
        md.line("- Intervals: 95% Wilson score intervals for rates; Newcombe's hybrid score interval for differences.")
        md.line("- Disparities: each group against its attribute's reference group with a two-sided pooled two-proportion z-test, Holm-adjusted within design × metric × attribute; * marks p_adjusted < α.")
        md.line("- Variant comparisons: each variant against its base on the same images, exact McNemar test on the discordant pairs, Holm-adjusted within variant × metric × attribute in this report; comparison.csv's p_value is unadjusted.")
        md.line("- ⚠ marks a ratio to the reference outside [0.8, 1.25] (the four-fifths rule, applied both ways because a higher harm rate is worse).")
        md.line("- † marks groups smaller than \(run.config.minGroupSize) images: reported, not dropped, but read with care.")
        md.line("- Published figures are context from the CLIP paper and model card; they were measured with other backbones, prompts or probes, and are not expected values for this model.")
        md.blank()
    }

    // MARK: Formatting

    static func disparityTable<S: Sequence>(_ md: inout MarkdownText, _ rows: S, showDesign: Bool) where S.Element == DisparityRow {
        md.line((showDesign ? "| design " : "") + "| metric | attribute | group | reference | value | reference value | difference (95% CI) | ratio | p (Holm) | flags |")
        md.line((showDesign ? "|---" : "") + "|---|---|---|---|---:|---:|---|---:|---:|---|")
        for d in rows {
            var flags: [String] = []
            if d.significant { flags.append("significant") }
            if d.fourFifthsViolation { flags.append("four-fifths") }
            if d.belowMinimumN { flags.append("small n") }
            md.line((showDesign ? "| \(escape(d.design)) " : "")
                    + "| \(escape(d.metric)) | \(escape(d.attribute)) | \(escape(d.group)) | \(escape(d.reference)) | \(percent(d.value)) (n = \(d.n)) | \(percent(d.referenceValue)) (n = \(d.referenceN)) | \(signedPoints(d.difference)) [\(signedPoints(d.differenceCILow)), \(signedPoints(d.differenceCIHigh))] | \(d.ratio.map { String(format: "%.2f", $0) } ?? "—") | \(formatP(d.pAdjusted)) | \(flags.joined(separator: ", ")) |")
        }
        md.blank()
    }

    static func isHeadline(_ metric: String) -> Bool { metric == "accuracy" || metric.hasPrefix("harm_rate:") }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    static func percentWithCI(_ row: MetricRow) -> String {
        String(format: "%.1f%% [%.1f, %.1f]", row.value * 100, row.ciLow * 100, row.ciHigh * 100)
    }

    /// A difference of proportions in percentage points, signed.
    static func signedPoints(_ value: Double) -> String { String(format: "%+.1f pp", value * 100) }

    static func formatP(_ p: Double) -> String { p < 0.0001 ? "<0.0001" : String(format: "%.4f", p) }

    static func formatNumber(_ value: Double) -> String { String(format: "%g", value) }

    /// User text within a line of Markdown: ``MarkdownEscape/text(_:)``.
    static func escape(_ text: String) -> String { MarkdownEscape.text(text) }

    /// A name as code in a table cell: ``MarkdownEscape/code(_:inTable:)``.
    static func code(_ text: String) -> String { MarkdownEscape.code(text, inTable: true) }

    /// `*`, the whole set's attribute and group in the tool's rows, as it is (a lone `*` between
    /// spaces cannot start emphasis); any other value escaped.
    static func wholeOrEscaped(_ text: String) -> String { text == "*" ? "*" : escape(text) }
}

/// A Markdown document being built line by line.
struct MarkdownText {
    var text = ""
    /// The charts the report embeds.
    var charts: [ChartFile] = []
    mutating func line(_ s: String) { text += s + "\n" }
    mutating func blank() { text += "\n" }
}
