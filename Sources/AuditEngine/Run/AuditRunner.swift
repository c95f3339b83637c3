import CLIPEngine
import Foundation

/// Runs an audit: reads the audit file and manifest, encodes every distinct prompt and image once
/// (through the cache), scores every design, and computes the metrics. Writing the report folder
/// is `ReportWriter`'s job.
public enum AuditRunner {
    /// The setup note of a SigLIP model's report: what its `confidence` is.
    static let sigmoidNote =
        "SigLIP model: confidence (predictions.csv) is the predicted class's sigmoid probability, sigmoid(exp(logit_scale) × cosine + logit_bias), each class scored on its own rather than a softmax over the classes; the prediction is still the highest-scoring class"

    /// Where a report goes without `--output`: `Reports/<name>` under the current directory.
    public static func defaultReportFolder(name: String) -> URL {
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent("Reports").appendingPathComponent(name)
    }

    /// A cache that is only read must exist: opening it would otherwise create an empty one (or
    /// fail with SQLite's bare "unable to open"), and a mistyped `--cache` path would surface as
    /// "N prompt(s) are not in the cache(s)". The read-only caches are the fallbacks, and under
    /// `--cached-only` also the first when it is the only one (with fallbacks it is the file a
    /// final shard run merges into, which may be new). Checked before the model is loaded.
    static func checkReadCachesExist(_ options: RunOptions) throws {
        guard options.useCache else { return }
        let first = options.cacheURL ?? EmbeddingCache.defaultURL(environment: options.environment)
        var readOnly = options.extraCacheURLs
        if options.cachedOnly && readOnly.isEmpty { readOnly = [first] }
        for url in readOnly where !FileManager.default.fileExists(atPath: url.path) {
            let why =
                options.cachedOnly
                ? "--cached-only reads this cache and encodes nothing, so it must exist (mistyped path?)"
                : "a cache given after the first is only read, so it must exist (mistyped path?)"
            throw CacheError(file: url.path, message: "no such file: \(why)")
        }
    }

    /// Performs the one-model audit described by `auditFile` (an audit file with `models:` needs
    /// `options.model`, which replaces the list; otherwise use ``perform(auditFile:options:progress:)``).
    /// - Parameter progress: called with (images done, images total) as encoding proceeds; the
    ///   CLI draws its progress line from it.
    public static func run(
        auditFile: URL, options: RunOptions,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> AuditRun {
        switch try perform(auditFile: auditFile, options: options, progress: progress) {
        case .single(let run): return run
        case .models:
            throw AuditError(file: auditFile.path, "lists several models (`models:`); this call measures one (give --model)")
        }
    }

    /// What ``perform(auditFile:options:progress:)`` measured: one model, or several (`models:`).
    public enum Outcome: Sendable {
        case single(AuditRun)
        case models(ModelsRun)
    }

    /// Performs the audit described by `auditFile`: for its one model, or for every model of its
    /// `models:` (unless `options.model` replaces them with one) in one pass over the images.
    ///
    /// The run is a sequence of stages, each in its own file under `Run/Stages/` and timed under
    /// its ``RunStage`` (`run.json`'s `timings_s`). Every stage works on the list of models: a
    /// one-model audit is a list of one. A new stage is one case of ``RunStage``, its file, and
    /// one line here, where its inputs already are.
    /// - Parameter progress: called with (images done, images total) as encoding proceeds.
    public static func perform(
        auditFile: URL, options: RunOptions,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> Outcome {
        var clock = StageClock()
        let claim = ReportFolderClaim()
        var finished = false
        defer { if !finished { claim.abandon() } }

        var input = try clock.time(.readManifest) {
            try checkReadCachesExist(options)
            return try RunInput.read(auditFile: auditFile, options: options, claim: claim)
        }
        let models = try clock.time(.loadModel) {
            try LoadedModels.load(input.models, auditFile: auditFile, options: options)
        }
        let prompts = try clock.time(.encodePrompts) {
            try PromptEmbeddings.encode(for: input.config, models: models, options: options)
        }
        var pass = try clock.time(.encodeImages) {
            try ImagePass.run(input, models: models, prompts: prompts, options: options, progress: progress)
        }
        var mitigated = Array(repeating: MitigationOutcome(), count: input.models.count)
        if !input.config.mitigations.isEmpty {
            mitigated = try clock.time(.mitigations) {
                try MitigationPass.run(&input, pass: &pass, models: models, prompts: prompts, options: options)
            }
        }
        let settings = ModelMeasurement.settings(input.config)
        let measured = try clock.time(.scoreAndMeasure) {
            try pass.checkScored(manifest: input.config.manifest.path, options: options)
            return try input.models.indices.map { m in
                // Each model's kept embeddings are let go once measured.
                defer { pass.images[m] = EmbeddingMeasurements.ImageSet() }
                return try ModelMeasurement.measure(
                    table: pass.tables[m], images: pass.images[m], textEmbeddings: prompts.embeddings[m],
                    input: input, settings: settings, model: models.models[m], cache: models.cache, options: options)
            }
        }
        // Within "encode images" (the pass, wall time): the reading and decoding every model shared.
        clock.record(.readAndDecodeImages, pass.prepareSeconds)
        let runs = input.models.indices.map { m in
            AuditRun(
                config: input.models[m].config(in: input.config), model: models.models[m].resolved,
                modelKey: models.models[m].key, auditFileSHA256: input.auditFileSHA256,
                manifestRows: input.rowsRead, usableRows: pass.scored, skipped: pass.skipped,
                uniqueImages: input.rows.count, imagesEncoded: pass.encoded[m], imagesFromCache: pass.fromCache[m],
                promptsEncoded: prompts.encoded[m], promptsTotal: prompts.distinctCount, table: pass.tables[m],
                metrics: measured[m].metrics,
                stageTimings: modelTimings(m, shared: clock.timings, models: models, prompts: prompts, pass: pass, measured: measured),
                cachePath: models.cache?.url.path, shard: options.shard, measurements: measured[m].measurements,
                mitigation: mitigated[m],
                notes: input.notes + (models.models[m].pipeline.model.logitBias == nil ? [] : [Self.sigmoidNote]))
        }
        // A shard writes no report, and with one model there is nothing to compare.
        let comparisons = clock.time(.compareModels) {
            options.shard == nil ? modelComparisons(runs: runs, labels: input.labels, settings: settings) : []
        }

        finished = true
        guard !input.labels.isEmpty else {
            var run = runs[0]
            run.outputLocks = claim.locks
            return .single(run)
        }
        var result = ModelsRun(
            config: input.config, labels: input.labels, runs: runs, comparisons: comparisons,
            encodeSeconds: runs.map { ($0.stageTimings[.encodeImages] ?? 0) + ($0.stageTimings[.encodePrompts] ?? 0) },
            auditFileSHA256: input.auditFileSHA256, manifestRows: input.rowsRead, usableRows: pass.scored,
            skipped: pass.skipped, stageTimings: clock.timings, cachePath: models.cache?.url.path, shard: options.shard,
            notes: input.notes)
        result.outputLocks = claim.locks
        return .models(result)
    }

    /// Model `m`'s own seconds per stage. The stages before measuring are shared by the models,
    /// and each model's part of them is timed inside; a model alone in its run owns them whole,
    /// so its report shows their wall time (the whole pass over the images, decoding included,
    /// not only its encoder).
    static func modelTimings(
        _ m: Int, shared: StageTimings, models: LoadedModels, prompts: PromptEmbeddings, pass: ImagePass,
        measured: [ModelMeasurement]
    ) -> StageTimings {
        let alone = models.models.count == 1
        var own = StageTimings()
        own.record(.readManifest, shared[.readManifest] ?? 0)
        let parts: [(RunStage, Double)] = [
            (.loadModel, models.models[m].seconds), (.encodePrompts, prompts.seconds[m]), (.encodeImages, pass.encodeSeconds[m])
        ]
        for (stage, seconds) in parts { own.record(stage, alone ? shared[stage] ?? seconds : seconds) }
        // The mitigations' fits and variants, shared like the pass they follow (the fit images' encoding is).
        if let seconds = shared[.mitigations] { own.record(.mitigations, seconds) }
        own.record(.scoreAndMeasure, measured[m].scoringSeconds)
        if let seconds = measured[m].measureSeconds { own.record(.retrievalAndAssociations, seconds) }
        if let seconds = measured[m].robustnessSeconds { own.record(.robustness, seconds) }
        return own
    }
}
