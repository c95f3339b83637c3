import Foundation

/// Every model after the first against the first, on the same images: per design, compared
/// model, metric, attribute and group, the paired arithmetic of a variant comparison
/// (``comparisons(variant:base:rows:specs:settings:)``: Newcombe's paired interval, the exact
/// McNemar test) with the models in place of the designs, and Holm within
/// design × metric × attribute for each compared model.
///
/// `runs` are the models' runs in the audit file's order, over the same rows and designs;
/// `labels` their labels. Order: designs as configured, then models, then the variant
/// comparison's order (metrics, slices, groups).
func modelComparisons(runs: [AuditRun], labels: [String], settings: MetricSettings) -> [ModelComparisonRow] {
    guard let base = runs.first, runs.count > 1 else { return [] }
    let specs = sliceSpecs(settings)
    var result: [ModelComparisonRow] = []
    for (index, design) in base.table.designs.enumerated() {
        for (run, label) in zip(runs, labels).dropFirst() {
            let rows = comparisons(
                variant: run.table.designs[index], base: design, rows: base.table.rows,
                specs: specs, settings: settings)
            let adjusted = holmAdjusted(rows.map(\.pValue), families: rows.map { [$0.metric.csvName, $0.attribute.csvText] })
            for (row, pAdjusted) in zip(rows, adjusted) {
                result.append(
                    ModelComparisonRow(
                        design: design.name, metric: row.metric, attribute: row.attribute, group: row.group,
                        model: label, baseModel: labels[0], n: row.n, baseValue: row.baseValue, value: row.value,
                        delta: row.delta, ciLow: row.ciLow, ciHigh: row.ciHigh, pValue: row.pValue, pAdjusted: pAdjusted,
                        baseOnly: row.baseOnly, modelOnly: row.variantOnly, belowMinimumN: row.belowMinimumN))
            }
        }
    }
    return result
}
