import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

/// Telling the checkpoint formats apart, choosing what `model pull` fetches, and refusing the
/// architectures clip-audit does not run with one line that says what the checkpoint is.
@Suite struct CheckpointFormatTests {
    let fm = FileManager.default
    static let formats = FixturePaths.root.appendingPathComponent("formats")

    func folder(_ files: [String: String]) throws -> URL {
        let dir = try TorchArchiveWriter.temporaryDirectory()
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    func failure(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    @Test func locatorTellsTheFormatsApart() throws {
        let locator = ModelLocator(environment: [:])
        let hf = try locator.resolve(FixturePaths.tinyCLIP.path)
        #expect(hf.format == .huggingFaceSafetensors && hf.weightsName == "model.safetensors")
        let both = try folder(["config.json": "{}", "model.safetensors": "", "pytorch_model.bin": "", "vocab.json": "{}", "merges.txt": ""])
        #expect(try locator.resolve(both.path).weightsName == "model.safetensors")
        let bin = try folder(["config.json": "{}", "pytorch_model.bin": "", "vocab.json": "{}", "merges.txt": ""])
        let binModel = try locator.resolve(bin.path)
        #expect(binModel.format == .huggingFacePyTorch && binModel.weightsURL.lastPathComponent == "pytorch_model.bin")

        let openCLIP = try locator.resolve(Self.formats.appendingPathComponent("openclip-quickgelu-p16").path)
        #expect(openCLIP.format == .openCLIP && openCLIP.weightsName == "open_clip_model.safetensors")
        // A single state dict of another name beside the config.
        let single = try folder(["open_clip_config.json": "{}", "epoch_32.pt": ""])
        #expect(try locator.resolve(single.path).weightsName == "epoch_32.pt")
        let none = try folder(["open_clip_config.json": "{}"])
        #expect(
            failure { _ = try locator.resolve(none.path) }?.contains("missing open_clip_model.safetensors (or open_clip_pytorch_model.bin)")
                == true)
        let two = try folder(["open_clip_config.json": "{}", "a.bin": "", "b.pt": ""])
        #expect(failure { _ = try locator.resolve(two.path) }?.contains("found several weights files: a.bin, b.pt") == true)

        // OpenAI's archive: the file itself, or a folder holding only it.
        let pt = Self.formats.appendingPathComponent("openai-p16/ViT-tiny.pt")
        let file = try locator.resolve(pt.path)
        #expect(file.format == .openAI && file.weightsURL.lastPathComponent == "ViT-tiny.pt")
        let folderModel = try locator.resolve(Self.formats.appendingPathComponent("openai-p16").path)
        #expect(folderModel.format == .openAI)
        let text = try folder(["notes.txt": "x"])
        #expect(
            failure { _ = try locator.resolve(text.appendingPathComponent("notes.txt").path) }?.contains(
                "is a file, not a checkpoint directory") == true)
    }

    @Test func pullFetchesEachFormatsFiles() throws {
        #expect(
            try HubDownloader.filesToFetch(
                listed: [
                    "open_clip_config.json", "open_clip_model.safetensors", "open_clip_pytorch_model.bin",
                    "config.json", "model.safetensors", "vocab.json", "merges.txt", "README.md"
                ], repo: "r")
                == ["open_clip_config.json", "open_clip_model.safetensors"])
        #expect(
            try HubDownloader.filesToFetch(listed: ["open_clip_config.json", "open_clip_pytorch_model.bin"], repo: "r")
                == ["open_clip_config.json", "open_clip_pytorch_model.bin"])
        #expect(
            try HubDownloader.filesToFetch(
                listed: ["config.json", "pytorch_model.bin", "vocab.json", "merges.txt", "preprocessor_config.json", "tf_model.h5"],
                repo: "r")
                == ["config.json", "pytorch_model.bin", "vocab.json", "merges.txt", "preprocessor_config.json"])
        #expect(
            try HubDownloader.filesToFetch(
                listed: ["config.json", "pytorch_model.bin", "model.safetensors", "vocab.json", "merges.txt"], repo: "r")
                == ["config.json", "model.safetensors", "vocab.json", "merges.txt"])
        #expect(
            failure { _ = try HubDownloader.filesToFetch(listed: ["open_clip_config.json"], repo: "org/x@abc") }
                == "org/x@abc has open_clip_config.json but neither open_clip_model.safetensors nor open_clip_pytorch_model.bin")
        #expect(
            failure { _ = try HubDownloader.filesToFetch(listed: ["config.json", "tf_model.h5"], repo: "org/x@abc") }?
                .hasPrefix("org/x@abc has no model.safetensors, vocab.json, merges.txt") == true)
    }

    /// OpenCLIP configurations outside plain ViT CLIP name what they are, in one line.
    @Test func openCLIPRefusesOtherArchitectures() throws {
        let cases: [(String, String)] = [
            (#"{"model_cfg": {"embed_dim": 1024, "vision_cfg": {"layers": [3, 4, 6, 3], "width": 64}}}"#, "ResNet image tower"),
            (#"{"model_cfg": {"embed_dim": 512, "vision_cfg": {"timm_model_name": "convnext_base"}}}"#, "timm image tower (convnext_base)"),
            (#"{"model_cfg": {"embed_dim": 768, "init_logit_bias": -10, "vision_cfg": {}}}"#, "SigLIP checkpoint"),
            (#"{"model_cfg": {"embed_dim": 512, "multimodal_cfg": {"width": 512}}}"#, "CoCa checkpoint"),
            (
                #"{"model_cfg": {"embed_dim": 512, "text_cfg": {"hf_model_name": "xlm-roberta-base"}}}"#,
                "Hugging Face text tower (xlm-roberta-base)"
            ),
            (
                #"{"model_cfg": {"embed_dim": 512, "text_cfg": {"hf_tokenizer_name": "bert-base-uncased"}}}"#,
                "tokenizer bert-base-uncased is not CLIP's BPE"
            ),
            (#"{"model_cfg": {"embed_dim": 512, "vision_cfg": {"attentional_pool": true}}}"#, "attentional pooling"),
            (#"{"model_cfg": {"embed_dim": 512, "vision_cfg": {"ls_init_value": 0.1}}}"#, "ls_init_value"),
            (#"{"model_cfg": {"embed_dim": 512, "vision_cfg": {"width": 100, "head_width": 64}}}"#, "64 does not divide width 100"),
            (#"{"model_cfg": {"embed_dim": 512}, "preprocess_cfg": {"resize_mode": "longest"}}"#, "\"longest\" is not supported"),
            (#"{"model_cfg": {"embed_dim": 512}, "preprocess_cfg": {"mean": [0.5, 0.5]}}"#, "expected three numbers"),
            (#"{"model_cfg": {"embed_dim": 0}}"#, "model_cfg.embed_dim"),
            (#"{"model_cfg": {"embed_dim": 512, "text_cfg": {"mlp_ratio": 1e300}}}"#, "model_cfg.text_cfg.mlp_ratio"),
            (#"{"model_cfg": {"embed_dim": 512, "vision_cfg": {"image_size": [224, 1e30]}}}"#, "only square images"),
            (#"[1, 2]"#, "is not a JSON object")
        ]
        for (json, expected) in cases {
            let dir = try folder(["open_clip_config.json": json])
            let message = failure {
                _ = try ForeignCheckpointConfiguration(openCLIPConfig: dir.appendingPathComponent("open_clip_config.json"))
            }
            #expect(message?.hasPrefix("open_clip_config.json: ") == true, "\(json): \(message ?? "no error")")
            #expect(message?.contains(expected) == true, "\(json): \(message ?? "no error")")
            #expect(message?.contains("\n") == false)
        }
        // Defaults are open_clip's: ViT-B/16 sizes, exact GELU, CLIP's mean and std.
        let dir = try folder(["open_clip_config.json": #"{"model_cfg": {"embed_dim": 512}}"#])
        let defaults = try ForeignCheckpointConfiguration(openCLIPConfig: dir.appendingPathComponent("open_clip_config.json"))
        let c = defaults.configuration
        #expect(
            c.vision.hiddenSize == 768 && c.vision.patchSize == 16 && c.vision.numAttentionHeads == 12 && c.vision.intermediateSize == 3072)
        #expect(c.text.hiddenSize == 512 && c.text.numAttentionHeads == 8 && c.text.maxPositionEmbeddings == 77)
        #expect(c.vision.hiddenAct == .gelu && c.text.eosTokenID == 2)
        #expect(defaults.mean == PreprocessorConfig.openAIMean)
    }

    /// An OpenAI ResNet state dict is named as such; an archive missing the ViT's tensors names
    /// the first one it looked for.
    @Test func openAIRefusesResNetsAndNamesMissingTensors() throws {
        for (names, expected) in [
            (["visual.layer1.0.conv1.weight", "visual.attnpool.positional_embedding"], "OpenAI ResNet checkpoint"),
            (["logit_scale"], "tensor \"visual.conv1.weight\" not found")
        ] {
            var writer = TorchArchiveWriter()
            writer.add("archive/data.pkl", PickleBuilder.stateDict(names.map { ($0, "0", 1, 0, [1], [1]) }))
            writer.add("archive/data/0", float32Bytes([1]))
            let archive = try PyTorchArchive(url: try writer.write(name: "RN50.pt"))
            let message = failure { _ = try ForeignCheckpointConfiguration(openAIArchive: archive) }
            #expect(message?.hasPrefix("RN50.pt: ") == true && message?.contains(expected) == true, "\(message ?? "no error")")
        }
    }

    /// A checkpoint of these formats whose vocabulary is not the bundled tokenizer's is refused
    /// when loaded (token ids up to 49,407 would fall outside its embedding table).
    @Test func bundledTokenizerNeedsTheFullVocabulary() throws {
        let resolved = try ModelLocator(environment: [:]).resolve(Self.formats.appendingPathComponent("openai-p16/ViT-tiny.pt").path)
        let message = failure { _ = try CLIPPipeline(model: resolved) }
        #expect(
            message
                == "ViT-tiny.pt: the text tower has a vocabulary of 600 tokens, but OpenAI's tokenizer (which this format uses) needs 49408"
        )
    }
}
