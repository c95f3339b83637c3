import CLIPEngine
import Foundation

/// A report folder read back from disk (for `clip-audit card` and `clip-audit diff`): the CSVs
/// parsed into the rows the run computed, and `run.json`'s settings. Values come back with the
/// CSVs' six significant digits; counts (`n`, `count`) are exact. `predictions.csv` (one line per
/// image and design, hundreds of megabytes for a large manifest) is checked line by line and not
/// kept: where each design's lines are is, and they are read again when needed
/// (``predictionBlock(_:)``).
public struct ReportFolder: Sendable {
    /// One line of `predictions.csv`.
    public struct PredictionLine: Sendable, Equatable {
        public var design: String
        public var file: String
        /// Attribute name → group value.
        public var groups: [String: String]
        public var truth: String?
        public var predicted: String
        public var harmCategory: String?
    }

    public var url: URL
    public var data: AuditReport
    public var attributes: [String]
    /// Design → where its lines of `predictions.csv` are.
    var predictionBlocks: [String: PredictionBlock]

    /// The lines of `design` in `predictions.csv`, to be read with ``PredictionJoin`` or
    /// ``PredictionBlock/Reader``; nil when the file has none.
    func predictionBlock(_ design: String) -> PredictionBlock? { predictionBlocks[design] }

    /// Reads `run.json` (either layout, see ``AuditReport``), then `metrics.csv`,
    /// `disparities.csv`, `summary.csv` (when present), `comparison.csv`, the measurement CSVs
    /// (when present) and `predictions.csv`: the report the run wrote, its rows from the CSVs.
    public static func read(_ url: URL) throws -> ReportFolder {
        var report = try ReportFile.runJSON(in: url)
        let attributes = report.attributes
        let minGroupSize = report.minGroupSize

        var metrics: [MetricRow] = []
        var counts: [String: MetricRow] = [:]
        var lineOf: [String: Int] = [:]
        for row in try rows(url, "metrics.csv", MetricsCSV.metricsHeader) {
            let m = try row.metric(minGroupSize: minGroupSize)
            // A repeated row would silently replace the first in the counts the disparities use.
            let key = "\(m.design)\u{1F}\(m.metric)\u{1F}\(m.attribute)\u{1F}\(m.group)"
            if let first = lineOf[key] {
                throw row.fail("repeats line \(first) (\(m.design), \(m.metric), \(m.attribute), \(m.group))")
            }
            lineOf[key] = row.line
            counts[key] = m
            metrics.append(m)
        }

        var disparities: [DisparityRow] = []
        var disparityRows: [CheckedRow] = []
        // The appended columns are recomputed below from metrics.csv, as every other derived figure.
        for row in try rows(url, "disparities.csv", MetricsCSV.disparitiesHeader, or: MetricsCSV.disparitiesHeaderBefore) {
            disparityRows.append(row)
            let r = row.fields
            let key = "\(r["design"]!)\u{1F}\(r["metric"]!)\u{1F}\(r["attribute"]!)\u{1F}"
            guard let g = counts[key + r["group"]!], let ref = counts[key + r["reference"]!] else {
                throw row.fail("no matching rows in metrics.csv for group \"\(r["group"]!)\" and reference \"\(r["reference"]!)\"")
            }
            let (ratio, p, pAdjusted) = try row.disparity(group: g, reference: ref)
            let ci = newcombeUnpairedDifferenceInterval(successes1: g.count, trials1: g.n, successes2: ref.count, trials2: ref.n)
            disparities.append(
                DisparityRow(
                    design: g.design, metric: g.metric, attribute: g.attribute, group: g.group, reference: ref.group,
                    n: g.n, count: g.count, referenceN: ref.n, referenceCount: ref.count, value: g.value, referenceValue: ref.value,
                    difference: Double(g.count) / Double(g.n) - Double(ref.count) / Double(ref.n), ratio: ratio,
                    pValue: p, pAdjusted: pAdjusted, significant: r["significant"] == "true",
                    differenceCILow: ci?.lower ?? 0, differenceCIHigh: ci?.upper ?? 0,
                    fourFifthsViolation: DisparityRow.fourFifths(
                        value: g.value, referenceValue: ref.value, n: g.n, referenceN: ref.n,
                        minGroupSize: minGroupSize, minDifference: report.minDifference),
                    belowMinimumN: g.n < minGroupSize || ref.n < minGroupSize))
        }

        disparities = try adjustingHolm(disparities, alpha: report.alpha, rows: disparityRows)
        try checkSummary(url, metrics: metrics)

        var comparisons: [ComparisonRow] = []
        let comparisonRows = try rows(url, "comparison.csv", MetricsCSV.comparisonHeader)
        for row in comparisonRows {
            comparisons.append(try row.comparison(minGroupSize: minGroupSize))
        }

        let blocks = try predictionBlocks(url, attributes: attributes, designs: Set(metrics.map(\.design)))
        comparisons = try Self.countingDiscordantPairs(comparisons) { blocks[$0] }
        comparisons = ComparisonRow.adjustingHolm(try zip(comparisons, comparisonRows).map { try $1.pairedFromCounts($0) })

        report.metrics = metrics
        report.disparities = disparities
        report.comparisons = comparisons
        try readMeasurements(url, into: &report)
        report.designs = try designs(report, url: url)
        return ReportFolder(url: url, data: report, attributes: attributes, predictionBlocks: blocks)
    }

    /// The report's designs with their headline metrics. A folder of layout 2 lists them in
    /// run.json (each design of metrics.csv must be there); layout 1 did not, so they come in
    /// metrics.csv's order, bases from comparison.csv, with what its run.json kept about each.
    static func designs(_ report: AuditReport, url: URL) throws -> [AuditReport.Design] {
        let metrics = report.metrics
        var names: [String] = []
        for m in metrics where !names.contains(m.design) { names.append(m.design) }
        if report.schemaVersion >= 2 {
            if let missing = names.first(where: { report.design(named: $0) == nil }) {
                throw AuditError(
                    file: url.appendingPathComponent("metrics.csv").path,
                    "design \(JSONText.quoted(missing)) is not among run.json's designs")
            }
            return report.designs.map { design in
                var design = design
                design.headlineMetrics = AuditReport.headlineMetrics(of: design.name, in: metrics)
                return design
            }
        }
        return names.map { name in
            var design = report.design(named: name) ?? AuditReport.Design(name: name, hasTarget: false, headlineMetrics: [])
            design.base = report.comparisons.first { $0.design == name }?.base
            design.hasTarget = metrics.contains { $0.design == name && $0.metric == .accuracy }
            design.headlineMetrics = AuditReport.headlineMetrics(of: name, in: metrics)
            return design
        }
    }

    /// `rows` with `pAdjusted` and `significant` recomputed: Holm within design × metric ×
    /// attribute, as the run adjusts them, each checked against what disparities.csv wrote.
    static func adjustingHolm(_ rows: [DisparityRow], alpha: Double, rows lines: [CheckedRow]) throws -> [DisparityRow] {
        let adjusted = holmAdjusted(rows.map(\.pValue), families: rows.map { [$0.design, $0.metric.csvName, $0.attribute] })
        var result = rows
        for index in result.indices {
            let line = lines[index]
            _ = try line.number("p_adjusted", equal: adjusted[index], in: 0...1, as: "Holm's adjustment of the file's p_value")
            result[index].pAdjusted = adjusted[index]
            result[index].significant = adjusted[index] < alpha
            guard (line.fields["significant"] == "true") == result[index].significant else {
                throw line.fail(
                    "significant is \(line.fields["significant"]!), but p_adjusted \(line.fields["p_adjusted"]!) against α = \(CSVNumber.format(alpha)) says otherwise"
                )
            }
        }
        return result
    }

    /// Checks `predictions.csv` a line at a time (header, field count, UTF-8, a design of
    /// metrics.csv) and finds each design's lines. clip-audit writes them design by design; a
    /// design whose lines are split by another's is an error, so that the blocks stay one per
    /// design whatever the file holds.
    static func predictionBlocks(_ folder: URL, attributes: [String], designs: Set<String>) throws -> [String: PredictionBlock] {
        let url = folder.appendingPathComponent("predictions.csv")
        let stream = try CSVStream(url)
        let header = try checkedHeader(stream, ReportWriter.predictionsHeader(attributes: attributes))
        var blocks: [String: PredictionBlock] = [:]
        var current: String?
        while let (start, fields) = try stream.next() {
            guard fields.count == header.count else {
                throw AuditError(file: url.path, "record \(start.record): \(fields.count) fields, expected \(header.count)")
            }
            let design = CSVWriter.restore(fields[0])
            if design == current {
                blocks[design]!.count += 1
                continue
            }
            guard designs.contains(design) else {
                throw AuditError(file: url.path, "record \(start.record): design \(JSONText.quoted(design)) has no rows in metrics.csv")
            }
            if let earlier = blocks[design] {
                throw AuditError(
                    file: url.path,
                    "record \(start.record): design \(JSONText.quoted(design)) again after other designs' lines (its lines start at record \(earlier.start.record)); clip-audit writes each design's lines together"
                )
            }
            blocks[design] = PredictionBlock(url: url, attributes: attributes, start: start, count: 1)
            current = design
        }
        return blocks
    }

    /// Reads and checks a CSV's header: the expected one (or `earlier`, a former version's), each
    /// column once. The header's cells were written as text cells, so they are restored.
    static func checkedHeader(_ stream: CSVStream, _ header: [String], or earlier: [String]? = nil) throws -> [String] {
        guard let first = try stream.next()?.fields.map(CSVWriter.restore), first == header || (earlier != nil && first == earlier) else {
            throw AuditError(file: stream.url.path, "unexpected header (expected \(header.joined(separator: ",")))")
        }
        // An attribute named like a fixed column (`truth`, `design`, …) repeats a name; reading
        // rows into column → field would then trap.
        var seen = Set<String>()
        if let repeated = first.first(where: { !seen.insert($0).inserted }) {
            throw AuditError(
                file: stream.url.path,
                "the header names the column \"\(repeated)\" twice (an attribute named like one of the file's own columns)")
        }
        return first
    }

    /// `comparisons` with their discordant pairs (images positive under the base only, under the
    /// variant only) counted from `predictions.csv`: comparison.csv does not carry them, and the
    /// findings need them to tell "no image changed" from "as many changed each way".
    /// `blocks` gives a design's lines (a stand-in design name for a model's design, see
    /// ``ModelsFolder``); each variant is read beside its base with ``PredictionJoin``.
    static func countingDiscordantPairs(_ comparisons: [ComparisonRow], blocks: (String) -> PredictionBlock?) throws -> [ComparisonRow] {
        guard !comparisons.isEmpty else { return comparisons }
        func group(_ line: PredictionLine, _ attribute: String) -> String? {
            let slice = Slice(csvText: attribute)
            let parts = slice.attributes.map { line.groups[$0] }
            guard parts.allSatisfy({ $0 != nil }) else { return nil }
            return slice.groupText(parts.map { $0! })
        }
        struct Pair: Hashable { var design: String, base: String, metric: Metric }
        struct Designs: Hashable { var design: String, base: String }
        struct Cell: Hashable { var pair: Pair, attribute: String, group: String }
        var counts: [Cell: (base: Int, variant: Int)] = [:]
        let pairs = Set(comparisons.map { Pair(design: $0.design, base: $0.base, metric: $0.metric) })
        let slices = Set(comparisons.map(\.attribute))
        // One pass over a variant's and its base's lines for all the metrics they are compared on.
        for (designs, pairs) in Dictionary(grouping: pairs, by: { Designs(design: $0.design, base: $0.base) }) {
            guard let variant = blocks(designs.design), let base = blocks(designs.base) else { continue }
            try PredictionJoin.join(base, variant, into: &counts) { counts, b, v in
                guard let b, let v else { return }
                for pair in pairs {
                    guard let iv = pair.metric.indicator(truth: v.truth, predicted: v.predicted, harmCategory: v.harmCategory),
                        let ib = pair.metric.indicator(truth: b.truth, predicted: b.predicted, harmCategory: b.harmCategory),
                        iv != ib
                    else { continue }
                    for attribute in slices {
                        guard let g = group(v, attribute) else { continue }
                        let key = Cell(pair: pair, attribute: attribute, group: g)
                        var c = counts[key] ?? (0, 0)
                        if ib { c.base += 1 } else { c.variant += 1 }
                        counts[key] = c
                    }
                }
            }
        }
        return comparisons.map { row in
            var row = row
            let pair = Pair(design: row.design, base: row.base, metric: row.metric)
            if let c = counts[Cell(pair: pair, attribute: row.attribute, group: row.group)] {
                row.baseOnly = c.base
                row.variantOnly = c.variant
            }
            return row
        }
    }

    /// Reads one CSV of the folder as rows to check (see ``CheckedRow``).
    static func rows(_ folder: URL, _ name: String, _ header: [String], or earlier: [String]? = nil) throws -> [CheckedRow] {
        let file = folder.appendingPathComponent(name).path
        return try table(folder, name, header, or: earlier, textColumns: MetricsCSV.textColumns)
            .map { CheckedRow(file: file, line: $0.line, fields: $0.fields) }
    }

    /// Reads one CSV of the folder, checking its header; rows as column → field with their line.
    /// The header and the fields of `textColumns` were written as text cells, so they come back
    /// through ``CSVWriter/restore(_:)``: the labels the run had, not their neutralised form.
    static func table(
        _ folder: URL, _ name: String, _ header: [String], or earlier: [String]? = nil,
        textColumns: Set<String>
    ) throws -> [(line: Int, fields: [String: String])] {
        let file = folder.appendingPathComponent(name)
        // Read a record at a time: the rows kept grow with the groups, not with the file's bytes.
        let stream = try CSVStream(file)
        let header = try checkedHeader(stream, header, or: earlier)
        var rows: [(Int, [String: String])] = []
        while let (start, record) = try stream.next() {
            guard record.count == header.count else {
                throw AuditError(file: file.path, "record \(start.record): \(record.count) fields, expected \(header.count)")
            }
            let fields = zip(header, record).map { column, field in
                (column, textColumns.contains(column) ? CSVWriter.restore(field) : field)
            }
            rows.append((start.record, Dictionary(uniqueKeysWithValues: fields)))
        }
        return rows
    }
}

// The checks a report folder read back must pass (`clip-audit card`, `clip-audit diff`): the
// folder may have been edited or damaged since `clip-audit run` wrote it, and a wrong number in
// it must not reach a model card or a diff. Every failure is one line naming the file (and line).

/// Reading a report folder's files: run.json into an ``AuditReport``, and any file's bytes with
/// a one-line error when it cannot be read.
enum ReportFile {
    /// The report `folder`'s run.json holds, without its rows.
    static func runJSON(in folder: URL) throws -> AuditReport {
        let url = folder.appendingPathComponent("run.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AuditError(file: folder.path, "not a report folder (no run.json): run `clip-audit run` first, or check the path")
        }
        return try AuditReport.decodeRunJSON(try contents(of: url), path: url.path)
    }

    /// The bytes of a file of the folder; a directory, FIFO or device is an error (reading a
    /// FIFO would wait forever).
    static func contents(of url: URL) throws -> Data {
        do {
            return try FileKind.contents(of: url)
        } catch {
            throw readError(error, url)
        }
    }

    /// A file of the folder that could not be read, as one line: what it is when it is no
    /// regular file, else the reason (shared with ``CSVStream``, which opens the CSVs).
    static func readError(_ error: FileKind.ReadError, _ url: URL) -> AuditError {
        switch error.kind {
        case "a directory": return AuditError(file: url.path, "is a directory, expected a file")
        case "a FIFO": return AuditError(file: url.path, "is a FIFO, expected a regular file")
        case .some: return AuditError(file: url.path, "is not a regular file")
        case nil: return AuditError(file: url.path, "cannot read: \(error.reason)")
        }
    }
}

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

/// Reads the RFC 4180 CSV that ``CSVWriter`` writes: fields separated by commas, quoted when
/// they hold a comma, quote, CR or LF, quotes doubled inside; every record ends with `\n`
/// (`\r\n` is accepted too). Fields are kept exactly (no trimming).
public enum SimpleCSV {
    public struct Failure: Error { public var message: String }

    public static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var inQuotes = false
        var fieldStarted = false
        var scalars = Array(text.unicodeScalars)[...]
        var record1 = 1
        while let c = scalars.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if scalars.first == "\"" { scalars.removeFirst(); field.unicodeScalars.append("\"") } else { inQuotes = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty && !fieldStarted:
                inQuotes = true
                fieldStarted = true
            case ",":
                record.append(field); field = ""; fieldStarted = false
            case "\r" where scalars.first == "\n":
                continue
            case "\n":
                record.append(field); field = ""; fieldStarted = false
                records.append(record); record = []
                record1 += 1
            default:
                field.unicodeScalars.append(c)
                fieldStarted = true
            }
        }
        if inQuotes { throw Failure(message: "record \(record1): a quoted field is not closed") }
        if fieldStarted || !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}

extension AuditReport {
    /// The report a folder holds: run.json (either layout) with its rows from the CSVs, every
    /// number checked against the others (``ReportFolder/read(_:)``).
    public static func read(folder: URL) throws -> AuditReport {
        try ReportFolder.read(folder).data
    }
}
