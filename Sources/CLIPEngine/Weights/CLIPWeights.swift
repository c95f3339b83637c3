import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

/// How a checkpoint names its tensors.
public enum WeightLayout: String, Sendable, Equatable {
    /// transformers' `CLIPModel` names (`vision_model.encoder.layers.N.self_attn.q_proj.weight`).
    case huggingFace
    /// OpenAI's names, which open_clip keeps (`visual.transformer.resblocks.N.attn.in_proj_weight`,
    /// `visual.proj` and `text_projection` as [width, projection] matrices, `ln_final`).
    case openAI
    /// open_clip's `CustomTextCLIP`: OpenAI's names with the text tower under `text.`
    /// (`text.token_embedding.weight`, `text.transformer.resblocks.N…`, `text.text_projection`).
    case openCLIPCustomText
}

/// All tensors of a CLIP checkpoint, looked up by name with shapes checked against the
/// configuration. F32 tensors are used in place from the file's memory map (no copy, so a
/// 600 MB checkpoint costs page cache rather than private memory); other float types are
/// converted once.
///
/// Loading is strict, as `load_state_dict(strict=True)` is in open_clip and OpenAI's `clip`:
/// every tensor the model needs must be there with its shape, and a tensor the model does not
/// use is refused by name (weights of 3 layers under a configuration of 1 would otherwise run
/// one layer and say nothing). The exceptions are buffers the reference loaders drop
/// themselves: transformers' `*.embeddings.position_ids`, and what the caller passes.
///
/// OpenAI's layout is mapped onto the same fields: a layer's q, k and v are the three row
/// blocks of `in_proj_weight` (in place), and the two projections, stored as x·P, are
/// transposed into Linear weights (copies: each is one small matrix).
final class CLIPWeights: @unchecked Sendable {
    let file: any TensorSource
    /// Page-aligned anonymous mappings holding converted tensors, unmapped with `self`. Each
    /// tensor has its own, so that giving back one's pages (`releaseCopied`) touches no other.
    private var owned: [UnsafeMutableRawBufferPointer] = []

    let logitScale: Float

    // Text tower.
    let tokenEmbedding: WeightTensor // [vocab, Dt]
    let textPositionEmbedding: WeightTensor // [maxPositions, Dt]
    let textLayers: [TransformerLayerWeights]
    let finalLayerNormWeight, finalLayerNormBias: WeightTensor
    let textProjection: WeightTensor // [projection, Dt]

    // Vision tower.
    let classEmbedding: WeightTensor // [Dv]
    /// The conv weight [Dv, C, P, P], used as a [Dv, C·P·P] matrix.
    let patchEmbedding: WeightTensor
    let visionPositionEmbedding: WeightTensor // [positions, Dv]
    let preLayerNormWeight, preLayerNormBias: WeightTensor
    let visionLayers: [TransformerLayerWeights]
    let postLayerNormWeight, postLayerNormBias: WeightTensor
    let visualProjection: WeightTensor // [projection, Dv]

    /// Loads every tensor the model needs from the safetensors file at `url`.
    convenience init(url: URL, configuration config: CLIPConfiguration) throws {
        try self.init(source: SafeTensorsFile(url: url), layout: .huggingFace, configuration: config)
    }

    /// Buffers older transformers checkpoints carry beside the weights (non-persistent in
    /// transformers now, which ignores them when loading).
    static let huggingFaceBuffers: Set<String> = ["text_model.embeddings.position_ids", "vision_model.embeddings.position_ids"]

    /// Refuses a checkpoint holding a tensor that `model` does not read (other than `tolerated`
    /// buffers), naming the first and how many more, as `load_state_dict(strict=True)` refuses
    /// unexpected keys: weights with more layers than the configuration says would otherwise run
    /// silently truncated.
    static func refuseUnused(_ names: [String], used: Set<String>, tolerated: Set<String>, file: URL, model: String) throws {
        let unused = names.filter { !used.contains($0) && !tolerated.contains($0) }.sorted()
        guard let first = unused.first else { return }
        throw SafeTensorsError(
            code: .unexpectedTensor, file: file.path, tensor: first,
            message:
                "not used by \(model)\(unused.count > 1 ? ", nor are \(unused.count - 1) more tensors" : ""): the weights and the configuration disagree"
        )
    }

    /// Loads every tensor the model needs from `source`, named as `layout` names them, checking
    /// shapes against `config`. Any other tensor is an error, except those named in `ignoring`
    /// (and, for transformers' layout, `huggingFaceBuffers`).
    init(
        source file: any TensorSource, layout: WeightLayout, configuration config: CLIPConfiguration, ignoring ignored: Set<String> = []
    ) throws {
        self.file = file
        let url = file.url
        var owned: [UnsafeMutableRawBufferPointer] = []
        var ok = false
        defer { if !ok { for mapping in owned { munmap(mapping.baseAddress, mapping.count) } } }

        /// Every tensor name the model reads.
        var used: Set<String> = []
        func checkedShape(_ name: String, _ shape: [Int]) throws {
            used.insert(name)
            guard let actual = file.tensorShape(name) else {
                throw SafeTensorsError(code: .missingTensor, file: url.path, tensor: name, message: "not found in the file")
            }
            guard actual == shape else {
                throw SafeTensorsError(
                    code: .shapeMismatch, file: url.path, tensor: name,
                    message: "has shape \(actual), expected \(shape)")
            }
        }
        func ownedTensor(_ values: [Float], _ shape: [Int]) throws -> WeightTensor {
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let length = (max(values.count, 1) * MemoryLayout<Float>.stride + page - 1) / page * page
            guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
                throw SafeTensorsError(
                    code: .unreadable, file: url.path, tensor: nil,
                    message: "cannot allocate \(length) bytes for converted weights: \(String(cString: strerror(errno)))")
            }
            owned.append(UnsafeMutableRawBufferPointer(start: mapped, count: length))
            let floats = mapped.bindMemory(to: Float.self, capacity: values.count)
            _ = UnsafeMutableBufferPointer(start: floats, count: values.count).initialize(from: values)
            return WeightTensor(data: UnsafeBufferPointer(start: floats, count: values.count), shape: shape)
        }
        /// Tensors already loaded whole, so that q, k and v share one conversion of in_proj.
        var loaded: [String: WeightTensor] = [:]
        func tensor(_ name: String, _ shape: [Int]) throws -> WeightTensor {
            if let known = loaded[name] { return known }
            try checkedShape(name, shape)
            let result: WeightTensor
            if let inPlace = file.float32InPlace(name) {
                result = WeightTensor(data: inPlace, shape: shape)
            } else {
                result = try ownedTensor(try file.floatValues(name), shape)
            }
            loaded[name] = result
            return result
        }
        /// Rows `part·rows ..< (part+1)·rows` of `name`: a [3·rows, columns] matrix, or a
        /// [3·rows] vector when `columns` is nil.
        func rowBlock(_ name: String, part: Int, rows: Int, columns: Int?) throws -> WeightTensor {
            let shape = columns.map { [rows, $0] } ?? [rows]
            let whole = try tensor(name, [3 * rows] + shape.dropFirst())
            let block = rows * (columns ?? 1)
            return WeightTensor(data: UnsafeBufferPointer(rebasing: whole.data[(part * block)..<((part + 1) * block)]), shape: shape)
        }
        /// The Linear weight [columns, rows] of a projection stored as a [rows, columns] matrix.
        func transposed(_ name: String, rows: Int, columns: Int) throws -> WeightTensor {
            try checkedShape(name, [rows, columns])
            let values = try file.floatValues(name)
            var t = [Float](repeating: 0, count: values.count)
            for r in 0..<rows { for c in 0..<columns { t[c * rows + r] = values[r * columns + c] } }
            return try ownedTensor(t, [columns, rows])
        }
        func layers(_ prefix: String, count: Int, width d: Int, mlp m: Int) throws -> [TransformerLayerWeights] {
            try (0..<count).map { i in
                switch layout {
                case .huggingFace:
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
                case .openAI, .openCLIPCustomText:
                    let p = "\(prefix)transformer.resblocks.\(i)."
                    let w = p + "attn.in_proj_weight", b = p + "attn.in_proj_bias"
                    return TransformerLayerWeights(
                        layerNorm1Weight: try tensor(p + "ln_1.weight", [d]),
                        layerNorm1Bias: try tensor(p + "ln_1.bias", [d]),
                        qWeight: try rowBlock(w, part: 0, rows: d, columns: d),
                        qBias: try rowBlock(b, part: 0, rows: d, columns: nil),
                        kWeight: try rowBlock(w, part: 1, rows: d, columns: d),
                        kBias: try rowBlock(b, part: 1, rows: d, columns: nil),
                        vWeight: try rowBlock(w, part: 2, rows: d, columns: d),
                        vBias: try rowBlock(b, part: 2, rows: d, columns: nil),
                        outWeight: try tensor(p + "attn.out_proj.weight", [d, d]),
                        outBias: try tensor(p + "attn.out_proj.bias", [d]),
                        layerNorm2Weight: try tensor(p + "ln_2.weight", [d]),
                        layerNorm2Bias: try tensor(p + "ln_2.bias", [d]),
                        fc1Weight: try tensor(p + "mlp.c_fc.weight", [m, d]),
                        fc1Bias: try tensor(p + "mlp.c_fc.bias", [m]),
                        fc2Weight: try tensor(p + "mlp.c_proj.weight", [d, m]),
                        fc2Bias: try tensor(p + "mlp.c_proj.bias", [d]))
                }
            }
        }

        // logit_scale is a 0-d parameter; accept a 1-element vector too.
        guard let scaleShape = file.tensorShape("logit_scale") else {
            throw SafeTensorsError(code: .missingTensor, file: url.path, tensor: "logit_scale", message: "not found in the file")
        }
        guard scaleShape.reduce(1, *) == 1, scaleShape.count <= 1 else {
            throw SafeTensorsError(
                code: .shapeMismatch, file: url.path, tensor: "logit_scale",
                message: "has shape \(scaleShape), expected [] (a scalar)")
        }
        used.insert("logit_scale")
        logitScale = try file.floatValues("logit_scale")[0]
        // Logits are exp(logit_scale) × cosine: an infinite or NaN scale makes every logit
        // infinite or NaN, and every prediction a tie the first class wins.
        guard logitScale.isFinite, expf(logitScale).isFinite else {
            throw SafeTensorsError(
                code: .badTensorEntry, file: url.path, tensor: "logit_scale",
                message: "is \(logitScale): exp(logit_scale), the logits' scale, must be finite")
        }

        let t = config.text, v = config.vision, proj = config.projectionDim
        switch layout {
        case .huggingFace:
            tokenEmbedding = try tensor("text_model.embeddings.token_embedding.weight", [t.vocabSize, t.hiddenSize])
            textPositionEmbedding = try tensor("text_model.embeddings.position_embedding.weight", [t.maxPositionEmbeddings, t.hiddenSize])
            textLayers = try layers("text_model", count: t.numHiddenLayers, width: t.hiddenSize, mlp: t.intermediateSize)
            finalLayerNormWeight = try tensor("text_model.final_layer_norm.weight", [t.hiddenSize])
            finalLayerNormBias = try tensor("text_model.final_layer_norm.bias", [t.hiddenSize])
            textProjection = try tensor("text_projection.weight", [proj, t.hiddenSize])

            classEmbedding = try tensor("vision_model.embeddings.class_embedding", [v.hiddenSize])
            patchEmbedding = try tensor(
                "vision_model.embeddings.patch_embedding.weight", [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize])
            visionPositionEmbedding = try tensor("vision_model.embeddings.position_embedding.weight", [v.numPositions, v.hiddenSize])
            preLayerNormWeight = try tensor("vision_model.pre_layrnorm.weight", [v.hiddenSize])
            preLayerNormBias = try tensor("vision_model.pre_layrnorm.bias", [v.hiddenSize])
            visionLayers = try layers("vision_model", count: v.numHiddenLayers, width: v.hiddenSize, mlp: v.intermediateSize)
            postLayerNormWeight = try tensor("vision_model.post_layernorm.weight", [v.hiddenSize])
            postLayerNormBias = try tensor("vision_model.post_layernorm.bias", [v.hiddenSize])
            visualProjection = try tensor("visual_projection.weight", [proj, v.hiddenSize])
        case .openAI, .openCLIPCustomText:
            let tp = layout == .openCLIPCustomText ? "text." : ""
            tokenEmbedding = try tensor(tp + "token_embedding.weight", [t.vocabSize, t.hiddenSize])
            textPositionEmbedding = try tensor(tp + "positional_embedding", [t.maxPositionEmbeddings, t.hiddenSize])
            textLayers = try layers(tp, count: t.numHiddenLayers, width: t.hiddenSize, mlp: t.intermediateSize)
            finalLayerNormWeight = try tensor(tp + "ln_final.weight", [t.hiddenSize])
            finalLayerNormBias = try tensor(tp + "ln_final.bias", [t.hiddenSize])
            textProjection = try transposed(tp + "text_projection", rows: t.hiddenSize, columns: proj)

            classEmbedding = try tensor("visual.class_embedding", [v.hiddenSize])
            patchEmbedding = try tensor("visual.conv1.weight", [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize])
            visionPositionEmbedding = try tensor("visual.positional_embedding", [v.numPositions, v.hiddenSize])
            preLayerNormWeight = try tensor("visual.ln_pre.weight", [v.hiddenSize])
            preLayerNormBias = try tensor("visual.ln_pre.bias", [v.hiddenSize])
            visionLayers = try layers("visual.", count: v.numHiddenLayers, width: v.hiddenSize, mlp: v.intermediateSize)
            postLayerNormWeight = try tensor("visual.ln_post.weight", [v.hiddenSize])
            postLayerNormBias = try tensor("visual.ln_post.bias", [v.hiddenSize])
            visualProjection = try transposed("visual.proj", rows: v.hiddenSize, columns: proj)
        }

        let tolerated = layout == .huggingFace ? ignored.union(Self.huggingFaceBuffers) : ignored
        try Self.refuseUnused(
            file.tensorNames, used: used, tolerated: tolerated, file: url,
            model: "a model of the configured sizes (\(v.numHiddenLayers) vision and \(t.numHiddenLayers) text layers)")

        self.owned = owned
        ok = true
    }

    /// How many tensors were converted to owned Float buffers (0 when all are F32 used in place).
    var convertedTensorCount: Int { owned.count }

    /// Gives back the memory of a Linear weight once a packed layer holds its copy (packing is
    /// done once per tower; nothing reads the original again). File pages are simply dropped
    /// (read again from the file if ever touched); the whole pages of a converted copy are
    /// dropped and made inaccessible, so a read after release would fault rather than see
    /// zeros. Without this an F16 checkpoint (OpenAI's are) held both an F32 copy and the
    /// packed one: twice the model's size.
    /// Bytes of converted copies given back by `releaseCopied` so far.
    var releasedConvertedBytes: Int { releaseLock.withLock { released } }
    private let releaseLock = NSLock()
    private var released = 0

    func releaseCopied(_ data: UnsafeBufferPointer<Float>) {
        let bytes = UnsafeRawBufferPointer(data)
        guard let start = bytes.baseAddress else { return }
        let isConverted = owned.contains { m in
            guard let base = m.baseAddress else { return false }
            return start >= UnsafeRawPointer(base) && start + bytes.count <= UnsafeRawPointer(base) + m.count
        }
        guard isConverted else {
            file.releasePages(bytes)
            return
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + bytes.count) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, end - first, MADV_DONTNEED)
        _ = mprotect(pointer, end - first, PROT_NONE)
        releaseLock.withLock { released += end - first }
    }

    deinit {
        for mapping in owned { munmap(mapping.baseAddress, mapping.count) }
    }
}
