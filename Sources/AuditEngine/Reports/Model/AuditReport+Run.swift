import CLIPEngine
import Foundation

extension AuditReport {
    /// The report of a finished run: built once, then handed to every writer.
    public init(run: AuditRun) {
        let config = run.config
        let designs = config.designs.map { spec in
            var design = Design(
                name: spec.name, base: spec.base, hasTarget: spec.target != nil,
                headlineMetrics: AuditReport.headlineMetrics(of: spec.name, in: run.metrics.metrics))
            design.target = spec.target
            design.templates = spec.templates
            design.classes = spec.classes.map { DesignClass(name: $0.name, phrases: $0.phrases) }
            design.harmCategories = spec.harmCategories
            design.published = spec.published
            if let base = spec.base.flatMap(config.design(named:)) {
                design.addedClasses = spec.classNames.filter { !base.classNames.contains($0) }
                design.removedClasses = base.classNames.filter { !spec.classNames.contains($0) }
            }
            return design
        }
        self.init(
            name: config.name, modelID: run.model.id,
            weightsSHA256: run.modelKey.weightsSHA256,
            manifestName: config.manifest.path.lastPathComponent, alpha: config.alpha,
            minGroupSize: config.minGroupSize,
            slices: config.slices,
            designs: designs, metrics: run.metrics.metrics, disparities: run.metrics.disparities,
            comparisons: run.metrics.comparisons)
        description = config.description
        model = Model(
            id: run.model.id, revision: run.model.revision, directory: run.model.directory.path,
            fingerprint: run.modelKey.text, weightsSHA256: run.modelKey.weightsSHA256)
        auditFile = config.sourceFile.path
        auditFileSHA256 = run.auditFileSHA256
        manifest = Manifest(
            path: config.manifest.path.path, imageRoot: config.manifest.imageRoot.path,
            fileColumn: config.manifest.fileColumn, limit: config.manifest.limit)
        minDifference = config.minDifference
        referenceGroups = config.referenceGroups
        dataset = config.dataset
        notes = run.notes
        counts.manifestRows = run.manifestRows
        counts.rowsScored = run.usableRows
        counts.rowsSkipped = run.skipped.count
        counts.uniqueImages = run.uniqueImages
        counts.imagesEncoded = run.imagesEncoded
        counts.imagesFromCache = run.imagesFromCache
        counts.prompts = run.promptsTotal
        counts.promptsEncoded = run.promptsEncoded
        counts.designs = config.designs.count
        counts.predictions = run.predictions.count
        confusions = run.metrics.confusions
        retrieval = run.measurements.retrieval
        retrievalGroups = run.measurements.retrievalGroups
        associations = run.measurements.associations.map { spec, result in
            Association(
                name: spec.name, attribute: Slice(csvText: spec.attribute), groupX: spec.groupX, groupY: spec.groupY,
                targetA: spec.targetA.name, targetB: spec.targetB.name, result: result)
        }
        robustness = run.measurements.robustness
        mitigations = config.mitigations.map { spec in
            let clipped = run.mitigation.clipped.first { $0.mitigation == spec.name }
            return Mitigation(
                name: spec.name, method: spec.method.name, designs: spec.designs, clippedDimensions: clipped?.dimensions,
                fitImages: clipped?.fitImages)
        }
        mitigatedRetrieval = run.mitigation.retrieval.map { MitigatedRetrieval(mitigation: $0.mitigation, rows: $0.rows) }
        findings = MeasurementsReport.findings(self)
        skipped = run.skipped.map { Skip(reason: $0.reason, line: $0.line, file: $0.file) }
        skippedByReason = SkipKind.counts(run.skipped.lazy.map(\.kind)).map { SkipCount(kind: $0.kind.description, count: $0.count) }
        timings = Dictionary(run.timings.map { ($0.stage, ($0.seconds * 1000).rounded() / 1000) }, uniquingKeysWith: +)
        cache = run.cachePath
        toolVersion = CLIPEngineInfo.version
        runID = ReportWriter.runID(run, csvs: ReportWriter.metricCSVs(self).map(\.text))
    }
}
