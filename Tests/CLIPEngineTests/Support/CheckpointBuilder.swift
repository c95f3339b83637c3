import Foundation

@testable import CLIPEngine

/// Builds complete CLIP checkpoints by hand (every tensor a model of a given configuration
/// loads, named as a layout names them), so that tests can add, drop or rename tensors and
/// see what the loader does with a file that is otherwise valid.
enum CheckpointBuilder {
    typealias Spec = (name: String, storage: String, count: Int, offset: Int, shape: [Int], stride: [Int])

    /// Every tensor of a CLIP model of `c` in `layout`, with its shape.
    static func tensors(_ c: CLIPConfiguration, layout: WeightLayout) -> [(name: String, shape: [Int])] {
        let t = c.text, v = c.vision, proj = c.projectionDim
        var out: [(String, [Int])] = [("logit_scale", [])]
        func layer(_ p: String, _ d: Int, _ m: Int) {
            switch layout {
            case .huggingFace:
                for n in ["layer_norm1", "layer_norm2"] { out += [(p + n + ".weight", [d]), (p + n + ".bias", [d])] }
                for n in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                    out += [(p + "self_attn.\(n).weight", [d, d]), (p + "self_attn.\(n).bias", [d])]
                }
                out += [
                    (p + "mlp.fc1.weight", [m, d]), (p + "mlp.fc1.bias", [m]), (p + "mlp.fc2.weight", [d, m]), (p + "mlp.fc2.bias", [d])
                ]
            case .openAI, .openCLIPCustomText:
                for n in ["ln_1", "ln_2"] { out += [(p + n + ".weight", [d]), (p + n + ".bias", [d])] }
                out += [(p + "attn.in_proj_weight", [3 * d, d]), (p + "attn.in_proj_bias", [3 * d])]
                out += [(p + "attn.out_proj.weight", [d, d]), (p + "attn.out_proj.bias", [d])]
                out += [
                    (p + "mlp.c_fc.weight", [m, d]), (p + "mlp.c_fc.bias", [m]), (p + "mlp.c_proj.weight", [d, m]),
                    (p + "mlp.c_proj.bias", [d])
                ]
            }
        }
        switch layout {
        case .huggingFace:
            out += [
                ("text_model.embeddings.token_embedding.weight", [t.vocabSize, t.hiddenSize]),
                ("text_model.embeddings.position_embedding.weight", [t.maxPositionEmbeddings, t.hiddenSize])
            ]
            for i in 0..<t.numHiddenLayers { layer("text_model.encoder.layers.\(i).", t.hiddenSize, t.intermediateSize) }
            out += [
                ("text_model.final_layer_norm.weight", [t.hiddenSize]), ("text_model.final_layer_norm.bias", [t.hiddenSize]),
                ("text_projection.weight", [proj, t.hiddenSize]),
                ("vision_model.embeddings.class_embedding", [v.hiddenSize]),
                ("vision_model.embeddings.patch_embedding.weight", [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize]),
                ("vision_model.embeddings.position_embedding.weight", [v.numPositions, v.hiddenSize]),
                ("vision_model.pre_layrnorm.weight", [v.hiddenSize]), ("vision_model.pre_layrnorm.bias", [v.hiddenSize])
            ]
            for i in 0..<v.numHiddenLayers { layer("vision_model.encoder.layers.\(i).", v.hiddenSize, v.intermediateSize) }
            out += [
                ("vision_model.post_layernorm.weight", [v.hiddenSize]), ("vision_model.post_layernorm.bias", [v.hiddenSize]),
                ("visual_projection.weight", [proj, v.hiddenSize])
            ]
        case .openAI, .openCLIPCustomText:
            let tp = layout == .openCLIPCustomText ? "text." : ""
            out += [
                (tp + "token_embedding.weight", [t.vocabSize, t.hiddenSize]),
                (tp + "positional_embedding", [t.maxPositionEmbeddings, t.hiddenSize])
            ]
            for i in 0..<t.numHiddenLayers { layer(tp + "transformer.resblocks.\(i).", t.hiddenSize, t.intermediateSize) }
            out += [
                (tp + "ln_final.weight", [t.hiddenSize]), (tp + "ln_final.bias", [t.hiddenSize]),
                (tp + "text_projection", [t.hiddenSize, proj]),
                ("visual.class_embedding", [v.hiddenSize]),
                ("visual.conv1.weight", [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize]),
                ("visual.positional_embedding", [v.numPositions, v.hiddenSize]),
                ("visual.ln_pre.weight", [v.hiddenSize]), ("visual.ln_pre.bias", [v.hiddenSize])
            ]
            for i in 0..<v.numHiddenLayers { layer("visual.transformer.resblocks.\(i).", v.hiddenSize, v.intermediateSize) }
            out += [
                ("visual.ln_post.weight", [v.hiddenSize]), ("visual.ln_post.bias", [v.hiddenSize]),
                ("visual.proj", [v.hiddenSize, proj])
            ]
        }
        return out
    }

    /// Row-major strides of `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        return strides
    }

    /// A `torch.save` state dict of `tensors` (each a view at offset 0 of one zero-filled
    /// storage "0"; a matrix repeats one row, stride 0, so that a 49,408-row embedding costs
    /// one row of file), followed by `extra` tensors over storage "1" of `extraStorage` values.
    static func archive(
        _ tensors: [(name: String, shape: [Int])], extra: [Spec] = [], extraStorage: [Float] = [1]
    ) -> TorchArchiveWriter {
        func strides(_ shape: [Int]) -> [Int] {
            shape.count < 2 ? contiguousStrides(shape) : [0] + contiguousStrides(Array(shape.dropFirst()))
        }
        func span(_ shape: [Int]) -> Int { (shape.count < 2 ? shape : Array(shape.dropFirst())).reduce(1, *) }
        let largest = tensors.map { span($0.shape) }.max() ?? 1
        var specs: [Spec] = tensors.map { ($0.name, "0", largest, 0, $0.shape, strides($0.shape)) }
        specs += extra
        var writer = TorchArchiveWriter()
        writer.add("archive/data.pkl", PickleBuilder.stateDict(specs))
        writer.add("archive/data/0", [UInt8](repeating: 0, count: largest * 4))
        if !extra.isEmpty { writer.add("archive/data/1", float32Bytes(extraStorage)) }
        writer.add("archive/version", Array("3\n".utf8))
        return writer
    }

    /// A small transformers configuration (1 layer each, width 8, 4-pixel images of 2-pixel
    /// patches) and its `config.json`.
    static let tinyConfigJSON = """
        {"projection_dim": 4,
         "text_config": {"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
                         "num_attention_heads": 2, "max_position_embeddings": 6, "bos_token_id": 0, "eos_token_id": 2},
         "vision_config": {"hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                           "image_size": 4, "patch_size": 2}}
        """

    /// A transformers checkpoint folder (`config.json`, `pytorch_model.bin`, empty tokenizer
    /// files) of the tiny configuration, with `extra` tensors added and `drop` left out.
    static func huggingFaceFolder(extra: [Spec] = [], extraStorage: [Float] = [1], drop: Set<String> = []) throws -> URL {
        let config = try CLIPConfiguration(jsonData: Data(tinyConfigJSON.utf8))
        let dir = try TorchArchiveWriter.temporaryDirectory()
        try Data(tinyConfigJSON.utf8).write(to: dir.appendingPathComponent("config.json"))
        for name in ["vocab.json", "merges.txt"] { try Data().write(to: dir.appendingPathComponent(name)) }
        let tensors = Self.tensors(config, layout: .huggingFace).filter { !drop.contains($0.name) }
        _ = try archive(tensors, extra: extra, extraStorage: extraStorage).write(name: "pytorch_model.bin", in: dir)
        return dir
    }

    /// The sizes of an `open_clip_config.json` with OpenAI's 49,408-token vocabulary (which the
    /// bundled tokenizer needs) and small towers: vision `visionLayers` × 8 wide (head width 4,
    /// patch 2 on 4 px), text 1 layer × 8 wide with 2 heads, context 6, projection 4.
    static func openCLIPConfigJSON(
        visionLayers: Int = 1, textExtra: String = "", modelExtra: String = "", preprocess: String = ""
    )
        -> String
    {
        """
        {"model_cfg": {"embed_dim": 4\(modelExtra),
                       "vision_cfg": {"layers": \(visionLayers), "width": 8, "head_width": 4, "patch_size": 2, "image_size": 4},
                       "text_cfg": {"context_length": 6, "vocab_size": 49408, "width": 8, "heads": 2, "layers": 1\(textExtra)}}\(
            preprocess.isEmpty ? "" : ", \"preprocess_cfg\": \(preprocess)")}
        """
    }

    /// The configuration an OpenAI checkpoint of the small sizes above would be read as.
    static func smallForeignConfiguration(visionLayers: Int, textLayers: Int = 1, width: Int = 8) -> CLIPConfiguration {
        var c = ForeignCheckpointConfiguration.base(quickGELU: true)
        c.projectionDim = 4
        c.vision.hiddenSize = width
        c.vision.intermediateSize = 4 * width
        c.vision.numHiddenLayers = visionLayers
        c.vision.patchSize = 2
        c.vision.imageSize = 4
        c.text.hiddenSize = width
        c.text.intermediateSize = 4 * width
        c.text.numHiddenLayers = textLayers
        c.text.maxPositionEmbeddings = 6
        c.text.vocabSize = 49408
        return c
    }
}
