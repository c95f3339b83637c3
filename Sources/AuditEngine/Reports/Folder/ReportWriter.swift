import CLIPEngine
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes the report folder of docs/report-files.md: `predictions.csv`, `metrics.csv`, `disparities.csv`,
/// `summary.csv`, `comparison.csv`, `report.md` and `run.json`, plus the charts (`charts/*.svg`, embedded in
/// `report.md`) and `report.html`; each file whole or not at all.
public enum ReportWriter {
    /// The report file names, in the order they are written (`run.json` last: its presence says
    /// the others are complete). The charts come before them, under ``ReportCharts/folder``.
    public static let fileNames = [
        "predictions.csv", "metrics.csv", "disparities.csv", "summary.csv", "comparison.csv",
        "report.md",
        "details.md", "report.html", "run.json"
    ]

    /// Writes every report file of `run` into `directory` (created if needed).
    ///
    /// The folder may hold other files: only files an earlier report wrote there are replaced or
    /// removed (see ``OutputFolder``), and a file of the report's names that clip-audit did not
    /// write stops the write before anything is touched.
    public static func write(_ run: AuditRun, to directory: URL) throws {
        try OutputFolder.refuseRoot(directory)
        try write(run, into: FolderHandle(url: directory, what: "report folder"))
    }

    /// Writes the report into the open folder `handle` (a model's folder under a top folder is
    /// opened from the top folder, never through a link).
    static func write(_ run: AuditRun, into handle: FolderHandle) throws {
        try write(AuditReport(run: run), of: run, into: handle)
    }

    /// Writes `report`, built once from `run`, into `handle`; `run` only gives the prediction
    /// lines, streamed from its table into `predictions.csv`.
    static func write(_ report: AuditReport, of run: AuditRun, into handle: FolderHandle) throws {
        var report = report
        let charts = ReportCharts.all(report) + MeasurementsReport.charts(report)
        let measurementFiles = MeasurementsCSV.files(report)
        let written = charts.map(\.path) + measurementFiles.map(\.name) + fileNames
        report.files = written.sorted()
        try refuseModelsReport(handle)
        var folder = try OutputFolder(handle: handle, kind: "report", files: written, legacyOwned: legacyReportFiles)
        // The card folder beside the report may be removed at the end: refused now if it is a link.
        try handle.refuseLink(ModelCardExport.defaultFolder)
        try removeCompletionMarker(handle)
        let markdown = MarkdownReport.render(report, charts: charts)
        let details = MarkdownReport.renderDetails(report, charts: charts)
        let summary = ("summary.csv", MetricsCSV.renderSummary(report.summaries))
        let files: [(String, String)] =
            measurementFiles + metricCSVs(report) + [summary] + [
                ("report.md", markdown),
                ("details.md", details),
                ("report.html", HTMLReport.render(markdown: markdown, details: details, charts: charts, data: report)),
                ("run.json", try report.runJSON())
            ]
        // Charts first: report.md and report.html point at them.
        try writeCharts(charts, to: folder)
        try folder.write(to: "predictions.csv") { try writePredictionsCSV(run, to: &$0) }
        for (name, text) in files {
            try folder.write(text, to: name)
        }
        try folder.finish()
        try ModelCardExport.removeStaleCard(in: handle, runID: report.runID)
    }

    /// Refuses a folder that holds a several-model report (its ledger says so): a one-model
    /// report written over it would leave `models.csv` and the models' folders behind, and the
    /// folder would read as neither.
    static func refuseModelsReport(_ handle: FolderHandle) throws {
        let ledger = OutputFolder.ledgerName(ModelsWriter.kind)
        if try handle.entry(ledger) != .missing {
            throw AuditError(
                file: handle.url.path,
                "holds a several-model report (models.csv and a folder per model, listed in \(ledger)); write the one-model report to another folder, or remove the several-model report first"
            )
        }
    }

    /// `metrics.csv`, `disparities.csv` and `comparison.csv` of `report`, as (name, text).
    static func metricCSVs(_ report: AuditReport) -> [(name: String, text: String)] {
        [
            ("metrics.csv", MetricsCSV.renderMetrics(report.metrics)),
            ("disparities.csv", MetricsCSV.renderDisparities(report.disparities)),
            ("comparison.csv", MetricsCSV.renderComparisons(report.comparisons))
        ]
    }

    /// What identifies a run's results: SHA-256 over the audit file's hash, the model's
    /// fingerprint, the settings that decide flags and the metric CSVs. Two runs that measured the same thing share it, so a card
    /// made from either still describes the report beside it; any other run has another.
    public static func runID(_ run: AuditRun, csvs: [String]) -> String {
        let config = run.config
        var text =
            "clip-audit run\n\(run.auditFileSHA256)\n\(run.modelKey.text)\n"
            + "\(config.alpha) \(config.minGroupSize) \(config.minDifference)\n"
        for csv in csvs { text += "\(csv.utf8.count)\n\(csv)" }
        return String(SHA256Digest.hex(of: Data(text.utf8)).prefix(32))
    }

    /// Fails before a run when `directory` cannot take its report: the filesystem root, a folder
    /// that holds the run's own inputs, or one where a report file's name is taken by a file
    /// clip-audit did not write.
    public static func checkFolder(_ directory: URL, for config: AuditConfig) throws {
        try OutputFolder.refuseHolding(
            directory,
            inputs: [
                ("audit file", config.sourceFile), ("manifest", config.manifest.path),
                ("image folder", config.manifest.imageRoot)
            ])
        if FileManager.default.fileExists(atPath: directory.path) {
            let handle = try FolderHandle(url: directory, what: "report folder")
            try refuseModelsReport(handle)
            try handle.refuseLink(ModelCardExport.defaultFolder)
        }
        try OutputFolder.check(url: directory, kind: "report", files: fileNames, legacyOwned: legacyReportFiles)
    }

    /// Removes the earlier report's `run.json` before any file is replaced.
    ///
    /// Each report file is written atomically and `run.json` last, so `run.json` is what says "the
    /// files beside me are one complete set". Removing the old `run.json` first keeps that true when
    /// a run is killed half-way through replacing an earlier report: the folder then has no
    /// `run.json` until the next run completes.
    static func removeCompletionMarker(_ folder: FolderHandle) throws {
        try folder.removeFile("run.json")
    }

    /// What a report folder written before the ledger existed proves clip-audit wrote: with a
    /// clip-audit `run.json`, the fixed report files and the charts its `report.md` shows.
    static func legacyReportFiles(_ directory: URL) -> Set<String> {
        struct Marker: Decodable {
            var tool: String?
            var files: [String]?
        }
        guard let json = try? FileKind.contents(of: directory.appendingPathComponent("run.json"), limit: 256 << 20),
            let marker = try? JSONDecoder().decode(Marker.self, from: json), marker.tool == "clip-audit"
        else { return [] }
        var owned = Set(fileNames)
        // Older reports embed every chart in report.md; newer ones (whose run.json lists
        // details.md among its files) most of them in details.md.
        let listed = marker.files ?? []
        for name in ["report.md"] + (listed.contains(MarkdownReport.detailsName) ? [MarkdownReport.detailsName] : []) {
            if let markdown = try? FileKind.contents(of: directory.appendingPathComponent(name), limit: 256 << 20) {
                owned.formUnion(chartReferences(in: String(decoding: markdown, as: UTF8.self)))
            }
        }
        return owned
    }

    /// The `charts/NAME.svg` paths a Markdown report embeds.
    static func chartReferences(in markdown: String) -> Set<String> {
        var found = Set<String>()
        var rest = markdown[...]
        let prefix = "](\(ReportCharts.folder)/"
        while let range = rest.range(of: prefix) {
            let after = rest[range.upperBound...]
            guard let close = after.firstIndex(of: ")") else { break }
            let name = after[..<close]
            if name.hasSuffix(".svg"), !name.contains("/") { found.insert("\(ReportCharts.folder)/\(name)") }
            rest = after[close...]
        }
        return found
    }

    /// Writes the charts into `charts/` (the caller's ``OutputFolder`` removes the ones an
    /// earlier write made and this one does not).
    static func writeCharts(_ charts: [ChartFile], to folder: OutputFolder) throws {
        try folder.handle.makeFolder(ReportCharts.folder)
        for chart in charts {
            try folder.write(chart.svg, to: chart.path)
        }
    }

    /// The header of `predictions.csv` (docs/report-files.md): written by ``writePredictionsCSV(_:to:)``,
    /// checked by ``ReportFolder`` when a folder is read back.
    public static func predictionsHeader(attributes: [String]) -> [String] {
        ["design", "file"] + attributes + ["truth", "predicted", "confidence", "harm_category"]
    }

    /// `predictions.csv`: `design,file,<each attribute>,truth,predicted,confidence,harm_category`,
    /// one row per design × scored image, in design then manifest order, written a line at a time
    /// from the prediction table.
    public static func writePredictionsCSV(_ run: AuditRun, to output: inout AtomicFile.Output) throws {
        try output.write(CSVWriter.line(predictionsHeader(attributes: run.config.attributes)))
        for p in run.predictions {
            try output.write(
                CSVWriter.line(
                    [.text(p.design), .text(p.file)] + p.attributes.map(CSVCell.text)
                        + [
                            .text(p.truth ?? ""), .text(p.predicted), .number(p.confidence),
                            .text(p.harmCategory ?? "")
                        ]))
        }
    }
}
