import Foundation

extension ReportFolder {
    /// `summary.csv` read back and checked against the spreads that `metrics.csv`'s counts give
    /// (``groupSpreads(_:)``): the file must have exactly those rows, in any order, with the same
    /// groups and the same figures up to the CSV's six significant digits. The readers take the
    /// spreads from the counts (``groupSpreads(_:)``, exact), so a folder written before
    /// summary.csv existed, which has none, reads as well; an edited summary.csv is refused
    /// rather than contradicting the card or diff made from the folder.
    ///
    /// - Throws: `AuditError` naming the file and line of the first row that does not match.
    static func checkSummary(_ folder: URL, metrics: [MetricRow]) throws {
        let expected = groupSpreads(metrics)
        let name = "summary.csv"
        let file = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        struct Key: Hashable { var design: String, metric: SummaryRow.Measure, attribute: String }
        func key(_ design: String, _ metric: SummaryRow.Measure, _ attribute: String) -> Key {
            Key(design: design, metric: metric, attribute: attribute)
        }
        var unmatched = Dictionary(expected.map { (key($0.design, $0.metric, $0.attribute), $0) }, uniquingKeysWith: { a, _ in a })
        var lineOf: [Key: Int] = [:]
        for row in try rows(folder, name, MetricsCSV.summaryHeader) {
            let f = row.fields
            guard let measure = SummaryRow.Measure(csvName: f["metric"]!) else {
                throw row.fail("\"\(f["metric"]!)\" is not a metric, demographic_parity or equalized_odds")
            }
            let k = key(f["design"]!, measure, f["attribute"]!)
            if let first = lineOf[k] { throw row.fail("repeats line \(first) (\(f["design"]!), \(f["metric"]!), \(f["attribute"]!))") }
            lineOf[k] = row.line
            guard let spread = unmatched.removeValue(forKey: k) else {
                throw row.fail("no groups in metrics.csv for \(f["design"]!), \(f["metric"]!), \(f["attribute"]!)")
            }
            try row.summary(matching: spread)
        }
        if let missing = expected.first(where: { unmatched[key($0.design, $0.metric, $0.attribute)] != nil }) {
            throw AuditError(
                file: file.path,
                "no row for \(missing.design), \(missing.metric), \(missing.attribute), "
                    + "which metrics.csv has groups for")
        }
    }
}

extension CheckedRow {
    /// A `summary.csv` row against the spread metrics.csv's counts give: the same two groups,
    /// values, difference, interval and ratio (empty exactly when the largest value is 0).
    func summary(matching spread: SummaryRow) throws {
        for (column, group) in [("max_group", spread.maxGroup), ("min_group", spread.minGroup)] where fields[column]! != group {
            throw fail("\(column) is \"\(fields[column]!)\", but metrics.csv gives \"\(group)\"")
        }
        let source = "metrics.csv's counts"
        _ = try number("max_value", equal: spread.maxValue, in: 0...1, as: source)
        _ = try number("min_value", equal: spread.minValue, in: 0...1, as: source)
        _ = try number("difference", equal: spread.difference, in: 0...1, as: source)
        _ = try number("diff_ci_low", equal: spread.differenceCILow, in: -1...1, as: "the Newcombe interval of \(source)")
        _ = try number("diff_ci_high", equal: spread.differenceCIHigh, in: -1...1, as: "the Newcombe interval of \(source)")
        if let ratio = spread.ratio {
            _ = try number("ratio", equal: ratio, in: 0...1, as: source)
        } else if !fields["ratio"]!.isEmpty {
            throw fail("ratio is \(fields["ratio"]!), expected empty (the largest value is 0)")
        }
    }
}
