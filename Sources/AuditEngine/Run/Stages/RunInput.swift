import Foundation

/// Stage "read manifest": the audit file and the manifest — which rows count and which models
/// measure them — and the report folder claimed before any encoding.
struct RunInput: Sendable {
    var config: AuditConfig
    /// The hash of the bytes that were parsed: reading the file again could hash other bytes.
    var auditFileSHA256: String
    var rowsRead: Int
    var rows: UsableRows
    /// The rows the manifest checks left out; the image pass adds the images it cannot use.
    var skipped: [SkippedEntry]
    /// What the report's Setup must say about how the run departed from the audit file.
    var notes: [String]
    var models: [RunModel]
    /// One empty prediction table per model, made here so that a design too large for one stops
    /// the run before a model is loaded.
    var tables: [PredictionTable]

    /// The labels of `models:` (empty for a one-model audit).
    var labels: [String] { models.compactMap(\.label) }

    static func read(auditFile: URL, options: RunOptions, claim: ReportFolderClaim) throws -> RunInput {
        var config = try AuditConfig.load(contentsOf: auditFile)
        if let limit = options.limit { config.manifest.limit = limit }
        // --model replaces the list with one model: an ordinary one-model run.
        if options.model != nil { config.models = [] }
        let validation = try AuditValidator.validate(config, referenceFallback: options.limit != nil)
        if let error = validation.errors.first {
            // Configuration errors (missing columns, label values that are no class) are fatal:
            // a run on them would measure something other than what the audit file says.
            throw error
        }
        let models = RunModel.list(config, options: options)
        if options.shard == nil {
            // A shard writes no report: its product is the cache.
            let folder = options.outputDirectory ?? AuditRunner.defaultReportFolder(name: config.name)
            try claim.claim(folder, labels: models.compactMap(\.label), lock: options.lockOutputFolder, for: config)
        }
        var notes: [String] = []
        for fallback in validation.referenceFallbacks {
            config.referenceGroups[fallback.key] = fallback.used
            notes.append(
                "--limit \(options.limit ?? 0): reference group for \(fallback.key) is \"\(fallback.used)\" (the largest group), "
                    + "not \"\(fallback.wanted)\", which has no usable rows within the limit")
        }
        let rows = validation.usableRows
        return RunInput(
            config: config, auditFileSHA256: config.sourceSHA256, rowsRead: validation.rowsRead, rows: rows,
            skipped: validation.skipped.map(SkippedEntry.init), notes: notes, models: models,
            tables: try models.map { _ in try PredictionTable(rows: rows, designs: config.designs) })
    }
}
