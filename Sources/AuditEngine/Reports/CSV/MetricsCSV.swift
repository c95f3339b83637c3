/// Renders `metrics.csv`, `disparities.csv`, `summary.csv` and `comparison.csv` with the exact columns of
/// docs/report-files.md. Flags such as the minimum-n and four-fifths flags are not
/// columns here; they belong in report.md. Name and label columns are text cells (formula-
/// neutralised, see ``CSVWriter/neutralise(_:)``), the others number cells.
public enum MetricsCSV {
    /// The columns of the three files that hold names and labels; ``ReportFolder`` restores
    /// them (``CSVWriter/restore(_:)``) when it reads a folder back.
    public static let textColumns: Set<String> = [
        "design", "base", "metric", "attribute", "group", "reference",
        "model", "base_model", "max_group", "min_group"
    ]

    /// The header of `metrics.csv`.
    public static let metricsHeader = ["design", "metric", "attribute", "group", "n", "count", "value", "ci_low", "ci_high"]
    /// The header of `disparities.csv`.
    public static let disparitiesHeader = [
        "design", "metric", "attribute", "group", "reference", "value",
        "reference_value", "difference", "ratio", "p_value", "p_adjusted",
        "significant", "n", "reference_n", "diff_ci_low", "diff_ci_high",
        "four_fifths", "small_group"
    ]
    /// The header `disparities.csv` had before the contract appended its sizes, interval and flags; a
    /// report folder written then is still read.
    public static let disparitiesHeaderBefore = Array(disparitiesHeader.prefix(12))
    /// The header of `summary.csv`.
    public static let summaryHeader = [
        "design", "metric", "attribute", "max_group", "max_value", "min_group", "min_value",
        "difference", "diff_ci_low", "diff_ci_high", "ratio"
    ]
    /// The header of `comparison.csv`.
    public static let comparisonHeader = [
        "design", "base", "metric", "attribute", "group", "n", "base_value", "value",
        "delta", "ci_low", "ci_high", "p_value"
    ]
    /// The header of a several-model audit's `models.csv` (the top folder).
    public static let modelsHeader = [
        "design", "metric", "attribute", "group", "model", "base_model", "n", "base_value",
        "value", "delta", "ci_low", "ci_high", "p_value", "p_adjusted"
    ]

    /// `metrics.csv`: one row per ``MetricRow``.
    public static func renderMetrics(_ rows: [MetricRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(metricsHeader)
        for row in rows {
            writer.writeRow([
                .text(row.design), .text(row.metric.csvName), .text(row.attribute), .text(row.group), .number(row.n),
                .number(row.count), .number(row.value), .number(row.ciLow), .number(row.ciHigh)
            ])
        }
        return writer.text
    }

    /// `disparities.csv`: one row per ``DisparityRow``; `ratio` empty when the reference value is 0;
    /// `significant` is `true` or `false`; then, appended (docs/report-files.md): the two sizes, the Newcombe
    /// hybrid score interval of the difference, and the four-fifths and small-group flags.
    public static func renderDisparities(_ rows: [DisparityRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(disparitiesHeader)
        for row in rows {
            writer.writeRow([
                .text(row.design), .text(row.metric.csvName), .text(row.attribute), .text(row.group), .text(row.reference),
                .number(row.value), .number(row.referenceValue), .number(row.difference), .number(row.ratio),
                .number(row.pValue), .number(row.pAdjusted), .number(row.significant),
                .number(row.n), .number(row.referenceN), .number(row.differenceCILow), .number(row.differenceCIHigh),
                .number(row.fourFifthsViolation), .number(row.belowMinimumN)
            ])
        }
        return writer.text
    }

    /// `summary.csv`: one row per ``SummaryRow`` (see ``groupSpreads(_:)``); `ratio` empty when
    /// the largest value is 0.
    public static func renderSummary(_ rows: [SummaryRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(summaryHeader)
        for row in rows {
            writer.writeRow([
                .text(row.design), .text(row.metric.csvName), .text(row.attribute), .text(row.maxGroup),
                .number(row.maxValue), .text(row.minGroup), .number(row.minValue), .number(row.difference),
                .number(row.differenceCILow), .number(row.differenceCIHigh), .number(row.ratio)
            ])
        }
        return writer.text
    }

    /// `comparison.csv`: one row per ``ComparisonRow``.
    public static func renderComparisons(_ rows: [ComparisonRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(comparisonHeader)
        for row in rows {
            writer.writeRow([
                .text(row.design), .text(row.base), .text(row.metric.csvName), .text(row.attribute), .text(row.group),
                .number(row.n), .number(row.baseValue), .number(row.value), .number(row.delta),
                .number(row.ciLow), .number(row.ciHigh), .number(row.pValue)
            ])
        }
        return writer.text
    }

    /// `models.csv`: one row per ``ModelComparisonRow``.
    public static func renderModels(_ rows: [ModelComparisonRow]) -> String {
        var writer = CSVWriter()
        writer.writeRow(modelsHeader)
        for row in rows {
            writer.writeRow([
                .text(row.design), .text(row.metric.csvName), .text(row.attribute), .text(row.group), .text(row.model),
                .text(row.baseModel), .number(row.n), .number(row.baseValue), .number(row.value),
                .number(row.delta), .number(row.ciLow), .number(row.ciHigh), .number(row.pValue),
                .number(row.pAdjusted)
            ])
        }
        return writer.text
    }
}
