import CLIPEngine
import Foundation

/// Stage "load model": the embedding cache, and for each model its checkpoint, tokenizer and
/// preprocessing (``CLIPPipeline``) and the key it gives the cache.
struct LoadedModels {
    /// One loaded model, with the seconds loading it took.
    struct Model {
        var resolved: ResolvedModel
        var pipeline: CLIPPipeline
        var key: ModelKey
        var seconds: Double
    }

    var cache: EmbeddingCache?
    /// In the order of the run's models.
    var models: [Model]

    static func load(_ models: [RunModel], auditFile: URL, options: RunOptions) throws -> LoadedModels {
        CLIPModel.setThreads(options.threads)
        let cache: EmbeddingCache? =
            options.useCache
            ? try EmbeddingCache(
                url: options.cacheURL ?? EmbeddingCache.defaultURL(environment: options.environment),
                fallbacks: options.extraCacheURLs)
            : nil
        let locator = ModelLocator(environment: options.environment)
        let loaded = try models.map { model in
            let started = Date()
            do {
                let resolved = try locator.resolve(model.reference)
                let pipeline = try CLIPPipeline(model: resolved)
                let weightsHash =
                    try cache?.fingerprint(ofFile: pipeline.weightsURL) { try SHA256Digest.hex(ofFile: $0) }
                    ?? SHA256Digest.hex(ofFile: pipeline.weightsURL)
                // The weights, the configuration and the arithmetic: embeddings from another build's
                // forward pass differ in their last bits and must not be mixed with this one's.
                let key = ModelKey(weightsSHA256: weightsHash, configurationSHA256: pipeline.configurationSHA256)
                return Model(resolved: resolved, pipeline: pipeline, key: key, seconds: Date().timeIntervalSince(started))
            } catch {
                // Which entry of `models:` failed, when there are several.
                guard let label = model.label else { throw error }
                throw AuditError(file: auditFile.path, "model \(label): \(error)")
            }
        }
        return LoadedModels(cache: cache, models: loaded)
    }
}
