import Foundation

/// One weight tensor as Float values: either in place in the memory-mapped file (F32) or in a
/// buffer converted once at load (F16, BF16, F64, or unaligned F32) owned by `CLIPWeights`.
struct WeightTensor: @unchecked Sendable {
    let data: UnsafeBufferPointer<Float>
    let shape: [Int]
    var pointer: UnsafePointer<Float> { data.baseAddress! }
}

/// The weights of one pre-LN transformer encoder layer (Linear weights are [out, in]).
struct TransformerLayerWeights: Sendable {
    let layerNorm1Weight, layerNorm1Bias: WeightTensor
    let qWeight, qBias, kWeight, kBias, vWeight, vBias: WeightTensor
    let outWeight, outBias: WeightTensor
    let layerNorm2Weight, layerNorm2Bias: WeightTensor
    let fc1Weight, fc1Bias, fc2Weight, fc2Bias: WeightTensor
}

/// All tensors of a Hugging Face `CLIPModel` checkpoint, looked up by name with shapes checked
/// against the configuration. F32 tensors are used in place from the file's memory map (no copy,
/// so a 600 MB checkpoint costs page cache rather than private memory); other float types are
/// converted once. Keys the model does not use (e.g. `*.position_ids`) are ignored.
final class CLIPWeights: @unchecked Sendable {
    let file: SafeTensorsFile
    /// Buffers holding converted tensors, freed with `self`.
    private var owned: [UnsafeMutableBufferPointer<Float>] = []

    let logitScale: Float

    // Text tower.
    let tokenEmbedding: WeightTensor        // [vocab, Dt]
    let textPositionEmbedding: WeightTensor // [maxPositions, Dt]
    let textLayers: [TransformerLayerWeights]
    let finalLayerNormWeight, finalLayerNormBias: WeightTensor
    let textProjection: WeightTensor        // [projection, Dt]

    // Vision tower.
    let classEmbedding: WeightTensor        // [Dv]
    /// The conv weight [Dv, C, P, P], used as a [Dv, C·P·P] matrix.
    let patchEmbedding: WeightTensor
    let visionPositionEmbedding: WeightTensor // [positions, Dv]
    let preLayerNormWeight, preLayerNormBias: WeightTensor
    let visionLayers: [TransformerLayerWeights]
    let postLayerNormWeight, postLayerNormBias: WeightTensor
    let visualProjection: WeightTensor      // [projection, Dv]

    /// Loads every tensor the model needs from `url`, checking shapes against `config`.
    init(url: URL, configuration config: CLIPConfiguration) throws {
        let file = try SafeTensorsFile(url: url)
        self.file = file
        var owned: [UnsafeMutableBufferPointer<Float>] = []
        var ok = false
        defer { if !ok { for buffer in owned { buffer.deallocate() } } }

        func tensor(_ name: String, _ shape: [Int]) throws -> WeightTensor {
            let info = try file.info(name, shape: shape)
            if let inPlace = file.float32InPlace(info) {
                return WeightTensor(data: inPlace, shape: shape)
            }
            let values = try file.floats(info)
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
            _ = buffer.initialize(from: values)
            owned.append(buffer)
            return WeightTensor(data: UnsafeBufferPointer(start: buffer.baseAddress, count: values.count), shape: shape)
        }
        func layers(_ prefix: String, count: Int, width d: Int, mlp m: Int) throws -> [TransformerLayerWeights] {
            try (0..<count).map { i in
                let p = "\(prefix).encoder.layers.\(i)."
                return TransformerLayerWeights(
                    layerNorm1Weight: try tensor(p + "layer_norm1.weight", [d]),
                    layerNorm1Bias: try tensor(p + "layer_norm1.bias", [d]),
                    qWeight: try tensor(p + "self_attn.q_proj.weight", [d, d]),
                    qBias: try tensor(p + "self_attn.q_proj.bias", [d]),
                    kWeight: try tensor(p + "self_attn.k_proj.weight", [d, d]),
                    kBias: try tensor(p + "self_attn.k_proj.bias", [d]),
                    vWeight: try tensor(p + "self_attn.v_proj.weight", [d, d]),
                    vBias: try tensor(p + "self_attn.v_proj.bias", [d]),
                    outWeight: try tensor(p + "self_attn.out_proj.weight", [d, d]),
                    outBias: try tensor(p + "self_attn.out_proj.bias", [d]),
                    layerNorm2Weight: try tensor(p + "layer_norm2.weight", [d]),
                    layerNorm2Bias: try tensor(p + "layer_norm2.bias", [d]),
                    fc1Weight: try tensor(p + "mlp.fc1.weight", [m, d]),
                    fc1Bias: try tensor(p + "mlp.fc1.bias", [m]),
                    fc2Weight: try tensor(p + "mlp.fc2.weight", [d, m]),
                    fc2Bias: try tensor(p + "mlp.fc2.bias", [d]))
            }
        }

        // logit_scale is a 0-d parameter; accept a 1-element vector too.
        let scaleInfo = try file.info("logit_scale")
        guard scaleInfo.count == 1, scaleInfo.shape.count <= 1 else {
            throw SafeTensorsError(code: .shapeMismatch, file: url.path, tensor: "logit_scale",
                                   message: "has shape \(scaleInfo.shape), expected [] (a scalar)")
        }
        logitScale = try file.floats(scaleInfo)[0]
        // Logits are exp(logit_scale) × cosine: an infinite or NaN scale makes every logit
        // infinite or NaN, and every prediction a tie the first class wins.
        guard logitScale.isFinite, expf(logitScale).isFinite else {
            throw SafeTensorsError(code: .badTensorEntry, file: url.path, tensor: "logit_scale",
                                   message: "is \(logitScale): exp(logit_scale), the logits' scale, must be finite")
        }

        let t = config.text, v = config.vision, proj = config.projectionDim
        tokenEmbedding = try tensor("text_model.embeddings.token_embedding.weight", [t.vocabSize, t.hiddenSize])
        textPositionEmbedding = try tensor("text_model.embeddings.position_embedding.weight", [t.maxPositionEmbeddings, t.hiddenSize])
        textLayers = try layers("text_model", count: t.numHiddenLayers, width: t.hiddenSize, mlp: t.intermediateSize)
        finalLayerNormWeight = try tensor("text_model.final_layer_norm.weight", [t.hiddenSize])
        finalLayerNormBias = try tensor("text_model.final_layer_norm.bias", [t.hiddenSize])
        textProjection = try tensor("text_projection.weight", [proj, t.hiddenSize])

        classEmbedding = try tensor("vision_model.embeddings.class_embedding", [v.hiddenSize])
        patchEmbedding = try tensor("vision_model.embeddings.patch_embedding.weight", [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize])
        visionPositionEmbedding = try tensor("vision_model.embeddings.position_embedding.weight", [v.numPositions, v.hiddenSize])
        preLayerNormWeight = try tensor("vision_model.pre_layrnorm.weight", [v.hiddenSize])
        preLayerNormBias = try tensor("vision_model.pre_layrnorm.bias", [v.hiddenSize])
        visionLayers = try layers("vision_model", count: v.numHiddenLayers, width: v.hiddenSize, mlp: v.intermediateSize)
        postLayerNormWeight = try tensor("vision_model.post_layernorm.weight", [v.hiddenSize])
        postLayerNormBias = try tensor("vision_model.post_layernorm.bias", [v.hiddenSize])
        visualProjection = try tensor("visual_projection.weight", [proj, v.hiddenSize])

        self.owned = owned
        ok = true
    }

    /// How many tensors were converted to owned Float buffers (0 when all are F32 used in place).
    var convertedTensorCount: Int { owned.count }

    deinit {
        for buffer in owned { buffer.deallocate() }
    }
}
