import Foundation
import Testing

@testable import CLIPEngine

/// Configuration parsing and the errors of a bad checkpoint: one line naming the file and the
/// key or tensor at fault.
@Suite struct NetworkErrorTests {
    /// A temporary checkpoint directory with `config` (JSON text) and the given tensors.
    func checkpoint(config: String, tensors: [SafeTensorsWriter.Entry]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-net-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        try SafeTensorsWriter.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    /// tiny-clip's tensors as writer entries, to edit.
    func tinyTensors() throws -> [SafeTensorsWriter.Entry] {
        let file = try SafeTensorsFile(url: NetworkFixtures.tinyClip.appendingPathComponent("model.safetensors"))
        return file.tensors.values.sorted { $0.name < $1.name }.map {
            SafeTensorsWriter.Entry(name: $0.name, dtype: $0.dtype, shape: $0.shape, data: Data(file.rawBytes($0)))
        }
    }

    var tinyConfig: String {
        get throws { try String(contentsOf: NetworkFixtures.tinyClip.appendingPathComponent("config.json"), encoding: .utf8) }
    }

    /// Loads `dir` expecting an error whose one-line description contains every fragment.
    func expectLoadError(_ dir: URL, _ fragments: [String]) {
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try CLIPModel(directory: dir)
            Issue.record("expected an error mentioning \(fragments)")
        } catch {
            let text = "\(error)"
            #expect(!text.contains("\n"), "\(text)")
            for fragment in fragments { #expect(text.contains(fragment), "\(text) lacks \(fragment)") }
        }
    }

    func configError(_ json: String, _ fragments: [String]) {
        do {
            _ = try CLIPConfiguration(jsonData: Data(json.utf8), file: "/some/where/config.json")
            Issue.record("expected an error for \(json)")
        } catch let error as CLIPConfigurationError {
            #expect(!error.description.contains("\n"))
            #expect(error.description.hasPrefix("config.json: "), "\(error)")
            for fragment in fragments { #expect(error.description.contains(fragment), "\(error) lacks \(fragment)") }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func invalidConfigurationValues() {
        configError(#"{"text_config": {"hidden_act": "relu"}}"#, ["text_config.hidden_act", "relu"])
        configError(#"{"vision_config": {"patch_size": "sixteen"}}"#, ["vision_config.patch_size", "integer"])
        configError(#"{"vision_config": {"patch_size": 16.5}}"#, ["vision_config.patch_size"])
        configError(#"{"vision_config": {"patch_size": true}}"#, ["vision_config.patch_size", "is true, expected an integer"])
        // Text that looks like a number is shown as text (it read "is 48, expected an integer").
        configError(#"{"vision_config": {"hidden_size": "48"}}"#, ["vision_config.hidden_size", #"is the text "48", expected an integer"#])
        configError(#"{"vision_config": {"image_size": 1099511627776}}"#, ["vision_config.image_size", "expected at most 8192"])
        configError(#"{"text_config": {"eos_token_id": 60000}}"#, ["text_config.eos_token_id", "outside the vocabulary (0..<49408)"])
        configError(#"{"vision_config": {"num_hidden_layers": 0}}"#, ["vision_config.num_hidden_layers", "positive"])
        configError(#"{"text_config": {"hidden_size": 30, "num_attention_heads": 8}}"#, ["text_config.num_attention_heads", "30"])
        configError(#"{"vision_config": {"image_size": 100, "patch_size": 16}}"#, ["vision_config.patch_size", "100"])
        configError(#"{"projection_dim": -4}"#, ["projection_dim"])
        configError(#"{"text_config": {"layer_norm_eps": "small"}}"#, ["text_config.layer_norm_eps"])
        configError(#"{"text_config": [1, 2]}"#, ["text_config", "object"])
        configError("not json", ["not valid JSON"])
    }

    /// JSONSerialization keeps one value of a key written twice; the file is refused instead.
    @Test func keyWrittenTwiceIsRefused() {
        configError(#"{"projection_dim": 512, "projection_dim": 768}"#, [#"key "projection_dim": appears twice"#])
        configError(#"{"text_config": {"vocab_size": 49408, "vocab_size": 100}}"#, [#"key "text_config.vocab_size": appears twice"#])
    }

    @Test func defaultsAndLegacyKeys() throws {
        // Missing keys take transformers' defaults (ViT-B/32: note patch 32).
        let defaults = try CLIPConfiguration(jsonData: Data("{}".utf8))
        #expect(defaults == CLIPConfiguration())
        #expect(defaults.vision.patchSize == 32 && defaults.vision.hiddenSize == 768 && defaults.text.hiddenSize == 512)
        #expect(defaults.text.eosTokenID == 49407 && defaults.projectionDim == 512 && defaults.logitScaleInitValue == 2.6592)
        // Legacy *_config_dict keys: the dict decides, as in transformers.
        let legacy = try CLIPConfiguration(
            jsonData: Data(
                #"""
                {"text_config": {"hidden_size": 64, "num_attention_heads": 4},
                 "text_config_dict": {"hidden_size": 32, "num_attention_heads": 2, "eos_token_id": 2},
                 "vision_config_dict": {"patch_size": 16, "hidden_act": "gelu"}, "projection_dim": 24}
                """#.utf8))
        #expect(legacy.text.hiddenSize == 32 && legacy.text.numAttentionHeads == 2 && legacy.text.eosTokenID == 2)
        #expect(legacy.vision.patchSize == 16 && legacy.vision.hiddenAct == .gelu && legacy.projectionDim == 24)
    }

    @Test func unreadableConfigNamesTheFile() throws {
        let dir = try checkpoint(config: "{", tensors: [])
        expectLoadError(dir, ["config.json", "not valid JSON"])
    }

    @Test func missingConfigKeyThatChangesAShape() throws {
        // Without patch_size the default 32 applies, and the conv weight no longer fits.
        let config = try tinyConfig.replacingOccurrences(of: "\"patch_size\": 16,", with: "")
        #expect(!config.contains("patch_size"))
        let dir = try checkpoint(config: config, tensors: try tinyTensors())
        expectLoadError(dir, ["model.safetensors", "vision_model.embeddings.patch_embedding.weight", "[48, 3, 16, 16]", "[48, 3, 32, 32]"])
    }

    @Test func missingTensor() throws {
        let tensors = try tinyTensors().filter { $0.name != "text_model.encoder.layers.1.mlp.fc2.bias" }
        let dir = try checkpoint(config: try tinyConfig, tensors: tensors)
        expectLoadError(dir, ["model.safetensors", "text_model.encoder.layers.1.mlp.fc2.bias", "not found"])
    }

    @Test func wrongShape() throws {
        let tensors = try tinyTensors().map { entry -> SafeTensorsWriter.Entry in
            guard entry.name == "visual_projection.weight" else { return entry }
            var swapped = entry
            swapped.shape = [48, 24]
            return swapped
        }
        let dir = try checkpoint(config: try tinyConfig, tensors: tensors)
        expectLoadError(dir, ["model.safetensors", "visual_projection.weight", "[48, 24]", "[24, 48]"])
    }

    @Test func extraKeysAreIgnored() throws {
        var tensors = try tinyTensors()
        tensors.append(.int64("text_model.embeddings.position_ids", shape: [1, 77], (0..<77).map { Int64($0) }))
        tensors.append(.int64("vision_model.embeddings.position_ids", shape: [1, 197], (0..<197).map { Int64($0) }))
        let dir = try checkpoint(config: try tinyConfig, tensors: tensors)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try CLIPModel(directory: dir)
        let reference = try CLIPModel(directory: NetworkFixtures.tinyClip)
        let ids: [[Int32]] = [[49406, 320, 1125, 539, 2368, 49407]]
        #expect(model.encodeTexts(inputIDs: ids) == reference.encodeTexts(inputIDs: ids))
    }
}
