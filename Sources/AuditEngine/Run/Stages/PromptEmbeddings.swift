import Foundation

/// Stage "encode prompts": every distinct prompt of every design, retrieval query and
/// association word, once per model, through the cache.
struct PromptEmbeddings {
    /// Every prompt the run needs, in design order (with repeats).
    var prompts: [String]
    /// Per model, each prompt's embedding (projected, not normalised).
    var embeddings: [[String: [Float]]]
    /// Per model, how many prompts its text encoder ran on (the rest came from the cache).
    var encoded: [Int]
    /// Per model, the seconds its prompts took.
    var seconds: [Double]

    /// How many distinct prompts the run has.
    var distinctCount: Int { Set(prompts).count }

    static func encode(for config: AuditConfig, models: LoadedModels, options: RunOptions) throws -> PromptEmbeddings {
        var prompts: [String] = []
        for design in config.designs {
            for c in design.classes { prompts += design.prompts(forClass: c.name) }
        }
        prompts += EmbeddingMeasurements.prompts(for: config)
        var result = PromptEmbeddings(prompts: prompts, embeddings: [], encoded: [], seconds: [])
        for model in models.models {
            let started = Date()
            let embedder = TextEmbedder(
                model: model.pipeline.model, tokenizer: model.pipeline.tokenizer, cache: models.cache,
                modelKey: model.key, tokenizerKey: model.pipeline.tokenizerKey,
                allowEncoding: !options.cachedOnly)
            let (embeddings, encoded) = try embedder.embed(prompts)
            result.embeddings.append(embeddings)
            result.encoded.append(encoded)
            result.seconds.append(Date().timeIntervalSince(started))
        }
        return result
    }
}
