import Foundation

/// One line of `mitigations.csv` (docs/report-files.md): for a mitigation and a design it applies
/// to, one metric's between-group gap (summary.csv's `difference`, max − min) and its value over
/// the whole set, before (the design) and after (the variant `<design>~<mitigation>`).
public struct MitigationRow: Sendable, Equatable {
    public var mitigation: String
    public var design: String
    public var metric: SummaryRow.Measure
    public var attribute: Slice
    public var gapBefore: Double
    public var gapAfter: Double?
    public var overallBefore: Double?
    public var overallAfter: Double?

    public var gapChange: Double? { gapAfter.map { $0 - gapBefore } }
    public var overallChange: Double? {
        guard let before = overallBefore, let after = overallAfter else { return nil }
        return after - before
    }

    /// The rows of `mitigations.csv`: mitigations in audit-file order, each design it applies to
    /// in its order, the design's summary rows in summary.csv's order. `overall` is the metric's
    /// `*` row (none for `demographic_parity` and `equalized_odds`, which have no whole-set value).
    public static func rows(mitigations: [MitigationSpec], metrics: [MetricRow]) -> [MitigationRow] {
        rows(mitigations: mitigations.map { ($0.name, $0.designs) }, metrics: metrics)
    }

    /// ``rows(mitigations:metrics:)`` for mitigations given by name and designs.
    public static func rows(mitigations: [(name: String, designs: [String])], metrics: [MetricRow]) -> [MitigationRow] {
        let spreads = groupSpreads(metrics)
        var spreadOf: [String: [SummaryRow]] = [:]
        for row in spreads { spreadOf[row.design, default: []].append(row) }
        var overall: [String: Double] = [:]
        for row in metrics where row.attribute == .all { overall["\(row.design)\u{1F}\(row.metric.csvName)"] = row.value }
        func whole(_ design: String, _ measure: SummaryRow.Measure) -> Double? {
            guard case .metric(let metric) = measure else { return nil }
            return overall["\(design)\u{1F}\(metric.csvName)"]
        }
        var rows: [MitigationRow] = []
        for mitigation in mitigations {
            for design in mitigation.designs {
                let variant = design + MitigationSpec.separator + mitigation.name
                let after = spreadOf[variant] ?? []
                for before in spreadOf[design] ?? [] {
                    let match = after.first { $0.metric == before.metric && $0.attribute == before.attribute }
                    rows.append(
                        MitigationRow(
                            mitigation: mitigation.name, design: design, metric: before.metric, attribute: before.attribute,
                            gapBefore: before.difference, gapAfter: match?.difference,
                            overallBefore: whole(design, before.metric), overallAfter: whole(variant, before.metric)))
                }
            }
        }
        return rows
    }
}

/// `mitigations.csv`, and `retrieval.csv` with the appended `mitigation` column, for an audit
/// with `mitigations:` (docs/report-files.md). Without `mitigations:` neither changes: there is
/// no `mitigations.csv`, and `retrieval.csv` keeps its columns byte for byte.
public enum MitigationsCSV {
    public static let header = [
        "mitigation", "design", "metric", "attribute", "gap_before", "gap_after", "gap_change",
        "overall_before", "overall_after", "overall_change"
    ]

    public static func render(_ rows: [MitigationRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(header)
        for r in rows {
            writer.writeRow([
                .text(r.mitigation), .text(r.design), .text(r.metric.csvName), .text(r.attribute.csvText),
                .number(r.gapBefore), .number(r.gapAfter), .number(r.gapChange),
                .number(r.overallBefore), .number(r.overallAfter), .number(r.overallChange)
            ])
        }
        return writer.text
    }

    /// `retrieval.csv` with a `mitigation` column: the unmitigated rows (column empty), then each
    /// mitigation's rows in audit-file order.
    public static func renderRetrieval(_ plain: [RetrievalRow], mitigated: [(mitigation: String, rows: [RetrievalRow])]) -> String {
        var writer = CSVWriter()
        writer.writeRow(MeasurementsCSV.retrievalHeader + ["mitigation"])
        for r in plain { writer.writeRow(MeasurementsCSV.retrievalCells(r) + [.text("")]) }
        for (name, rows) in mitigated {
            for r in rows { writer.writeRow(MeasurementsCSV.retrievalCells(r) + [.text(name)]) }
        }
        return writer.text
    }

    /// The report's measurement files with the mitigations': `retrieval.csv` replaced by its
    /// form with the `mitigation` column and `mitigations.csv` added, when the report has
    /// mitigations; `files` unchanged otherwise.
    public static func amend(_ files: [(name: String, text: String)], report: AuditReport) -> [(name: String, text: String)] {
        guard !report.mitigations.isEmpty else { return files }
        var out = files.map { file -> (name: String, text: String) in
            guard file.name == "retrieval.csv" else { return file }
            return (file.name, renderRetrieval(report.retrieval, mitigated: report.mitigatedRetrieval.map { ($0.mitigation, $0.rows) }))
        }
        out.append(("mitigations.csv", render(report.mitigationRows)))
        return out
    }
}
