import CClipOpenBLAS
import Foundation

/// OpenAI's CLIP (Hugging Face `CLIPModel` layout), run natively: the vision and text towers and
/// their projections into the joint embedding space.
///
/// Every size comes from the checkpoint's `config.json`; the weights are used in place from the
/// memory-mapped `model.safetensors` when they are F32. The model is immutable after loading:
/// each call allocates its own workspace, so one model can serve several threads at once.
public final class CLIPModel: @unchecked Sendable {
    /// The checkpoint's configuration.
    public let configuration: CLIPConfiguration
    /// The CLIP towers' weights; nil for a SigLIP checkpoint, whose towers are `siglip`.
    let weights: CLIPWeights!
    /// SigLIP's towers (`model_type: siglip`), nil for CLIP: `encodeImages` and `encodeTexts`
    /// hand over to them, so every caller takes either model the same way.
    let siglip: SiglipNetwork?
    /// The towers' Linear layers, packed on first use (a text-only or image-only caller does not
    /// pay for the other tower).
    private let towerLock = NSLock()
    private var packedVision: PackedTower?
    private var packedText: PackedTower?

    /// The vision tower's packed layers, packing them on the first call.
    var visionTower: PackedTower {
        towerLock.lock(); defer { towerLock.unlock() }
        if let tower = packedVision { return tower }
        let tower = PackedTower(
            layers: weights.visionLayers, projection: weights.visualProjection,
            patchEmbedding: weights.patchEmbedding, weights: weights)
        packedVision = tower
        return tower
    }

    /// The text tower's packed layers, packing them on the first call.
    var textTower: PackedTower {
        towerLock.lock(); defer { towerLock.unlock() }
        if let tower = packedText { return tower }
        let tower = PackedTower(layers: weights.textLayers, projection: weights.textProjection, weights: weights)
        packedText = tower
        return tower
    }

    /// Loads `config.json` and `model.safetensors` from a checkpoint directory.
    /// Errors (`CLIPConfigurationError`, `SafeTensorsError`) are one line naming the file and the
    /// key or tensor at fault.
    public convenience init(directory: URL) throws {
        let configuration = try CLIPConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        try self.init(configuration: configuration, weightsURL: directory.appendingPathComponent("model.safetensors"))
    }

    /// Loads the weights at `weightsURL` (a safetensors file) for `configuration`.
    public init(configuration: CLIPConfiguration, weightsURL: URL) throws {
        self.configuration = configuration
        self.weights = try CLIPWeights(url: weightsURL, configuration: configuration)
        siglip = nil
        self.weightsURL = weightsURL
    }

    /// Loads the weights of `source`, named as `layout` names them; tensors in `ignoring` may be
    /// in the file unused (see `CLIPWeights`).
    init(configuration: CLIPConfiguration, source: any TensorSource, layout: WeightLayout, ignoring: Set<String> = []) throws {
        self.configuration = configuration
        self.weights = try CLIPWeights(source: source, layout: layout, configuration: configuration, ignoring: ignoring)
        siglip = nil
        self.weightsURL = source.url
    }

    /// Loads the weights of `archive` (a PyTorch archive), named as `layout` names them.
    public init(configuration: CLIPConfiguration, archive: PyTorchArchive, layout: WeightLayout) throws {
        self.configuration = configuration
        self.weights = try CLIPWeights(source: archive, layout: layout, configuration: configuration)
        siglip = nil
        self.weightsURL = archive.url
    }

    /// Loads the weights of the safetensors file at `weightsURL`, named as `layout` names them.
    public init(configuration: CLIPConfiguration, safetensorsURL weightsURL: URL, layout: WeightLayout) throws {
        self.configuration = configuration
        self.weights = try CLIPWeights(source: SafeTensorsFile(url: weightsURL), layout: layout, configuration: configuration)
        siglip = nil
        self.weightsURL = weightsURL
    }

    /// Loads a SigLIP checkpoint's towers from `source` (`configuration` from ``SiglipConfiguration``).
    init(siglip configuration: CLIPConfiguration, source: any TensorSource) throws {
        self.configuration = configuration
        self.siglip = try SiglipNetwork(configuration: configuration, source: source)
        self.weights = nil
        self.weightsURL = source.url
    }

    /// The file the weights come from.
    public let weightsURL: URL

    /// The smallest L2 norm a usable embedding has. Real CLIP embeddings have norms of order 1 to
    /// 100; a zero (or denormal-tiny) vector would score every class alike.
    public static let minimumEmbeddingNorm = 1e-10

    /// Whether the `count` floats at `raw` (any alignment: a cache's blob) are a usable
    /// embedding: every value finite, the L2 norm at least `minimumEmbeddingNorm`, and the sum of
    /// squares within Float's range (scoring normalises in Float). The one definition for what
    /// the model makes (`checkEmbeddings`) and what a cache returns.
    public static func isUsableEmbedding(_ raw: UnsafeRawPointer, count: Int) -> Bool {
        var sum = 0.0
        for i in 0..<count {
            let x = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.size, as: Float.self)
            guard x.isFinite else { return false }
            sum += Double(x) * Double(x)
        }
        return sum.squareRoot() >= minimumEmbeddingNorm && Float(sum).isFinite
    }

    /// Checks embeddings the model made (`values`: vectors of `projectionDim`, the i-th for
    /// `items[i]`) with `isUsableEmbedding`. Weights holding NaN or infinities (a damaged or
    /// mis-converted file) give embeddings that scoring would turn into NaN probabilities, and
    /// an arg-max over NaN is a tie the first class wins, so a run would report every image as
    /// the first class. The error names the weights file and the first item at fault.
    public func checkEmbeddings(_ values: [Float], of kind: String, items: (Int) -> String) throws {
        let d = projectionDim
        guard d > 0 else { return }
        try values.withUnsafeBufferPointer { buffer in
            for start in stride(from: 0, to: buffer.count, by: d) {
                let vector = UnsafeBufferPointer(rebasing: buffer[start..<min(start + d, buffer.count)])
                guard !Self.isUsableEmbedding(vector.baseAddress!, count: vector.count) else { continue }
                let finite = vector.allSatisfy(\.isFinite)
                throw SafeTensorsError(
                    code: .badTensorEntry, file: weightsURL.path, tensor: nil,
                    message:
                        "the model gives a \(finite ? "zero-length or overflowing" : "non-finite (NaN or infinite)") \(kind) embedding for \(items(start / d)): its weights are damaged or not a float CLIP checkpoint"
                )
            }
        }
    }

    /// The side of the square input image, in pixels.
    public var imageSize: Int { configuration.vision.imageSize }
    /// The input channels (3).
    public var numChannels: Int { configuration.vision.numChannels }
    /// The width of the joint embedding space.
    public var projectionDim: Int { configuration.projectionDim }
    /// The longest token sequence the text tower accepts.
    public var maxTextLength: Int { configuration.text.maxPositionEmbeddings }
    /// The trained temperature, exp(`logit_scale`): logits = logitScale × cosine similarity.
    public var logitScale: Float { expf(siglip?.logitScale ?? weights.logitScale) }
    /// SigLIP's trained `logit_bias` (logits = logitScale × cosine + logitBias, scored by the
    /// sigmoid); nil for CLIP.
    public var logitBias: Float? { siglip?.logitBias }
    /// Whether this is a SigLIP model, whose text rows are always padded to `maxTextLength`.
    public var isSigLIP: Bool { siglip != nil }

    /// Sets the number of threads every forward pass computes on (process-wide; default: the
    /// active processor count). The encoders split their work over these threads themselves and
    /// run OpenBLAS single-threaded inside them, so the process computes on `n` threads in all,
    /// OpenBLAS's included.
    public static func setThreads(_ n: Int) {
        Parallel.threads = n
    }

    /// The number of threads a forward pass computes on.
    public static var threads: Int { Parallel.threads }

    /// The revision of the forward pass's arithmetic: it changes whenever a build computes an
    /// embedding with other operations or in another order (same model, last bits different),
    /// so that a cache keyed on it never mixes one build's embeddings with another's — a resumed
    /// or sharded run then stays byte-identical to a single run. 2: Linear layers through the
    /// packed products (1 was OpenBLAS's sgemm).
    public static let numericsRevision = 2

    // MARK: Vision

    /// Image embeddings: `pixelValues` holds `count` preprocessed images, [count, channels,
    /// imageSize, imageSize] (CHW, normalised); the result is [count, projectionDim], projected
    /// but not normalised (transformers' `image_embeds` before normalisation).
    ///
    /// An image's embedding is the same to the bit whatever else is in the batch, at any
    /// position, and on any number of threads: the products compute each row the same way
    /// whatever the call holds (`PackedLinear`), and attention runs per image.
    ///
    /// - Precondition: `pixelValues.count == count × channels × imageSize²`.
    public func encodeImages(pixelValues: UnsafeBufferPointer<Float>, count: Int) -> [Float] {
        let v = configuration.vision
        let side = v.imageSize, p = v.patchSize, c = v.numChannels
        let perImage = c * side * side
        precondition(
            count >= 0 && pixelValues.count == count * perImage,
            "encodeImages: \(pixelValues.count) values for \(count) images of \(c)×\(side)×\(side)")
        if let siglip { return siglip.encodeImages(pixelValues: pixelValues, count: count) }
        guard count > 0, let pixels = pixelValues.baseAddress else { return [] }
        let n = v.numPatches, s = v.numPositions, d = v.hiddenSize, k = v.patchInputs
        let threads = Parallel.threads
        let pattern = AttentionPattern.sequences(sequence: s, causal: false)
        let ws = TransformerWorkspace(
            rows: count * s, pooled: count, width: d, intermediate: v.intermediateSize,
            scoresPerThread: pattern.scoresPerThread, threads: threads, extra: count * n * k)
        defer { ws.deallocate() }
        let w = SendableWorkspace(ws)
        let imageTasks = min(threads, count)
        let weights = self.weights!, tower = visionTower

        NetworkKernels.patchRows(pixels, count: count, channels: c, side: side, patch: p, into: ws.mlp, threads: threads)
        NetworkKernels.parallelLinear(ws.mlp, rows: count * n, tower.patchEmbedding!, into: ws.q, threads: threads)

        // Tokens: [class, patches...] + positions, then pre_layrnorm.
        let eps = v.layerNormEps
        Parallel.run(imageTasks) { i in
            let ws = w.value, patches = ws.q
            let cls = weights.classEmbedding.pointer, pos = weights.visionPositionEmbedding.pointer
            for b in Parallel.part(i, of: imageTasks, total: count) {
                let seq = ws.x + b * s * d
                for j in 0..<d { seq[j] = cls[j] + pos[j] }
                for t in 1..<s {
                    let dst = seq + t * d, src = patches + (b * n + t - 1) * d, pt = pos + t * d
                    for j in 0..<d { dst[j] = src[j] + pt[j] }
                }
                NetworkKernels.layerNorm(
                    seq, rows: s, width: d, weight: weights.preLayerNormWeight,
                    bias: weights.preLayerNormBias, eps: eps, output: seq)
            }
        }
        let encoder = TransformerEncoder(
            layers: tower.layers, width: d, heads: v.numAttentionHeads,
            intermediate: v.intermediateSize, eps: v.layerNormEps, activation: v.hiddenAct)
        encoder(ws, pattern: pattern, pooledRows: (0..<count).map { $0 * s })

        // post_layernorm of the class token, then the projection.
        NetworkKernels.layerNorm(
            ws.pooled, rows: count, width: d, weight: weights.postLayerNormWeight,
            bias: weights.postLayerNormBias, eps: v.layerNormEps, output: ws.h)
        return project(ws.h, rows: count, tower.projection)
    }

    // MARK: Text

    /// Where transformers pools a row: with the legacy `eos_token_id` 2, `argmax(input_ids)` (the
    /// first maximum); otherwise the first position equal to `eos_token_id` (0 when absent).
    static func poolingPosition(_ row: [Int32], eosTokenID: Int) -> Int {
        if eosTokenID == 2 {
            var best = 0
            for i in row.indices where row[i] > row[best] { best = i }
            return best
        }
        return row.firstIndex { Int($0) == eosTokenID } ?? 0
    }

    /// Text embeddings: each row is token ids (start, tokens, end, optional padding; rows may
    /// differ in length); the result is [rows, projectionDim], projected but not normalised
    /// (transformers' `text_embeds` before normalisation).
    ///
    /// Each row is pooled at its end-of-text token (see `eos_token_id` in the configuration).
    /// Thanks to the causal mask a token's hidden state depends only on the tokens up to it, so
    /// only positions up to each row's pooling position are computed (no padding), and a prefix
    /// that several rows share — always the start token, and the template of prompts such as
    /// "a photo of a …" — is computed once: the rows form a prefix tree, and each token attends
    /// to its ancestors in it.
    ///
    /// - Precondition: every row is non-empty, at most `maxTextLength` long, with ids below the
    ///   vocabulary size.
    public func encodeTexts(inputIDs: [[Int32]]) -> [Float] {
        // SigLIP reads every position of its padded rows and pools the last (no prefix tree).
        if let siglip { return siglip.encodeTexts(inputIDs: inputIDs) }
        let t = configuration.text
        let count = inputIDs.count
        guard count > 0 else { return [] }
        for row in inputIDs {
            precondition(
                !row.isEmpty && row.count <= t.maxPositionEmbeddings,
                "encodeTexts: a row of \(row.count) tokens (allowed 1...\(t.maxPositionEmbeddings))")
        }
        let positions = inputIDs.map { Self.poolingPosition($0, eosTokenID: t.eosTokenID) }

        // The prefix tree: one node per distinct (prefix, token), in an order where a parent
        // comes before its children.
        var parents: [Int32] = [], tokenIDs: [Int32] = [], tokenPositions: [Int] = []
        var nodes: [Int64: Int32] = [:]
        var pooledRows: [Int] = []
        pooledRows.reserveCapacity(count)
        for (row, last) in zip(inputIDs, positions) {
            var node: Int32 = -1
            for i in 0...last {
                let id = row[i]
                precondition(id >= 0 && Int(id) < t.vocabSize, "encodeTexts: token id \(id) outside the vocabulary of \(t.vocabSize)")
                let key = Int64(node + 1) << 32 | Int64(id)
                if let existing = nodes[key] {
                    node = existing
                } else {
                    let new = Int32(parents.count)
                    parents.append(node); tokenIDs.append(id); tokenPositions.append(i)
                    nodes[key] = new
                    node = new
                }
            }
            pooledRows.append(Int(node))
        }
        let rows = parents.count, d = t.hiddenSize
        let pattern = AttentionPattern.prefixTree(parents: parents, depth: positions.max()! + 1)
        let ws = TransformerWorkspace(
            rows: rows, pooled: count, width: d, intermediate: t.intermediateSize,
            scoresPerThread: pattern.scoresPerThread, threads: Parallel.threads)
        defer { ws.deallocate() }

        let tokens = weights.tokenEmbedding.pointer, pos = weights.textPositionEmbedding.pointer
        for r in 0..<rows {
            let dst = ws.x + r * d, te = tokens + Int(tokenIDs[r]) * d, pe = pos + tokenPositions[r] * d
            for j in 0..<d { dst[j] = te[j] + pe[j] }
        }
        let tower = textTower
        let encoder = TransformerEncoder(
            layers: tower.layers, width: d, heads: t.numAttentionHeads,
            intermediate: t.intermediateSize, eps: t.layerNormEps, activation: t.hiddenAct)
        encoder(ws, pattern: pattern, pooledRows: pooledRows)

        // final_layer_norm is per token: apply it to the pooled tokens only.
        NetworkKernels.layerNorm(
            ws.pooled, rows: count, width: d, weight: weights.finalLayerNormWeight,
            bias: weights.finalLayerNormBias, eps: t.layerNormEps, output: ws.h)
        return project(ws.h, rows: count, tower.projection)
    }

    /// [rows, width] · Wᵀ with the bias-free projection W [projection, width].
    private func project(_ x: UnsafePointer<Float>, rows: Int, _ projection: PackedLinear) -> [Float] {
        let out = projectionDim
        return [Float](unsafeUninitializedCapacity: rows * out) { buffer, initialized in
            NetworkKernels.parallelLinear(x, rows: rows, projection, into: buffer.baseAddress!, threads: Parallel.threads)
            initialized = rows * out
        }
    }
}
