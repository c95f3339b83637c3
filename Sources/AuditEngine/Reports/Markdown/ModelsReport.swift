import Foundation

/// The top report of a several-model audit (`models:`): `report.md`, `report.html` and their
/// charts, written beside `models.csv` and the models' own folders. It answers "which model, and
/// how do they differ on each group?" first — findings naming the model with the lowest and the
/// highest harm rates and accuracy gaps and every group where a model differs significantly from
/// the base — then a table per harm category and per accuracy design with a column per model,
/// and a chart per design × metric × attribute with the models side by side. The intersections,
/// variant designs and every paired difference follow as details (folded in the HTML page).
public enum ModelsReport {
    /// The report's files, relative to the top folder: `report.md`, `report.html`, `charts/*.svg`.
    public static func files(_ data: ModelsReportData) -> [(path: String, contents: String)] {
        let charts = self.charts(data)
        let main = markdown(data, charts: charts)
        let details = detailsMarkdown(data, charts: charts)
        let byPath = Dictionary(charts.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var body = MarkdownHTML.convert(main) { byPath[$0] }
        if !details.isEmpty { body += HTMLReport.folded(details, charts: byPath) }
        let html = HTMLReport.page(title: "Model comparison: \(data.name)", body: body)
        // report.md holds the details too: the top folder has no details.md.
        return [("report.md", main + details), ("report.html", html)] + charts.map { ($0.path, $0.svg) }
    }

    // MARK: What is shown

    /// The designs in the base model's order, then any only another model has.
    static func designs(_ data: ModelsReportData) -> [AuditReport.Design] {
        var out: [AuditReport.Design] = []
        for model in data.models {
            for design in model.data.designs where !out.contains(where: { $0.name == design.name }) { out.append(design) }
        }
        return out
    }

    /// A design's headline metrics over every model (accuracy first, then harm rates).
    static func headlineMetrics(_ data: ModelsReportData, design: String) -> [Metric] {
        var out: [Metric] = []
        for model in data.models {
            for d in model.data.designs where d.name == design {
                for metric in d.headlineMetrics where !out.contains(metric) { out.append(metric) }
            }
        }
        return out.filter { $0 == .accuracy } + out.filter { $0 != .accuracy }
    }

    /// Attributes, then intersections, over every model.
    static func slices(_ data: ModelsReportData) -> [Slice] {
        var out: [Slice] = []
        for model in data.models { for slice in model.data.slices where !out.contains(slice) { out.append(slice) } }
        return out
    }

    /// The base model's α (every model of an audit has the audit's).
    static func alpha(_ data: ModelsReportData) -> Double { data.models.first?.data.alpha ?? 0.05 }

    /// The paired differences a reader should see: on accuracy or a harm rate, Holm p < α; the
    /// groups first (the whole set's are in the overview table too), largest difference first.
    static func significant(_ data: ModelsReportData) -> [ModelComparisonRow] {
        let alpha = alpha(data)
        return data.comparisons.filter { $0.metric.isHeadline && $0.pAdjusted < alpha }
            .enumerated().sorted { a, b in
                let (x, y) = (a.element, b.element)
                if (x.attribute == "*") != (y.attribute == "*") { return y.attribute == "*" }
                return abs(x.delta) != abs(y.delta) ? abs(x.delta) > abs(y.delta) : a.offset < b.offset
            }.map(\.element)
    }

    // MARK: Charts

    /// One chart per design × headline metric × attribute or intersection, the models side by side.
    static func charts(_ data: ModelsReportData) -> [ChartFile] {
        var files: [ChartFile] = []
        var used = Set<String>()
        for design in designs(data) {
            for metric in headlineMetrics(data, design: design.name) {
                for attribute in slices(data).map(\.csvText) {
                    guard let chart = ModelsChart.make(data, design: design.name, metric: metric, attribute: attribute) else { continue }
                    let stem = ChartStyle.uniqueStem(ChartStyle.slug("\(design.name)-models-\(metric)-\(attribute)"), used: &used)
                    files.append(
                        ChartFile(
                            kind: .rate, design: design.name, metric: metric.csvName, attribute: attribute,
                            path: "\(ReportCharts.folder)/\(stem).svg", title: chart.title, svg: chart.svg))
                }
            }
        }
        return files
    }

    // MARK: Markdown

    static func markdown(_ data: ModelsReportData, charts: [ChartFile]) -> String {
        var md = MarkdownText()
        md.charts = charts
        md.line("# Model comparison: \(MarkdownEscape.text(data.name))")
        md.blank()
        let base = data.models.first.map { label($0.label) } ?? "—"
        md.line(
            "\(data.models.count) models audited on the same images; \(base) is the base the others are compared with "
                + "(paired on each image: Newcombe interval, exact McNemar test, Holm within design × metric × attribute; `models.csv`). "
                + "Each model's own report: " + data.models.map { reportLink($0.label) }.joined(separator: ", ") + ".")
        md.blank()
        md.line("## Findings")
        md.blank()
        for line in findings(data) { md.line("- " + line) }
        md.blank()
        for line in overviewTable(data) { md.line(line) }
        md.blank()
        modelsTable(&md, data)
        let attributes = slices(data).filter { !$0.isIntersection }
        for design in designs(data) where design.base == nil {
            for metric in headlineMetrics(data, design: design.name) {
                metricSection(&md, data, design: design, metric: metric, slices: attributes, heading: "##")
            }
        }
        measurements(&md, data)
        method(&md, data)
        return md.text
    }

    /// Retrieval skew and association tests: each model's findings one after the other (their
    /// tables and charts are in the models' own reports).
    static func measurements(_ md: inout MarkdownText, _ data: ModelsReportData) {
        guard data.models.contains(where: { !$0.data.findings.isEmpty }) else { return }
        md.line("## Retrieval skew and association tests, every model")
        md.blank()
        for model in data.models {
            md.line("**\(label(model.label))** (\(reportLink(model.label)))")
            md.blank()
            if model.data.findings.isEmpty { md.line("- Not measured."); md.blank(); continue }
            for line in MeasurementsReport.sentences(model.data) { md.line("- " + line) }
            md.blank()
        }
    }

    /// The details: intersections, variant designs, every paired difference on a headline metric.
    static func detailsMarkdown(_ data: ModelsReportData, charts: [ChartFile]) -> String {
        var md = MarkdownText()
        md.charts = charts
        let intersections = slices(data).filter(\.isIntersection)
        if !intersections.isEmpty {
            md.line("## Intersections, every model")
            md.blank()
            for design in designs(data) where design.base == nil {
                for metric in headlineMetrics(data, design: design.name) {
                    metricSection(&md, data, design: design, metric: metric, slices: intersections, heading: "###", overall: false)
                }
            }
        }
        let variants = designs(data).filter { $0.base != nil }
        if !variants.isEmpty {
            md.line("## Variant designs, every model")
            md.blank()
            for design in variants {
                for metric in headlineMetrics(data, design: design.name) {
                    metricSection(&md, data, design: design, metric: metric, slices: slices(data), heading: "###")
                }
            }
        }
        differences(&md, data)
        return md.text
    }

    /// The findings, as Markdown sentences with user text escaped.
    static func findings(_ data: ModelsReportData) -> [String] {
        guard data.models.count > 1 else { return ["Only one model: nothing to compare."] }
        var lines: [String] = []
        for design in designs(data) where design.base == nil {
            for metric in headlineMetrics(data, design: design.name) {
                if let line = rateFinding(data, design: design, metric: metric) { lines.append(line) }
            }
        }
        let rows = significant(data)
        let alpha = ReportFormat.formatNumber(alpha(data))
        if rows.isEmpty {
            let compared = data.comparisons.filter { $0.metric.isHeadline }.count
            lines.append(
                "No group's accuracy or harm rate differs significantly between a model and the base (\(compared) paired comparisons, Holm p < \(alpha))."
            )
        } else {
            let shown = rows.prefix(6)
            for row in shown { lines.append(differenceSentence(data, row)) }
            if rows.count > shown.count {
                lines.append(
                    "… and \(rows.count - shown.count) more significant difference\(rows.count - shown.count == 1 ? "" : "s") from the base (Holm p < \(alpha)): in `models.csv` and the top report's details."
                )
            }
        }
        return lines
    }

    /// For one design × metric: which model has the lowest and the highest rate over all images,
    /// and which the smallest and the largest gap between its worst group and that group's reference.
    static func rateFinding(_ data: ModelsReportData, design: AuditReport.Design, metric: Metric) -> String? {
        let isAccuracy = metric == .accuracy
        let overall = data.models.compactMap { m in m.data.overall(design: design.name, metric: metric).map { (m.label, $0) } }
        guard overall.count > 1 else { return nil }
        let title = isAccuracy ? "accuracy" : "\(MarkdownEscape.text(Findings.categoryName(metric, design: design))) rate"
        var sentence = "\(MarkdownEscape.code(design.name)) \(isAccuracy ? "" : "**")\(title)\(isAccuracy ? "" : "**"): "
        // Lower is better for a harm rate, higher for accuracy.
        let sorted = overall.enumerated().sorted { a, b in
            a.element.1.value != b.element.1.value ? a.element.1.value < b.element.1.value : a.offset < b.offset
        }.map(\.element)
        let (best, worst) = isAccuracy ? (sorted.last!, sorted.first!) : (sorted.first!, sorted.last!)
        if best.1.value == worst.1.value {
            sentence += "every model \(ReportFormat.percent(best.1.value)) over all images (n = \(best.1.n))"
        } else {
            sentence +=
                "\(isAccuracy ? "highest" : "lowest") \(label(best.0)) \(ReportFormat.percentWithCI(best.1)) (n = \(best.1.n)), "
                + "\(isAccuracy ? "lowest" : "highest") \(label(worst.0)) \(ReportFormat.percentWithCI(worst.1)) (n = \(worst.1.n))"
        }
        // Each model's widest gap to the reference in the direction that harms: a group's higher harm
        // rate, lower accuracy; among groups of at least min_group_size when there are any.
        let gaps = data.models.compactMap { m -> (String, DisparityRow)? in
            let rows = m.data.disparities.filter { $0.design == design.name && $0.metric == metric }
            let sized = rows.filter { !$0.belowMinimumN }
            let pool = sized.isEmpty ? rows : sized
            let widest = pool.enumerated().max { a, b in
                let (x, y) = isAccuracy ? (-a.element.difference, -b.element.difference) : (a.element.difference, b.element.difference)
                return x != y ? x < y : a.offset > b.offset
            }?.element
            return widest.map { (m.label, $0) }
        }
        // The gaps are over groups of at least min_group_size when a model has any: say so.
        let minGroupSize = data.models.first?.data.minGroupSize ?? 0
        let sizedWords = minGroupSize > 1 ? " of at least \(minGroupSize) images" : ""
        if gaps.count > 1 {
            func size(_ d: DisparityRow) -> Double { isAccuracy ? -d.difference : d.difference }
            let smallest = gaps.enumerated().min { a, b in
                size(a.element.1) != size(b.element.1) ? size(a.element.1) < size(b.element.1) : a.offset < b.offset
            }!.element
            let largest = gaps.enumerated().max { a, b in
                size(a.element.1) != size(b.element.1) ? size(a.element.1) < size(b.element.1) : a.offset > b.offset
            }!.element
            if size(largest.1) <= 0 {
                sentence += "; in no model does a group\(sizedWords) fare worse than its reference"
            } else {
                sentence += "; widest gap to the reference: \(gap(largest.0, largest.1))"
                if largest.0 != smallest.0 {
                    sentence +=
                        size(smallest.1) <= 0
                        ? ", while in \(label(smallest.0)) no group\(sizedWords) fares worse than its reference"
                        : ", narrowest: \(gap(smallest.0, smallest.1))"
                }
            }
        }
        return sentence + "."
    }

    /// `` `b16` (**Black** (race) +40.0 pp [25.1, 52.3] vs White, ▲ worse) ``.
    static func gap(_ model: String, _ d: DisparityRow) -> String {
        var out =
            "\(label(model)) (\(Findings.groupName(d.group, d.attribute)) \(ReportFormat.signedPoints(d.difference)) "
            + "[\(ReportFormat.signedPoints(d.differenceCILow)), \(ReportFormat.signedPoints(d.differenceCIHigh))] "
            + "vs \(MarkdownEscape.text(ReportCharts.groupLabel(d.reference)))"
        if d.isFlagged, let worse = d.fairesWorse { out += ", " + (worse ? Findings.worse : Findings.better) }
        return out + ")"
    }

    /// One significant paired difference, in words.
    static func differenceSentence(_ data: ModelsReportData, _ r: ModelComparisonRow) -> String {
        let design = designs(data).first { $0.name == r.design }
        let title =
            r.metric == .accuracy
            ? "accuracy"
            : "\(MarkdownEscape.text(design.map { Findings.categoryName(r.metric, design: $0) } ?? (r.metric.harmCategory ?? ""))) rate"
        let scope = r.attribute == "*" ? "all images" : Findings.groupName(r.group, r.attribute)
        let better = r.metric.higherIsWorse == false ? r.delta > 0 : r.delta < 0
        return
            "\(label(r.model)) vs \(label(r.baseModel)), \(MarkdownEscape.code(r.design)) \(title), \(scope)\(r.belowMinimumN ? " †" : ""): "
            + "\(ReportFormat.percent(r.baseValue)) → \(ReportFormat.percent(r.value)), \(ReportFormat.signedPoints(r.delta)) "
            + "[\(ReportFormat.signedPoints(r.ciLow)), \(ReportFormat.signedPoints(r.ciHigh))], n = \(r.n), Holm \(Findings.pEquals(r.pAdjusted)) — "
            + (better ? Findings.better : Findings.worse)
    }

    /// The at-a-glance table: per design × headline metric, each model's rate over all images and
    /// how many of its groups are flagged. Also the comparison table of `card` on a top folder.
    static func overviewTable(_ data: ModelsReportData) -> [String] {
        var out = [
            "| design | metric | " + data.models.map { label($0.label, inTable: true) + " (95% CI)" }.joined(separator: " | ") + " |",
            "|---|---|" + String(repeating: "---|", count: data.models.count)
        ]
        for design in designs(data) where design.base == nil {
            for metric in headlineMetrics(data, design: design.name) {
                let title = metric == .accuracy ? "accuracy" : "\(Findings.categoryName(metric, design: design)) rate"
                let cells = data.models.map { m -> String in
                    guard let row = m.data.overall(design: design.name, metric: metric) else { return "—" }
                    let flagged = m.data.disparities.filter { $0.design == design.name && $0.metric == metric && $0.isFlagged }
                    let worse = flagged.filter { $0.fairesWorse == true }.count
                    var cell = ReportFormat.percentWithCI(row)
                    if m.label != data.models.first?.label, let d = overallDelta(data, m.label, design.name, metric) { cell += "; \(d)" }
                    cell += worse > 0 ? "; \(worse) group\(worse == 1 ? "" : "s") \(Findings.worse)" : "; none flagged worse"
                    return cell
                }
                out.append(
                    "| \(ReportFormat.escape(design.name)) | \(ReportFormat.escape(title)) | " + cells.joined(separator: " | ") + " |")
            }
        }
        guard out.count > 2 else { return [] }
        let base = data.models.first.map { label($0.label) } ?? "the base"
        return out + [
            "",
            "Δ: the model minus \(base) over all images, on the same images; * marks Holm p < \(ReportFormat.formatNumber(alpha(data))) "
                + "(exact McNemar). \(Findings.worse): groups the model's own audit flags against their reference."
        ]
    }

    /// `Δ −10.0 pp *` against the base over all images (* when Holm p < α), or nil when not compared.
    static func overallDelta(_ data: ModelsReportData, _ model: String, _ design: String, _ metric: Metric) -> String? {
        guard
            let r = data.comparisons.first(where: { $0.model == model && $0.design == design && $0.metric == metric && $0.attribute == "*" }
            )
        else { return nil }
        return "Δ \(ReportFormat.signedPoints(r.delta))\(r.pAdjusted < alpha(data) ? " *" : "")"
    }

    static func modelsTable(_ md: inout MarkdownText, _ data: ModelsReportData) {
        md.line("## Models")
        md.blank()
        md.line("| label | model | weights SHA-256 | report |")
        md.line("|---|---|---|---|")
        for (i, m) in data.models.enumerated() {
            let weights = m.data.weightsSHA256.isEmpty ? "—" : "`\(m.data.weightsSHA256.prefix(12))…`"
            md.line(
                "| \(label(m.label, inTable: true))\(i == 0 ? " (base)" : "") | \(MarkdownEscape.code(m.data.modelID, inTable: true)) | \(weights) | \(reportLink(m.label)) |"
            )
        }
        md.blank()
    }

    /// One design × metric: a table with a column per model over `slices` (the whole set first),
    /// then the models-side-by-side chart of each slice.
    static func metricSection(
        _ md: inout MarkdownText, _ data: ModelsReportData, design: AuditReport.Design, metric: Metric,
        slices: [Slice], heading: String, overall: Bool = true
    ) {
        let title = metric == .accuracy ? "accuracy" : "\(Findings.categoryName(metric, design: design)) rate"
        var rows: [(attribute: String, group: String)] = overall ? [("*", "*")] : []
        for attribute in slices.map(\.csvText) {
            for model in data.models {
                for r in model.data.rows(design: design.name, metric: metric, attribute: attribute)
                where !rows.contains(where: { $0.attribute == attribute && $0.group == r.group }) {
                    rows.append((attribute, r.group))
                }
            }
        }
        guard rows.count > (overall ? 1 : 0) else { return }
        md.line("\(heading) \(MarkdownEscape.code(design.name)): \(MarkdownEscape.text(title))")
        md.blank()
        md.line("| group | n | " + data.models.map { label($0.label, inTable: true) + " (95% CI)" }.joined(separator: " | ") + " |")
        md.line("|---|---:|" + String(repeating: "---|", count: data.models.count))
        let alpha = alpha(data)
        // Looked up once per cell: the design × metric's rows only.
        let compared = data.comparisons.filter { $0.design == design.name && $0.metric == metric }
        for (attribute, group) in rows {
            var n: Int?
            var small = false
            let cells = data.models.map { m -> String in
                let row =
                    attribute == "*"
                    ? m.data.overall(design: design.name, metric: metric)
                    : m.data.rows(design: design.name, metric: metric, attribute: attribute).first { $0.group == group }
                guard let row else { return "—" }
                var cell = ReportFormat.percentWithCI(row)
                if let first = n, first != row.n { cell += " (n = \(row.n))" } else { n = n ?? row.n }
                small = small || row.belowMinimumN
                if let d = m.data.disparities(design: design.name, metric: metric, attribute: attribute).first(where: { $0.group == group })
                {
                    cell += MarkdownReport.directionMark(d)
                }
                if let c = compared.first(where: { $0.model == m.label && $0.attribute == attribute && $0.group == group }),
                    c.pAdjusted < alpha
                {
                    cell +=
                        "; Δ \(ReportFormat.signedPoints(c.delta)) [\(ReportFormat.signedPoints(c.ciLow)), \(ReportFormat.signedPoints(c.ciHigh))] *"
                }
                return cell
            }
            let name =
                attribute == "*"
                ? "all images"
                : "\(ReportFormat.escape(ChartStyle.attributeTitle(attribute))): \(ReportFormat.escape(ReportCharts.groupLabel(group)))"
            let reference = data.models.contains {
                $0.data.disparities(design: design.name, metric: metric, attribute: attribute).first?.reference == group
            }
            md.line(
                "| \(name)\(reference ? " (reference)" : "")\(small ? " †" : "") | \(n.map(String.init) ?? "") | "
                    + cells.joined(separator: " | ") + " |")
        }
        let flagged = data.models.map { m -> String in
            let rows = m.data.disparities.filter {
                $0.design == design.name && $0.metric == metric && slices.contains(Slice(csvText: $0.attribute)) && $0.isFlagged
            }
            guard !rows.isEmpty else { return "none" }
            return rows.map { d in
                "\(ReportFormat.escape(ReportCharts.groupLabel(d.group)))\(MarkdownReport.directionMark(d))"
            }.joined(separator: ", ")
        }
        md.line("| flagged groups | | " + flagged.joined(separator: " | ") + " |")
        md.blank()
        for attribute in slices.map(\.csvText) {
            MarkdownReport.embedCharts(&md, design: design.name, metric: metric.csvName, attribute: attribute, kinds: [.rate])
        }
    }

    /// Every paired difference on a headline metric where any image changed, largest first.
    static func differences(_ md: inout MarkdownText, _ data: ModelsReportData) {
        let rows = data.comparisons.filter { $0.metric.isHeadline && ($0.baseOnly + $0.modelOnly > 0 || $0.delta != 0) }
        guard !rows.isEmpty else { return }
        let alpha = alpha(data)
        let sorted = rows.enumerated().sorted { a, b in
            (a.element.pAdjusted, -abs(a.element.delta), a.offset) < (b.element.pAdjusted, -abs(b.element.delta), b.offset)
        }.map(\.element)
        md.line("## Every difference from the base model")
        md.blank()
        md.line(
            "Each group where a model's outcome differs from the base's on any image, most significant first; * marks Holm p < \(ReportFormat.formatNumber(alpha)). `models.csv` has every row."
        )
        md.blank()
        md.line("| model | design | metric | attribute | group | n | base | model | Δ (95% CI) | McNemar p (Holm) |")
        md.line("|---|---|---|---|---|---:|---:|---:|---|---:|")
        for r in sorted.prefix(100) {
            md.line(
                "| \(label(r.model, inTable: true)) | \(ReportFormat.escape(r.design)) | \(ReportFormat.escape(r.metric.csvName)) | \(ReportFormat.wholeOrEscaped(r.attribute)) | "
                    + "\(ReportFormat.wholeOrEscaped(r.group))\(r.belowMinimumN ? " †" : "") | \(r.n) | \(ReportFormat.percent(r.baseValue)) | \(ReportFormat.percent(r.value)) | "
                    + "\(ReportFormat.signedPoints(r.delta)) [\(ReportFormat.signedPoints(r.ciLow)), \(ReportFormat.signedPoints(r.ciHigh))] | "
                    + "\(ReportFormat.formatP(r.pAdjusted))\(r.pAdjusted < alpha ? " *" : "") |")
        }
        if sorted.count > 100 { md.line("| | | | | … | | | | \(sorted.count - 100) more in `models.csv` | |") }
        md.blank()
    }

    static func method(_ md: inout MarkdownText, _ data: ModelsReportData) {
        let alpha = ReportFormat.formatNumber(alpha(data))
        md.line("## Method")
        md.blank()
        md.line(
            "- Every model scored the same images: an image any model could not use was skipped for all (each model's report lists them).")
        md.line(
            "- Rates: 95% Wilson score intervals. \(Findings.worse) / \(Findings.better): the group is flagged against its reference in that model's own audit (Holm-significant, or outside the four-fifths band with enough images), and fares worse or better."
        )
        md.line(
            "- Δ: a model minus the base on the same images, with Newcombe's paired interval; * marks an exact McNemar p below \(alpha) after Holm adjustment within design × metric × attribute."
        )
        md.line(
            "- † marks groups smaller than \(data.models.first?.data.minGroupSize ?? 0) images: reported, not dropped, but read with care.")
        md.blank()
    }

    /// The link to a model's own report, `[L/report.md](L/report.md)` (the page links its
    /// `report.html`); a label that could not name a folder is only named, never linked.
    static func reportLink(_ label: String) -> String {
        ModelsFolder.isValidLabel(label) ? "[\(label)/report.md](\(label)/report.md)" : MarkdownEscape.code(label + "/report.md")
    }

    /// A model's label as code (labels hold letters, digits, `-`, `_`, `.` only, but are escaped all the same).
    static func label(_ s: String, inTable: Bool = false) -> String { MarkdownEscape.code(s, inTable: inTable) }
}
