import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

/// SigLIP and SigLIP 2 checkpoints against transformers' `SiglipModel` + processor
/// (`Fixtures/siglip/`): pixel values from the image files, ids from the texts, embeddings from
/// the reference inputs, and the logits the scorer makes from our embeddings.
@Suite struct SiglipParityTests {
    @Test(arguments: SiglipFixtures.names) func pipelineMatchesTransformers(name: String) throws {
        let pipeline = try CLIPPipeline(reference: SiglipFixtures.checkpoint(name).path)
        #expect(pipeline.resolved.format == .siglip)
        let golden = try NetworkGoldenSet(url: SiglipFixtures.golden(name))
        let (texts, images) = try SiglipFixtures.order(name)

        // Pixels: the processor's resize straight to size × size (bicubic for SigLIP, bilinear
        // for SigLIP 2), alpha composited, rescaled and normalised with mean/std 0.5.
        let pixels = try pipeline.pixelValues(imageFiles: images)
        let pixelDeviation = NetworkDeviation(pixels, golden.pixelValues, width: pipeline.pixelCount)
        #expect(pixelDeviation.maxAbs <= 1e-6, "\(name) pixel_values: \(pixelDeviation)")

        #expect(texts.map(pipeline.tokenizer.encode) == golden.inputIDs, "\(name) input_ids")
        #expect(texts.map(pipeline.tokenizer.tokenize) == golden.inputIDs, "\(name) rows the encoder reads")

        let d = pipeline.model.projectionDim
        let imageEmbeds = golden.pixelValues.withUnsafeBufferPointer {
            pipeline.model.encodeImages(pixelValues: $0, count: golden.imageCount)
        }
        let textEmbeds = pipeline.model.encodeTexts(inputIDs: golden.inputIDs)
        let imageDeviation = NetworkDeviation(imageEmbeds, golden.imageEmbeds, width: d)
        let textDeviation = NetworkDeviation(textEmbeds, golden.textEmbeds, width: d)
        #expect(imageDeviation.maxRel <= 1e-5, "\(name) image_embeds: \(imageDeviation)")
        #expect(textDeviation.maxRel <= 1e-5, "\(name) text_embeds: \(textDeviation)")

        let logits = pipeline.logitsPerImage(imageEmbeddings: imageEmbeds, textEmbeddings: textEmbeds)
        let logitDeviation = NetworkDeviation(logits, golden.logitsPerImage, width: texts.count)
        #expect(logitDeviation.maxAbs <= 1e-4, "\(name) logits_per_image: \(logitDeviation)")
        print("siglip parity \(name): pixels \(pixelDeviation); image \(imageDeviation); text \(textDeviation); logits \(logitDeviation)")

        // What classify and run report: the arg-max, and the predicted class's sigmoid.
        let scorer = pipeline.scorer(textEmbeddings: textEmbeds)
        for i in 0..<golden.imageCount {
            let scores = scorer.score(imageEmbedding: Array(imageEmbeds[(i * d)..<((i + 1) * d)]))
            let row = Array(golden.logitsPerImage[(i * texts.count)..<((i + 1) * texts.count)])
            let best = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!
            #expect(abs(scores.confidence - 1 / (1 + exp(-Double(row[best])))) <= 1e-4)
        }
    }

    /// One image's embedding is the same whatever else is in the batch.
    @Test func imageEmbeddingDoesNotDependOnTheBatch() throws {
        let pipeline = try CLIPPipeline(reference: SiglipFixtures.checkpoint("siglip").path)
        let golden = try NetworkGoldenSet(url: SiglipFixtures.golden("siglip"))
        let d = pipeline.model.projectionDim, per = pipeline.pixelCount
        let all = golden.pixelValues.withUnsafeBufferPointer { pipeline.model.encodeImages(pixelValues: $0, count: golden.imageCount) }
        for i in 0..<golden.imageCount {
            let one = golden.pixelValues.withUnsafeBufferPointer {
                pipeline.model.encodeImages(pixelValues: UnsafeBufferPointer(rebasing: $0[(i * per)..<((i + 1) * per)]), count: 1)
            }
            #expect(NetworkDeviation(one, Array(all[(i * d)..<((i + 1) * d)]), width: d).maxRel <= 1e-6)
        }
    }

    @Test func configurationAndFormat() throws {
        let resolved = try ModelLocator().resolve(SiglipFixtures.checkpoint("siglip2").path)
        #expect(resolved.format == .siglip)
        #expect(resolved.files["tokenizer.model"] != nil && resolved.files["vocab.json"] == nil)
        let network = try CheckpointLoader.network(resolved)
        let c = network.model.configuration
        #expect(c.vision.hiddenSize == 40 && c.vision.patchSize == 6 && c.text.maxPositionEmbeddings == 16)
        #expect(c.vision.hiddenAct == .geluTanh)
        #expect(network.model.logitBias == -2.5)
        #expect(abs(network.model.logitScale - 10) < 1e-5)
    }

    @Test func missingTokenizerIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-notok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(
                at: SiglipFixtures.checkpoint("siglip").appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        #expect {
            _ = try CLIPPipeline(reference: directory.path)
        } throws: { error in
            "\(error)".contains("spiece.model or tokenizer.model") && !"\(error)".contains("\n")
        }
    }
    /// A third vision layer in a checkpoint whose configuration says two would otherwise be read
    /// past silently; transformers' strict load refuses the unexpected keys, and so do we.
    @Test func tensorsTheConfigurationDoesNotUseAreRefusedByName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-extra-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = SiglipFixtures.checkpoint("siglip")
        for name in try FileManager.default.contentsOfDirectory(atPath: original.path) where name != "model.safetensors" {
            try FileManager.default.copyItem(at: original.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let weights = try SafeTensorsFile(url: original.appendingPathComponent("model.safetensors"))
        var entries = try weights.tensorNames.sorted().map { name in
            SafeTensorsWriter.Entry.float32(name, shape: weights.tensorShape(name)!, try weights.floatValues(name))
        }
        let layer1 = "vision_model.encoder.layers.1."
        let copies = try weights.tensorNames.filter { $0.hasPrefix(layer1) }.sorted().map { name in
            SafeTensorsWriter.Entry.float32(
                "vision_model.encoder.layers.2." + name.dropFirst(layer1.count), shape: weights.tensorShape(name)!,
                try weights.floatValues(name))
        }
        try #require(!copies.isEmpty)
        entries += copies
        try SafeTensorsWriter.write(entries, to: directory.appendingPathComponent("model.safetensors"))
        #expect {
            _ = try CheckpointLoader.network(try ModelLocator().resolve(directory.path))
        } throws: { error in
            let text = "\(error)"
            return text.contains("vision_model.encoder.layers.2.") && text.contains("not used by a SigLIP model") && !text.contains("\n")
        }
        // The same tensors without the extra layer load (the rewrite itself is not what is refused).
        try SafeTensorsWriter.write(Array(entries.dropLast(copies.count)), to: directory.appendingPathComponent("model.safetensors"))
        _ = try CheckpointLoader.network(try ModelLocator().resolve(directory.path))
    }
}
