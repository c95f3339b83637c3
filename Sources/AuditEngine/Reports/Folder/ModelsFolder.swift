import CLIPEngine
import Foundation

/// The top folder of a several-model audit read back from disk (for `clip-audit card`): its
/// `run.json` (the audit's name and the models in order), `models.csv` (header checked, text
/// cells restored, every number checked against the others and against the models' own
/// `metrics.csv`) and each model's `<label>/` folder through ``ReportFolder``. Like a report
/// folder, it may have been edited or damaged since the run wrote it: every failure is one line
/// naming the file.
public enum ModelsFolder {
    /// Whether `url` is a top folder (it has `models.csv`) rather than one model's report folder.
    public static func isTopFolder(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent("models.csv").path)
    }

    /// A model label as the audit file allows it (``AuditModel/labelProblem(_:)``): it names a
    /// folder under the top folder, so one read back must not lead out of it.
    public static func isValidLabel(_ label: String) -> Bool {
        AuditModel.labelProblem(label) == nil
    }

    /// Reads the top folder at `url`.
    public static func read(_ url: URL) throws -> ModelsReportData {
        let (name, labels) = try runJSON(url)
        var models: [ModelsReportData.Model] = []
        var folders: [String: ReportFolder] = [:]
        for label in labels {
            let folder = url.appendingPathComponent(label, isDirectory: true)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw AuditError(file: folder.path, "missing: run.json lists the model \"\(label)\", whose report folder this should be")
            }
            let read = try ReportFolder.read(folder)
            folders[label] = read
            models.append(.init(label: label, data: read.data))
        }
        let comparisons = try modelsCSV(url, labels: labels, folders: folders)
        return ModelsReportData(name: name, models: models, comparisons: comparisons)
    }

    /// `run.json`'s `name` and `models[].label`, checked.
    static func runJSON(_ url: URL) throws -> (name: String, labels: [String]) {
        let file = url.appendingPathComponent("run.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw AuditError(file: url.path, "not a report folder (no run.json): run `clip-audit run` first, or check the path")
        }
        let data = try ReportFile.contents(of: file)
        if data.isEmpty { throw AuditError(file: file.path, "not valid JSON (the file is empty)") }
        if String(data: data, encoding: .utf8) == nil { throw AuditError(file: file.path, "not valid JSON (not UTF-8 text)") }
        do {
            let json = try AuditReport.decoder.decode(ModelsRunJSON.Labels.self, from: data)
            return (json.name, json.labels)
        } catch let problem as RunJSONProblem {
            throw AuditError(file: file.path, problem.message)
        } catch let error as DecodingError {
            throw AuditError(file: file.path, RunJSONEnvelope.describe(error, data))
        }
    }

    /// `models.csv`'s rows, each checked; the discordant pairs counted from the two models'
    /// `predictions.csv`, and every figure recomputed from the counts.
    static func modelsCSV(_ url: URL, labels: [String], folders: [String: ReportFolder]) throws -> [ModelComparisonRow] {
        let base = labels[0]
        let file = url.appendingPathComponent("models.csv").path
        let minGroupSize = folders[base]!.data.minGroupSize
        var rows: [ModelComparisonRow] = []
        var lines: [CheckedRow] = []
        struct RowOfModel: Hashable { var model: String, row: MetricRow.Key }
        var lineOf: [RowOfModel: Int] = [:]
        // Each model's metrics.csv rows by design × metric × attribute × group.
        var own: [String: [MetricRow.Key: MetricRow]] = [:]
        for (label, folder) in folders {
            own[label] = Dictionary(
                folder.data.metrics.map { ($0.key, $0) },
                uniquingKeysWith: { first, _ in first })
        }
        for (line, fields) in try ReportFolder.table(url, "models.csv", MetricsCSV.modelsHeader, textColumns: MetricsCSV.textColumns) {
            let row = CheckedRow(file: file, line: line, fields: fields)
            lines.append(row)
            let model = fields["model"]!, baseModel = fields["base_model"]!
            guard baseModel == base else { throw row.fail("base_model \"\(baseModel)\" is not the first model in run.json (\"\(base)\")") }
            guard model != base, folders[model] != nil else {
                throw row.fail(
                    "model \"\(model)\" is not one of the compared models in run.json (\(labels.dropFirst().joined(separator: ", ")))")
            }
            let n = try row.integer("n", atLeast: 1)
            let baseValue = try row.number("base_value", in: 0...1), value = try row.number("value", in: 0...1)
            let delta = try row.number("delta", in: -1...1)
            guard abs(delta - (value - baseValue)) <= 6e-6 * (abs(value) + abs(baseValue) + abs(delta)) + 1e-12 else {
                throw row.fail("delta \(fields["delta"]!) does not match value − base_value = \(CSVNumber.format(value - baseValue))")
            }
            let low = try row.number("ci_low", in: -1...1), high = try row.number("ci_high", in: -1...1)
            try row.interval(low, delta, high, of: "delta")
            let p = try row.number("p_value", in: 0...1), pAdjusted = try row.number("p_adjusted", in: 0...1)
            guard pAdjusted >= p else { throw row.fail("p_adjusted \(fields["p_adjusted"]!) is below p_value \(fields["p_value"]!)") }
            let (design, attribute, group) = (fields["design"]!, fields["attribute"]!, fields["group"]!)
            let metric = try row.metric()
            let rowKey = MetricRow.Key(design: design, metric: metric, attribute: attribute, group: group)
            let key = RowOfModel(model: model, row: rowKey)
            if let first = lineOf[key] { throw row.fail("repeats line \(first) (\(model), \(design), \(metric), \(attribute), \(group))") }
            lineOf[key] = line
            // Both models scored the same images, so the group and its rates must be the ones
            // each model's own folder reports: n and the value in its metrics.csv.
            for (label, written, column) in [(base, baseValue, "base_value"), (model, value, "value")] {
                guard let metrics = own[label]?[rowKey] else {
                    throw row.fail("no row in \(label)/metrics.csv for \(design), \(metric), \(attribute), \(group)")
                }
                guard metrics.n == n else { throw row.fail("n \(n) does not match \(label)/metrics.csv's n \(metrics.n) for the group") }
                guard CheckedRow.agrees(written, metrics.value) || abs(written - metrics.value) <= 1e-6 else {
                    throw row.fail(
                        "\(column) \(fields[column]!) does not match \(label)/metrics.csv's value \(CSVNumber.format(metrics.value))")
                }
            }
            rows.append(
                ModelComparisonRow(
                    design: design, metric: metric, attribute: attribute, group: group, model: model,
                    baseModel: baseModel, n: n, baseValue: baseValue, value: value, delta: delta,
                    ciLow: low, ciHigh: high, pValue: p, pAdjusted: pAdjusted, baseOnly: 0, modelOnly: 0,
                    belowMinimumN: n < minGroupSize))
        }
        // Every figure is a function of the counts: recomputed (Holm within each compared model's
        // design × metric × attribute, as the run adjusts), after checking the file wrote them.
        var counted = try countingDiscordantPairs(rows, folders: folders)
        for (index, line) in lines.enumerated() {
            let r = counted[index]
            let tally = try line.pairedTally(n: r.n, baseValue: r.baseValue, value: r.value, baseOnly: r.baseOnly, variantOnly: r.modelOnly)
            counted[index].baseValue = tally.baseValue
            counted[index].value = tally.value
            counted[index].delta = tally.delta
            counted[index].ciLow = tally.interval!.lower
            counted[index].ciHigh = tally.interval!.upper
            counted[index].pValue = tally.pValue
        }
        let adjusted = holmAdjusted(
            counted.map(\.pValue), families: counted.map { [$0.model, $0.design, $0.metric.csvName, $0.attribute] })
        for (index, line) in lines.enumerated() {
            _ = try line.number("p_adjusted", equal: adjusted[index], in: 0...1, as: "Holm's adjustment of the file's p_value")
            counted[index].pAdjusted = adjusted[index]
        }
        return counted
    }

    /// `rows` with the images positive under the base only and under the model only, counted
    /// from the two folders' `predictions.csv` (models.csv does not carry them; the report needs
    /// them to tell "no image changed"). The count is a variant comparison's with each model's
    /// design standing for a design of its own.
    static func countingDiscordantPairs(_ rows: [ModelComparisonRow], folders: [String: ReportFolder]) throws -> [ModelComparisonRow] {
        func design(_ label: String, _ design: String) -> String { label + "\u{1E}" + design }
        let standIns = rows.map {
            ComparisonRow(
                design: design($0.model, $0.design), base: design($0.baseModel, $0.design), metric: $0.metric,
                attribute: $0.attribute, group: $0.group, n: $0.n, baseValue: $0.baseValue, value: $0.value,
                delta: $0.delta, ciLow: $0.ciLow, ciHigh: $0.ciHigh, pValue: $0.pValue, baseOnly: 0, variantOnly: 0,
                belowMinimumN: $0.belowMinimumN)
        }
        // Each stand-in design's lines are the model folder's lines of the design, read from its
        // own predictions.csv.
        let counted = try ReportFolder.countingDiscordantPairs(standIns) { standIn in
            let parts = standIn.split(separator: "\u{1E}", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            return folders[parts[0]]?.predictionBlock(parts[1])
        }
        return zip(rows, counted).map { row, count in
            var row = row
            row.baseOnly = count.baseOnly
            row.modelOnly = count.variantOnly
            return row
        }
    }
}
