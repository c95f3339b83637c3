import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

/// The other checkpoint formats against their own reference code (Fixtures/formats/, made by
/// Fixtures/Generators/make_format_fixtures.py): transformers' `pytorch_model.bin`, OpenCLIP
/// (open_clip 3.3) and OpenAI's TorchScript archive (`clip` 1.0). Pixel values and token ids
/// exact; embeddings and logits within each fixture's `ParityTolerance` (a few times the error
/// achieved on it: about 3e-6 of each row's largest value, logits 1e-4 or tighter).
@Suite struct FormatParityTests {
    static let formats = FixturePaths.root.appendingPathComponent("formats")
    static let images = FixturePaths.clipReference.appendingPathComponent("images")

    struct GoldenIndex: Decodable {
        var images: [String]
        var prompts: [String]
        var openai_clip_tokenize: [[Int32]]
    }

    static func index() throws -> GoldenIndex {
        try JSONDecoder().decode(GoldenIndex.self, from: Data(contentsOf: formats.appendingPathComponent("golden.json")))
    }

    /// The model's embeddings and logits against a golden set; returns the embeddings.
    @discardableResult
    func checkParity(
        _ model: CLIPModel, _ set: NetworkGoldenSet, label: String, tolerance: ParityTolerance
    ) -> (images: [Float], texts: [Float]) {
        let p = model.projectionDim
        let images = set.pixelValues.withUnsafeBufferPointer { model.encodeImages(pixelValues: $0, count: set.imageCount) }
        let texts = model.encodeTexts(inputIDs: set.inputIDs)
        let imageDev = NetworkDeviation(images, set.imageEmbeds, width: p)
        let textDev = NetworkDeviation(texts, set.textEmbeds, width: p)
        let logits = networkLogits(images: images, texts: texts, width: p, scale: model.logitScale)
        let logitDev = NetworkDeviation(logits, set.logitsPerImage, width: set.inputIDs.count)
        print("parity \(label): image_embeds \(imageDev); text_embeds \(textDev); logits_per_image \(logitDev)")
        #expect(imageDev.maxRel <= tolerance.embeddings, "\(label) image_embeds: \(imageDev)")
        #expect(textDev.maxRel <= tolerance.embeddings, "\(label) text_embeds: \(textDev)")
        #expect(logitDev.maxAbs <= tolerance.logits, "\(label) logits_per_image: \(logitDev)")
        return (images, texts)
    }

    /// The processor's output for the fixture images, against the reference's pixel values.
    func checkPixels(_ processor: CLIPImageProcessor, _ set: NetworkGoldenSet, label: String) throws {
        let names = try Self.index().images
        var ours: [Float] = []
        for name in names {
            ours += try processor.preprocess(contentsOf: Self.images.appendingPathComponent(name))
        }
        #expect(ours.count == set.pixelValues.count)
        let perImage = set.pixelValues.count / names.count
        for (i, name) in names.enumerated() {
            let range = (i * perImage)..<((i + 1) * perImage)
            let differing = range.filter { ours[$0] != set.pixelValues[$0] }.count
            #expect(differing == 0, "\(label) \(name): \(differing) of \(perImage) pixel values differ")
        }
    }

    // MARK: transformers, pytorch_model.bin

    /// The same checkpoint as safetensors and as torch.save's `pytorch_model.bin` (F16, q/k/v
    /// sharing one storage, a transposed projection) gives bit-identical embeddings.
    @Test func pytorchBinMatchesSafetensorsBitForBit() throws {
        let shapes = FixturePaths.root.appendingPathComponent("shapes/p32-gelu-f16")
        let configuration = try CLIPConfiguration(contentsOf: shapes.appendingPathComponent("config.json"))
        let fromSafetensors = try CLIPModel(directory: shapes)
        let archive = try PyTorchArchive(url: Self.formats.appendingPathComponent("hf-bin/pytorch_model.bin"))
        #expect(archive.kind == .stateDict)
        let fromArchive = try CLIPModel(configuration: configuration, archive: archive, layout: .huggingFace)
        let set = try NetworkGoldenSet(url: shapes.appendingPathComponent("golden.safetensors"))
        let a = checkParity(fromSafetensors, set, label: "p32-gelu-f16 safetensors", tolerance: .p32GeluF16)
        let b = checkParity(fromArchive, set, label: "p32-gelu-f16 pytorch_model.bin", tolerance: .p32GeluF16)
        #expect(a.images == b.images)
        #expect(a.texts == b.texts)
    }

    /// tiny-clip (F32) written as a `pytorch_model.bin` loads with every tensor in place (no
    /// copy, so no more memory than safetensors) and resolves, through the locator and the
    /// pipeline, to the same embeddings to the bit.
    @Test func pytorchBinCheckpointDirectoryRunsInPlace() throws {
        let dir = try TorchArchiveWriter.temporaryDirectory()
        for name in ["config.json", "vocab.json", "merges.txt", "preprocessor_config.json"] {
            try FileManager.default.createSymbolicLink(
                at: dir.appendingPathComponent(name),
                withDestinationURL: FixturePaths.tinyCLIP.appendingPathComponent(name))
        }
        try convertToPyTorchArchive(
            SafeTensorsFile(url: FixturePaths.tinyCLIP.appendingPathComponent("model.safetensors")),
            to: dir.appendingPathComponent("pytorch_model.bin"))
        let resolved = try ModelLocator(environment: [:]).resolve(dir.path)
        #expect(resolved.format == .huggingFacePyTorch)
        let binary = try CLIPPipeline(model: resolved)
        let reference = try CLIPPipeline(model: ModelLocator(environment: [:]).resolve(FixturePaths.tinyCLIP.path))
        #expect(reference.resolved.format == .huggingFaceSafetensors)
        #expect(binary.model.weights.convertedTensorCount == 0)
        let texts = ["a photo of a cat", "a photo of a dog"]
        #expect(binary.embedTexts(texts) == reference.embedTexts(texts))
        let files = [Self.images.appendingPathComponent("real_chelsea.png")]
        let pixels = try reference.pixelValues(imageFiles: files)
        #expect(try binary.pixelValues(imageFiles: files) == pixels)
        #expect(binary.embedImages(pixelValues: pixels) == reference.embedImages(pixelValues: pixels))
    }

    // MARK: OpenCLIP

    /// QuickGELU, patch 16, widths 40 and 24, an MLP ratio of 2.6, custom mean/std, the
    /// `squash` resize (straight to the square, no crop); weights in `open_clip_model.safetensors`.
    /// Network against open_clip's forward pass, preprocessing against open_clip's transform.
    @Test func openCLIPQuickGELUMatchesOpenCLIP() throws {
        let dir = Self.formats.appendingPathComponent("openclip-quickgelu-p16")
        let foreign = try ForeignCheckpointConfiguration(openCLIPConfig: dir.appendingPathComponent("open_clip_config.json"))
        let c = foreign.configuration
        #expect(c.vision.hiddenAct == .quickGELU && c.text.hiddenAct == .quickGELU)
        #expect(c.vision.numAttentionHeads == 2 && c.vision.intermediateSize == 104 && c.vision.patchSize == 16)
        #expect(c.text.maxPositionEmbeddings == 20 && c.text.numAttentionHeads == 3 && c.projectionDim == 16)
        #expect(foreign.mean == [0.5, 0.45, 0.4] && foreign.std == [0.25, 0.3, 0.2])
        #expect(foreign.resizeMode == "squash")
        let model = try CLIPModel(
            configuration: c, safetensorsURL: dir.appendingPathComponent("open_clip_model.safetensors"),
            layout: .openAI)
        let set = try NetworkGoldenSet(url: dir.appendingPathComponent("golden.safetensors"))
        checkParity(model, set, label: "openclip-quickgelu-p16", tolerance: .openCLIPQuickGELU)
        let processor = try CLIPImageProcessor(config: foreign.preprocessorConfig, alphaHandling: .drop, convention: .torchvision)
        try checkPixels(processor, set, label: "openclip-quickgelu-p16")
    }

    /// open_clip's CustomTextCLIP keeps the text tower under `text.`: the quickgelu fixture with
    /// its text tensors renamed so, and `custom_text` in its config, gives the same embeddings.
    @Test func openCLIPCustomTextTowerNamesAreMapped() throws {
        let source = Self.formats.appendingPathComponent("openclip-quickgelu-p16")
        let dir = try TorchArchiveWriter.temporaryDirectory()
        let original = try SafeTensorsFile(url: source.appendingPathComponent("open_clip_model.safetensors"))
        let entries = try original.tensors.keys.sorted().map { name -> SafeTensorsWriter.Entry in
            let info = original.tensors[name]!
            let renamed = name.hasPrefix("visual.") || name == "logit_scale" ? name : "text." + name
            return .float32(renamed, shape: info.shape, try original.floats(info))
        }
        try SafeTensorsWriter.write(entries, to: dir.appendingPathComponent("open_clip_model.safetensors"))
        var config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("open_clip_config.json")))
            as! [String: Any]
        var model = config["model_cfg"] as! [String: Any]
        model["custom_text"] = true
        config["model_cfg"] = model
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("open_clip_config.json"))

        let foreign = try ForeignCheckpointConfiguration(openCLIPConfig: dir.appendingPathComponent("open_clip_config.json"))
        #expect(foreign.layout == .openCLIPCustomText)
        let renamed = try CLIPModel(
            configuration: foreign.configuration, safetensorsURL: dir.appendingPathComponent("open_clip_model.safetensors"),
            layout: foreign.layout)
        let set = try NetworkGoldenSet(url: source.appendingPathComponent("golden.safetensors"))
        checkParity(renamed, set, label: "openclip-quickgelu-p16 custom_text", tolerance: .openCLIPQuickGELU)
        // The plain layout does not find the text tower there, and says which tensor it missed.
        #expect(throws: (any Error).self) {
            _ = try CLIPModel(
                configuration: foreign.configuration, safetensorsURL: dir.appendingPathComponent("open_clip_model.safetensors"),
                layout: .openAI)
        }
        do {
            _ = try CLIPModel(
                configuration: foreign.configuration, safetensorsURL: dir.appendingPathComponent("open_clip_model.safetensors"),
                layout: .openAI)
        } catch {
            #expect("\(error)" == "open_clip_model.safetensors: tensor \"token_embedding.weight\": not found in the file")
        }
    }

    /// Exact GELU, patch 32, F16 weights in `open_clip_pytorch_model.bin`, the full vocabulary:
    /// the whole pipeline from a directory — format detection, the bundled tokenizer (ids against
    /// open_clip's tokenizer), preprocessing, network.
    @Test func openCLIPGELUPipelineMatchesOpenCLIP() throws {
        let dir = Self.formats.appendingPathComponent("openclip-gelu-p32")
        let resolved = try ModelLocator(environment: [:]).resolve(dir.path)
        #expect(resolved.format == .openCLIP && resolved.weightsName == "open_clip_pytorch_model.bin")
        let pipeline = try CLIPPipeline(model: resolved)
        #expect(pipeline.model.configuration.vision.hiddenAct == .gelu)
        let set = try NetworkGoldenSet(url: dir.appendingPathComponent("golden.safetensors"))
        let index = try Self.index()
        let ids = index.prompts.map(pipeline.tokenizer.encode)
        #expect(ids == set.inputIDs)
        let pixels = try pipeline.pixelValues(imageFiles: index.images.map { Self.images.appendingPathComponent($0) })
        let differing = zip(pixels, set.pixelValues).filter { $0 != $1 }.count
        #expect(pixels.count == set.pixelValues.count && differing == 0, "\(differing) pixel values differ")
        checkParity(pipeline.model, set, label: "openclip-gelu-p32", tolerance: .openCLIPGELU)
        let p = pipeline.model.projectionDim
        let texts = pipeline.embedTexts(index.prompts)
        let pipelineTexts = NetworkDeviation(texts, set.textEmbeds, width: p)
        print("parity openclip-gelu-p32 pipeline text_embeds \(pipelineTexts)")
        #expect(pipelineTexts.maxRel <= ParityTolerance.openCLIPGELU.embeddings)
    }

    /// F16 weights are converted to F32 copies; once a tower is packed, the copies of its
    /// Linear weights are given back (an F16 checkpoint would otherwise be held twice), and the
    /// network still gives the reference's embeddings.
    @Test func convertedWeightsAreGivenBackOncePacked() throws {
        let dir = Self.formats.appendingPathComponent("openai-p16")
        let archive = try PyTorchArchive(url: dir.appendingPathComponent("ViT-tiny.pt"))
        let model = try CLIPModel(
            configuration: ForeignCheckpointConfiguration(openAIArchive: archive).configuration,
            archive: archive, layout: .openAI)
        #expect(model.weights.convertedTensorCount > 0)
        #expect(model.weights.releasedConvertedBytes == 0)
        let set = try NetworkGoldenSet(url: dir.appendingPathComponent("golden.safetensors"))
        checkParity(model, set, label: "openai-p16 after release", tolerance: .openAI)
        // Vision: 3 layers of (3·96² + 96² + 2·4·96²) floats, the patch embedding and the
        // projection; at least most of it lands on whole pages.
        #expect(model.weights.releasedConvertedBytes > 3 * 12 * 96 * 96 * 4 / 2)
        // A second use reads only the packed copies.
        checkParity(model, set, label: "openai-p16 again", tolerance: .openAI)
    }

    // MARK: OpenAI

    /// OpenAI's TorchScript archive (build_model + trace + save, F16, as ViT-B-16.pt): module
    /// objects walked into state-dict names, sizes inferred from the shapes, QuickGELU; against
    /// `clip.load(..., jit=False)` and its transform.
    @Test func openAITorchScriptMatchesClip() throws {
        let dir = Self.formats.appendingPathComponent("openai-p16")
        let archive = try PyTorchArchive(url: dir.appendingPathComponent("ViT-tiny.pt"))
        #expect(archive.kind == .torchScript)
        #expect(archive.rootClass == "__torch__.clip.model.CLIP")
        let foreign = try ForeignCheckpointConfiguration(openAIArchive: archive)
        let c = foreign.configuration
        #expect(c.vision.hiddenSize == 96 && c.vision.numAttentionHeads == 1 && c.vision.patchSize == 16 && c.vision.imageSize == 48)
        #expect(c.vision.numHiddenLayers == 3 && c.text.numHiddenLayers == 2 && c.text.hiddenSize == 64)
        #expect(c.text.vocabSize == 600 && c.text.maxPositionEmbeddings == 24 && c.projectionDim == 20)
        #expect(c.vision.hiddenAct == .quickGELU)
        let model = try CLIPModel(configuration: c, archive: archive, layout: .openAI)
        let set = try NetworkGoldenSet(url: dir.appendingPathComponent("golden.safetensors"))
        checkParity(model, set, label: "openai-p16", tolerance: .openAI)
        let processor = try CLIPImageProcessor(config: foreign.preprocessorConfig, alphaHandling: .drop, convention: .torchvision)
        try checkPixels(processor, set, label: "openai-p16")
    }

    /// The bundled tokenizer gives `clip.tokenize`'s ids (OpenAI's package), and its files are
    /// the `vocab.json` and `merges.txt` of Hugging Face's CLIP repos.
    @Test func bundledTokenizerMatchesClipTokenize() throws {
        let index = try Self.index()
        let tokenizer = try BundledTokenizer.tokenizer(contextLength: 77)
        #expect(index.prompts.map(tokenizer.encode) == index.openai_clip_tokenize)
        let hf = try CLIPTokenizer(directory: FixturePaths.tinyCLIP)
        #expect(index.prompts.map(hf.encode) == index.openai_clip_tokenize)
        var shipped = try Data(contentsOf: FixturePaths.tinyCLIP.appendingPathComponent("vocab.json"))
        shipped.append(try Data(contentsOf: FixturePaths.tinyCLIP.appendingPathComponent("merges.txt")))
        let vocabulary = try JSONDecoder().decode([String: Int].self, from: BundledTokenizer.data(for: BundledTokenizer.vocabularyURL)!)
        let hfVocabulary = try JSONDecoder().decode(
            [String: Int].self, from: Data(contentsOf: FixturePaths.tinyCLIP.appendingPathComponent("vocab.json")))
        #expect(vocabulary == hfVocabulary)
        #expect(
            BundledTokenizer.data(for: BundledTokenizer.mergesURL)
                == (try Data(contentsOf: FixturePaths.tinyCLIP.appendingPathComponent("merges.txt"))))
    }
}
