import Foundation

/// The findings summary at the top of `report.md`, `report.html` and the card's `fairness.md`:
/// the answers an audit exists for, built only from the measured numbers. Per design × accuracy
/// and harm rate, the flagged groups lead, ranked by evidence: worse before better, then by the
/// size of the gap the data make sure of (``DisparityRow/assuredDifference``, the bound of the
/// difference's 95% interval nearest zero), each on one short line naming the rule that flagged
/// it; a design × metric with no flagged group gets one line saying so. With `robustness:` each
/// finding says in how many wordings of the prompts it holds, and robust findings are listed
/// apart from fragile ones (``RobustnessRow/isRobust``). Then what each class-design variant
/// changed and whether published figures agree; beneath, the numbers behind every finding and
/// one compact table of every headline metric with its flag counts by rule.
///
/// Direction is always written out: ``Findings/worse`` and ``Findings/better`` are words (the HTML
/// colours them as well, never instead).
public struct Findings: Sendable {
    /// One ranked finding: a flagged group of a design × metric, and how it fares across wordings.
    public struct Finding: Sendable {
        public var disparity: DisparityRow
        /// Its row of `robustness.csv` (nil without `robustness:`).
        public var robustness: RobustnessRow?
        /// The line (Markdown).
        public var line: String
    }

    /// The ranked findings, in order (at most ``perMetric`` per design × metric).
    public var ranked: [Finding] = []
    /// Design × metric pairs with no flagged group, one line each (Markdown).
    public var unflagged: [String] = []
    /// The finding sentences after the ranked ones (Markdown, one bullet each): variants, then
    /// published figures.
    public var lines: [String] = []
    /// Findings of further sections (retrieval skew, association tests): sentences appended
    /// after the ones above, as Markdown with user text escaped (``MarkdownEscape``). Whoever
    /// measures them appends here; ``markdown()`` lists them with the rest.
    public var further: [String] = []
    /// The numbers behind the ranked findings (Markdown table lines), empty without findings.
    public var evidence: [String] = []
    /// The compact table's lines (Markdown), empty when no design has a headline metric.
    public var table: [String] = []
    /// The wordings of `robustness:` (specification 0 included); nil without the section.
    public var specifications: Int?

    /// The word (and marker) for a group that fares worse than its reference: higher harm, lower accuracy.
    public static let worse = "▲ worse"
    /// The word (and marker) for a group that fares better than its reference.
    public static let better = "▼ better"
    /// The most findings listed per design × metric; the rest are counted on one line.
    public static let perMetric = 3

    /// The summary of `data`.
    public init(_ data: AuditReport) {
        further = MeasurementsReport.sentences(data)
        let robustness = data.robustness.map { rows in
            Dictionary(rows.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        }
        specifications = data.robustness?.first?.specifications
        for design in data.designs where design.base == nil {
            for metric in design.headlineMetrics where metric == .accuracy || metric.isHarm {
                let flagged = Self.rankedByEvidence(
                    data.disparities.filter { $0.design == design.name && $0.metric == metric && $0.isFlagged && $0.difference != 0 })
                let title = Self.metricTitle(metric, design: design)
                if flagged.isEmpty {
                    let compared = data.disparities.filter { $0.design == design.name && $0.metric == metric }.count
                    unflagged.append(
                        "\(Self.code(design.name)) \(title): no group flagged (\(compared) groups compared with their reference).")
                    continue
                }
                for d in flagged.prefix(Self.perMetric) {
                    let row = robustness?[RobustnessRow.Key(d)]
                    ranked.append(Finding(disparity: d, robustness: row, line: Self.findingLine(d, title: title, robustness: row)))
                }
                if flagged.count > Self.perMetric {
                    unflagged.append(
                        "\(Self.code(design.name)) \(title): \(flagged.count - Self.perMetric) more flagged groups, in [details.md](details.md) and `disparities.csv`."
                    )
                }
            }
        }
        for design in data.designs where design.base != nil {
            lines.append(Self.variantFinding(data, variant: design))
        }
        if let published = Self.publishedFinding(data) { lines.append(published) }
        evidence = Self.evidence(ranked)
        table = Self.table(data)
    }

    /// The summary as Markdown: a heading, the rule in one sentence, the ranked findings
    /// (robust, then fragile, with `robustness:`), the other lines, the evidence and the table.
    public func markdown(heading: String = "##") -> String {
        var md = MarkdownText()
        md.line("\(heading) Findings")
        md.blank()
        if !ranked.isEmpty || !unflagged.isEmpty {
            var rule =
                "Flagged groups of accuracy and harm rates, worse before better, surest gap first "
                + "(the bound of the difference's 95% interval nearest zero); each names the rule that flagged it."
            if let specifications {
                let needed = Int((RobustnessRow.robustShare * Double(specifications)).rounded(.up))
                rule +=
                    " Robust: flagged, in the same direction, in at least \(needed) of the \(specifications) wordings of the prompts "
                    + "(`robustness.csv`); fragile: the others."
            }
            md.line(rule)
            md.blank()
        }
        if specifications != nil {
            let robust = ranked.filter { $0.robustness?.isRobust == true }
            let fragile = ranked.filter { $0.robustness?.isRobust != true }
            for (title, group) in [("Robust findings", robust), ("Fragile findings", fragile)] {
                md.line("**\(title)**\(group.isEmpty ? ": none." : "")")
                md.blank()
                for finding in group { md.line("- " + finding.line) }
                if !group.isEmpty { md.blank() }
            }
        } else {
            for finding in ranked { md.line("- " + finding.line) }
        }
        for line in unflagged + lines + further { md.line("- " + line) }
        md.blank()
        for lines in [evidence, table] where !lines.isEmpty {
            for line in lines { md.line(line) }
            md.blank()
        }
        return md.text
    }

    // MARK: Ranking

    /// Flagged rows worse first (then better, then no better side), then by the gap the data
    /// make sure of, largest first; ties by the difference, then in `disparities.csv` order.
    static func rankedByEvidence(_ rows: [DisparityRow]) -> [DisparityRow] {
        func side(_ d: DisparityRow) -> Int { d.fairesWorse == true ? 0 : d.fairesWorse == false ? 1 : 2 }
        return rows.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if side(x) != side(y) { return side(x) < side(y) }
            if abs(x.assuredDifference) != abs(y.assuredDifference) { return abs(x.assuredDifference) > abs(y.assuredDifference) }
            if abs(x.difference) != abs(y.difference) { return abs(x.difference) > abs(y.difference) }
            return a.offset < b.offset
        }.map(\.element)
    }

    // MARK: Sentences

    /// `` `gender` accuracy, **Female** (gender): 3.6% vs 87.0% Male, −83.4 pp [−88.1, −77.9],
    /// n = 192 · ▲ worse, significant (Holm) · flagged in 21 of 21 wordings ``.
    static func findingLine(_ d: DisparityRow, title: String, robustness: RobustnessRow?) -> String {
        var line =
            "\(code(d.design)) \(title), \(groupName(d.group, d.attribute)): "
            + "\(ReportFormat.percent(d.value)) vs \(ReportFormat.percent(d.referenceValue)) \(text(ReportCharts.groupLabel(d.reference))), "
            + "\(ReportFormat.signedPoints(d.difference)) \(interval(d.differenceCILow, d.differenceCIHigh)), "
            + "n = \(d.n) · \(flagWords(d))"
        if let robustness { line += " · " + holdsWords(robustness) }
        return line
    }

    /// `▲ worse, significant (Holm)`, `▼ better, four-fifths only`, or the rule alone for a
    /// metric with no better side.
    public static func flagWords(_ d: DisparityRow) -> String {
        guard let rule = d.flagRule else { return "" }
        guard let worse = d.fairesWorse else { return rule.label }
        return (worse ? Self.worse : Self.better) + ", " + rule.label
    }

    /// `flagged in 19 of 21 wordings`, and the direction count when it is not every wording.
    static func holdsWords(_ r: RobustnessRow) -> String {
        "flagged in \(r.flaggedIn) of \(r.specifications) wordings"
            + (r.sameDirectionIn < r.specifications ? ", same direction in \(r.sameDirectionIn)" : "")
    }

    /// `[-83.1, -13.9]`: an interval of a difference in percentage points, the unit said once
    /// before it.
    static func interval(_ low: Double, _ high: Double) -> String {
        String(format: "[%+.1f, %+.1f]", low * 100, high * 100)
    }

    /// `accuracy`, or the harm category's name.
    static func metricTitle(_ metric: Metric, design: AuditReport.Design) -> String {
        metric == .accuracy ? "accuracy" : text(categoryName(metric, design: design))
    }

    /// The numbers behind each ranked finding, one row each, in the same order: the flagged
    /// disparities' table of report.md (so the same cross-check reads it), with each row's
    /// counts across wordings appended under `robustness:`.
    static func evidence(_ findings: [Finding]) -> [String] {
        guard !findings.isEmpty else { return [] }
        var md = MarkdownText()
        MarkdownReport.disparityTable(&md, findings.map(\.disparity), showDesign: true)
        var out = md.text.split(separator: "\n").map(String.init)
        guard findings.contains(where: { $0.robustness != nil }), out.count == findings.count + 2 else { return out }
        out[0] += " flagged in | same direction in | difference across wordings |"
        out[1] += "---:|---:|---|"
        for (index, finding) in findings.enumerated() {
            guard let r = finding.robustness else {
                out[index + 2] += " | | |"
                continue
            }
            out[index + 2] +=
                " \(r.flaggedIn) of \(r.specifications) | \(r.sameDirectionIn) of \(r.specifications) | "
                + "\(ReportFormat.signedPoints(r.differenceMin)) to \(ReportFormat.signedPoints(r.differenceMax)) |"
        }
        return out
    }

    /// One line per variant: its effect on its main metric overall and on the group it changes
    /// most, with the paired interval and the McNemar p; or that it changed no outcome.
    static func variantFinding(_ data: AuditReport, variant: AuditReport.Design) -> String {
        let base = variant.base ?? ""
        let name = variant.change.map { "\($0) (\(code(variant.name)) vs \(code(base)))" } ?? "\(code(variant.name)) vs \(code(base))"
        let rows = data.comparisons.filter { $0.design == variant.name && $0.metric.isHeadline }
        if rows.isEmpty { return name + ": no accuracy or harm rate in common to compare." }
        if rows.allSatisfy({ !$0.changedAnImage }) {
            return name + ": changed no prediction's accuracy or harm outcome (n = \(rows.first { $0.attribute == .all }?.n ?? rows[0].n))."
        }
        // The metric the variant is about: any harm when there are several categories, else the
        // first harm rate, else accuracy.
        let metrics = rows.map(\.metric)
        let metric = metrics.first { $0 == .anyHarm } ?? metrics.first { $0.isHarm } ?? metrics[0]
        let title = metric == .accuracy ? "accuracy" : text(categoryName(metric, design: variant))
        let overall = rows.first { $0.metric == metric && $0.attribute == .all }
        let groups = rows.filter { $0.metric == metric && $0.attribute != .all }
        let sized = groups.filter { !$0.belowMinimumN }
        let most = (sized.isEmpty ? groups : sized).max { abs($0.delta) < abs($1.delta) }
        // One line at a glance: the effect overall with its paired interval and test, then the
        // group it moves most; every group's interval and test is in the comparison table
        // (details.md).
        var parts: [String] = []
        if let overall {
            parts.append(
                "\(title) overall \(ReportFormat.percent(overall.baseValue)) → \(ReportFormat.percent(overall.value)), "
                    + shortDelta(overall, metric: metric))
        }
        if let most, most.delta != 0 {
            parts.append(
                "most moved: \(groupName(most)) \(ReportFormat.percent(most.baseValue)) → \(ReportFormat.percent(most.value))")
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
                let scope = figure.attribute == .all ? "overall" : "by \(text(ChartStyle.attributeTitle(figure.attribute)))"
                let metric = figure.metric == .accuracy ? "accuracy" : "\(categoryName(figure.metric, design: design)) rate"
                // Each source by its own name: two sources of one metric read as two figures.
                pieces.append("\(code(design.name)) \(text(metric)) \(scope) (\(text(sourceLabel(figure.source)))): \(k) of \(n)")
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
            "| design | metric | all images (95% CI) | n | groups compared | flagged \(worse): significant (Holm) / four-fifths only | flagged \(better): significant (Holm) / four-fifths only |",
            "|---|---|---|---:|---:|---:|---:|"
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
                let compared = data.disparities.filter { $0.design == design.name && $0.metric == metric }
                func count(worse: Bool, _ rule: FlagRule) -> Int {
                    compared.filter { $0.fairesWorse == worse && $0.flagRule == rule }.count
                }
                let title = metric == .accuracy ? "accuracy" : "\(categoryName(metric, design: design)) rate"
                out.append(
                    "| \(ReportFormat.escape(design.name)) | \(ReportFormat.escape(title)) | \(ReportFormat.percentWithCI(overall)) | \(overall.n) | \(compared.count) | "
                        + "\(count(worse: true, .holm)) / \(count(worse: true, .fourFifthsOnly)) | \(count(worse: false, .holm)) / \(count(worse: false, .fourFifthsOnly)) |"
                )
            }
        }
        return out.count > 2 ? out : []
    }

    /// A published source's short name: up to its first colon (`CLIP paper, Table 4`), at most 48
    /// characters.
    static func sourceLabel(_ source: String) -> String {
        let head = source.split(separator: ":", maxSplits: 1).first.map(String.init) ?? source
        let trimmed = head.trimmingCharacters(in: .whitespaces)
        return trimmed.count > 48 ? String(trimmed.prefix(47)) + "…" : trimmed
    }

    // MARK: Pieces

    /// `-30.8 pp [-53.7, -0.5], McNemar p = 0.1250, n = 13` (and the direction when the change is
    /// significant): a variant's paired change, its interval in points.
    static func shortDelta(_ r: ComparisonRow, metric: Metric) -> String {
        let better = metric == .accuracy ? r.delta > 0 : r.delta < 0
        var out = "\(ReportFormat.signedPoints(r.delta)) \(interval(r.ciLow, r.ciHigh)), McNemar \(pEquals(r.pValue)), n = \(r.n)"
        if r.delta != 0 && r.pValue < 0.05 { out += ", \(better ? Self.better : Self.worse)" }
        return out
    }

    /// `crime-related`, or for `any` the categories it joins (`non-human or crime-related`).
    static func categoryName(_ metric: Metric, design: AuditReport.Design) -> String {
        let category = (metric.harmCategory ?? "")
        guard category == anyHarmCategory else { return category }
        let parts = design.headlineMetrics.filter { $0.isHarm && $0 != metric }.map { ($0.harmCategory ?? "") }
        return parts.isEmpty ? "any harm" : parts.joined(separator: " or ")
    }

    static func groupName(_ row: ComparisonRow) -> String { groupName(row.group, row.attribute) }

    static func groupName(_ group: String, _ attribute: Slice) -> String {
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
