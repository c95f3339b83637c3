import Foundation

/// `retrieval.csv`, `retrieval_groups.csv` and `association.csv` (SPEC.md, "The report folder").
public enum MeasurementsCSV {
    public static let retrievalHeader = ["query", "attribute", "k", "desired", "max_skew", "min_skew", "ndkl",
                                         "max_group", "min_group", "null_max_skew", "p_value"]
    public static let retrievalGroupsHeader = ["query", "attribute", "group", "k", "count", "share", "desired_share", "skew"]
    public static let associationHeader = ["test", "attribute", "group_x", "group_y", "target_a", "target_b", "n_x", "n_y",
                                           "effect_size", "ci_low", "ci_high", "p_value", "permutations"]

    /// The files `measurements` fills, with their text: none for an audit that asks for neither
    /// section (so a report without them has no empty files).
    public static func files(_ measurements: EmbeddingMeasurements) -> [(name: String, text: String)] {
        var files: [(String, String)] = []
        if !measurements.retrieval.isEmpty {
            files.append(("retrieval.csv", renderRetrieval(measurements.retrieval)))
            files.append(("retrieval_groups.csv", renderRetrievalGroups(measurements.retrievalGroups)))
        }
        if !measurements.associations.isEmpty {
            files.append(("association.csv", renderAssociations(measurements.associations)))
        }
        return files
    }

    public static func renderRetrieval(_ rows: [RetrievalRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(retrievalHeader)
        for r in rows {
            writer.writeRow([r.query, r.attribute, CSVNumber.format(r.k), r.desired.rawValue, CSVNumber.format(r.maxSkew),
                             CSVNumber.format(r.minSkew), CSVNumber.format(r.ndkl), r.maxGroup ?? "", r.minGroup ?? "",
                             CSVNumber.format(r.nullMaxSkew), CSVNumber.format(r.pValue)])
        }
        return writer.text
    }

    public static func renderRetrievalGroups(_ rows: [RetrievalGroupRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(retrievalGroupsHeader)
        for r in rows {
            writer.writeRow([r.query, r.attribute, r.group, CSVNumber.format(r.k), CSVNumber.format(r.count),
                             CSVNumber.format(r.share), CSVNumber.format(r.desiredShare), CSVNumber.format(r.skew)])
        }
        return writer.text
    }

    public static func renderAssociations(_ tests: [(spec: AssociationSpec, result: AssociationResult)]) -> String {
        var writer = CSVWriter()
        writer.writeRow(associationHeader)
        for (spec, r) in tests {
            writer.writeRow([spec.name, spec.attribute, spec.groupX, spec.groupY, spec.targetA.name, spec.targetB.name,
                             CSVNumber.format(r.nX), CSVNumber.format(r.nY), CSVNumber.format(r.effectSize),
                             CSVNumber.format(r.ciLow), CSVNumber.format(r.ciHigh), CSVNumber.format(r.pValue),
                             CSVNumber.format(r.permutations)])
        }
        return writer.text
    }
}
