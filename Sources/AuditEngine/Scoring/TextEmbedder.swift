import CLIPEngine
import Foundation

/// Encodes prompts into CLIP text embeddings, each distinct prompt once per run, taking what the
/// cache already has.
public struct TextEmbedder {
    let model: CLIPModel
    let tokenizer: CLIPTokenizer
    let cache: EmbeddingCache?
    let modelKey: ModelKey
    let tokenizerKey: String
    /// Prompts per encoder call.
    let batchSize = 64
    /// False: a prompt missing from the cache is an error (`--cached-only`).
    let allowEncoding: Bool

    public init(
        model: CLIPModel, tokenizer: CLIPTokenizer, cache: EmbeddingCache?, modelKey: ModelKey, tokenizerKey: String,
        allowEncoding: Bool = true
    ) {
        self.allowEncoding = allowEncoding
        self.model = model
        self.tokenizer = tokenizer
        self.cache = cache
        self.modelKey = modelKey
        self.tokenizerKey = tokenizerKey
    }

    /// Embeddings (projected, not normalised) for every distinct prompt, and how many were encoded now.
    public func embed(_ prompts: [String]) throws -> (embeddings: [String: [Float]], encoded: Int) {
        var unique: [String] = []
        var seen = Set<String>()
        for p in prompts where seen.insert(p).inserted { unique.append(p) }
        let lookup = try cache?.textEmbeddingLookup(for: unique, model: modelKey, tokenizer: tokenizerKey) ?? EmbeddingCache.Lookup()
        var result = lookup.found
        let missing = unique.filter { result[$0] == nil }
        if !allowEncoding, let prompt = missing.first(where: { lookup.unusable[$0] != nil }), let cacheFile = lookup.unusable[prompt] {
            throw CacheError(
                file: cacheFile,
                message:
                    "--cached-only: the cached embedding of prompt \"\(prompt)\" is unusable (zero, NaN or infinite values, or a wrong length); run without --cached-only to re-encode it"
            )
        }
        if !allowEncoding && !missing.isEmpty {
            throw AuditError("--cached-only: \(missing.count) prompt(s) are not in the cache(s), e.g. \"\(missing[0])\"")
        }
        for start in stride(from: 0, to: missing.count, by: batchSize) {
            let chunk = Array(missing[start..<min(start + batchSize, missing.count)])
            let ids = chunk.map { tokenizer.tokenize($0) }
            let flat = model.encodeTexts(inputIDs: ids)
            try model.checkEmbeddings(flat, of: "text") { "the prompt \"\(chunk[$0])\"" }
            let dim = flat.count / chunk.count
            var store: [(key: String, embedding: [Float])] = []
            for (i, prompt) in chunk.enumerated() {
                let embedding = Array(flat[(i * dim)..<((i + 1) * dim)])
                result[prompt] = embedding
                store.append((prompt, embedding))
            }
            try cache?.storeTextEmbeddings(store, model: modelKey, tokenizer: tokenizerKey)
        }
        return (result, missing.count)
    }
}
