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

    /// What the top report is made from: each model's report (built once: its folder is
    /// written from the same value) and the comparisons.
    public static func reportData(_ run: ModelsRun) -> ModelsReportData {
        let models = zip(run.labels, run.runs).map { label, model in
            ModelsReportData.Model(label: label, data: AuditReport(run: model))
        }
        return ModelsReportData(name: run.config.name, models: models, comparisons: run.comparisons)
    }

    /// Writes every model's folder and the top folder's files into `directory` (created if
    /// needed). Only files clip-audit wrote there are replaced or removed (``OutputFolder``).
    public static func write(_ run: ModelsRun, to directory: URL) throws {
        let data = reportData(run)
        let report = ModelsReport.files(data)
        let written = report.map(\.path) + fileNames
        try OutputFolder.refuseRoot(directory)
        let top = try FolderHandle(url: directory, what: "report folder")
        try refuseOneModelReport(top)
        // Before anything is replaced: a model's folder that is a link.
        for label in run.labels { try top.refuseLink(label) }
        var folder = try OutputFolder(handle: top, kind: kind, files: written)
        // No top run.json while the folders below are being replaced (see ReportWriter).
        try ReportWriter.removeCompletionMarker(top)
        for (model, entry) in zip(run.runs, data.models) {
            try ReportWriter.write(entry.data, of: model, into: FolderHandle(entry.label, in: top, what: "report folder"))
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
        let models = zip(run.labels, run.runs).enumerated().map { index, entry in
            ModelsRunJSON.Model(
                label: entry.0, model: entry.1.model.id, weightsSHA256: entry.1.modelKey.weightsSHA256, folder: entry.0,
                encodeSeconds: (run.encodeSeconds[index] * 1000).rounded() / 1000)
        }
        let json = ModelsRunJSON(
            schemaVersion: AuditReport.schemaVersion, tool: "clip-audit", version: CLIPEngineInfo.version, name: run.config.name,
            auditFile: run.config.sourceFile.path, auditFileSHA256: run.auditFileSHA256, models: models,
            counts: .init(
                manifestRows: run.manifestRows, rowsScored: run.usableRows, rowsSkipped: run.skipped.count,
                comparisons: run.comparisons.count),
            skippedByReason: Dictionary(
                SkipKind.counts(run.skipped.lazy.map(\.kind)).map { ($0.kind.description, $0.count) }, uniquingKeysWith: +),
            skipped: run.skipped.map { RunJSON.SkipJSON(reason: $0.reason, line: $0.line, file: $0.file) },
            timings: Dictionary(run.timings.map { ($0.stage, ($0.seconds * 1000).rounded() / 1000) }, uniquingKeysWith: +),
            cache: run.cachePath, files: files.sorted())
        return String(decoding: try AuditReport.encoder.encode(json), as: UTF8.self) + "\n"
    }
}
