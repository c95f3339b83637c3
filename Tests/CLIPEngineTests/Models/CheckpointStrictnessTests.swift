import Foundation
import Testing

@testable import CLIPEngine

/// A checkpoint is loaded as the reference loaders load it, strictly: every tensor it holds is
/// used or refused by name, every tensor the model needs is there, configuration values have
/// the types the reference reads, keys the reference would reject are rejected, and sizes read
/// from the file never trap in arithmetic. Each case is a file built by hand that otherwise
/// loads, so the refusal is about the one thing changed.
@Suite struct CheckpointStrictnessTests {
    func failure(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    func load(_ path: URL) throws -> CheckpointLoader.Network {
        try CheckpointLoader.network(try ModelLocator(environment: [:]).resolve(path.path))
    }

    /// One line that names `file` and contains every one of `parts`.
    func expectRefusal(
        _ message: String?, file: String, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(message?.hasPrefix(file + ": ") == true, "\(message ?? "no error")", sourceLocation: sourceLocation)
        for part in parts {
            #expect(message?.contains(part) == true, "expected \(part): \(message ?? "no error")", sourceLocation: sourceLocation)
        }
        #expect(message?.contains("\n") == false, sourceLocation: sourceLocation)
    }

    // MARK: Sizes that overflow

    /// An unused tensor of shape (2^62, 2^62, 0) and five 2^61-element stride-0 views of one
    /// 4-byte storage: both trapped in the loader's element counting (`model info`,
    /// `classify`); each is one line naming the file and the tensor.
    @Test func hugeUnusedTensorsAreRefusedNotTrapped() throws {
        let empty = try CheckpointBuilder.huggingFaceFolder(extra: [("empty", "1", 1, 0, [1 << 62, 1 << 62, 0], [1, 1, 1])])
        expectRefusal(failure { _ = try load(empty) }, file: "pytorch_model.bin", ["\"empty\""])
        let views = try CheckpointBuilder.huggingFaceFolder(extra: (0..<5).map { ("view\($0)", "1", 1, 0, [1 << 61], [0]) })
        expectRefusal(failure { _ = try load(views) }, file: "pytorch_model.bin", ["\"view"])
        // The same file without them loads: the refusal is about them.
        let plain = try load(try CheckpointBuilder.huggingFaceFolder())
        #expect(plain.tensorCount == CheckpointBuilder.tensors(plain.model.configuration, layout: .huggingFace).count)
    }

    /// The element count of every tensor is summed with overflow checks: a (2^62, 2^62, 0)
    /// tensor holds no elements, and five 2^61-element views hold more than an Int counts.
    @Test func parameterCountIsOverflowChecked() throws {
        var writer = TorchArchiveWriter()
        writer.add(
            "archive/data.pkl",
            PickleBuilder.stateDict([("empty", "0", 1, 0, [1 << 62, 1 << 62, 0], [1, 1, 1]), ("one", "0", 1, 0, [1], [1])]))
        writer.add("archive/data/0", float32Bytes([1]))
        #expect(try CheckpointLoader.parameterCount(PyTorchArchive(url: try writer.write())) == 1)

        var views = TorchArchiveWriter()
        views.add("archive/data.pkl", PickleBuilder.stateDict((0..<5).map { ("view\($0)", "0", 1, 0, [1 << 61], [0]) }))
        views.add("archive/data/0", float32Bytes([1]))
        let archive = try PyTorchArchive(url: try views.write(name: "views.bin"))
        expectRefusal(failure { _ = try CheckpointLoader.parameterCount(archive) }, file: "views.bin", ["tensor \"view3\"", "overflow"])
    }

    // MARK: Tensors used or refused by name

    /// transformers' buffers `*.embeddings.position_ids` (in older files) are ignored, as
    /// transformers ignores them; any other tensor the model does not use is refused by name,
    /// and a missing one is named.
    @Test func huggingFaceUnexpectedTensorsAreRefused() throws {
        let ids: [CheckpointBuilder.Spec] = [
            ("text_model.embeddings.position_ids", "1", 6, 0, [1, 6], [6, 1]),
            ("vision_model.embeddings.position_ids", "1", 6, 0, [1, 5], [5, 1])
        ]
        let tolerated = try load(try CheckpointBuilder.huggingFaceFolder(extra: ids, extraStorage: [0, 1, 2, 3, 4, 5]))
        #expect(tolerated.tensorCount == CheckpointBuilder.tensors(tolerated.model.configuration, layout: .huggingFace).count + 2)

        let extra = try CheckpointBuilder.huggingFaceFolder(extra: [("text_model.encoder.layers.1.mlp.fc1.bias", "1", 1, 0, [1], [1])])
        expectRefusal(
            failure { _ = try load(extra) }, file: "pytorch_model.bin", ["tensor \"text_model.encoder.layers.1.mlp.fc1.bias\"", "not used"])
        let missing = try CheckpointBuilder.huggingFaceFolder(drop: ["vision_model.post_layernorm.bias"])
        expectRefusal(
            failure { _ = try load(missing) }, file: "pytorch_model.bin", ["tensor \"vision_model.post_layernorm.bias\"", "not found"])
    }

    /// open_clip loads with `strict=True`: weights of 3 vision layers under a config that says 1
    /// are refused (the loader used to run one layer and ignore two).
    @Test func openCLIPWeightsBeyondTheConfigAreRefused() throws {
        func folder(configLayers: Int, weightLayers: Int) throws -> URL {
            let dir = try TorchArchiveWriter.temporaryDirectory()
            let json = CheckpointBuilder.openCLIPConfigJSON(visionLayers: configLayers)
            try Data(json.utf8).write(to: dir.appendingPathComponent("open_clip_config.json"))
            let config = try ForeignCheckpointConfiguration(openCLIPConfig: dir.appendingPathComponent("open_clip_config.json"))
                .configuration
            var weights = config
            weights.vision.numHiddenLayers = weightLayers
            _ = try CheckpointBuilder.archive(CheckpointBuilder.tensors(weights, layout: .openAI))
                .write(name: "open_clip_pytorch_model.bin", in: dir)
            return dir
        }
        let ok = try load(try folder(configLayers: 3, weightLayers: 3))
        #expect(ok.model.configuration.vision.numHiddenLayers == 3)
        expectRefusal(
            failure { _ = try load(try folder(configLayers: 1, weightLayers: 3)) }, file: "open_clip_pytorch_model.bin",
            ["tensor \"visual.transformer.resblocks.1.", "not used"])
        // Fewer weights than the config says: the first missing tensor is named.
        expectRefusal(
            failure { _ = try load(try folder(configLayers: 3, weightLayers: 2)) }, file: "open_clip_pytorch_model.bin",
            ["tensor \"visual.transformer.resblocks.2.", "not found"])
    }

    /// OpenAI's `clip` counts the blocks and loads strictly, so vision blocks 0, 1 and 5 are
    /// refused (the loader used to run blocks 0 and 1 and ignore 5). The buffers a TorchScript
    /// archive carries beside the weights (`input_resolution`, `context_length`, `vocab_size`,
    /// which `build_model` deletes) are accepted.
    @Test func openAIBlocksMustBeNumberedFromZero() throws {
        let config = CheckpointBuilder.smallForeignConfiguration(visionLayers: 2, width: 64)
        let tensors = CheckpointBuilder.tensors(config, layout: .openAI)
        let buffers: [CheckpointBuilder.Spec] = [
            ("input_resolution", "1", 1, 0, [], []), ("context_length", "1", 1, 0, [], []), ("vocab_size", "1", 1, 0, [], [])
        ]
        let dir = try TorchArchiveWriter.temporaryDirectory()
        let good = try CheckpointBuilder.archive(tensors, extra: buffers).write(name: "ViT-good.pt", in: dir)
        let loaded = try load(good)
        #expect(loaded.model.configuration.vision.numHiddenLayers == 2 && loaded.model.configuration.text.numHiddenLayers == 1)

        // Block 5: a copy of block 1's tensors under index 5.
        let block5 = tensors.filter { $0.name.hasPrefix("visual.transformer.resblocks.1.") }.map {
            (name: $0.name.replacingOccurrences(of: "resblocks.1.", with: "resblocks.5."), shape: $0.shape)
        }
        let gap = try CheckpointBuilder.archive(tensors + block5).write(name: "ViT-gap.pt", in: dir)
        let message = failure { _ = try load(gap) }
        expectRefusal(message, file: "ViT-gap.pt", ["visual.transformer.resblocks", "0, 1, 5"])
        // A stray tensor at the top is refused by name.
        let stray = try CheckpointBuilder.archive(tensors, extra: [("visual.attn_scale", "1", 1, 0, [1], [1])]).write(
            name: "ViT-stray.pt", in: dir)
        expectRefusal(failure { _ = try load(stray) }, file: "ViT-stray.pt", ["tensor \"visual.attn_scale\"", "not used"])
    }

    // MARK: Configuration values typed and keys checked as open_clip does

    /// open_clip builds `CLIPVisionCfg(**vision_cfg)` and `CLIPTextCfg(**text_cfg)` (an unknown
    /// key raises) and the model from `model_cfg`'s keys; a string where a bool or an integer
    /// is expected is not that value.
    @Test func openCLIPConfigKeysAndTypesAreChecked() throws {
        let cases: [(String, [String])] = [
            (CheckpointBuilder.openCLIPConfigJSON(textExtra: ", \"head\": 4"), ["model_cfg.text_cfg.head", "heads"]),
            (CheckpointBuilder.openCLIPConfigJSON(modelExtra: ", \"quick_gelu\": \"true\""), ["model_cfg.quick_gelu", "true or false"]),
            (CheckpointBuilder.openCLIPConfigJSON(modelExtra: ", \"quick_gelu\": 1"), ["model_cfg.quick_gelu", "true or false"]),
            (CheckpointBuilder.openCLIPConfigJSON(modelExtra: ", \"custom_text\": \"false\""), ["model_cfg.custom_text"]),
            (CheckpointBuilder.openCLIPConfigJSON(modelExtra: ", \"embed_dims\": 4"), ["model_cfg.embed_dims"]),
            (CheckpointBuilder.openCLIPConfigJSON(textExtra: ", \"layers\": 1.0"), ["model_cfg.text_cfg.layers", "integer"]),
            (CheckpointBuilder.openCLIPConfigJSON(textExtra: ", \"pool_type\": 5"), ["model_cfg.text_cfg.pool_type", "string"]),
            (CheckpointBuilder.openCLIPConfigJSON(preprocess: #"{"interpolation": 3}"#), ["preprocess_cfg.interpolation", "string"]),
            (CheckpointBuilder.openCLIPConfigJSON(preprocess: #"{"mode": "L"}"#), ["preprocess_cfg.mode"])
        ]
        for (json, parts) in cases {
            let dir = try TorchArchiveWriter.temporaryDirectory()
            let url = dir.appendingPathComponent("open_clip_config.json")
            try Data(json.utf8).write(to: url)
            expectRefusal(failure { _ = try ForeignCheckpointConfiguration(openCLIPConfig: url) }, file: "open_clip_config.json", parts)
        }
        // The keys of open_clip 3.3's dataclasses are accepted, and a real bool is read as one.
        let dir = try TorchArchiveWriter.temporaryDirectory()
        let url = dir.appendingPathComponent("open_clip_config.json")
        let known = CheckpointBuilder.openCLIPConfigJSON(
            textExtra: ", \"pad_id\": 0, \"eos_id\": 2, \"output_tokens\": false, \"final_ln_after_pool\": false",
            modelExtra: ", \"quick_gelu\": true, \"init_logit_scale\": 2.65, \"nonscalar_logit_scale\": false",
            preprocess: #"{"mode": "RGB", "fill_color": 0, "resize_mode": "shortest"}"#)
        try Data(known.utf8).write(to: url)
        #expect(try ForeignCheckpointConfiguration(openCLIPConfig: url).configuration.vision.hiddenAct == .quickGELU)
    }

    /// Mean and std errors of an OpenCLIP checkpoint name its own file and keys
    /// (`open_clip_config.json`, `preprocess_cfg.mean`/`std`), not transformers'.
    @Test func openCLIPMeanAndStdErrorsNameTheirKeys() throws {
        for (preprocess, key) in [
            (#"{"mean": [1e300, 0.5, 0.5]}"#, "preprocess_cfg.mean"), (#"{"std": [1e-50, 0.5, 0.5]}"#, "preprocess_cfg.std"),
            (#"{"mean": [1e10, 0.5, 0.5]}"#, "preprocess_cfg.mean")
        ] {
            let dir = try TorchArchiveWriter.temporaryDirectory()
            let url = dir.appendingPathComponent("open_clip_config.json")
            try Data(CheckpointBuilder.openCLIPConfigJSON(preprocess: preprocess).utf8).write(to: url)
            let message = failure { _ = try ForeignCheckpointConfiguration(openCLIPConfig: url) }
            expectRefusal(message, file: "open_clip_config.json", [key])
            #expect(message?.contains("image_mean") == false && message?.contains("image_std") == false, "\(message ?? "no error")")
            #expect(message?.contains("preprocessor_config.json") == false)
        }
    }
}
