/// `robustness.csv` (docs/report-files.md): one row per disparity row of the audit's own wording.
public enum RobustnessCSV {
    public static let header = [
        "design", "metric", "attribute", "group", "reference", "difference", "flagged", "specifications",
        "flagged_in", "same_direction_in", "difference_min", "difference_median", "difference_max"
    ]

    public static func render(_ rows: [RobustnessRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(header)
        for row in rows {
            writer.writeRow([
                .text(row.design), .text(row.metric.csvName), .text(row.attribute.csvText), .text(row.group), .text(row.reference),
                .number(row.difference), .number(row.flagged), .number(row.specifications), .number(row.flaggedIn),
                .number(row.sameDirectionIn), .number(row.differenceMin), .number(row.differenceMedian),
                .number(row.differenceMax)
            ])
        }
        return writer.text
    }
}
