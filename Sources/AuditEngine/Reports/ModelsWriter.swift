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
        if FileManager.default.fileExists(atPath: directory.path) {
            let top = try FolderHandle(url: directory, what: "report folder")
            try refuseOneModelReport(top)
            // A model's folder that is a link would take its report out of the top folder.
            for label in labels { try top.refuseLink(label) }
        }
        // The top report's own names too (its charts are only known at the end).
        try OutputFolder.check(url: directory, kind: kind, files: fileNames + ["report.md", "report.html"])
        for label in labels {
            try ReportWriter.checkFolder(directory.appendingPathComponent(label, isDirectory: true), for: config)
        }
    }

    /// Refuses a top folder that holds a one-model report (its ledger, or an earlier version's
    /// `run.json`, says so): the several-model report would leave that report's files beside
    /// its own, and the folder would read as neither.
    static func refuseOneModelReport(_ top: FolderHandle) throws {
        let ledger = OutputFolder.ledgerName("report")
        let legacy =
            try top.entry(OutputFolder.ledgerName(kind)) == .missing && !ReportWriter.legacyReportFiles(top.url).isEmpty
            && !FileManager.default.fileExists(atPath: top.url.appendingPathComponent("models.csv").path)
        if try top.entry(ledger) != .missing || legacy {
            throw AuditError(
                file: top.url.path,
                "holds a one-model report (\(legacy ? "run.json" : ledger) says so); write the several-model report to another folder, or remove the one-model report first"
            )
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
        try OutputFolder.refuseRoot(directory)
        let top = try FolderHandle(url: directory, what: "report folder")
        try refuseOneModelReport(top)
        // Before anything is replaced: a model's folder that is a link.
        for label in run.labels { try top.refuseLink(label) }
        var folder = try OutputFolder(handle: top, kind: kind, files: written)
        // No top run.json while the folders below are being replaced (see ReportWriter).
        try ReportWriter.removeCompletionMarker(top)
        for (label, model) in zip(run.labels, run.runs) {
            try ReportWriter.write(model, into: FolderHandle(label, in: top, what: "report folder"))
        }
        for file in report {
            try folder.write(file.contents, to: file.path)
        }
        try folder.write(MetricsCSV.renderModels(run.comparisons), to: "models.csv")
        try folder.write(try runJSON(run, files: written), to: "run.json")
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
