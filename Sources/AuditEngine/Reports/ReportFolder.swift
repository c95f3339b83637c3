import Foundation

/// A report folder read back from disk (for `clip-audit card` and `clip-audit diff`): the CSVs
/// parsed into the rows the run computed, and `run.json`'s settings. Values come back with the
/// CSVs' six significant digits; counts (`n`, `count`) are exact.
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
    public var data: ReportData
    public var attributes: [String]
    public var predictions: [PredictionLine]

    /// Reads `metrics.csv`, `disparities.csv`, `comparison.csv`, `predictions.csv` and `run.json`.
    public static func read(_ url: URL) throws -> ReportFolder {
        let runURL = url.appendingPathComponent("run.json")
        guard FileManager.default.fileExists(atPath: runURL.path) else {
            throw AuditError(file: url.path, "not a report folder (no run.json): run `clip-audit run` first, or check the path")
        }
        let object: [String: Any]
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: runURL)) as? [String: Any] ?? [:]
        } catch {
            throw AuditError(file: runURL.path, "cannot read: \((error as NSError).localizedDescription)")
        }
        let settings = object["settings"] as? [String: Any] ?? [:]
        let model = object["model"] as? [String: Any] ?? [:]
        let manifest = object["manifest"] as? [String: Any] ?? [:]
        let attributes = settings["attributes"] as? [String] ?? []
        let intersections = settings["intersections"] as? [String] ?? []
        let alpha = (settings["alpha"] as? NSNumber)?.doubleValue ?? AuditConfig.defaultAlpha
        let minGroupSize = (settings["min_group_size"] as? NSNumber)?.intValue ?? AuditConfig.defaultMinGroupSize

        let metricTable = try table(url, "metrics.csv", MetricsCSV.metricsHeader)
        var metrics: [MetricRow] = []
        for (line, r) in metricTable {
            guard let n = Int(r["n"]!), let count = Int(r["count"]!), let value = Double(r["value"]!),
                  let low = Double(r["ci_low"]!), let high = Double(r["ci_high"]!) else {
                throw AuditError(file: url.appendingPathComponent("metrics.csv").path, "line \(line): a number is missing or malformed")
            }
            metrics.append(MetricRow(design: r["design"]!, metric: r["metric"]!, attribute: r["attribute"]!, group: r["group"]!,
                                     n: n, count: count, value: value, ciLow: low, ciHigh: high, belowMinimumN: n < minGroupSize))
        }
        var counts: [String: MetricRow] = [:]
        for m in metrics { counts["\(m.design)\u{1F}\(m.metric)\u{1F}\(m.attribute)\u{1F}\(m.group)"] = m }

        var disparities: [DisparityRow] = []
        for (line, r) in try table(url, "disparities.csv", MetricsCSV.disparitiesHeader) {
            let key = "\(r["design"]!)\u{1F}\(r["metric"]!)\u{1F}\(r["attribute"]!)\u{1F}"
            guard let g = counts[key + r["group"]!], let ref = counts[key + r["reference"]!],
                  let p = Double(r["p_value"]!), let pAdjusted = Double(r["p_adjusted"]!) else {
                throw AuditError(file: url.appendingPathComponent("disparities.csv").path,
                                 "line \(line): no matching rows in metrics.csv, or a malformed number")
            }
            let ratio = Double(r["ratio"]!)
            let ci = newcombeUnpairedDifferenceInterval(successes1: g.count, trials1: g.n, successes2: ref.count, trials2: ref.n)
            disparities.append(DisparityRow(
                design: g.design, metric: g.metric, attribute: g.attribute, group: g.group, reference: ref.group,
                n: g.n, count: g.count, referenceN: ref.n, referenceCount: ref.count, value: g.value, referenceValue: ref.value,
                difference: Double(g.count) / Double(g.n) - Double(ref.count) / Double(ref.n), ratio: ratio,
                pValue: p, pAdjusted: pAdjusted, significant: r["significant"] == "true",
                differenceCILow: ci?.lower ?? 0, differenceCIHigh: ci?.upper ?? 0,
                fourFifthsViolation: ratio.map { $0 < 0.8 || $0 > 1.25 } ?? (g.count > 0),
                belowMinimumN: g.n < minGroupSize || ref.n < minGroupSize))
        }

        var comparisons: [ComparisonRow] = []
        for (line, r) in try table(url, "comparison.csv", MetricsCSV.comparisonHeader) {
            guard let n = Int(r["n"]!), let baseValue = Double(r["base_value"]!), let value = Double(r["value"]!),
                  let delta = Double(r["delta"]!), let low = Double(r["ci_low"]!), let high = Double(r["ci_high"]!),
                  let p = Double(r["p_value"]!) else {
                throw AuditError(file: url.appendingPathComponent("comparison.csv").path, "line \(line): a number is missing or malformed")
            }
            comparisons.append(ComparisonRow(design: r["design"]!, base: r["base"]!, metric: r["metric"]!, attribute: r["attribute"]!,
                                             group: r["group"]!, n: n, baseValue: baseValue, value: value, delta: delta,
                                             ciLow: low, ciHigh: high, pValue: p, baseOnly: 0, variantOnly: 0,
                                             belowMinimumN: n < minGroupSize))
        }
        comparisons = ComparisonRow.adjustingHolm(comparisons)

        var predictions: [PredictionLine] = []
        let predictionHeader = ["design", "file"] + attributes + ["truth", "predicted", "confidence", "harm_category"]
        for (_, r) in try table(url, "predictions.csv", predictionHeader) {
            var groups: [String: String] = [:]
            for a in attributes { groups[a] = r[a]! }
            predictions.append(PredictionLine(design: r["design"]!, file: r["file"]!, groups: groups,
                                              truth: r["truth"]!.isEmpty ? nil : r["truth"]!, predicted: r["predicted"]!,
                                              harmCategory: r["harm_category"]!.isEmpty ? nil : r["harm_category"]!))
        }

        // Designs in metrics.csv order; bases from comparison.csv.
        var designs: [ReportData.Design] = []
        for m in metrics where !designs.contains(where: { $0.name == m.design }) {
            designs.append(.init(name: m.design, base: comparisons.first { $0.design == m.design }?.base,
                                 hasTarget: metrics.contains { $0.design == m.design && $0.metric == "accuracy" },
                                 headlineMetrics: ReportData.headlineMetrics(of: m.design, in: metrics)))
        }
        let weights = model["weights_sha256"] as? String ?? ""
        let data = ReportData(
            name: object["name"] as? String ?? url.lastPathComponent, modelID: model["id"] as? String ?? "unknown",
            weightsSHA256: weights, manifestName: URL(fileURLWithPath: manifest["path"] as? String ?? "manifest.csv").lastPathComponent,
            alpha: alpha, minGroupSize: minGroupSize, slices: attributes + intersections, designs: designs,
            metrics: metrics, disparities: disparities, comparisons: comparisons)
        return ReportFolder(url: url, data: data, attributes: attributes, predictions: predictions)
    }

    /// Reads one CSV of the folder, checking its header; rows as column → field with their line.
    static func table(_ folder: URL, _ name: String, _ header: [String]) throws -> [(line: Int, fields: [String: String])] {
        let file = folder.appendingPathComponent(name)
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw AuditError(file: file.path, "cannot read: \((error as NSError).localizedDescription)")
        }
        let records: [[String]]
        do { records = try SimpleCSV.parse(text) } catch let error as SimpleCSV.Failure {
            throw AuditError(file: file.path, error.message)
        }
        guard let first = records.first, first == header else {
            throw AuditError(file: file.path, "unexpected header (expected \(header.joined(separator: ",")))")
        }
        var rows: [(Int, [String: String])] = []
        for (i, record) in records.dropFirst().enumerated() {
            guard record.count == header.count else {
                throw AuditError(file: file.path, "record \(i + 2): \(record.count) fields, expected \(header.count)")
            }
            rows.append((i + 2, Dictionary(uniqueKeysWithValues: zip(header, record))))
        }
        return rows
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
