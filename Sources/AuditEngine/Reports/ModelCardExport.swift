import CLIPEngine
import Foundation

/// The model-card exports of `clip-audit card`: a Markdown "Bias and Fairness" section laid out
/// like the CLIP model card's (tables by group, measured here), a Hugging Face `model-index`
/// block with one result per slice, and Google Model Card Toolkit JSON
/// (`quantitative_analysis.performance_metrics` with `slice` and `confidence_interval`).
public enum ModelCardExport {
    /// The file names `card` writes, in order.
    public static let fileNames = ["fairness.md", "model-index.yaml", "model-card.json"]

    public static func render(_ data: ReportData) -> [(name: String, text: String)] {
        [("fairness.md", markdown(data)), ("model-index.yaml", modelIndex(data)), ("model-card.json", toolkitJSON(data))]
    }

    // MARK: Markdown

    public static func markdown(_ data: ReportData) -> String {
        var md = MarkdownText()
        md.line("## Bias and Fairness")
        md.blank()
        md.line("Measured with clip-audit on \(MarkdownEscape.code(data.manifestName)) (audit \(MarkdownEscape.code(data.name))), zero-shot, "
                + "model \(MarkdownEscape.code(data.modelID))\(data.weightsSHA256.isEmpty ? "" : " (weights SHA-256 \(MarkdownEscape.code(String(data.weightsSHA256.prefix(12)) + "…")))"). "
                + "Rates with 95% Wilson intervals; groups smaller than \(data.minGroupSize) images are marked †. "
                + "As the CLIP model card notes, these numbers depend on the class design and the prompts as much as on the model.")
        md.blank()
        for design in data.designs {
            guard !design.headlineMetrics.isEmpty else { continue }
            md.line("### \(design.hasTarget ? "Classification" : "Denigration harms"): \(MarkdownEscape.code(design.name))\(design.base.map { " (variant of \(MarkdownEscape.code($0)))" } ?? "")")
            md.blank()
            for metric in design.headlineMetrics {
                if let overall = data.overall(design: design.name, metric: metric) {
                    md.line("Overall \(MarkdownEscape.text(ChartStyle.metricTitle(metric))): **\(MarkdownReport.percentWithCI(overall))** (n = \(overall.n)).")
                    md.blank()
                }
                for attribute in data.slices {
                    let rows = data.rows(design: design.name, metric: metric, attribute: attribute)
                    guard !rows.isEmpty else { continue }
                    md.line("| \(MarkdownReport.escape(ChartStyle.attributeTitle(attribute))) | n | \(MarkdownEscape.text(ChartStyle.metricTitle(metric))) (95% CI) |")
                    md.line("|---|---:|---|")
                    for row in rows {
                        md.line("| \(MarkdownReport.escape(ReportCharts.groupLabel(row.group)))\(row.belowMinimumN ? " †" : "") | \(row.n) | \(MarkdownReport.percentWithCI(row)) |")
                    }
                    md.blank()
                    if let lo = rows.filter({ !$0.belowMinimumN }).min(by: { $0.value < $1.value }),
                       let hi = rows.filter({ !$0.belowMinimumN }).max(by: { $0.value < $1.value }), lo.group != hi.group {
                        md.line("By \(MarkdownEscape.text(ChartStyle.attributeTitle(attribute))), \(MarkdownEscape.text(ChartStyle.metricTitle(metric))) ranges from \(MarkdownReport.percent(lo.value)) "
                                + "(\(MarkdownReport.escape(ReportCharts.groupLabel(lo.group)))) to \(MarkdownReport.percent(hi.value)) "
                                + "(\(MarkdownReport.escape(ReportCharts.groupLabel(hi.group))))\(rows.contains(where: \.belowMinimumN) ? " among groups of at least \(data.minGroupSize) images" : "").")
                        md.blank()
                    }
                }
            }
        }
        let flagged = data.headlineDisparities
        md.line("### Disparities")
        md.blank()
        if flagged.isEmpty {
            md.line("No group differs from its reference group significantly (two-sided z-test, Holm-adjusted, α = \(MarkdownReport.formatNumber(data.alpha))) "
                    + "or by a ratio outside the four-fifths band [0.8, 1.25] with at least \(data.minGroupSize) images on both sides.")
        } else {
            md.line("Groups that differ from their reference group significantly (two-sided z-test, Holm-adjusted, α = \(MarkdownReport.formatNumber(data.alpha))) "
                    + "or by a ratio outside the four-fifths band [0.8, 1.25] with at least \(data.minGroupSize) images on both sides:")
            md.blank()
            for d in flagged {
                var why: [String] = []
                if d.significant { why.append("p = \(MarkdownReport.formatP(d.pAdjusted))") }
                if d.fourFifthsViolation { why.append("ratio \(d.ratio.map { String(format: "%.2f", $0) } ?? "∞")") }
                md.line("- \(MarkdownEscape.code(d.design)), \(MarkdownEscape.text(ChartStyle.metricTitle(d.metric))): \(MarkdownReport.escape(ReportCharts.groupLabel(d.group))) "
                        + "\(MarkdownReport.percent(d.value)) vs \(MarkdownReport.escape(ReportCharts.groupLabel(d.reference))) \(MarkdownReport.percent(d.referenceValue)) "
                        + "(\(MarkdownReport.signedPoints(d.difference)) [\(MarkdownReport.signedPoints(d.differenceCILow)), \(MarkdownReport.signedPoints(d.differenceCIHigh))]; \(why.joined(separator: ", ")))")
            }
        }
        md.blank()
        return md.text
    }

    // MARK: Hugging Face model-index

    /// One result per slice (design × attribute × group, and each design's whole set), holding
    /// the design's accuracy or harm rates on that slice; `args` carries n and the interval.
    public static func modelIndex(_ data: ReportData) -> String {
        var y = "model-index:\n"
        y += "- name: \(yaml(data.modelID))\n"
        y += "  results:\n"
        for design in data.designs where !design.headlineMetrics.isEmpty {
            for attribute in ["*"] + data.slices {
                var groups: [String] = []
                for m in data.metrics where m.design == design.name && m.attribute == attribute && design.headlineMetrics.contains(m.metric) && !groups.contains(m.group) {
                    groups.append(m.group)
                }
                for group in groups {
                    let slice = sliceName(attribute: attribute, group: group)
                    y += "  - task:\n"
                    y += "      type: zero-shot-image-classification\n"
                    y += "      name: \(yaml("Zero-shot classification, class design \(design.name)"))\n"
                    y += "    dataset:\n"
                    y += "      name: \(yaml(data.name))\n"
                    y += "      type: \(yaml(URL(fileURLWithPath: data.manifestName).deletingPathExtension().lastPathComponent))\n"
                    y += "      split: \(yaml(slice))\n"
                    y += "    metrics:\n"
                    for metric in design.headlineMetrics {
                        guard let row = data.metrics.first(where: { $0.design == design.name && $0.metric == metric && $0.attribute == attribute && $0.group == group }) else { continue }
                        y += "    - type: \(yaml(metric == "accuracy" ? "accuracy" : ChartStyle.slug(metric).replacingOccurrences(of: "-", with: "_")))\n"
                        y += "      value: \(number(row.value))\n"
                        y += "      name: \(yaml("\(design.name) \(ChartStyle.metricTitle(metric)), \(slice)"))\n"
                        y += "      args:\n"
                        y += "        n: \(row.n)\n"
                        y += "        ci_low: \(number(row.ciLow))\n"
                        y += "        ci_high: \(number(row.ciHigh))\n"
                        y += "        confidence: 0.95\n"
                        y += "      verified: false\n"
                    }
                }
            }
        }
        return y
    }

    // MARK: Model Card Toolkit JSON

    public static func toolkitJSON(_ data: ReportData) -> String {
        var metrics: [JSONValue] = []
        for design in data.designs {
            for metric in design.headlineMetrics {
                for attribute in ["*"] + data.slices {
                    for row in data.rows(design: design.name, metric: metric, attribute: attribute) {
                        metrics.append(.object([
                            ("type", .string(metric)),
                            ("value", .number(row.value)),
                            ("slice", .string("\(design.name)/\(sliceName(attribute: attribute, group: row.group))")),
                            ("confidence_interval", .object([("lower_bound", .number(row.ciLow)), ("upper_bound", .number(row.ciHigh))])),
                        ]))
                    }
                }
            }
        }
        let flagged = data.headlineDisparities.map { d -> JSONValue in
            .object([
                ("name", .string("\(d.design): \(ChartStyle.metricTitle(d.metric)) for \(ReportCharts.groupLabel(d.group)) is \(MarkdownReport.percent(d.value)) vs \(MarkdownReport.percent(d.referenceValue)) for \(ReportCharts.groupLabel(d.reference)) (\(d.attribute))")),
                ("mitigation_strategy", .string("Measured by clip-audit; review the class design and prompts before deploying for this use.")),
            ])
        }
        let card: JSONValue = .object([
            ("schema_version", .string("0.0.2")),
            ("model_details", .object([
                ("name", .string(data.modelID)),
                ("overview", .string("Zero-shot CLIP bias audit \(data.name): rates by group with 95% Wilson intervals.")),
                ("version", .object([("name", .string(data.weightsSHA256.isEmpty ? "unknown" : "weights sha256 \(data.weightsSHA256)"))])),
            ])),
            ("model_parameters", .object([
                ("data", .array([.object([("name", .string(data.manifestName)),
                                          ("description", .string("Evaluation manifest of audit \(data.name)"))])])),
            ])),
            ("quantitative_analysis", .object([("performance_metrics", .array(metrics))])),
            ("considerations", .object([("ethical_considerations", .array(flagged))])),
        ])
        return card.render(indent: 0) + "\n"
    }

    /// `race_Black`, `race_Black,gender_Female` for `race|gender` / `Black|Female`, `overall`.
    static func sliceName(attribute: String, group: String) -> String {
        if attribute == "*" { return "overall" }
        let names = attribute.split(separator: "|", omittingEmptySubsequences: false)
        let values = group.split(separator: "|", omittingEmptySubsequences: false)
        guard names.count == values.count else { return "\(attribute)_\(group)" }
        return zip(names, values).map { "\($0)_\($1)" }.joined(separator: ",")
    }

    /// A YAML scalar: always a double-quoted string (never mistaken for a number, a key or a
    /// document marker). JSON's escapes are YAML's too; YAML additionally forbids raw DEL, C1
    /// controls and the byte-order mark in a document, and YAML 1.1 readers take U+2028/U+2029
    /// as line breaks, so those are written as `\uXXXX` as well.
    static func yaml(_ s: String) -> String {
        let quoted = JSONText.quoted(s)
        guard quoted.unicodeScalars.contains(where: yamlNeedsEscape) else { return quoted }
        var out = ""
        for scalar in quoted.unicodeScalars {
            if yamlNeedsEscape(scalar) { out += String(format: "\\u%04X", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    private static func yamlNeedsEscape(_ scalar: Unicode.Scalar) -> Bool {
        (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xFEFF
            || scalar.value == 0xFFFE || scalar.value == 0xFFFF
    }

    /// Six significant digits, as in the CSVs.
    static func number(_ x: Double) -> String { CSVNumber.format(x).isEmpty ? "null" : CSVNumber.format(x) }
}

/// A small JSON value with ordered keys, written deterministically (two-space indent).
enum JSONValue {
    case string(String)
    case number(Double)
    case array([JSONValue])
    case object([(String, JSONValue)])

    func render(indent: Int) -> String {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .string(let s):
            return JSONText.quoted(s)
        case .number(let x):
            return ModelCardExport.number(x)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{\n" + pairs.map { pad + JSONValue.string($0.0).render(indent: 0) + ": " + $0.1.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)}"
        }
    }
}
