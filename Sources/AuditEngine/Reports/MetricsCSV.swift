/// Renders `metrics.csv`, `disparities.csv` and `comparison.csv` with the exact columns of
/// SPEC.md ("The report folder"). Flags such as the minimum-n and four-fifths flags are not
/// columns here; they belong in report.md.
public enum MetricsCSV {
    /// The header of `metrics.csv`.
    public static let metricsHeader = ["design", "metric", "attribute", "group", "n", "count", "value", "ci_low", "ci_high"]
    /// The header of `disparities.csv`.
    public static let disparitiesHeader = ["design", "metric", "attribute", "group", "reference", "value",
                                           "reference_value", "difference", "ratio", "p_value", "p_adjusted",
                                           "significant"]
    /// The header of `comparison.csv`.
    public static let comparisonHeader = ["design", "base", "metric", "attribute", "group", "n", "base_value", "value",
                                          "delta", "ci_low", "ci_high", "p_value"]

    /// `metrics.csv`: one row per ``MetricRow``.
    public static func renderMetrics(_ rows: [MetricRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(metricsHeader)
        for row in rows {
            writer.writeRow([row.design, row.metric, row.attribute, row.group, CSVNumber.format(row.n),
                             CSVNumber.format(row.count), CSVNumber.format(row.value), CSVNumber.format(row.ciLow),
                             CSVNumber.format(row.ciHigh)])
        }
        return writer.text
    }

    /// `disparities.csv`: one row per ``DisparityRow``; `ratio` empty when the reference value is 0;
    /// `significant` is `true` or `false`.
    public static func renderDisparities(_ rows: [DisparityRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(disparitiesHeader)
        for row in rows {
            writer.writeRow([row.design, row.metric, row.attribute, row.group, row.reference,
                             CSVNumber.format(row.value), CSVNumber.format(row.referenceValue),
                             CSVNumber.format(row.difference), CSVNumber.format(row.ratio),
                             CSVNumber.format(row.pValue), CSVNumber.format(row.pAdjusted),
                             CSVNumber.format(row.significant)])
        }
        return writer.text
    }

    /// `comparison.csv`: one row per ``ComparisonRow``.
    public static func renderComparisons(_ rows: [ComparisonRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(comparisonHeader)
        for row in rows {
            writer.writeRow([row.design, row.base, row.metric, row.attribute, row.group, CSVNumber.format(row.n),
                             CSVNumber.format(row.baseValue), CSVNumber.format(row.value), CSVNumber.format(row.delta),
                             CSVNumber.format(row.ciLow), CSVNumber.format(row.ciHigh), CSVNumber.format(row.pValue)])
        }
        return writer.text
    }
}
