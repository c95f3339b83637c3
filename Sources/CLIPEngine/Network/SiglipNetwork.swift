import Foundation

/// SigLIP's two towers (transformers' `SiglipModel`), run on the engine's CLIP kernels:
///
/// - **Vision**: the patch embedding (a conv with bias, as one packed product), position
///   embeddings, no class token and no pre-LayerNorm; the pre-LN encoder (``TransformerEncoder``);
///   `post_layernorm` over every token; then the attention-pooling head
///   (`SiglipMultiheadAttentionPoolingHead`): a learnt probe attends over the tokens
///   (`nn.MultiheadAttention`), then LayerNorm, MLP and the residual. The head's output is the
///   image embedding.
/// - **Text**: token and position embeddings, the same encoder with full (not causal) attention
///   over the padded row — SigLIP uses no attention mask — `final_layer_norm`, and the last
///   position through the `head` Linear: the text embedding.
///
/// Weights are used in place when F32 and converted once otherwise; the Linear layers are packed
/// on each tower's first use. Immutable after loading: calls may run on several threads at once.
final class SiglipNetwork: @unchecked Sendable {
    let configuration: CLIPConfiguration
    let url: URL
    /// `logit_scale` (before `exp`) and `logit_bias`.
    let logitScale: Float
    let logitBias: Float

    private let source: any TensorSource
    private var converted: [UnsafeMutableBufferPointer<Float>] = []

    // Vision.
    private let patchWeight, patchBias, visionPositions: WeightTensor
    private let visionLayerWeights: [TransformerLayerWeights]
    private let postNormWeight, postNormBias: WeightTensor
    private let probe: WeightTensor
    private let poolQ, poolQBias, poolK, poolKBias, poolV, poolVBias, poolOut, poolOutBias: WeightTensor
    private let headNormWeight, headNormBias: WeightTensor
    private let headFC1, headFC1Bias, headFC2, headFC2Bias: WeightTensor
    // Text.
    private let tokenEmbedding, textPositions: WeightTensor
    private let textLayerWeights: [TransformerLayerWeights]
    private let finalNormWeight, finalNormBias: WeightTensor
    private let textHead, textHeadBias: WeightTensor

    private struct VisionTower {
        let patch: PackedLinear
        let layers: [EncoderLayer]
        let q, k, v, out, fc1, fc2: PackedLinear
    }
    private struct TextTower {
        let layers: [EncoderLayer]
        let head: PackedLinear
    }
    private let lock = NSLock()
    private var packedVision: VisionTower?
    private var packedText: TextTower?

    /// Every tensor name the network reads (the rest of the file is not used).
    private(set) var usedTensorNames: Set<String> = []

    /// Maps the tensors of `source` for `configuration`, checking every shape. Errors name the
    /// file and the tensor.
    init(configuration c: CLIPConfiguration, source: any TensorSource) throws {
        configuration = c
        self.source = source
        let fileURL = source.url
        url = fileURL
        var converted: [UnsafeMutableBufferPointer<Float>] = []
        var used: Set<String> = []
        var ok = false
        defer { if !ok { for buffer in converted { buffer.deallocate() } } }
        func tensor(_ name: String, _ shape: [Int]) throws -> WeightTensor {
            guard let actual = source.tensorShape(name) else {
                throw SafeTensorsError(code: .missingTensor, file: fileURL.path, tensor: name, message: "not found in the file")
            }
            // transformers stores the probe [1, 1, D] and scalars as [1]: compare element counts
            // where only leading ones differ.
            guard actual == shape || (actual.filter { $0 != 1 } == shape.filter { $0 != 1 } && actual.reduce(1, *) == shape.reduce(1, *))
            else {
                throw SafeTensorsError(
                    code: .shapeMismatch, file: fileURL.path, tensor: name, message: "has shape \(actual), expected \(shape)")
            }
            used.insert(name)
            if let inPlace = source.float32InPlace(name) { return WeightTensor(data: inPlace, shape: shape) }
            let values = try source.floatValues(name)
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
            _ = buffer.initialize(from: values)
            converted.append(buffer)
            return WeightTensor(data: UnsafeBufferPointer(rebasing: buffer[0..<values.count]), shape: shape)
        }
        func rows(_ whole: WeightTensor, _ part: Int, _ count: Int, columns: Int?) -> WeightTensor {
            let block = count * (columns ?? 1)
            return WeightTensor(
                data: UnsafeBufferPointer(rebasing: whole.data[(part * block)..<((part + 1) * block)]),
                shape: columns.map { [count, $0] } ?? [count])
        }
        func layers(_ prefix: String, count: Int, width d: Int, mlp m: Int) throws -> [TransformerLayerWeights] {
            try (0..<count).map { i in
                let p = "\(prefix).encoder.layers.\(i)."
                return TransformerLayerWeights(
                    layerNorm1Weight: try tensor(p + "layer_norm1.weight", [d]), layerNorm1Bias: try tensor(p + "layer_norm1.bias", [d]),
                    qWeight: try tensor(p + "self_attn.q_proj.weight", [d, d]), qBias: try tensor(p + "self_attn.q_proj.bias", [d]),
                    kWeight: try tensor(p + "self_attn.k_proj.weight", [d, d]), kBias: try tensor(p + "self_attn.k_proj.bias", [d]),
                    vWeight: try tensor(p + "self_attn.v_proj.weight", [d, d]), vBias: try tensor(p + "self_attn.v_proj.bias", [d]),
                    outWeight: try tensor(p + "self_attn.out_proj.weight", [d, d]),
                    outBias: try tensor(p + "self_attn.out_proj.bias", [d]),
                    layerNorm2Weight: try tensor(p + "layer_norm2.weight", [d]), layerNorm2Bias: try tensor(p + "layer_norm2.bias", [d]),
                    fc1Weight: try tensor(p + "mlp.fc1.weight", [m, d]), fc1Bias: try tensor(p + "mlp.fc1.bias", [m]),
                    fc2Weight: try tensor(p + "mlp.fc2.weight", [d, m]), fc2Bias: try tensor(p + "mlp.fc2.bias", [d]))
            }
        }
        func scalar(_ name: String) throws -> Float {
            let value = try tensor(name, [1]).data[0]
            guard value.isFinite, name != "logit_scale" || expf(value).isFinite else {
                throw SafeTensorsError(
                    code: .badTensorEntry, file: fileURL.path, tensor: name, message: "is \(value): the logits need a finite value")
            }
            return value
        }
        logitScale = try scalar("logit_scale")
        logitBias = try scalar("logit_bias")

        let v = c.vision, t = c.text, d = v.hiddenSize, m = v.intermediateSize
        patchWeight = try tensor("vision_model.embeddings.patch_embedding.weight", [d, v.numChannels, v.patchSize, v.patchSize])
        patchBias = try tensor("vision_model.embeddings.patch_embedding.bias", [d])
        visionPositions = try tensor("vision_model.embeddings.position_embedding.weight", [v.numPatches, d])
        visionLayerWeights = try layers("vision_model", count: v.numHiddenLayers, width: d, mlp: m)
        postNormWeight = try tensor("vision_model.post_layernorm.weight", [d])
        postNormBias = try tensor("vision_model.post_layernorm.bias", [d])
        probe = try tensor("vision_model.head.probe", [1, 1, d])
        let inProj = try tensor("vision_model.head.attention.in_proj_weight", [3 * d, d])
        let inBias = try tensor("vision_model.head.attention.in_proj_bias", [3 * d])
        poolQ = rows(inProj, 0, d, columns: d); poolK = rows(inProj, 1, d, columns: d); poolV = rows(inProj, 2, d, columns: d)
        poolQBias = rows(inBias, 0, d, columns: nil); poolKBias = rows(inBias, 1, d, columns: nil)
        poolVBias = rows(inBias, 2, d, columns: nil)
        poolOut = try tensor("vision_model.head.attention.out_proj.weight", [d, d])
        poolOutBias = try tensor("vision_model.head.attention.out_proj.bias", [d])
        headNormWeight = try tensor("vision_model.head.layernorm.weight", [d])
        headNormBias = try tensor("vision_model.head.layernorm.bias", [d])
        headFC1 = try tensor("vision_model.head.mlp.fc1.weight", [m, d])
        headFC1Bias = try tensor("vision_model.head.mlp.fc1.bias", [m])
        headFC2 = try tensor("vision_model.head.mlp.fc2.weight", [d, m])
        headFC2Bias = try tensor("vision_model.head.mlp.fc2.bias", [d])

        let dt = t.hiddenSize
        tokenEmbedding = try tensor("text_model.embeddings.token_embedding.weight", [t.vocabSize, dt])
        textPositions = try tensor("text_model.embeddings.position_embedding.weight", [t.maxPositionEmbeddings, dt])
        textLayerWeights = try layers("text_model", count: t.numHiddenLayers, width: dt, mlp: t.intermediateSize)
        finalNormWeight = try tensor("text_model.final_layer_norm.weight", [dt])
        finalNormBias = try tensor("text_model.final_layer_norm.bias", [dt])
        textHead = try tensor("text_model.head.weight", [c.projectionDim, dt])
        textHeadBias = try tensor("text_model.head.bias", [c.projectionDim])
        // Every tensor in the file is used or refused by name (transformers' position ids may be there).
        try CLIPWeights.refuseUnused(
            source.tensorNames, used: used, tolerated: CLIPWeights.huggingFaceBuffers, file: fileURL,
            model: "a SigLIP model of the configured sizes (\(v.numHiddenLayers) vision and \(t.numHiddenLayers) text layers)")
        self.converted = converted
        usedTensorNames = used
        ok = true
    }

    deinit {
        for buffer in converted { buffer.deallocate() }
    }

    /// Gives back the file pages of weights that a packed layer now holds a copy of (products
    /// read only the packed copy): without this a checkpoint's Linear weights stay resident
    /// twice, as `CLIPWeights.releaseCopied` explains for CLIP. Converted copies are kept.
    private func releaseFilePages(_ tensors: [WeightTensor]) {
        for tensor in tensors {
            let bytes = UnsafeRawBufferPointer(tensor.data)
            guard let start = bytes.baseAddress else { continue }
            let isConverted = converted.contains { buffer in
                let raw = UnsafeRawBufferPointer(buffer)
                return start >= raw.baseAddress! && start + bytes.count <= raw.baseAddress! + raw.count
            }
            if !isConverted { source.releasePages(bytes) }
        }
    }

    private var visionTower: VisionTower {
        lock.lock(); defer { lock.unlock() }
        if let tower = packedVision { return tower }
        let tower = VisionTower(
            patch: PackedLinear(weight: patchWeight, bias: patchBias), layers: visionLayerWeights.map(EncoderLayer.init),
            q: PackedLinear(weight: poolQ, bias: poolQBias), k: PackedLinear(weight: poolK, bias: poolKBias),
            v: PackedLinear(weight: poolV, bias: poolVBias), out: PackedLinear(weight: poolOut, bias: poolOutBias),
            fc1: PackedLinear(weight: headFC1, bias: headFC1Bias), fc2: PackedLinear(weight: headFC2, bias: headFC2Bias))
        packedVision = tower
        releaseFilePages(
            [patchWeight, poolQ, poolK, poolV, poolOut, headFC1, headFC2] + visionLayerWeights.flatMap(EncoderLayer.packedWeights))
        return tower
    }

    private var textTower: TextTower {
        lock.lock(); defer { lock.unlock() }
        if let tower = packedText { return tower }
        let tower = TextTower(layers: textLayerWeights.map(EncoderLayer.init), head: PackedLinear(weight: textHead, bias: textHeadBias))
        packedText = tower
        releaseFilePages([textHead] + textLayerWeights.flatMap(EncoderLayer.packedWeights))
        return tower
    }

    /// Image embeddings [count, hidden] (the pooling head's output, not normalised) of `count`
    /// preprocessed images [count, channels, size, size].
    func encodeImages(pixelValues: UnsafeBufferPointer<Float>, count: Int) -> [Float] {
        let v = configuration.vision
        let side = v.imageSize, p = v.patchSize, c = v.numChannels
        let perImage = c * side * side
        precondition(count >= 0 && pixelValues.count == count * perImage, "encodeImages: \(pixelValues.count) values for \(count) images")
        guard count > 0, let pixels = pixelValues.baseAddress else { return [] }
        let n = v.numPatches, d = v.hiddenSize, k = v.patchInputs, m = v.intermediateSize
        let rows = count * n
        let threads = Parallel.threads
        let pattern = AttentionPattern.sequences(sequence: n, causal: false)
        let ws = TransformerWorkspace(
            rows: rows, pooled: rows, width: d, intermediate: m, scoresPerThread: pattern.scoresPerThread, threads: threads,
            extra: rows * k)
        defer { ws.deallocate() }
        let w = SendableWorkspace(ws)
        let tower = visionTower
        let imageTasks = min(threads, count)

        NetworkKernels.patchRows(pixels, count: count, channels: c, side: side, patch: p, into: ws.mlp, threads: threads)
        NetworkKernels.parallelLinear(ws.mlp, rows: rows, tower.patch, into: ws.x, threads: threads)
        let positions = visionPositions.pointer
        Parallel.run(imageTasks) { i in
            for b in Parallel.part(i, of: imageTasks, total: count) {
                let seq = w.value.x + b * n * d
                for j in 0..<(n * d) { seq[j] += positions[j] }
            }
        }
        // Every token is read after the encoder (the head attends over all of them).
        let encoder = TransformerEncoder(
            layers: tower.layers, width: d, heads: v.numAttentionHeads, intermediate: m, eps: v.layerNormEps, activation: v.hiddenAct)
        encoder(ws, pattern: pattern, pooledRows: Array(0..<rows))
        NetworkKernels.layerNorm(
            ws.pooled, rows: rows, width: d, weight: postNormWeight, bias: postNormBias, eps: v.layerNormEps, output: ws.h)

        // The pooling head: keys and values of every token, the probe's query (the same for
        // every image), attention per (image, head), then out_proj, LayerNorm, MLP, residual.
        NetworkKernels.parallelLinear(ws.h, rows: rows, tower.k, into: ws.k, threads: threads)
        NetworkKernels.parallelLinear(ws.h, rows: rows, tower.v, into: ws.v, threads: threads)
        let query = ws.q
        NetworkKernels.linear(probe.pointer, rows: 1, tower.q, into: query)
        let heads = v.numAttentionHeads, headDim = d / heads
        let scale = 1 / Float(headDim).squareRoot()
        let attended = ws.attention
        let pairs = count * heads
        Parallel.claim(max(1, min(4 * threads, pairs)), workers: threads) { chunk, worker in
            let ws = w.value
            let chunks = max(1, min(4 * threads, pairs))
            let scores = ws.scores + worker * n * n
            for pair in Parallel.part(chunk, of: chunks, total: pairs) {
                let b = pair / heads, head = pair % heads
                let keys = b * n * d + head * headDim
                NetworkKernels.gemm(
                    m: 1, n: n, k: headDim, alpha: scale, a: query + head * headDim, lda: d, b: ws.k + keys, ldb: d, transB: true,
                    beta: 0, c: scores, ldc: n)
                NetworkKernels.softmaxRows(scores, rows: 1, width: n, causal: false)
                NetworkKernels.gemm(
                    m: 1, n: headDim, k: n, a: scores, lda: n, b: ws.v + keys, ldb: d, transB: false, beta: 0,
                    c: attended + b * d + head * headDim, ldc: d)
            }
        }
        let residual = ws.x
        NetworkKernels.parallelLinear(attended, rows: count, tower.out, into: residual, threads: threads)
        NetworkKernels.layerNorm(
            residual, rows: count, width: d, weight: headNormWeight, bias: headNormBias, eps: v.layerNormEps, output: ws.h)
        NetworkKernels.parallelLinear(ws.h, rows: count, tower.fc1, into: ws.mlp, threads: threads)
        NetworkKernels.activate(ws.mlp, count: count * m, v.hiddenAct)
        NetworkKernels.parallelLinear(ws.mlp, rows: count, tower.fc2, into: residual, accumulate: true, threads: threads)
        return Array(UnsafeBufferPointer(start: residual, count: count * d))
    }

    /// Text embeddings [rows, projection] (the head's output, not normalised). Every row is the
    /// tokenizer's padded row of exactly `max_position_embeddings` ids.
    func encodeTexts(inputIDs: [[Int32]]) -> [Float] {
        let t = configuration.text
        let count = inputIDs.count
        guard count > 0 else { return [] }
        let length = t.maxPositionEmbeddings, d = t.hiddenSize
        for row in inputIDs {
            precondition(row.count == length, "encodeTexts: a row of \(row.count) tokens (SigLIP rows are padded to \(length))")
            for id in row {
                precondition(id >= 0 && Int(id) < t.vocabSize, "encodeTexts: token id \(id) outside the vocabulary of \(t.vocabSize)")
            }
        }
        let rows = count * length
        let threads = Parallel.threads
        let pattern = AttentionPattern.sequences(sequence: length, causal: false)
        let ws = TransformerWorkspace(
            rows: rows, pooled: count, width: d, intermediate: t.intermediateSize, scoresPerThread: pattern.scoresPerThread,
            threads: threads)
        defer { ws.deallocate() }
        let tower = textTower
        let tokens = tokenEmbedding.pointer, positions = textPositions.pointer
        for (b, row) in inputIDs.enumerated() {
            for (i, id) in row.enumerated() {
                let dst = ws.x + (b * length + i) * d, token = tokens + Int(id) * d, position = positions + i * d
                for j in 0..<d { dst[j] = token[j] + position[j] }
            }
        }
        let encoder = TransformerEncoder(
            layers: tower.layers, width: d, heads: t.numAttentionHeads, intermediate: t.intermediateSize, eps: t.layerNormEps,
            activation: t.hiddenAct)
        // transformers pools `last_hidden_state[:, -1, :]`: the last position, padding or not.
        encoder(ws, pattern: pattern, pooledRows: (0..<count).map { $0 * length + length - 1 })
        NetworkKernels.layerNorm(
            ws.pooled, rows: count, width: d, weight: finalNormWeight, bias: finalNormBias, eps: t.layerNormEps, output: ws.h)
        let out = configuration.projectionDim
        return [Float](unsafeUninitializedCapacity: count * out) { buffer, initialized in
            NetworkKernels.parallelLinear(ws.h, rows: count, tower.head, into: buffer.baseAddress!, threads: threads)
            initialized = count * out
        }
    }
}
