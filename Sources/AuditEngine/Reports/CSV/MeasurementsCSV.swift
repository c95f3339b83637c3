import Foundation

/// `retrieval.csv`, `retrieval_groups.csv`, `association.csv` and `robustness.csv` (docs/report-files.md).
public enum MeasurementsCSV {
    public static let retrievalHeader = [
        "query", "attribute", "k", "desired", "max_skew", "min_skew", "ndkl",
        "max_group", "min_group", "null_max_skew", "p_value"
    ]
    /// The `query` of a retrieval.csv row that is the mean over the queries.
    public static let meanQuery = "*"
    public static let retrievalGroupsHeader = ["query", "attribute", "group", "k", "count", "share", "desired_share", "skew"]
    public static let associationHeader = [
        "test", "attribute", "group_x", "group_y", "target_a", "target_b", "n_x", "n_y",
        "effect_size", "ci_low", "ci_high", "p_value", "permutations"
    ]

    /// The files `report`'s measurements fill, with their text: none for an audit that asks for
    /// none of the sections (so a report without them has no empty files).
    public static func files(_ report: AuditReport) -> [(name: String, text: String)] {
        var files: [(String, String)] = []
        if !report.retrieval.isEmpty {
            files.append(("retrieval.csv", renderRetrieval(report.retrieval)))
            files.append(("retrieval_groups.csv", renderRetrievalGroups(report.retrievalGroups)))
        }
        if !report.associations.isEmpty {
            files.append(("association.csv", renderAssociations(report.associations)))
        }
        if let rows = report.robustness {
            files.append(("robustness.csv", RobustnessCSV.render(rows)))
        }
        return MitigationsCSV.amend(files, report: report)
    }

    public static func renderRetrieval(_ rows: [RetrievalRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(retrievalHeader)
        for r in rows { writer.writeRow(retrievalCells(r)) }
        return writer.text
    }

    /// One line of `retrieval.csv`, in `retrievalHeader`'s order.
    static func retrievalCells(_ r: RetrievalRow) -> [CSVCell] {
        [
            .text(r.query ?? meanQuery), .text(r.attribute.csvText), .number(r.k), .verbatim(r.desired.rawValue),
            .number(r.maxSkew), .number(r.minSkew), .number(r.ndkl), .text(r.maxGroup ?? ""),
            .text(r.minGroup ?? ""), .number(r.nullMaxSkew), .number(r.pValue)
        ]
    }

    public static func renderRetrievalGroups(_ rows: [RetrievalGroupRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(retrievalGroupsHeader)
        for r in rows {
            writer.writeRow([
                .text(r.query), .text(r.attribute.csvText), .text(r.group), .number(r.k), .number(r.count),
                .number(r.share), .number(r.desiredShare), .number(r.skew)
            ])
        }
        return writer.text
    }

    public static func renderAssociations(_ tests: [AuditReport.Association]) -> String {
        var writer = CSVWriter()
        writer.writeRow(associationHeader)
        for test in tests {
            let r = test.result
            writer.writeRow([
                .text(test.name), .text(test.attribute.csvText), .text(test.groupX), .text(test.groupY),
                .text(test.targetA), .text(test.targetB), .number(r.nX), .number(r.nY),
                .number(r.effectSize), .number(r.ciLow), .number(r.ciHigh), .number(r.pValue),
                .number(r.permutations)
            ])
        }
        return writer.text
    }
}
