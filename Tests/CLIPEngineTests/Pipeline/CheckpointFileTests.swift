import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

/// A scratch checkpoint: copies of the tiny CLIP checkpoint's text files (which a test then
/// damages) and a link to its weights.
private struct ScratchCheckpoint {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clip-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["config.json", "vocab.json", "merges.txt", "preprocessor_config.json"] {
            try FileManager.default.copyItem(
                at: FixturePaths.tinyCLIP.appendingPathComponent(name),
                to: url(name))
        }
        try FileManager.default.createSymbolicLink(
            at: url("model.safetensors"),
            withDestinationURL: FixturePaths.tinyCLIP.appendingPathComponent("model.safetensors"))
    }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Rewrites the JSON object in `name` with `change`.
    func editJSON(_ name: String, _ change: (inout [String: Any]) -> Void) throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url(name))) as? [String: Any])
        change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url(name))
    }

    /// Loads the checkpoint and returns the one-line description of the error it throws, or nil
    /// (recording an issue) when it loads.
    func loadError(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            _ = try CLIPPipeline(reference: directory.path, environment: [:])
            Issue.record("the checkpoint loaded", sourceLocation: sourceLocation)
            return nil
        } catch {
            let line = "\(error)"
            #expect(!line.contains("\n"), "one line: \(line)", sourceLocation: sourceLocation)
            return line
        }
    }
}

/// Checkpoints whose files disagree with each other or hold values no CLIP has: each is refused
/// at load with one line naming the file and the key, token or line, instead of reading past a
/// table or computing NaN or wrong embeddings.
@Suite struct CheckpointFileTests {
    /// An id at or past text_config.vocab_size would index past the token embedding's rows.
    @Test(arguments: [49408, 49409, 60000, 1_000_000, 1_000_000_000])
    func tokenIDPastTheEmbeddingTableIsRefused(id: Int) throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        try checkpoint.editJSON("vocab.json") { $0["photo</w>"] = id }
        let error = try #require(checkpoint.loadError())
        #expect(error.contains("vocab.json"), "\(error)")
        #expect(error.contains("\"photo</w>\" has id \(id)"), "\(error)")
        #expect(error.contains("vocabulary of 49408"), "\(error)")
    }

    /// The largest id the table holds is accepted (the bound is not off by one).
    @Test func lastRowOfTheEmbeddingTableIsAccepted() throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        try checkpoint.editJSON("config.json") { config in
            var text = config["text_config"] as! [String: Any]
            text["vocab_size"] = 49408
            config["text_config"] = text
        }
        let pipeline = try CLIPPipeline(reference: checkpoint.directory.path, environment: [:])
        #expect(pipeline.tokenizer.highestTokenID == 49407)
    }

    @Test func emptyMergesAreRefused() throws {
        for text in ["", "#version: 0.2\n", "#version: 0.2\n\n  \n"] {
            let checkpoint = try ScratchCheckpoint()
            defer { checkpoint.remove() }
            try Data(text.utf8).write(to: checkpoint.url("merges.txt"))
            let error = try #require(checkpoint.loadError())
            #expect(error.contains("merges.txt: has no merges"), "\(error)")
        }
    }

    /// An end-of-text id other than vocab.json's would pool every prompt at position 0.
    @Test func endTokenIDDisagreeingWithTheVocabularyIsRefused() throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        try checkpoint.editJSON("config.json") { config in
            var text = config["text_config"] as! [String: Any]
            text["eos_token_id"] = 49406
            config["text_config"] = text
        }
        let error = try #require(checkpoint.loadError())
        #expect(error == "config.json: key \"text_config.eos_token_id\": is 49406, but vocab.json's <|endoftext|> is 49407")
    }

    /// With the legacy eos_token_id 2 the pooled token is the row's highest id, which must then
    /// be the end token.
    @Test func legacyEndTokenNeedsTheHighestID() throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        try checkpoint.editJSON("vocab.json") {
            $0["<|endoftext|>"] = 100; $0["photo</w>"] = 49407
        }
        let error = try #require(checkpoint.loadError())
        #expect(error.contains("text_config.eos_token_id"), "\(error)")
        #expect(error.contains("not its highest id 49407"), "\(error)")
    }

    /// Without a centre crop, transformers leaves the shortest-edge resize's aspect ratio: the
    /// message says so rather than "gives 224×224 images but the encoder takes 224×224".
    @Test func noCentreCropWithShortestEdgeIsRefusedSensibly() throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        try checkpoint.editJSON("preprocessor_config.json") { $0["do_center_crop"] = false }
        let error = try #require(checkpoint.loadError())
        #expect(
            error
                == "preprocessor_config.json: do_center_crop is false, so images are resized to a shortest edge of 224 and keep their aspect ratio, but the vision encoder takes 224×224 (vision_config.image_size in config.json)"
        )
    }

    /// Without a centre crop, a resize to exactly the encoder's size is all it needs.
    @Test func noCentreCropWithExactResizeIsAccepted() throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        try checkpoint.editJSON("preprocessor_config.json") {
            $0["do_center_crop"] = false
            $0["size"] = ["height": 224, "width": 224]
        }
        let pipeline = try CLIPPipeline(reference: checkpoint.directory.path, environment: [:])
        let pixels = pipeline.processor.preprocess(RGBImage(width: 300, height: 100, pixels: [UInt8](repeating: 90, count: 300 * 100 * 3)))
        #expect(pixels.count == pipeline.pixelCount)
    }

    @Test func cropOfAnotherSizeIsRefused() throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        try checkpoint.editJSON("preprocessor_config.json") { $0["crop_size"] = ["height": 224, "width": 200] }
        let error = try #require(checkpoint.loadError())
        #expect(
            error.hasPrefix("preprocessor_config.json: crop_size is 200×224 (width × height) but the vision encoder takes 224×224"),
            "\(error)")
    }

    /// Preprocessing writes 3 planes per image: a vision tower of 1 channel would have had each
    /// image written past its slot of 1 × 224 × 224 floats.
    @Test func visionTowerOfOtherThanThreeChannelsIsRefused() throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        // A weights file whose patch embedding matches the 1-channel config, so that only the
        // channel count is at fault.
        let original = try SafeTensorsFile(url: checkpoint.url("model.safetensors"))
        var entries: [SafeTensorsWriter.Entry] = []
        for (name, info) in original.tensors.sorted(by: { $0.key < $1.key }) where info.dtype == .f32 {
            var shape = info.shape, values = try original.floats(info)
            if name == "vision_model.embeddings.patch_embedding.weight" {
                shape[1] = 1
                values = Array(values.prefix(shape.reduce(1, *)))
            }
            entries.append(.float32(name, shape: shape, values))
        }
        try FileManager.default.removeItem(at: checkpoint.url("model.safetensors"))
        try SafeTensorsWriter.write(entries, to: checkpoint.url("model.safetensors"))
        try checkpoint.editJSON("config.json") { config in
            var vision = config["vision_config"] as! [String: Any]
            vision["num_channels"] = 1
            config["vision_config"] = vision
        }
        let error = try #require(checkpoint.loadError())
        #expect(error == "config.json: key \"vision_config.num_channels\": is 1, but images are preprocessed to 3 channels (RGB)")
    }

    /// rescale_factor 1e308 made every pixel value infinite: NaN embeddings blamed on the weights.
    @Test func hugeRescaleFactorIsRefusedNamingTheKey() throws {
        let checkpoint = try ScratchCheckpoint()
        defer { checkpoint.remove() }
        try checkpoint.editJSON("preprocessor_config.json") { $0["rescale_factor"] = 1e308 }
        let error = try #require(checkpoint.loadError())
        #expect(error.hasPrefix("preprocessor_config.json: \"rescale_factor\" 1e+308 makes pixel value 255 into inf"), "\(error)")
    }
}
