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

extension AuditReport {
    /// The report a folder holds: run.json (either layout) with its rows from the CSVs, every
    /// number checked against the others (``ReportFolder/read(_:)``).
    public static func read(folder: URL) throws -> AuditReport {
        try ReportFolder.read(folder).data
    }
}
