import Foundation

/// A loaded CLIP checkpoint with everything needed to go from files and strings to embeddings:
/// the network, the tokenizer and the image preprocessing, plus the fingerprints that key caches.
public final class CLIPPipeline: @unchecked Sendable {
    /// Where the checkpoint was found.
    public let resolved: ResolvedModel
    public let model: CLIPModel
    public let tokenizer: CLIPTokenizer
    public let processor: CLIPImageProcessor
    /// The weights file (symlinks followed): `model.safetensors`, `pytorch_model.bin`, the
    /// OpenCLIP weights or OpenAI's `.pt`.
    public let weightsURL: URL
    /// SHA-256 of `config.json` (`open_clip_config.json`; for OpenAI's archive, which has no
    /// configuration file, of the sizes inferred from its weights).
    public let configurationSHA256: String
    /// SHA-256 of `vocab.json` followed by `merges.txt` (the bundled ones for OpenCLIP and
    /// OpenAI checkpoints): what decides the token ids.
    public let tokenizerSHA256: String
    /// What keys cached text embeddings: the tokenizer files and the revision of the text clean-up,
    /// so prompt embeddings cached by a build that cleaned text otherwise are not reused.
    public var tokenizerKey: String { "\(tokenizerSHA256):cleaning-\(TextCleaner.revision)" }
    /// The preprocessing settings as a stable string (part of the image-cache key).
    public let preprocessingKey: String

    /// Floats per preprocessed image (3 × size × size).
    public var pixelCount: Int { model.numChannels * model.imageSize * model.imageSize }

    /// Loads the checkpoint at `resolved.directory`, in its format (`resolved.format`).
    public init(model resolved: ResolvedModel) throws {
        self.resolved = resolved
        let directory = resolved.directory
        func file(_ name: String) -> URL { resolved.files[name] ?? directory.appendingPathComponent(name) }
        weightsURL = resolved.weightsURL.resolvingSymlinksInPath()
        let network = try CheckpointLoader.network(resolved)
        model = network.model
        let configuration = model.configuration
        let preprocessorConfig: PreprocessorConfig
        let preprocessorURL: URL
        // Preprocessing writes RGB planes into slots of `pixelCount` floats: with another channel
        // count they would not fit their slot (or leave part of it unset).
        guard configuration.vision.numChannels == 3 else {
            throw CLIPConfigurationError(
                file: network.configurationURL.path, key: "vision_config.num_channels",
                message: "is \(configuration.vision.numChannels), but images are preprocessed to 3 channels (RGB)")
        }
        if resolved.format == .siglip {
            let configURL = network.configurationURL
            configurationSHA256 = try SHA256Digest.hex(ofFile: configURL)
            let siglip = try SiglipTokenizerFiles.tokenizer(resolved, contextLength: configuration.text.maxPositionEmbeddings)
            // Every id indexes the token embedding: a SentencePiece model with more pieces than
            // its rows would read past the table.
            guard siglip.pieceCount <= configuration.text.vocabSize else {
                throw CLIPConfigurationError(
                    file: configURL.path, key: "text_config.vocab_size",
                    message: "is \(configuration.text.vocabSize), but the SentencePiece model has \(siglip.pieceCount) pieces")
            }
            tokenizer = CLIPTokenizer(siglip: siglip)
            var tokenizerBytes = Data()
            for name in SiglipTokenizerFiles.modelNames + ["tokenizer_config.json"] {
                if let url = resolved.files[name] {
                    tokenizerBytes.append(try FileKind.contents(of: url, limit: FileKind.checkpointTextLimit))
                }
            }
            tokenizerSHA256 = SHA256Digest.hex(of: tokenizerBytes)
            preprocessorURL = file("preprocessor_config.json")
            preprocessorConfig = try PreprocessorConfig.siglip(
                contentsOf: resolved.files["preprocessor_config.json"], imageSize: configuration.vision.imageSize)
            processor = try CLIPImageProcessor(config: preprocessorConfig)
            try Self.checkOutputSize(preprocessorConfig, imageSize: configuration.vision.imageSize, file: preprocessorURL.path)
        } else if let foreign = network.foreign {
            // No configuration file for OpenAI's archive: the sizes inferred from it stand for one.
            configurationSHA256 =
                resolved.format == .openAI
                ? SHA256Digest.hex(of: Data(foreign.summary.utf8)) : try SHA256Digest.hex(ofFile: network.configurationURL)
            preprocessorURL = network.configurationURL
            tokenizer = try BundledTokenizer.tokenizer(contextLength: configuration.text.maxPositionEmbeddings)
            tokenizerSHA256 = BundledTokenizer.sha256
            preprocessorConfig = foreign.preprocessorConfig
            // torchvision's convert("RGB") after the resize drops alpha; it never composites.
            processor = try CLIPImageProcessor(config: preprocessorConfig, alphaHandling: .drop, convention: .torchvision)
            // The encoder takes square images of its configured size: the preprocessing must end there.
            let (h, w) = processor.outputSize(width: 1000, height: 1000)
            guard h == configuration.vision.imageSize, w == configuration.vision.imageSize else {
                throw ImageError(
                    code: .badConfig, file: preprocessorURL.path,
                    message:
                        "preprocessing gives \(h)×\(w) images but the vision encoder takes \(configuration.vision.imageSize)×\(configuration.vision.imageSize)"
                )
            }
        } else {
            let configURL = network.configurationURL
            configurationSHA256 = try SHA256Digest.hex(ofFile: configURL)
            // Every id the tokenizer gives indexes the token embedding's rows: vocab.json's ids are
            // checked against their number here, at load, not in the encoder.
            tokenizer = try CLIPTokenizer(
                vocabularyURL: file("vocab.json"), mergesURL: file("merges.txt"),
                contextLength: configuration.text.maxPositionEmbeddings,
                vocabularySize: configuration.text.vocabSize)
            try Self.checkEndToken(configuration.text.eosTokenID, tokenizer: tokenizer, configURL: configURL)
            preprocessorURL = file("preprocessor_config.json")
            preprocessorConfig =
                FileManager.default.fileExists(atPath: preprocessorURL.path)
                ? try PreprocessorConfig(contentsOf: preprocessorURL, imageSize: configuration.vision.imageSize)
                : PreprocessorConfig(imageSize: configuration.vision.imageSize)
            processor = try CLIPImageProcessor(config: preprocessorConfig)
            try Self.checkOutputSize(preprocessorConfig, imageSize: configuration.vision.imageSize, file: preprocessorURL.path)
            // Already read by the tokenizer above: these cannot be FIFOs or missing here.
            var tokenizerBytes = try FileKind.contents(of: file("vocab.json"), limit: FileKind.checkpointTextLimit)
            tokenizerBytes.append(try FileKind.contents(of: file("merges.txt"), limit: FileKind.checkpointTextLimit))
            tokenizerSHA256 = SHA256Digest.hex(of: tokenizerBytes)
        }
        let c = preprocessorConfig
        preprocessingKey =
            [
                "v1", "resize=\(c.doResize ? "\(c.resize)" : "none")", "crop=\(c.doCenterCrop ? "\(c.cropHeight)x\(c.cropWidth)" : "none")",
                "rescale=\(c.doRescale ? String(c.rescaleFactor) : "none")",
                "mean=\(c.doNormalize ? c.imageMean.map { String($0) }.joined(separator: ",") : "none")",
                "std=\(c.doNormalize ? c.imageStd.map { String($0) }.joined(separator: ",") : "none")",
                "rgb=\(c.doConvertRGB)", "alpha=\(processor.alphaHandling)", "resample=pillow-\(c.resample == 2 ? "bilinear" : "bicubic")"
            ].joined(separator: ";") + (processor.convention == .transformers ? "" : ";convention=\(processor.convention.rawValue)")
    }

    /// Checks that the text encoder pools each prompt at its end token. The pooled position is the
    /// first `eos_token_id` in the row (or, for the legacy value 2, the row's highest id): were
    /// that not the tokenizer's `<|endoftext|>`, every prompt would pool the same position (or a
    /// word's) and all text embeddings would be alike, with no error anywhere.
    static func checkEndToken(_ eosTokenID: Int, tokenizer: CLIPTokenizer, configURL: URL) throws {
        let end = Int(tokenizer.endTokenID), name = CLIPTokenizer.endToken
        if eosTokenID == 2 {
            guard Int(tokenizer.highestTokenID) == end else {
                throw CLIPConfigurationError(
                    file: configURL.path, key: "text_config.eos_token_id",
                    message:
                        "is 2 (pool at the highest id), but vocab.json's \(name) is \(end), not its highest id \(tokenizer.highestTokenID)")
            }
        } else if eosTokenID != end {
            throw CLIPConfigurationError(
                file: configURL.path, key: "text_config.eos_token_id",
                message: "is \(eosTokenID), but vocab.json's \(name) is \(end)")
        }
    }

    /// Checks that preprocessing ends at the vision encoder's input, `imageSize` × `imageSize`:
    /// a centre crop of that size, or (without a crop) a resize to exactly that size. Without
    /// either the images keep their aspect ratio or their own size, as transformers'
    /// CLIPImageProcessor leaves them, and the encoder cannot take them.
    static func checkOutputSize(_ c: PreprocessorConfig, imageSize s: Int, file: String) throws {
        func fail(_ message: String) -> ImageError {
            ImageError(
                code: .badConfig, file: file,
                message: "\(message) but the vision encoder takes \(s)×\(s) (vision_config.image_size in config.json)")
        }
        if c.doCenterCrop {
            guard c.cropHeight == s, c.cropWidth == s else {
                throw fail("crop_size is \(c.cropWidth)×\(c.cropHeight) (width × height)")
            }
            return
        }
        guard c.doResize else { throw fail("do_center_crop and do_resize are false, so images keep their own size,") }
        switch c.resize {
        case .exact(let h, let w):
            guard h == s, w == s else { throw fail("do_center_crop is false and size is \(w)×\(h) (width × height)") }
        case .shortestEdge(let n):
            throw fail("do_center_crop is false, so images are resized to a shortest edge of \(n) and keep their aspect ratio,")
        }
    }

    /// Loads the checkpoint that `reference` resolves to (a directory or a repo id in the cache).
    public convenience init(reference: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try self.init(model: ModelLocator(environment: environment).resolve(reference))
    }

    /// Decodes and preprocesses image files into one [count, 3, S, S] buffer.
    public func pixelValues(imageFiles: [URL], maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> [Float] {
        let stride = pixelCount
        var pixels = [Float](repeating: 0, count: stride * imageFiles.count)
        for (i, url) in imageFiles.enumerated() {
            let image = try processor.decode(contentsOf: url, maxPixels: maxPixels)
            pixels.withUnsafeMutableBufferPointer { buffer in
                processor.preprocess(image, into: UnsafeMutableBufferPointer(rebasing: buffer[(i * stride)..<((i + 1) * stride)]))
            }
        }
        return pixels
    }

    /// Image embeddings (projected, not normalised), [count, projection], in batches of `batchSize`.
    public func embedImages(pixelValues: [Float], batchSize: Int = 16) -> [Float] {
        let count = pixelValues.count / pixelCount
        var out: [Float] = []
        out.reserveCapacity(count * model.projectionDim)
        pixelValues.withUnsafeBufferPointer { all in
            for start in stride(from: 0, to: count, by: max(1, batchSize)) {
                let n = min(batchSize, count - start)
                let slice = UnsafeBufferPointer(rebasing: all[(start * pixelCount)..<((start + n) * pixelCount)])
                out += model.encodeImages(pixelValues: slice, count: n)
            }
        }
        return out
    }

    /// Token ids (start, tokens, end; not padded) for each text.
    public func inputIDs(_ texts: [String]) -> [[Int32]] { texts.map(tokenizer.tokenize) }

    /// Text embeddings (projected, not normalised), [count, projection], in batches of 64.
    public func embedTexts(_ texts: [String]) -> [Float] {
        let ids = inputIDs(texts)
        var out: [Float] = []
        out.reserveCapacity(texts.count * model.projectionDim)
        for start in stride(from: 0, to: ids.count, by: 64) {
            out += model.encodeTexts(inputIDs: Array(ids[start..<min(start + 64, ids.count)]))
        }
        return out
    }

    /// The zero-shot scorer whose classes are the rows of `textEmbeddings` ([count, projection],
    /// projected, not normalised), one prompt each, at this model's logit scale: what `classify`
    /// scores with, the same code as an audit's designs.
    public func scorer(textEmbeddings: [Float]) -> ZeroShotScorer {
        ZeroShotScorer(
            textEmbeddings: textEmbeddings, dimension: model.projectionDim, logitScale: model.logitScale, logitBias: model.logitBias)
    }

    /// `exp(logit_scale)` × cosine similarity (SigLIP: `+ logit_bias`), [images, texts] — the
    /// model's `logits_per_image`,
    /// from the scorer that `classify` and `run` use, so `embed`'s logits are theirs (as `Float`).
    public func logitsPerImage(imageEmbeddings: [Float], textEmbeddings: [Float]) -> [Float] {
        scorer(textEmbeddings: textEmbeddings).logitsPerImage(imageEmbeddings: imageEmbeddings)
    }
}
