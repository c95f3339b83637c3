import Foundation

/// The findings summary at the top of `report.md`, `report.html` and the card's `fairness.md`:
/// the answers an audit exists for, stated as sentences with their intervals and sizes and built
/// only from the measured numbers — which groups fare worst on each harm category and on each
/// accuracy, what each class-design variant changed, and whether published figures agree — then
/// one compact table with every headline metric's spread and flag counts.
///
/// Direction is always written out: ``Findings/worse`` and ``Findings/better`` are words (the HTML
/// colours them as well, never instead).
public struct Findings: Sendable {
    /// The finding sentences in order (Markdown, one bullet each): harm, accuracy, variants,
    /// published figures, then ``further``.
    public var lines: [String] = []
    /// Findings of further sections (retrieval skew, association tests): sentences appended
    /// after the ones above, as Markdown with user text escaped (``MarkdownEscape``). Whoever
    /// measures them appends here; ``markdown()`` lists them with the rest.
    public var further: [String] = []
    /// The compact table's lines (Markdown), empty when no design has a headline metric.
    public var table: [String] = []

    /// The word (and marker) for a group that fares worse than its reference: higher harm, lower accuracy.
    public static let worse = "▲ worse"
    /// The word (and marker) for a group that fares better than its reference.
    public static let better = "▼ better"

    /// The summary of `data`.
    public init(_ data: AuditReport) {
        further = MeasurementsReport.sentences(data)
        for design in data.designs where design.base == nil {
            for metric in design.headlineMetrics where metric.isHarm {
                lines.append(Self.harmFinding(data, design: design, metric: metric))
            }
        }
        for design in data.designs where design.base == nil && design.hasTarget {
            lines.append(Self.accuracyFinding(data, design: design))
        }
        for design in data.designs where design.base != nil {
            lines.append(Self.variantFinding(data, variant: design))
        }
        if let published = Self.publishedFinding(data) { lines.append(published) }
        table = Self.table(data)
    }

    /// The summary as Markdown: a heading, the rule in one sentence, the bullets, the table.
    public func markdown(heading: String = "##") -> String {
        var md = MarkdownText()
        md.line("\(heading) Findings")
        md.blank()
        for line in lines + further { md.line("- " + line) }
        md.blank()
        if !table.isEmpty {
            for line in table { md.line(line) }
            md.blank()
        }
        return md.text
    }

    // MARK: Sentences

    /// "‹group› faces were labelled ‹category› in X% [lo, hi] of cases (n = N), R× the ‹reference›
    /// rate (…)", for the two groups with the highest rate among groups of at least `min_group_size`.
    static func harmFinding(_ data: AuditReport, design: AuditReport.Design, metric: Metric) -> String {
        let category = categoryName(metric, design: design)
        let prefix = "\(code(design.name)), **\(text(category))**: "
        let top = ranked(data, design: design.name, metric: metric, highestFirst: true)
        guard let first = top.first, first.value > 0 else {
            let overall = data.overall(design: design.name, metric: metric)
            return prefix + "no face was labelled \(text(category))\(overall.map { " (n = \($0.n))" } ?? "")."
        }
        var sentence =
            prefix
            + "\(groupFaces(first)) were labelled \(text(category)) in \(ReportFormat.percentWithCI(first)) of cases (n = \(first.n)), "
            + comparison(data, first, ratioWords: "rate")
        if top.count > 1, top[1].value > 0 {
            let second = top[1]
            sentence +=
                "; next, \(groupFaces(second)): \(ReportFormat.percentWithCI(second)) (n = \(second.n)), "
                + comparison(data, second, ratioWords: "rate")
        }
        if let overall = data.overall(design: design.name, metric: metric) {
            sentence += ". All faces: \(ReportFormat.percentWithCI(overall)) (n = \(overall.n))"
        }
        return sentence + "."
    }

    /// The design's overall accuracy and its two lowest groups, each against its reference.
    static func accuracyFinding(_ data: AuditReport, design: AuditReport.Design) -> String {
        var sentence = "\(code(design.name)) classification"
        if let overall = data.overall(design: design.name, metric: .accuracy) {
            sentence += ": accuracy \(ReportFormat.percentWithCI(overall)) overall (n = \(overall.n))"
        }
        let bottom = ranked(data, design: design.name, metric: .accuracy, highestFirst: false)
        let named = bottom.prefix(2).map { row in
            "\(groupName(row)) \(ReportFormat.percentWithCI(row)) (n = \(row.n)), " + comparison(data, row, ratioWords: "accuracy")
        }
        if !named.isEmpty { sentence += "; lowest: " + named.joined(separator: "; ") }
        return sentence + "."
    }

    /// One line per variant: its effect on its main metric overall and on the group it changes
    /// most, with the paired interval and the McNemar p; or that it changed no outcome.
    static func variantFinding(_ data: AuditReport, variant: AuditReport.Design) -> String {
        let base = variant.base ?? ""
        let name = variant.change.map { "\($0) (\(code(variant.name)) vs \(code(base)))" } ?? "\(code(variant.name)) vs \(code(base))"
        let rows = data.comparisons.filter { $0.design == variant.name && $0.metric.isHeadline }
        if rows.isEmpty { return name + ": no accuracy or harm rate in common to compare." }
        if rows.allSatisfy({ !$0.changedAnImage }) {
            return name + ": changed no prediction's accuracy or harm outcome (n = \(rows.first { $0.attribute == "*" }?.n ?? rows[0].n))."
        }
        // The metric the variant is about: any harm when there are several categories, else the
        // first harm rate, else accuracy.
        let metrics = rows.map(\.metric)
        let metric = metrics.first { $0 == .anyHarm } ?? metrics.first { $0.isHarm } ?? metrics[0]
        let title = metric == .accuracy ? "accuracy" : text(categoryName(metric, design: variant))
        let overall = rows.first { $0.metric == metric && $0.attribute == "*" }
        let groups = rows.filter { $0.metric == metric && $0.attribute != "*" }
        let sized = groups.filter { !$0.belowMinimumN }
        let most = (sized.isEmpty ? groups : sized).max { abs($0.delta) < abs($1.delta) }
        var parts: [String] = []
        if let most, most.delta != 0 {
            parts.append(
                "\(title) for \(groupName(most)) went from \(ReportFormat.percent(most.baseValue)) to \(ReportFormat.percent(most.value)) "
                    + delta(most, metric: metric))
        }
        if let overall {
            parts.append(
                "overall \(ReportFormat.percent(overall.baseValue)) → \(ReportFormat.percent(overall.value)) "
                    + delta(overall, metric: metric))
        }
        if parts.isEmpty { return name + ": changed no \(title) outcome." }
        return name + ": " + parts.joined(separator: "; ") + "."
    }

    /// Whether published figures fall within the measured 95% intervals, one line for all.
    static func publishedFinding(_ data: AuditReport) -> String? {
        var pieces: [String] = []
        var (inside, total) = (0, 0)
        for design in data.designs {
            for figure in data.published[design.name] ?? [] {
                var (k, n) = (0, 0)
                for (group, value) in figure.values {
                    guard
                        let row = data.metrics.first(where: {
                            $0.design == design.name && $0.metric == figure.metric
                                && $0.attribute == figure.attribute && $0.group == group
                        })
                    else { continue }
                    n += 1
                    if value >= row.ciLow && value <= row.ciHigh { k += 1 }
                }
                guard n > 0 else { continue }
                inside += k
                total += n
                let scope = figure.attribute == "*" ? "overall" : "by \(text(ChartStyle.attributeTitle(figure.attribute)))"
                let metric = figure.metric == .accuracy ? "accuracy" : "\(categoryName(figure.metric, design: design)) rate"
                pieces.append("\(code(design.name)) \(text(metric)) \(scope): \(k) of \(n)")
            }
        }
        guard total > 0 else { return nil }
        let verdict = inside == total ? "all agree" : inside == 0 ? "none agrees" : "they partly agree"
        return "Published figures (context: other backbones and prompts): \(inside) of \(total) lie within the measured 95% intervals, "
            + "\(verdict) — " + pieces.joined(separator: "; ") + "."
    }

    // MARK: Table

    static func table(_ data: AuditReport) -> [String] {
        var out = [
            "| design | metric | all images (95% CI) | n | worst group (n ≥ \(data.minGroupSize) where any) | flagged \(worse) | flagged \(better) |",
            "|---|---|---|---:|---|---:|---:|"
        ]
        for design in data.designs {
            if let base = design.base {
                let rows = data.comparisons.filter { $0.design == design.name && $0.metric.isHeadline }
                if !rows.isEmpty && rows.allSatisfy({ !$0.changedAnImage }) {
                    out.append(
                        "| \(ReportFormat.escape(design.name)) | every metric | as \(ReportFormat.escape(base)): no outcome changed | \(rows[0].n) | | | |"
                    )
                    continue
                }
            }
            for metric in design.headlineMetrics {
                guard let overall = data.overall(design: design.name, metric: metric) else { continue }
                // A group "worst" at a harm rate of 0 is no finding.
                let worst = ranked(data, design: design.name, metric: metric, highestFirst: metric != .accuracy).first
                    .flatMap { metric == .accuracy || $0.value > 0 ? $0 : nil }
                let flagged = data.disparities.filter { $0.design == design.name && $0.metric == metric && $0.isFlagged }
                let worseCount = flagged.filter { $0.fairesWorse == true }.count
                let betterCount = flagged.filter { $0.fairesWorse == false }.count
                let title = metric == .accuracy ? "accuracy" : "\(categoryName(metric, design: design)) rate"
                out.append(
                    "| \(ReportFormat.escape(design.name)) | \(ReportFormat.escape(title)) | \(ReportFormat.percentWithCI(overall)) | \(overall.n) | "
                        + (worst.map { "\(groupName($0)) \(ReportFormat.percent($0.value)) (n = \($0.n))" } ?? "—")
                        + " | \(worseCount) | \(betterCount) |")
            }
        }
        return out.count > 2 ? out : []
    }

    // MARK: Pieces

    /// A metric's group rows over every attribute and intersection, highest (or lowest) first;
    /// groups of at least `min_group_size` images when there are any (a rate over three faces is
    /// not a finding), ties in slice then group order.
    static func ranked(_ data: AuditReport, design: String, metric: Metric, highestFirst: Bool) -> [MetricRow] {
        let rows = data.metrics.filter { $0.design == design && $0.metric == metric && $0.attribute != "*" }
        let sized = rows.filter { !$0.belowMinimumN }
        let pool = sized.isEmpty ? rows : sized
        return pool.enumerated().sorted { a, b in
            if a.element.value != b.element.value {
                return highestFirst ? a.element.value > b.element.value : a.element.value < b.element.value
            }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// How a group stands against its reference: ratio (none against a zero rate), difference with
    /// its interval, direction in words, and the Holm-adjusted p.
    static func comparison(_ data: AuditReport, _ row: MetricRow, ratioWords: String) -> String {
        guard
            let d = data.disparities.first(where: {
                $0.design == row.design && $0.metric == row.metric
                    && $0.attribute == row.attribute && $0.group == row.group
            })
        else {
            return "the reference group for \(text(ChartStyle.attributeTitle(row.attribute)))"
        }
        let reference = text(ReportCharts.groupLabel(d.reference))
        var out: String
        if d.referenceValue == 0 {
            out = "against \(ReportFormat.percent(0)) for \(reference) (n = \(d.referenceN))"
        } else {
            out = String(
                format: "%.2f× the %@ %@ (%@, n = %d)", d.value / d.referenceValue, reference, ratioWords,
                ReportFormat.percent(d.referenceValue), d.referenceN)
        }
        out +=
            ", \(ReportFormat.signedPoints(d.difference)) [\(ReportFormat.signedPoints(d.differenceCILow)), \(ReportFormat.signedPoints(d.differenceCIHigh))]"
        var verdict: [String] = []
        if d.isFlagged, let worse = d.fairesWorse { verdict.append(worse ? Self.worse : Self.better) }
        verdict.append("Holm " + pEquals(d.pAdjusted))
        if !d.significant { verdict.append(d.isFlagged ? "four-fifths" : "not significant") }
        return out + " — " + verdict.joined(separator: ", ")
    }

    /// A variant's change: base → variant with the paired interval, McNemar p and direction.
    static func delta(_ r: ComparisonRow, metric: Metric) -> String {
        let better = metric == .accuracy ? r.delta > 0 : r.delta < 0
        var out =
            "(\(ReportFormat.signedPoints(r.delta)) [\(ReportFormat.signedPoints(r.ciLow)), \(ReportFormat.signedPoints(r.ciHigh))], "
            + "McNemar \(pEquals(r.pValue)), n = \(r.n)"
        if r.delta != 0 && r.pValue < 0.05 { out += ", \(better ? Self.better : Self.worse)" }
        return out + ")"
    }

    /// `crime-related`, or for `any` the categories it joins (`non-human or crime-related`).
    static func categoryName(_ metric: Metric, design: AuditReport.Design) -> String {
        let category = (metric.harmCategory ?? "")
        guard category == anyHarmCategory else { return category }
        let parts = design.headlineMetrics.filter { $0.isHarm && $0 != metric }.map { ($0.harmCategory ?? "") }
        return parts.isEmpty ? "any harm" : parts.joined(separator: " or ")
    }

    /// "Black faces (race)", "Black × Female faces (race × gender)".
    static func groupFaces(_ row: MetricRow) -> String {
        "**\(text(ReportCharts.groupLabel(row.group)))** faces (\(text(ChartStyle.attributeTitle(row.attribute))))"
    }

    static func groupName(_ row: MetricRow) -> String { groupName(row.group, row.attribute) }
    static func groupName(_ row: ComparisonRow) -> String { groupName(row.group, row.attribute) }

    static func groupName(_ group: String, _ attribute: String) -> String {
        "**\(text(ReportCharts.groupLabel(group)))** (\(text(ChartStyle.attributeTitle(attribute))))"
    }

    /// `p = 0.0123`, or `p < 0.0001`.
    static func pEquals(_ p: Double) -> String { p < 0.0001 ? "p < 0.0001" : "p = \(ReportFormat.formatP(p))" }

    static func text(_ s: String) -> String { MarkdownEscape.text(s) }
    static func code(_ s: String) -> String { MarkdownEscape.code(s) }
}

extension ComparisonRow {
    /// Whether any image's outcome changed: discordant pairs, or (for rows read back from a
    /// folder whose predictions.csv does not account for them) a non-zero delta.
    var changedAnImage: Bool { baseOnly + variantOnly > 0 || delta != 0 }
}
