import Foundation

/// Stage "mitigations" (only for an audit with `mitigations:`): each mitigation fitted to each
/// model and scored as the variants `<design>~<name>` from the embeddings the image pass kept,
/// and retrieval measured again with it applied (``MitigationBench``). The variants join the
/// audit's designs and the models' prediction tables, so the stages after it measure them as
/// any variant. A shard only encodes CLIP-clip's fit images, into its cache.
enum MitigationPass {
    static func run(
        _ input: inout RunInput, pass: inout ImagePass, models: LoadedModels, prompts: PromptEmbeddings, options: RunOptions
    ) throws -> [MitigationOutcome] {
        let members = zip(models.models, input.models).map {
            ImageEmbedder.Member(pipeline: $0.pipeline, modelKey: $0.key, label: $1.label)
        }
        let embedder = ImageEmbedder(
            members: members, cache: models.cache, batchSize: options.batchSize, decodeThreads: options.threads,
            maxPixels: options.maxPixels, allowEncoding: !options.cachedOnly)
        return try MitigationBench.run(
            config: &input.config, tables: &pass.tables, images: pass.images, textEmbeddings: prompts.embeddings,
            scales: models.models.map { ($0.pipeline.model.logitScale, $0.pipeline.model.logitBias) }, rows: input.rows,
            embedder: embedder, scoring: options.shard == nil)
    }
}
