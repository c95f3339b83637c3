import Foundation

/// Stage "encode images": one pass over the images, each read and decoded once for all the
/// models, encoded where the cache misses, and scored by every design as each batch arrives.
struct ImagePass {
    /// Per model, every design's prediction for every scored row.
    var tables: [PredictionTable]
    /// Per model, the embeddings kept for retrieval and association tests (empty unless asked).
    var images: [EmbeddingMeasurements.ImageSet]
    /// Per model, images its encoder ran on and images taken from the cache.
    var encoded: [Int]
    var fromCache: [Int]
    /// Rows every model scored.
    var scored = 0
    /// Every row left out, the manifest's and the images', in manifest order.
    var skipped: [SkippedEntry]
    /// Per model, the seconds in its image encoder.
    var encodeSeconds: [Double] = []
    /// The seconds reading and decoding took (shared by every model; it overlaps the encoding).
    var prepareSeconds = 0.0

    /// Every usable row names its own file (the validator skips a row naming an earlier row's
    /// file), so the images are the rows, in order; a shard takes every count-th. Files with the
    /// same bytes (copies, hard links) are encoded once: the embedder shares them within a batch,
    /// the cache across batches.
    static func run(
        _ input: RunInput, models: LoadedModels, prompts: PromptEmbeddings, options: RunOptions,
        progress: ((Int, Int) -> Void)?
    ) throws -> ImagePass {
        let rows = input.rows, config = input.config
        let labels = input.models.map { $0.label ?? "" }
        let share = options.shard.map { (first: $0.index - 1, step: $0.count) } ?? (first: 0, step: 1)
        let shareCount = rows.count > share.first ? (rows.count - share.first + share.step - 1) / share.step : 0
        let members = zip(models.models, input.models).map {
            ImageEmbedder.Member(pipeline: $0.pipeline, modelKey: $0.key, label: $1.label)
        }
        let imageEmbedder = ImageEmbedder(
            members: members, cache: models.cache, batchSize: options.batchSize,
            decodeThreads: options.threads, maxPixels: options.maxPixels,
            allowEncoding: !options.cachedOnly)
        let classifiers = try models.models.indices.map { m in
            try config.designs.map { design in
                try ZeroShotClassifier(
                    classes: design.classNames,
                    promptEmbeddings: design.classes.map { c in design.prompts(forClass: c.name).map { prompts.embeddings[m][$0]! } },
                    logitScale: models.models[m].pipeline.model.logitScale, logitBias: models.models[m].pipeline.model.logitBias)
            }
        }
        // Retrieval, association tests and robustness work on the embeddings themselves: keep
        // them when asked. So do the mitigations, which score their variants from them after the pass.
        let keepImages =
            config.retrieval != nil || !config.associations.isEmpty || config.robustness != nil || !config.mitigations.isEmpty
        let count = models.models.count
        var pass = ImagePass(
            tables: input.tables, images: Array(repeating: EmbeddingMeasurements.ImageSet(), count: count),
            encoded: Array(repeating: 0, count: count), fromCache: Array(repeating: 0, count: count),
            skipped: input.skipped)
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
                    pass.skipped.append(SkippedEntry(line: rows.line(row), file: rows.file(row), reason: reason, kind: first.kind))
                    continue
                }
                for (m, item) in embeddings.enumerated() {
                    if item.cached { pass.fromCache[m] += 1 } else { pass.encoded[m] += 1 }
                    for (design, classifier) in classifiers[m].enumerated() {
                        let scores = classifier.score(imageEmbedding: item.embedding)
                        pass.tables[m].record(design: design, row: row, classIndex: scores.predicted, confidence: scores.confidence)
                    }
                    if keepImages { pass.images[m].append(row: row, embedding: item.embedding) }
                }
                pass.scored += 1
            }
            progress?(files.upperBound, shareCount)
        }
        pass.encodeSeconds = imageEmbedder.encodeSeconds
        pass.prepareSeconds = imageEmbedder.prepareSeconds
        pass.skipped.sort { ($0.line ?? 0, $0.file ?? "") < ($1.line ?? 0, $1.file ?? "") }
        return pass
    }

    /// Stops a run whose skipped rows make its report wrong: any under `--strict`, and all of
    /// them (a report over no rows would be all empty tables that look like a result).
    func checkScored(manifest: URL, options: RunOptions) throws {
        if options.strict, let first = skipped.first {
            let location = first.line.map { "line \($0)" } ?? "a row"
            throw AuditError(
                file: manifest.path,
                "--strict: \(skipped.count) row(s) would be skipped; first at \(location)\(first.file.map { " (\($0))" } ?? ""): \(first.reason)"
            )
        }
        if scored == 0 && options.shard == nil {
            let first = skipped.first.map { ": first at line \($0.line ?? 0)\($0.file.map { " (\($0))" } ?? ""): \($0.reason)" } ?? ""
            throw AuditError(file: manifest.path, "no row could be scored (\(skipped.count) skipped\(first))")
        }
    }
}
