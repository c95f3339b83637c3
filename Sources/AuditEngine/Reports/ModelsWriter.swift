import CLIPEngine
import Foundation

/// Writes the report folder of a several-model audit: `<label>/` for each model, a complete
/// one-model report folder (``ReportWriter``), and in the top folder `models.csv`, the top report
/// (``ModelsReport``) and, last, `run.json`.
public enum ModelsWriter {
    /// The top folder's ledger kind: its files are not a one-model report's.
    public static let kind = "models"
    /// The top folder's own files besides the top report's, in the order they are written
    /// (`run.json` last: its presence says the folder and the models' folders are complete).
    public static let fileNames = ["models.csv", "run.json"]

    /// Fails before a run when the top folder or a model's folder cannot take its report (see
    /// ``ReportWriter/checkFolder(_:for:)``).
    public static func checkFolder(_ directory: URL, labels: [String], for config: AuditConfig) throws {
        try OutputFolder.refuseHolding(
            directory,
            inputs: [
                ("audit file", config.sourceFile), ("manifest", config.manifest.path),
                ("image folder", config.manifest.imageRoot)
            ])
        // The top report's own names too (its charts are only known at the end).
        try OutputFolder.check(url: directory, kind: kind, files: fileNames + ["report.md", "report.html"])
        for label in labels {
            try ReportWriter.checkFolder(directory.appendingPathComponent(label, isDirectory: true), for: config)
        }
    }

    /// What the top report is made from: each model's report data (with its folder's run id)
    /// and the comparisons.
    public static func reportData(_ run: ModelsRun) -> ModelsReportData {
        let models = zip(run.labels, run.runs).map { label, model -> ModelsReportData.Model in
            var data = ReportData(run: model)
            data.runID = ReportWriter.runID(model, csvs: ReportWriter.metricCSVs(model).map(\.text))
            return ModelsReportData.Model(label: label, data: data)
        }
        return ModelsReportData(name: run.config.name, models: models, comparisons: run.comparisons)
    }

    /// Writes every model's folder and the top folder's files into `directory` (created if
    /// needed). Only files clip-audit wrote there are replaced or removed (``OutputFolder``).
    public static func write(_ run: ModelsRun, to directory: URL) throws {
        let report = ModelsReport.files(reportData(run))
        let written = report.map(\.path) + fileNames
        var folder = try OutputFolder(url: directory, kind: kind, files: written, what: "report folder")
        // No top run.json while the folders below are being replaced (see ReportWriter).
        try ReportWriter.removeCompletionMarker(directory)
        for (label, model) in zip(run.labels, run.runs) {
            try ReportWriter.write(model, to: directory.appendingPathComponent(label, isDirectory: true))
        }
        for file in report {
            let url = directory.appendingPathComponent(file.path)
            try AuditError.createFolder(url.deletingLastPathComponent(), "report folder")
            try AtomicFile.write(file.contents, to: url)
        }
        try AtomicFile.write(MetricsCSV.renderModels(run.comparisons), to: directory.appendingPathComponent("models.csv"))
        try AtomicFile.write(try runJSON(run, files: written), to: directory.appendingPathComponent("run.json"))
        try folder.finish()
    }

    /// The top folder's `run.json`: the audit, every model (label, model id, weights hash, folder,
    /// encode time), the shared counts, skipped rows with reasons and timings, and its files.
    public static func runJSON(_ run: ModelsRun, files: [String]) throws -> String {
        let models: [[String: Any]] = zip(run.labels, run.runs).enumerated().map { index, entry in
            let (label, model) = entry
            return [
                "label": label,
                "model": model.model.id,
                "weights_sha256": model.modelKey.weightsSHA256,
                "folder": label,
                "encode_seconds": (run.encodeSeconds[index] * 1000).rounded() / 1000
            ]
        }
        let object: [String: Any] = [
            "tool": "clip-audit",
            "version": CLIPEngineInfo.version,
            "name": run.config.name,
            "audit_file": run.config.sourceFile.path,
            "audit_file_sha256": run.auditFileSHA256,
            "models": models,
            "counts": [
                "manifest_rows": run.manifestRows,
                "rows_scored": run.usableRows,
                "rows_skipped": run.skipped.count,
                "comparisons": run.comparisons.count
            ],
            "skipped_by_reason": ReportWriter.skippedByReasonJSON(run.skipped),
            "skipped": ReportWriter.skippedJSON(run.skipped),
            "timings_s": ReportWriter.timingsJSON(run.timings),
            "cache": run.cachePath ?? NSNull(),
            "files": files.sorted()
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
