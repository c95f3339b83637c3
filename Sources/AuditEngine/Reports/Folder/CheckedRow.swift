import CLIPEngine
import Foundation

/// One data row of a report CSV with its file and line: reads its numbers and checks them
/// against the others (`value = count/n` within the CSV's six significant digits, intervals
/// around their estimates, p-values in [0, 1]). Failures read `<file>: line N: <problem>`.
struct CheckedRow {
    var file: String
    var line: Int
    var fields: [String: String]

    func fail(_ problem: String) -> AuditError { AuditError(file: file, "line \(line): \(problem)") }

    /// A whole number of at least `minimum`.
    /// The `metric` column, parsed: a name clip-audit does not write is an error, not a row that
    /// no renderer would recognise.
    func metric() throws -> Metric {
        let name = fields["metric"]!
        guard let metric = Metric(csvName: name) else {
            throw fail("\"\(name)\" is not a metric (\(Metric.csvNameForms))")
        }
        return metric
    }

    func integer(_ column: String, atLeast minimum: Int) throws -> Int {
        let text = fields[column]!
        guard !text.isEmpty else { throw fail("\(column) is empty") }
        guard let value = Int(text) else { throw fail("\(column) \"\(text)\" is not a whole number") }
        guard value >= minimum else { throw fail("\(column) is \(value), expected at least \(minimum)") }
        return value
    }

    /// A finite number in `range`.
    func number(_ column: String, in range: ClosedRange<Double>) throws -> Double {
        let text = fields[column]!
        guard !text.isEmpty else { throw fail("\(column) is empty") }
        guard let value = Double(text) else { throw fail("\(column) \"\(text)\" is not a number") }
        guard value.isFinite else { throw fail("\(column) is \(text), expected a finite number") }
        guard range.contains(value) else {
            throw fail("\(column) \(text) lies outside [\(CSVNumber.format(range.lowerBound)), \(CSVNumber.format(range.upperBound))]")
        }
        return value
    }

    /// Whether `written` is `exact` as ``CSVNumber`` writes it (`%.6g`: off by at most half a
    /// unit in the sixth significant digit).
    static func agrees(_ written: Double, _ exact: Double) -> Bool {
        abs(written - exact) <= 6e-6 * abs(exact) + 1e-12
    }

    /// `column` must be `exact` (what the counts give) up to the CSV's rounding.
    func number(
        _ column: String, equal exact: Double, in range: ClosedRange<Double>, as formula: @autoclosure () -> String
    ) throws -> Double {
        let value = try number(column, in: range)
        guard Self.agrees(value, exact) else {
            throw fail("\(column) \(fields[column]!) does not match \(formula()) = \(CSVNumber.format(exact))")
        }
        return value
    }

    /// `low ≤ estimate ≤ high` (both ends already read).
    func interval(_ low: Double, _ estimate: Double, _ high: Double, of what: String) throws {
        let slack = 1e-9
        guard low <= estimate + slack, estimate <= high + slack else {
            throw fail("\(what) \(CSVNumber.format(estimate)) lies outside its interval [\(fields["ci_low"]!), \(fields["ci_high"]!)]")
        }
    }

    /// A `metrics.csv` row: n ≥ 1 (the writer leaves out empty groups), 0 ≤ count ≤ n,
    /// value = count/n, ci_low ≤ value ≤ ci_high within [0, 1].
    func metric(minGroupSize: Int) throws -> MetricRow {
        let n = try integer("n", atLeast: 1)
        let count = try integer("count", atLeast: 0)
        guard count <= n else { throw fail("count \(count) exceeds n \(n)") }
        let value = try number("value", equal: Double(count) / Double(n), in: 0...1, as: "count/n = \(count)/\(n)")
        let low = try number("ci_low", in: 0...1), high = try number("ci_high", in: 0...1)
        try interval(low, value, high, of: "value")
        // The figures are functions of the counts: recomputed, so a report rendered from the
        // folder has the run's own numbers (not their six-digit rounding), after checking that
        // the CSV wrote those.
        let wilson = wilsonInterval(successes: count, trials: n)!
        _ = try number("ci_low", equal: wilson.lower, in: 0...1, as: "the Wilson interval of \(count)/\(n)")
        _ = try number("ci_high", equal: wilson.upper, in: 0...1, as: "the Wilson interval of \(count)/\(n)")
        return MetricRow(
            design: fields["design"]!, metric: try metric(), attribute: fields["attribute"]!,
            group: fields["group"]!, n: n, count: count, value: Double(count) / Double(n), ciLow: wilson.lower,
            ciHigh: wilson.upper, belowMinimumN: n < minGroupSize)
    }

    /// A `disparities.csv` row against its two `metrics.csv` rows: value, reference_value,
    /// difference and ratio (empty exactly when the reference value is 0) agree with their
    /// counts; p_value ≤ p_adjusted, both in [0, 1]; significant is `true` or `false`.
    func disparity(group g: MetricRow, reference ref: MetricRow) throws -> (ratio: Double?, p: Double, pAdjusted: Double) {
        let value = Double(g.count) / Double(g.n), referenceValue = Double(ref.count) / Double(ref.n)
        _ = try number("value", equal: value, in: 0...1, as: "metrics.csv's count/n = \(g.count)/\(g.n)")
        _ = try number(
            "reference_value", equal: referenceValue, in: 0...1,
            as: "metrics.csv's count/n = \(ref.count)/\(ref.n) for \"\(ref.group)\"")
        _ = try number("difference", equal: value - referenceValue, in: -1...1, as: "value − reference_value")
        if referenceValue == 0 {
            guard fields["ratio"]!.isEmpty else { throw fail("ratio is \(fields["ratio"]!), expected empty (reference value 0)") }
        } else {
            _ = try number(
                "ratio", equal: value / referenceValue, in: 0...Double.greatestFiniteMagnitude, as: "value / reference_value")
        }
        let p = try number("p_value", in: 0...1), pAdjusted = try number("p_adjusted", in: 0...1)
        guard pAdjusted >= p else { throw fail("p_adjusted \(fields["p_adjusted"]!) is below p_value \(fields["p_value"]!)") }
        guard ["true", "false"].contains(fields["significant"]!) else {
            throw fail("significant is \"\(fields["significant"]!)\", expected true or false")
        }
        let test = pooledTwoProportionZTest(successes1: g.count, trials1: g.n, successes2: ref.count, trials2: ref.n)
        _ = try number("p_value", equal: test.pValue, in: 0...1, as: "the pooled z-test on the counts")
        return (referenceValue == 0 ? nil : value / referenceValue, test.pValue, pAdjusted)
    }

    /// A `comparison.csv` row: n ≥ 1, base_value and value in [0, 1], delta = value − base_value,
    /// ci_low ≤ delta ≤ ci_high within [−1, 1], p_value in [0, 1].
    func comparison(minGroupSize: Int) throws -> ComparisonRow {
        let n = try integer("n", atLeast: 1)
        let baseValue = try number("base_value", in: 0...1), value = try number("value", in: 0...1)
        let delta = try number("delta", in: -1...1)
        // Both values are rounded already, so compare with the rounding of each.
        guard abs(delta - (value - baseValue)) <= 6e-6 * (abs(value) + abs(baseValue) + abs(delta)) + 1e-12 else {
            throw fail("delta \(fields["delta"]!) does not match value − base_value = \(CSVNumber.format(value - baseValue))")
        }
        let low = try number("ci_low", in: -1...1), high = try number("ci_high", in: -1...1)
        try interval(low, delta, high, of: "delta")
        let p = try number("p_value", in: 0...1)
        return ComparisonRow(
            design: fields["design"]!, base: fields["base"]!, metric: try metric(),
            attribute: fields["attribute"]!, group: fields["group"]!, n: n, baseValue: baseValue,
            value: value, delta: delta, ciLow: low, ciHigh: high, pValue: p, baseOnly: 0, variantOnly: 0,
            belowMinimumN: n < minGroupSize)
    }
}

extension CheckedRow {
    /// A comparison row with its figures recomputed from its counts (n, the base's positives,
    /// the discordant pairs counted from predictions.csv), the arithmetic the run used
    /// (``PairedTally``), each checked against what the CSV wrote.
    func pairedFromCounts(_ row: ComparisonRow) throws -> ComparisonRow {
        let tally = try pairedTally(
            n: row.n, baseValue: row.baseValue, value: row.value, baseOnly: row.baseOnly, variantOnly: row.variantOnly)
        var row = row
        row.baseValue = tally.baseValue
        row.value = tally.value
        row.delta = tally.delta
        row.ciLow = tally.interval!.lower
        row.ciHigh = tally.interval!.upper
        row.pValue = tally.pValue
        return row
    }

    /// The paired counts behind a row of comparison.csv or models.csv, checked: the positives
    /// its rates give, the discordant pairs predictions.csv gives, and every figure the CSV
    /// wrote agreeing with them.
    func pairedTally(n: Int, baseValue: Double, value: Double, baseOnly: Int, variantOnly: Int) throws -> PairedTally {
        let basePositives = Int((baseValue * Double(n)).rounded()), positives = Int((value * Double(n)).rounded())
        let tally = PairedTally(
            both: basePositives - baseOnly, variantOnly: variantOnly, baseOnly: baseOnly,
            neither: n - basePositives - variantOnly)
        guard tally.both >= 0, tally.neither >= 0, tally.both + variantOnly == positives else {
            throw fail(
                "base_value and value (\(basePositives) and \(positives) of \(n)) do not fit the \(baseOnly) and \(variantOnly) images predictions.csv shows changing"
            )
        }
        let interval = tally.interval!
        _ = try number("base_value", equal: tally.baseValue, in: 0...1, as: "\(basePositives)/\(n)")
        _ = try number("value", equal: tally.value, in: 0...1, as: "\(positives)/\(n)")
        _ = try number("ci_low", equal: interval.lower, in: -1...1, as: "Newcombe's paired interval of the counts")
        _ = try number("ci_high", equal: interval.upper, in: -1...1, as: "Newcombe's paired interval of the counts")
        _ = try number(
            "p_value", equal: tally.pValue, in: 0...1, as: "the exact McNemar test on \(baseOnly) and \(variantOnly) changed images")
        return tally
    }
}
