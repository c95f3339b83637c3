import CLIPEngine
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a run is carried out (the `clip-audit run` flags).
public struct RunOptions: Sendable {
    /// The report folder; default `Reports/<name>` under the current directory. Checked before
    /// anything is encoded (see ``ReportWriter/checkFolder(_:for:)``); a shard writes none.
    public var outputDirectory: URL?
    /// Overrides the audit file's `model:`.
    public var model: String?
    /// The embedding cache file; nil with `useCache` means the default location.
    public var cacheURL: URL?
    /// `--no-cache` sets this to false.
    public var useCache: Bool = true
    /// Further caches read (never written) after `cacheURL`: the shard caches of a final run.
    public var extraCacheURLs: [URL] = []
    /// `--cached-only`: every image and prompt must come from the cache(s); a miss is an error
    /// instead of an encoder pass (the final run over shard caches: a missing shard must not
    /// turn into one node encoding everything).
    public var cachedOnly: Bool = false
    /// Overrides `manifest.limit` (first N rows only).
    public var limit: Int?
    /// `--shard K/N`: this process encodes only its share of the images (K is 1-based).
    public var shard: Shard?
    /// Threads for encoding and decoding.
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Images per encoder batch.
    public var batchSize: Int = 16
    /// `--strict`: any skipped row is fatal.
    public var strict: Bool = false
    /// Images whose header claims more pixels than this are refused before decoding.
    public var maxPixels: Int = ImageDecoder.defaultMaxPixels
    /// The environment (for model resolution and the default cache).
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Lock the report folder (and each model's folder) from the check before encoding until
    /// the run's result is dropped (``AuditRun/outputLocks``), so that a second clip-audit
    /// process writing there stops with one line instead of mixing its report with this one.
    /// `clip-audit run` sets it; the folder is then created at the start of the run.
    public var lockOutputFolder: Bool = false

    public init() {}
}

/// One share of a sharded run: images whose index modulo `count` is `index − 1`.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var count: Int
    public init(index: Int, count: Int) { self.index = index; self.count = count }

    /// Parses `K/N` with 1 ≤ K ≤ N.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else { return nil }
        self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard of a cluster array task, from its environment: a Slurm job array
    /// (`SLURM_ARRAY_TASK_ID` counted from `SLURM_ARRAY_TASK_MIN`, default 0, out of
    /// `SLURM_ARRAY_TASK_COUNT`) or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, 0-based,
    /// out of `count`, else `CLIP_AUDIT_SHARD_COUNT`). `count` overrides the Slurm count too.
    public static func fromEnvironment(_ environment: [String: String], count: Int? = nil) throws -> Shard {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let value = Int(text) else { throw AuditError("\(name)=\(text) is not an integer") }
            return value
        }
        let index: Int, total: Int, source: String
        if let task = try number("SLURM_ARRAY_TASK_ID") {
            index = task - (try number("SLURM_ARRAY_TASK_MIN") ?? 0)
            guard let n = try count ?? number("SLURM_ARRAY_TASK_COUNT") else {
                throw AuditError("--shard auto: SLURM_ARRAY_TASK_COUNT is not set; pass --shard-count N")
            }
            total = n
            source = "SLURM_ARRAY_TASK_ID"
        } else if let completion = try number("JOB_COMPLETION_INDEX") {
            index = completion
            guard let n = try count ?? number("CLIP_AUDIT_SHARD_COUNT") else {
                throw AuditError(
                    "--shard auto: JOB_COMPLETION_INDEX is set but not the shard count; pass --shard-count N (the Job's completions) or set CLIP_AUDIT_SHARD_COUNT"
                )
            }
            total = n
            source = "JOB_COMPLETION_INDEX"
        } else {
            throw AuditError(
                "--shard auto: neither SLURM_ARRAY_TASK_ID (Slurm job array) nor JOB_COMPLETION_INDEX (Kubernetes Indexed Job) is set")
        }
        guard total >= 1, index >= 0, index < total else {
            throw AuditError(
                "--shard auto: \(source) gives shard index \(index) (0-based), outside 0..<\(total); array indices must run over 0..N-1 (or MIN..MIN+N-1)"
            )
        }
        return Shard(index: index + 1, count: total)
    }
}

/// One scored row of one design (a line of `predictions.csv`), as ``PredictionTable`` gives it
/// when read.
public struct Prediction: Sendable {
    public var design: String
    public var line: Int
    public var file: String
    /// The attribute values, in the audit file's attribute order.
    public var attributes: [String]
    public var truth: String?
    public var predicted: String
    public var confidence: Double
    public var harmCategory: String?
}

/// A row left out of the audit, with where it came from and why.
public struct SkippedEntry: Sendable {
    public var line: Int?
    public var file: String?
    /// One line saying why, with the details (shown per row in report.md and run.json).
    public var reason: String
    /// The kind of cause the summaries count by: the same for every row skipped for the same cause.
    public var kind: SkipKind

    public init(line: Int?, file: String?, reason: String, kind: SkipKind) {
        self.line = line
        self.file = file
        self.reason = reason
        self.kind = kind
    }

    /// A manifest row that the row checks left out.
    public init(_ row: SkippedRow) {
        self.init(line: row.line, file: row.file, reason: "\(row.reason)", kind: row.reason.kind)
    }
}

/// Everything a run measured: the inputs to every report file.
public struct AuditRun: Sendable {
    public var config: AuditConfig
    public var model: ResolvedModel
    public var modelKey: ModelKey
    public var auditFileSHA256: String
    public var manifestRows: Int
    public var usableRows: Int
    public var skipped: [SkippedEntry]
    public var uniqueImages: Int
    public var imagesEncoded: Int
    public var imagesFromCache: Int
    public var promptsEncoded: Int
    public var promptsTotal: Int
    /// Every design's prediction for every scored row.
    public var table: PredictionTable
    public var metrics: AuditMetrics
    public var timings: [(stage: String, seconds: Double)]
    public var cachePath: String?
    public var shard: Shard?
    /// Retrieval skew and association tests (empty when the audit file asks for neither).
    public var measurements = EmbeddingMeasurements()
    /// Retrieval with each mitigation applied, and what each fit chose (empty without `mitigations:`).
    public var mitigation = MitigationOutcome()
    /// What the report's Setup must say about how the run departed from the audit file
    /// (a reference group replaced under `--limit`).
    public var notes: [String] = []
    /// The report folder's locks, held while this value lives (``RunOptions/lockOutputFolder``).
    public var outputLocks: [OutputLock] = []

    /// The lines of `predictions.csv`, made one at a time from the table.
    public var predictions: PredictionTable.Predictions { table.predictions }
}

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
    /// - Parameter progress: called with (images done, images total) as encoding proceeds.
    public static func perform(
        auditFile: URL, options: RunOptions,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> Outcome {
        var timings: [(String, Double)] = []
        var clock = Date()
        func lap(_ stage: String) {
            let now = Date()
            timings.append((stage, now.timeIntervalSince(clock)))
            clock = now
        }

        try checkReadCachesExist(options)

        // 1. The audit file and the manifest: which rows count.
        var config = try AuditConfig.load(contentsOf: auditFile)
        if let limit = options.limit { config.manifest.limit = limit }
        // --model replaces the list with one model: an ordinary one-model run.
        if options.model != nil { config.models = [] }
        let several = !config.models.isEmpty
        let labels = config.models.map(\.label)
        // The hash of the bytes that were parsed: reading the file again could hash other bytes.
        let auditHash = config.sourceSHA256
        let validation = try AuditValidator.validate(config, referenceFallback: options.limit != nil)
        if let error = validation.errors.first {
            // Configuration errors (missing columns, label values that are no class) are fatal:
            // a run on them would measure something other than what the audit file says.
            throw error
        }
        var outputLocks: [OutputLock] = []
        var createdFolders: [URL] = []
        var finished = false
        defer {
            // A run that failed leaves no empty folder of its own making behind.
            if !finished {
                outputLocks = []
                for folder in createdFolders.reversed() { rmdir(folder.path) }
            }
        }
        if options.shard == nil {
            // Before an hour of encoding, not after: a folder the report cannot go to.
            let folder = options.outputDirectory ?? defaultReportFolder(name: config.name)
            if options.lockOutputFolder {
                // Held until the report is written: another process's report never mixes with it.
                try OutputFolder.refuseRoot(folder)
                if !FileManager.default.fileExists(atPath: folder.path) { createdFolders.append(folder) }
                let top = try FolderHandle(url: folder, what: "report folder")
                outputLocks.append(try OutputLock(top))
                for label in several ? labels : [] {
                    let entry = try top.entry(label)
                    if entry == .link { throw top.linkError(label) }
                    if entry == .missing { createdFolders.append(folder.appendingPathComponent(label)) }
                    outputLocks.append(try OutputLock(FolderHandle(label, in: top, what: "report folder")))
                }
            }
            if several {
                try ModelsWriter.checkFolder(folder, labels: labels, for: config)
            } else {
                try ReportWriter.checkFolder(folder, for: config)
            }
        }
        var notes: [String] = []
        for fallback in validation.referenceFallbacks {
            config.referenceGroups[fallback.key] = fallback.used
            notes.append(
                "--limit \(options.limit ?? 0): reference group for \(fallback.key) is \"\(fallback.used)\" (the largest group), "
                    + "not \"\(fallback.wanted)\", which has no usable rows within the limit")
        }
        var skipped = validation.skipped.map(SkippedEntry.init)
        let rows = validation.usableRows
        let references: [String?] =
            several
            ? config.models.map { $0.model.locatorString }
            : [options.model ?? config.model.map(\.locatorString)]
        var tables = try references.map { _ in try PredictionTable(rows: rows, designs: config.designs) }
        lap("read manifest")

        // 2. The models, tokenizers and preprocessing, and the keys they give the cache.
        CLIPModel.setThreads(options.threads)
        let cache: EmbeddingCache? =
            options.useCache
            ? try EmbeddingCache(
                url: options.cacheURL ?? EmbeddingCache.defaultURL(environment: options.environment),
                fallbacks: options.extraCacheURLs)
            : nil
        var resolvedModels: [ResolvedModel] = [], pipelines: [CLIPPipeline] = [], modelKeys: [ModelKey] = []
        var loadSeconds: [Double] = []
        for (index, reference) in references.enumerated() {
            let started = Date()
            do {
                let resolved = try ModelLocator(environment: options.environment).resolve(reference)
                let pipeline = try CLIPPipeline(model: resolved)
                let weightsHash =
                    try cache?.fingerprint(ofFile: pipeline.weightsURL) { try SHA256Digest.hex(ofFile: $0) }
                    ?? SHA256Digest.hex(ofFile: pipeline.weightsURL)
                resolvedModels.append(resolved)
                pipelines.append(pipeline)
                // The weights, the configuration and the arithmetic: embeddings from another build's
                // forward pass differ in their last bits and must not be mixed with this one's.
                modelKeys.append(ModelKey(weightsSHA256: weightsHash, configurationSHA256: pipeline.configurationSHA256))
            } catch {
                // Which entry of `models:` failed, when there are several.
                guard several else { throw error }
                throw AuditError(file: auditFile.path, "model \(labels[index]): \(error)")
            }
            loadSeconds.append(Date().timeIntervalSince(started))
        }
        lap("load model")

        // 3. Text: every distinct prompt of every design, once per model.
        var allPrompts: [String] = []
        for design in config.designs {
            for c in design.classes { allPrompts += design.prompts(forClass: c.name) }
        }
        allPrompts += EmbeddingMeasurements.prompts(for: config)
        var promptEmbeddings: [[String: [Float]]] = [], promptsEncoded: [Int] = [], promptSeconds: [Double] = []
        for (pipeline, modelKey) in zip(pipelines, modelKeys) {
            let started = Date()
            let textEmbedder = TextEmbedder(
                model: pipeline.model, tokenizer: pipeline.tokenizer, cache: cache,
                modelKey: modelKey, tokenizerKey: pipeline.tokenizerKey,
                allowEncoding: !options.cachedOnly)
            let (embeddings, encoded) = try textEmbedder.embed(allPrompts)
            promptEmbeddings.append(embeddings)
            promptsEncoded.append(encoded)
            promptSeconds.append(Date().timeIntervalSince(started))
        }
        lap("encode prompts")

        // 4. Images, scored as each batch arrives. Every usable row names its own file (the
        // validator skips a row naming an earlier row's file), so the images are the rows, in
        // order; a shard takes every count-th. Files with the same bytes (copies, hard links)
        // are encoded once: the embedder shares them within a batch, the cache across batches.
        // Each image is read and decoded once for all the models.
        let share = options.shard.map { (first: $0.index - 1, step: $0.count) } ?? (first: 0, step: 1)
        let shareCount = rows.count > share.first ? (rows.count - share.first + share.step - 1) / share.step : 0
        let members = pipelines.indices.map {
            ImageEmbedder.Member(pipeline: pipelines[$0], modelKey: modelKeys[$0], label: several ? labels[$0] : nil)
        }
        let imageEmbedder = ImageEmbedder(
            members: members, cache: cache, batchSize: options.batchSize,
            decodeThreads: options.threads, maxPixels: options.maxPixels,
            allowEncoding: !options.cachedOnly)
        let classifiers = try pipelines.indices.map { m in
            try config.designs.map { design in
                try ZeroShotClassifier(
                    classes: design.classNames,
                    promptEmbeddings: design.classes.map { c in design.prompts(forClass: c.name).map { promptEmbeddings[m][$0]! } },
                    logitScale: pipelines[m].model.logitScale, logitBias: pipelines[m].model.logitBias)
            }
        }
        var scored = 0
        var encoded = Array(repeating: 0, count: pipelines.count), fromCache = encoded
        // Retrieval and association tests work on the embeddings themselves: keep them when asked.
        let keepImages = config.retrieval != nil || !config.associations.isEmpty || !config.mitigations.isEmpty
        var images = Array(repeating: EmbeddingMeasurements.ImageSet(), count: pipelines.count)
        try imageEmbedder.embedAll(count: shareCount, file: { rows.imageURL(share.first + $0 * share.step) }) { files, outcomes in
            for (position, index) in files.enumerated() {
                let row = share.first + index * share.step
                // An image that any model cannot use is skipped for all: every model is measured
                // on the same rows.
                var embeddings: [(embedding: [Float], cached: Bool)] = []
                var failures: [(model: Int, kind: SkipKind, reason: String)] = []
                for m in outcomes.indices {
                    switch outcomes[m][position] {
                    case .embedded(_, let embedding, let cached): embeddings.append((embedding, cached))
                    case .failed(let kind, let reason): failures.append((m, kind, reason))
                    }
                }
                if let first = failures.first {
                    // Name the models when not all of them fail, or fail differently.
                    let reason =
                        failures.count == outcomes.count && failures.allSatisfy({ $0.reason == first.reason })
                        ? first.reason
                        : failures.map { "model \(labels[$0.model]): \($0.reason)" }.joined(separator: "; ")
                    // Counted under the first failing model's kind, so that one image is one count.
                    skipped.append(SkippedEntry(line: rows.line(row), file: rows.file(row), reason: reason, kind: first.kind))
                    continue
                }
                for (m, item) in embeddings.enumerated() {
                    if item.cached { fromCache[m] += 1 } else { encoded[m] += 1 }
                    for (design, classifier) in classifiers[m].enumerated() {
                        let scores = classifier.score(imageEmbedding: item.embedding)
                        tables[m].record(design: design, row: row, classIndex: scores.predicted, confidence: scores.confidence)
                    }
                    if keepImages { images[m].append(row: row, embedding: item.embedding) }
                }
                scored += 1
            }
            progress?(files.upperBound, shareCount)
        }
        lap("encode images") // and score them; the stage keeps its name in run.json

        // The mitigations' variants, scored from the kept embeddings (a shard only encodes the fit images).
        let mitigated = try MitigationBench.run(
            config: &config, tables: &tables, images: images, textEmbeddings: promptEmbeddings,
            scales: pipelines.map { ($0.model.logitScale, $0.model.logitBias) }, rows: rows, embedder: imageEmbedder,
            scoring: options.shard == nil)

        skipped.sort { ($0.line ?? 0, $0.file ?? "") < ($1.line ?? 0, $1.file ?? "") }
        if options.strict, let first = skipped.first {
            let location = first.line.map { "line \($0)" } ?? "a row"
            throw AuditError(
                file: config.manifest.path.path,
                "--strict: \(skipped.count) row(s) would be skipped; first at \(location)\(first.file.map { " (\($0))" } ?? ""): \(first.reason)"
            )
        }

        if scored == 0 && options.shard == nil {
            // A report over no rows would be all empty tables that look like a result.
            let first = skipped.first.map { ": first at line \($0.line ?? 0)\($0.file.map { " (\($0))" } ?? ""): \($0.reason)" } ?? ""
            throw AuditError(file: config.manifest.path.path, "no row could be scored (\(skipped.count) skipped\(first))")
        }
        let settings = MetricSettings(
            attributes: config.attributes, intersections: config.intersections,
            referenceGroups: config.referenceGroups, alpha: config.alpha,
            minGroupSize: config.minGroupSize, minDifference: config.minDifference)
        var runs: [AuditRun] = []
        var scoringSeconds: [Double] = [], measureSeconds: [Double] = []
        for m in pipelines.indices {
            let started = Date()
            let metrics = computeAuditMetrics(tables[m], settings: settings)
            let scoring = Date().timeIntervalSince(started)
            var measurements = EmbeddingMeasurements()
            if keepImages && options.shard == nil {
                measurements = try EmbeddingMeasurements.measure(
                    config: config, rows: rows, images: images[m],
                    textEmbeddings: promptEmbeddings[m])
            }
            images[m] = EmbeddingMeasurements.ImageSet()
            scoringSeconds.append(scoring)
            measureSeconds.append(Date().timeIntervalSince(started) - scoring)
            // Each model's run is a one-model audit of its own: its folder reads as one.
            var modelConfig = config
            if several {
                modelConfig.models = []
                modelConfig.model = config.models[m].model
            }
            let modelTimings: [(stage: String, seconds: Double)]
            if several {
                modelTimings =
                    [
                        ("read manifest", timings[0].1), ("load model", loadSeconds[m]), ("encode prompts", promptSeconds[m]),
                        ("encode images", imageEmbedder.encodeSeconds[m]), ("score and measure", scoring)
                    ]
                    + (keepImages && options.shard == nil ? [("retrieval and associations", measureSeconds[m])] : [])
            } else {
                modelTimings = [] // set below, from the stages as they ran
            }
            runs.append(
                AuditRun(
                    config: modelConfig, model: resolvedModels[m], modelKey: modelKeys[m], auditFileSHA256: auditHash,
                    manifestRows: validation.rowsRead, usableRows: scored,
                    skipped: skipped, uniqueImages: rows.count, imagesEncoded: encoded[m],
                    imagesFromCache: fromCache[m], promptsEncoded: promptsEncoded[m],
                    promptsTotal: Set(allPrompts).count, table: tables[m],
                    metrics: metrics, timings: modelTimings, cachePath: cache?.url.path, shard: options.shard,
                    measurements: measurements, mitigation: mitigated[m],
                    notes: notes + (pipelines[m].model.logitBias == nil ? [] : [Self.sigmoidNote])))
        }
        if !several {
            timings.append(("score and measure", scoringSeconds[0]))
            if keepImages && options.shard == nil { timings.append(("retrieval and associations", measureSeconds[0])) }
            runs[0].timings = timings
            runs[0].outputLocks = outputLocks
            finished = true
            return .single(runs[0])
        }
        lap("score and measure")
        // Within "encode images" (the pass, wall time): the reading and decoding every model shared.
        timings.append(("read and decode images", imageEmbedder.prepareSeconds))
        let comparisons = options.shard == nil ? modelComparisons(runs: runs, labels: labels, settings: settings) : []
        lap("compare models")
        var result = ModelsRun(
            config: config, labels: labels, runs: runs, comparisons: comparisons,
            encodeSeconds: pipelines.indices.map { imageEmbedder.encodeSeconds[$0] + promptSeconds[$0] },
            auditFileSHA256: auditHash, manifestRows: validation.rowsRead, usableRows: scored,
            skipped: skipped, timings: timings, cachePath: cache?.url.path, shard: options.shard,
            notes: notes)
        result.outputLocks = outputLocks
        finished = true
        return .models(result)
    }
}
