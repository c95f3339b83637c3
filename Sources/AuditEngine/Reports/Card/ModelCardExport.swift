import CLIPEngine
import Foundation

/// The model-card exports of `clip-audit card`: a Markdown "Bias and Fairness" section — the
/// findings (``Findings``), then the model card's tables by group, variants beside their bases —
/// a Hugging Face `model-index` block (one result per design, metrics named by group) and Google
/// Model Card Toolkit JSON (`quantitative_analysis.performance_metrics` with `slice` and
/// `confidence_interval`).
public enum ModelCardExport {
    /// The file names `card` writes, in order.
    public static let fileNames = ["fairness.md", "model-index.yaml", "model-card.json"]
    /// The card's record of the run it came from (its ``AuditReport/runID``), beside the exports.
    public static let runKeyName = ".clip-audit-card.run"
    /// The folder `card` writes into by default, inside the report folder.
    public static let defaultFolder = "card"

    public static func render(_ data: AuditReport) -> [(name: String, text: String)] {
        [("fairness.md", markdown(data)), ("model-index.yaml", modelIndex(data)), ("model-card.json", toolkitJSON(data))]
    }

    /// Writes the exports and the run key into `directory` (only files `card` wrote there are
    /// replaced); returns the exports' paths. With `report`, `directory` is a folder of that
    /// report folder (its default `card/`), reached without following a link.
    public static func write(_ data: AuditReport, to directory: URL, inside report: URL? = nil) throws -> [URL] {
        return try writeExports(render(data), runKey: data.runID, to: directory, inside: report)
    }

    /// The card folder, open: `directory` as named, or the folder of that name in `report`
    /// (which must not be a link: a handed-over report's `card -> /elsewhere` would send the
    /// exports, and the removal of stale ones, there).
    static func open(_ directory: URL, inside report: URL?) throws -> FolderHandle {
        guard let report else {
            try OutputFolder.refuseRoot(directory)
            return try FolderHandle(url: directory, what: "card folder")
        }
        return try FolderHandle(directory.lastPathComponent, in: FolderHandle(url: report, what: "report folder"), what: "card folder")
    }

    /// Writes `exports` and the run key (which run the card describes) into `directory`, through
    /// the card folder's ledger; returns the exports' paths.
    static func writeExports(
        _ exports: [(name: String, text: String)], runKey: String, to directory: URL, inside report: URL? = nil
    ) throws -> [URL] {
        let names = exports.map(\.name)
        // A card folder from before ledgers: the exports, all of them, which only `card` writes together.
        var folder = try OutputFolder(handle: open(directory, inside: report), kind: "card", files: names + [runKeyName]) { url in
            names.allSatisfy { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) } ? Set(names) : []
        }
        var written: [URL] = []
        for (name, text) in exports {
            try folder.write(text, to: name)
            written.append(folder.url.appendingPathComponent(name))
        }
        try folder.write(runKey + "\n", to: runKeyName)
        try folder.finish()
        return written
    }

    /// Removes the files `card` wrote into the report's `card/` folder when they came from
    /// another run than `runID` (a card beside a report must describe that report). Only files
    /// the card's ledger lists are removed; the folder goes too when nothing else is in it.
    static func removeStaleCard(in report: FolderHandle, runID: String) throws {
        switch try report.entry(defaultFolder) {
        case .directory: break
        case .link: throw report.linkError(defaultFolder)
        default: return
        }
        let card = try FolderHandle(defaultFolder, in: report, what: "card folder")
        let ledger = OutputFolder.ledgerName("card")
        guard try card.entry(ledger) != .missing else { return }
        if try card.entry(runKeyName) == .regular {
            let key = (try? FileKind.contents(of: card.url.appendingPathComponent(runKeyName), limit: 4096))
                .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            if let key, !runID.isEmpty, key == runID { return }
        }
        do {
            var folder = try OutputFolder(handle: card, kind: "card", files: [])
            try folder.finish()
            try card.removeFile(ledger)
        }
        report.removeEmptyFolder(defaultFolder)
    }

    // MARK: Markdown

    /// The fairness section: findings, then one table per attribute for accuracy (a column per
    /// design) and one for harm rates (a column per design × category, variants beside their base).
    public static func markdown(_ whole: AuditReport) -> String {
        // The mitigations' variants are one table of their own at the end, not columns.
        let data = whole.withoutMitigationVariants
        var md = MarkdownText()
        md.line("## Bias and Fairness")
        md.blank()
        md.line(
            "Measured with clip-audit on \(data.dataset.map { MarkdownEscape.code($0.id) + ($0.split.map { " (\(MarkdownEscape.code($0)))" } ?? "") } ?? MarkdownEscape.code(data.manifestName)) "
                + "(audit \(MarkdownEscape.code(data.name))), zero-shot, "
                + "model \(MarkdownEscape.code(hubModelName(data.modelID)))\(data.weightsSHA256.isEmpty ? "" : " (weights SHA-256 \(MarkdownEscape.code(String(data.weightsSHA256.prefix(12)) + "…")))"). "
                + "Rates with 95% Wilson intervals; groups smaller than \(data.minGroupSize) images are marked †. "
                + "As the CLIP model card notes, these numbers depend on the class design and the prompts as much as on the model."
                + parityNote(data))
        md.blank()
        var findings = Findings(data)
        // The card keeps the findings' lines; their numbers are the report's.
        findings.table = []
        findings.evidence = []
        findings.lines += whole.mitigations.isEmpty ? [] : whole.mitigationReport.findingLines
        md.text += findings.markdown(heading: "###")
        let attributes = data.slices.filter { !$0.isIntersection }
        typealias Column = (design: AuditReport.Design, metric: Metric)
        let accuracy: [Column] = data.designs.filter { $0.headlineMetrics.contains(.accuracy) }.map { ($0, .accuracy) }
        var harms: [Column] = []
        for design in data.designs {
            for metric in design.headlineMetrics where metric.isHarm { harms.append((design, metric)) }
        }
        // Each variant's column beside its base's (the paper's Table 7: without and with `child`).
        var harmColumns: [Column] = []
        for column in harms where column.design.base == nil {
            harmColumns.append(column)
            harmColumns += harms.filter { $0.design.base == column.design.name && $0.metric == column.metric }
        }
        for column in harms where !harmColumns.contains(where: { $0.design.name == column.design.name && $0.metric == column.metric }) {
            harmColumns.append(column)
        }
        let tables: [(String, [Column])] = [("Accuracy", accuracy), ("Harm rates", harmColumns)]
        for (title, columns) in tables where !columns.isEmpty {
            md.line("### \(title) by group")
            md.blank()
            for attribute in attributes {
                groupTable(&md, data, attribute: attribute, columns: columns)
            }
            if title == "Accuracy" { parityTable(&md, data, attributes: attributes) }
        }
        if !whole.mitigations.isEmpty { md.text += whole.mitigationReport.markdown(chart: nil, heading: "###") }
        return md.text
    }

    /// One table: the attribute's groups as rows, each column one design × metric.
    static func groupTable(
        _ md: inout MarkdownText, _ data: AuditReport, attribute: Slice, columns: [(design: AuditReport.Design, metric: Metric)]
    ) {
        var groups: [String] = []
        for (design, metric) in columns {
            for r in data.rows(design: design.name, metric: metric, attribute: attribute) where !groups.contains(r.group) {
                groups.append(r.group)
            }
        }
        guard !groups.isEmpty else { return }
        groups.sort(by: compareGroupValues)
        let headers = columns.map { design, metric in
            "\(ReportFormat.escape(design.name))\(metric == .accuracy ? "" : " " + ReportFormat.escape((metric.harmCategory ?? "")))"
        }
        md.line("| \(ReportFormat.escape(attribute)) | n | " + headers.joined(separator: " | ") + " |")
        md.line("|---|---:|" + String(repeating: "---|", count: columns.count))
        for group in groups {
            var n: Int?
            var small = false
            let cells = columns.map { design, metric -> String in
                guard let row = data.rows(design: design.name, metric: metric, attribute: attribute).first(where: { $0.group == group })
                else { return "" }
                n = n ?? row.n
                small = small || row.belowMinimumN
                let flag = data.disparities.first {
                    $0.design == design.name && $0.metric == metric && $0.attribute == attribute && $0.group == group
                }
                return ReportFormat.percentWithCI(row) + (flag.map(MarkdownReport.directionMark) ?? "")
            }
            md.line(
                "| \(ReportFormat.escape(ReportCharts.groupLabel(group)))\(small ? " †" : "") | \(n.map(String.init) ?? "") | "
                    + cells.joined(separator: " | ") + " |")
        }
        md.blank()
    }

    // MARK: Hugging Face model-index

    /// The model's Hub id for `model-index`'s `name`: the repo id when the run used one; for a
    /// local checkpoint directory its folder name (a local path never goes into a model card).
    static func hubModelName(_ id: String) -> String {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        let isRepoID =
            parts.count == 2
            && parts.allSatisfy { part in
                !part.isEmpty && part.first != "." && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
            }
        if isRepoID { return id }
        let last = URL(fileURLWithPath: id).standardizedFileURL.lastPathComponent
        return last.isEmpty || last == "/" ? "model" : last
    }

    /// One result per design: its accuracy and harm rates over all images and per attribute group, each
    /// metric named by its group (`accuracy (race: Black)`) with the group, n and interval in
    /// `args`; the dataset is the audit file's `dataset:` (Hub id and split).
    public static func modelIndex(_ whole: AuditReport) -> String {
        // The model as audited: a mitigation's variant is a fix's result, not the model's.
        let data = whole.withoutMitigationVariants
        var y = "model-index:\n"
        y += "- name: \(yaml(hubModelName(data.modelID)))\n"
        y += "  results:\n"
        let datasetName = data.dataset?.id ?? data.name
        for design in data.designs where !design.headlineMetrics.isEmpty {
            y += "  - task:\n"
            y += "      type: zero-shot-image-classification\n"
            y +=
                "      name: \(yaml("Zero-shot classification, class design \(design.name)\(design.base.map { " (variant of \($0))" } ?? "")"))\n"
            y += "    dataset:\n"
            y += "      name: \(yaml(datasetName))\n"
            y += "      type: \(yaml(data.dataset?.id ?? data.name))\n"
            if let split = data.dataset?.split { y += "      split: \(yaml(split))\n" }
            y += "    metrics:\n"
            for metric in design.headlineMetrics {
                // The whole set and each attribute, as the model card's tables (intersections: report.md, metrics.csv).
                for attribute in ([.all] + data.slices).filter({ !$0.isIntersection }) {
                    for row in data.rows(design: design.name, metric: metric, attribute: attribute) {
                        let title = metric.title
                        let scope = attribute == .all ? "all images" : "\(attribute): \(row.group)"
                        y +=
                            "    - type: \(yaml(metric == .accuracy ? "accuracy" : ChartStyle.slug(metric.csvName).replacingOccurrences(of: "-", with: "_")))\n"
                        y += "      value: \(number(row.value))\n"
                        y += "      name: \(yaml("\(title) (\(scope))"))\n"
                        y += "      args:\n"
                        y += "        attribute: \(yaml(attribute == .all ? "all" : attribute.csvText))\n"
                        y += "        group: \(yaml(attribute == .all ? "all" : row.group))\n"
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

    public static func toolkitJSON(_ whole: AuditReport) -> String {
        let data = whole.withoutMitigationVariants
        var metrics: [JSONValue] = []
        for design in data.designs {
            for metric in design.headlineMetrics {
                for attribute in [.all] + data.slices {
                    for row in data.rows(design: design.name, metric: metric, attribute: attribute) {
                        metrics.append(
                            .object([
                                ("type", .string(metric.csvName)),
                                ("value", .number(row.value)),
                                ("slice", .string("\(design.name)/\(sliceName(attribute: attribute, group: row.group))")),
                                (
                                    "confidence_interval",
                                    .object([("lower_bound", .number(row.ciLow)), ("upper_bound", .number(row.ciHigh))])
                                )
                            ]))
                    }
                }
            }
        }
        let flagged = data.headlineDisparities.map { d -> JSONValue in
            .object([
                (
                    "name",
                    .string(
                        "\(d.design): \(d.metric.title) for \(ReportCharts.groupLabel(d.group)) is \(ReportFormat.percent(d.value)) vs \(ReportFormat.percent(d.referenceValue)) for \(ReportCharts.groupLabel(d.reference)) (\(d.attribute))"
                    )
                ),
                (
                    "mitigation_strategy",
                    .string("Measured by clip-audit; review the class design and prompts before deploying for this use.")
                )
            ])
        }
        let card: JSONValue = .object([
            ("schema_version", .string("0.0.2")),
            (
                "model_details",
                .object([
                    // The Hub id or the checkpoint's folder name: a local path never goes into a card.
                    ("name", .string(hubModelName(data.modelID))),
                    ("overview", .string("Zero-shot CLIP bias audit \(data.name): rates by group with 95% Wilson intervals.")),
                    (
                        "version",
                        .object([("name", .string(data.weightsSHA256.isEmpty ? "unknown" : "weights sha256 \(data.weightsSHA256)"))])
                    )
                ])
            ),
            (
                "model_parameters",
                .object([
                    (
                        "data",
                        .array([
                            .object([
                                ("name", .string(data.manifestName)),
                                ("description", .string("Evaluation manifest of audit \(data.name)"))
                            ])
                        ])
                    )
                ])
            ),
            ("quantitative_analysis", .object([("performance_metrics", .array(metrics))])),
            ("considerations", .object([("ethical_considerations", .array(flagged))]))
        ])
        return card.render(indent: 0) + "\n"
    }

    /// `race_Black`, `race_Black,gender_Female` for `race|gender` / `Black|Female`, `overall`.
    static func sliceName(attribute: Slice, group: String) -> String {
        let slice = attribute
        if slice == .all { return "overall" }
        guard let values = slice.groupValues(group) else { return "\(attribute)_\(group)" }
        return zip(slice.attributes, values).map { "\($0)_\($1)" }.joined(separator: ",")
    }

    /// A YAML scalar: always a double-quoted string (never mistaken for a number, a key or a
    /// document marker). JSON's escapes are YAML's too; YAML additionally forbids raw DEL, C1
    /// controls and the byte-order mark in a document, and YAML 1.1 readers take U+2028/U+2029
    /// as line breaks, so those are written as `\uXXXX` as well. Invisible formatting characters
    /// (bidi overrides, zero-width spaces) become U+FFFD, as in every other output.
    static func yaml(_ s: String) -> String {
        let quoted = JSONText.quoted(TextSafety.visibleFormatting(s))
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

// MARK: Several models

extension ModelCardExport {
    /// The file names `card` writes for a several-model audit's top folder: the fairness section,
    /// and per model its own `model-index` block and Model Card Toolkit JSON.
    ///
    /// A model card's metadata describes one model: huggingface_hub reads every entry of a
    /// `model-index` list as results of one model named after the last entry, so one list
    /// holding every model would paste as a single model with all their metrics. Each model's
    /// block is therefore its own file, for that model's card.
    public static func fileNames(_ data: ModelsReportData) -> [String] {
        ["fairness.md"] + data.models.flatMap { ["model-index-\($0.label).yaml", "model-card-\($0.label).json"] }
    }

    /// The exports of a top folder: `fairness.md` with the comparison first (the top report's
    /// findings and its table of every model's rates over all images) and then one section per
    /// model; per model, `model-index-<label>.yaml` (one `model-index` entry) and a toolkit JSON.
    public static func render(_ data: ModelsReportData) -> [(name: String, text: String)] {
        [("fairness.md", markdown(data))]
            + data.models.flatMap { model in
                [("model-index-\(model.label).yaml", modelIndex(model.data)), ("model-card-\(model.label).json", toolkitJSON(model.data))]
            }
    }

    /// Writes the exports of a top folder and the run key (every model's run id) into `directory`.
    public static func write(_ data: ModelsReportData, to directory: URL, inside report: URL? = nil) throws -> [URL] {
        for model in data.models where AuditModel.labelProblem(model.label) != nil {
            throw AuditError(file: directory.path, "model label \(JSONText.quoted(model.label)) cannot name a card file")
        }
        return try writeExports(
            render(data), runKey: data.models.map(\.data.runID).joined(separator: ","), to: directory, inside: report)
    }

    /// The fairness section of several models: the comparison, then each model's own section
    /// (as `card` writes it for that model's folder) one heading level down.
    public static func markdown(_ data: ModelsReportData) -> String {
        var md = MarkdownText()
        md.line("## Bias and Fairness")
        md.blank()
        let first = data.models.first?.data
        let source =
            first.map { d in
                d.dataset.map { MarkdownEscape.code($0.id) + ($0.split.map { " (\(MarkdownEscape.code($0)))" } ?? "") }
                    ?? MarkdownEscape.code(d.manifestName)
            } ?? "—"
        md.line(
            "Measured with clip-audit on \(source) (audit \(MarkdownEscape.code(data.name))), zero-shot, "
                + "\(data.models.count) models on the same images: "
                + data.models.map { "\(MarkdownEscape.code($0.label)) (\(MarkdownEscape.code(hubModelName($0.data.modelID))))" }.joined(
                    separator: ", ")
                + "; the first is the base the others are compared with, image by image. "
                + "As the CLIP model card notes, these numbers depend on the class design and the prompts as much as on the model.")
        md.blank()
        md.line("### Model comparison")
        md.blank()
        for line in ModelsReport.findings(data) { md.line("- " + line) }
        md.blank()
        for line in ModelsReport.overviewTable(data) { md.line(line) }
        md.blank()
        for model in data.models {
            md.line("### \(MarkdownEscape.code(model.label)): \(MarkdownEscape.code(hubModelName(model.data.modelID)))")
            md.blank()
            // The model's own section without its title; its `###` headings one level down.
            let lines = markdown(model.data).components(separatedBy: "\n").drop { !$0.hasPrefix("## ") }.dropFirst()
            let body = lines.map { $0.hasPrefix("### ") ? "#" + $0 : $0 }.joined(separator: "\n")
            md.text += body.drop { $0 == "\n" }
        }
        return md.text
    }
}
