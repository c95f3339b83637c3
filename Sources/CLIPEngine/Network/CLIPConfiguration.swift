import Foundation

/// An error in a checkpoint's `config.json`: the file, the key (dotted path, e.g.
/// `vision_config.patch_size`) and what is wrong. Its description is one line naming both.
public struct CLIPConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The file read (its path; the description shows the last component).
    public var file: String
    /// The offending key as a dotted path, or nil when the file as a whole is at fault.
    public var key: String?
    /// What is wrong.
    public var message: String

    /// One line: `config.json: key "vision_config.patch_size": <message>`.
    public var description: String {
        let name = (file as NSString).lastPathComponent
        if let key { return "\(name): key \"\(key)\": \(message)" }
        return "\(name): \(message)"
    }
}

/// The activation of the encoder MLPs (`hidden_act`). Only the two CLIP checkpoints use are
/// supported; anything else is rejected when the configuration is read.
public enum CLIPActivation: String, Sendable, Equatable {
    /// x·σ(1.702·x), OpenAI's CLIP.
    case quickGELU = "quick_gelu"
    /// The exact GELU, x·½(1 + erf(x/√2)) (transformers' `"gelu"`).
    case gelu = "gelu"
    /// The tanh approximation, ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (transformers'
    /// `"gelu_pytorch_tanh"`, SigLIP's).
    case geluTanh = "gelu_pytorch_tanh"
}

/// The text tower's sizes (transformers' `CLIPTextConfig`; missing keys take its defaults).
public struct CLIPTextConfiguration: Sendable, Equatable {
    /// `vocab_size`: rows of the token embedding.
    public var vocabSize = 49408
    /// `hidden_size`: the width of the residual stream.
    public var hiddenSize = 512
    /// `intermediate_size`: the MLP's hidden width.
    public var intermediateSize = 2048
    /// `num_hidden_layers`.
    public var numHiddenLayers = 12
    /// `num_attention_heads` (divides `hiddenSize`).
    public var numAttentionHeads = 8
    /// `max_position_embeddings`: the context length.
    public var maxPositionEmbeddings = 77
    /// `layer_norm_eps`.
    public var layerNormEps: Float = 1e-5
    /// `hidden_act`.
    public var hiddenAct = CLIPActivation.quickGELU
    /// `bos_token_id` (informational; the network does not use it).
    public var bosTokenID = 49406
    /// The end-of-text id. `2` (the legacy value in OpenAI's uploaded configs) makes the pooling
    /// pick `argmax(input_ids)`, as transformers does; any other value picks its first occurrence.
    public var eosTokenID = 49407
    /// `pad_token_id` (informational; padding after the end token never reaches the output).
    public var padTokenID = 1
    /// The width of one attention head.
    public var headDim: Int { hiddenSize / numAttentionHeads }
}

/// The vision tower's sizes (transformers' `CLIPVisionConfig`; missing keys take its defaults,
/// which are ViT-B/32's: note `patch_size` 32).
public struct CLIPVisionConfiguration: Sendable, Equatable {
    /// `hidden_size`: the width of the residual stream.
    public var hiddenSize = 768
    /// `intermediate_size`: the MLP's hidden width.
    public var intermediateSize = 3072
    /// `num_hidden_layers`.
    public var numHiddenLayers = 12
    /// `num_attention_heads` (divides `hiddenSize`).
    public var numAttentionHeads = 12
    /// `image_size`: the side of the square input, in pixels.
    public var imageSize = 224
    /// `patch_size`: the side of a patch (divides `imageSize`).
    public var patchSize = 32
    /// `num_channels`.
    public var numChannels = 3
    /// `layer_norm_eps`.
    public var layerNormEps: Float = 1e-5
    /// `hidden_act`.
    public var hiddenAct = CLIPActivation.quickGELU
    /// Patches along one side of the image.
    public var gridSize: Int { imageSize / patchSize }
    /// Patches per image.
    public var numPatches: Int { gridSize * gridSize }
    /// Tokens per image: the class token and the patches.
    public var numPositions: Int { numPatches + 1 }
    /// The width of one attention head.
    public var headDim: Int { hiddenSize / numAttentionHeads }
    /// Inputs per patch: channels × patch × patch.
    public var patchInputs: Int { numChannels * patchSize * patchSize }
}

/// A CLIP checkpoint's `config.json` (Hugging Face layout): both towers and the joint space.
public struct CLIPConfiguration: Sendable, Equatable {
    /// `text_config` (or the legacy `text_config_dict`).
    public var text = CLIPTextConfiguration()
    /// `vision_config` (or the legacy `vision_config_dict`).
    public var vision = CLIPVisionConfiguration()
    /// The joint embedding width. The top-level `projection_dim` is the one transformers' CLIPModel
    /// uses; the towers' own `projection_dim` keys are ignored.
    public var projectionDim = 512
    /// The initial value of `logit_scale` (the trained value is in the weights).
    public var logitScaleInitValue: Float = 2.6592

    /// The defaults of transformers' `CLIPConfig()`.
    public init() {}

    /// Reads and validates `config.json` at `url`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try FileKind.contents(of: url, limit: FileKind.checkpointTextLimit)
        } catch {
            throw CLIPConfigurationError(file: url.path, key: nil, message: "cannot read: \(error.reason)")
        }
        try self.init(jsonData: data, file: url.path)
    }

    /// Parses and validates JSON text; `file` names the source in errors.
    public init(jsonData: Data, file: String = "config.json") throws {
        func fail(_ key: String?, _ message: String) -> CLIPConfigurationError {
            CLIPConfigurationError(file: file, key: key, message: message)
        }
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: jsonData, options: []) as? [String: Any] else {
                throw fail(nil, "is not a JSON object")
            }
            root = object
        } catch let error as CLIPConfigurationError {
            throw error
        } catch {
            throw fail(nil, "is not valid JSON")
        }
        // JSONSerialization keeps one value of a key written twice; which one was meant is unknown.
        if let path = JSONDuplicateKeys.first(in: jsonData) {
            throw fail(path.joined(separator: "."), "appears twice")
        }

        /// A sub-configuration: `name`, or the legacy `name_dict` when present. transformers'
        /// CLIPConfig expands `name_dict` with the defaults and overwrites every key of `name`
        /// with the result, so the dict alone decides.
        func section(_ name: String) throws -> (dict: [String: Any], prefix: String) {
            for key in [name + "_dict", name] {
                guard let value = root[key], !(value is NSNull) else { continue }
                guard let dict = value as? [String: Any] else { throw fail(key, "is not an object") }
                return (dict, key + ".")
            }
            return ([:], name + ".")
        }
        let (textSection, tp) = try section("text_config")
        let (visionSection, vp) = try section("vision_config")

        // Sizes are bounded far above any CLIP so that products of them cannot overflow (an
        // image_size of 2^40 trapped in arithmetic).
        // A value as JSON shows it: the text "48" must not read as the number 48.
        func jsonShown(_ value: Any) -> String {
            if let text = value as? String { return "the text \"\(text)\"" }
            if let n = value as? NSNumber, String(cString: n.objCType) == "c" { return n.boolValue ? "true" : "false" }
            return "\(value)"
        }
        func int(
            _ dict: [String: Any], _ prefix: String, _ key: String, _ fallback: Int, positive: Bool = true,
            max upper: Int = 1 << 20
        ) throws -> Int {
            guard let value = dict[key], !(value is NSNull) else { return fallback }
            guard let n = value as? NSNumber, String(cString: n.objCType) != "c",
                n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 1e15
            else {
                throw fail(prefix + key, "is \(jsonShown(value)), expected an integer")
            }
            let i = n.intValue
            if positive, i <= 0 { throw fail(prefix + key, "is \(i), expected a positive integer") }
            if i > upper { throw fail(prefix + key, "is \(i), expected at most \(upper)") }
            return i
        }
        func float(_ dict: [String: Any], _ prefix: String, _ key: String, _ fallback: Float) throws -> Float {
            guard let value = dict[key], !(value is NSNull) else { return fallback }
            guard let n = value as? NSNumber, String(cString: n.objCType) != "c", n.doubleValue.isFinite else {
                throw fail(prefix + key, "is \(jsonShown(value)), expected a number")
            }
            return n.floatValue
        }
        func activation(_ dict: [String: Any], _ prefix: String) throws -> CLIPActivation {
            guard let value = dict["hidden_act"], !(value is NSNull) else { return .quickGELU }
            guard let name = value as? String else { throw fail(prefix + "hidden_act", "is \(value), expected a string") }
            guard let act = CLIPActivation(rawValue: name) else {
                throw fail(prefix + "hidden_act", "\"\(name)\" is not supported (supported: quick_gelu, gelu, gelu_pytorch_tanh)")
            }
            return act
        }

        var t = CLIPTextConfiguration()
        t.vocabSize = try int(textSection, tp, "vocab_size", t.vocabSize)
        t.hiddenSize = try int(textSection, tp, "hidden_size", t.hiddenSize)
        t.intermediateSize = try int(textSection, tp, "intermediate_size", t.intermediateSize)
        t.numHiddenLayers = try int(textSection, tp, "num_hidden_layers", t.numHiddenLayers)
        t.numAttentionHeads = try int(textSection, tp, "num_attention_heads", t.numAttentionHeads)
        t.maxPositionEmbeddings = try int(textSection, tp, "max_position_embeddings", t.maxPositionEmbeddings)
        t.layerNormEps = try float(textSection, tp, "layer_norm_eps", t.layerNormEps)
        t.hiddenAct = try activation(textSection, tp)
        t.bosTokenID = try int(textSection, tp, "bos_token_id", t.bosTokenID, positive: false)
        t.eosTokenID = try int(textSection, tp, "eos_token_id", t.eosTokenID, positive: false)
        t.padTokenID = try int(textSection, tp, "pad_token_id", t.padTokenID, positive: false)

        var v = CLIPVisionConfiguration()
        v.hiddenSize = try int(visionSection, vp, "hidden_size", v.hiddenSize)
        v.intermediateSize = try int(visionSection, vp, "intermediate_size", v.intermediateSize)
        v.numHiddenLayers = try int(visionSection, vp, "num_hidden_layers", v.numHiddenLayers)
        v.numAttentionHeads = try int(visionSection, vp, "num_attention_heads", v.numAttentionHeads)
        v.imageSize = try int(visionSection, vp, "image_size", v.imageSize, max: 8192)
        v.patchSize = try int(visionSection, vp, "patch_size", v.patchSize, max: 8192)
        v.numChannels = try int(visionSection, vp, "num_channels", v.numChannels, max: 64)
        v.layerNormEps = try float(visionSection, vp, "layer_norm_eps", v.layerNormEps)
        v.hiddenAct = try activation(visionSection, vp)

        text = t
        vision = v
        projectionDim = try int(root, "", "projection_dim", projectionDim)
        logitScaleInitValue = try float(root, "", "logit_scale_init_value", logitScaleInitValue)

        // Consistency of the sizes.
        guard t.hiddenSize % t.numAttentionHeads == 0 else {
            throw fail(tp + "num_attention_heads", "\(t.numAttentionHeads) does not divide hidden_size \(t.hiddenSize)")
        }
        guard v.hiddenSize % v.numAttentionHeads == 0 else {
            throw fail(vp + "num_attention_heads", "\(v.numAttentionHeads) does not divide hidden_size \(v.hiddenSize)")
        }
        guard v.imageSize % v.patchSize == 0 else {
            throw fail(vp + "patch_size", "\(v.patchSize) does not divide image_size \(v.imageSize)")
        }
        // The end-of-text id picks each prompt's pooled token; one outside the vocabulary can
        // never match, and every prompt would pool the same position. (2 is legacy configs'
        // value, for which the pooled token is the highest id, as in transformers.)
        for (key, id) in [("eos_token_id", t.eosTokenID), ("bos_token_id", t.bosTokenID)] where id < 0 || id >= t.vocabSize {
            throw fail(tp + key, "is \(id), outside the vocabulary (0..<\(t.vocabSize))")
        }
        guard t.layerNormEps > 0 else { throw fail(tp + "layer_norm_eps", "is \(t.layerNormEps), expected a positive number") }
        guard v.layerNormEps > 0 else { throw fail(vp + "layer_norm_eps", "is \(v.layerNormEps), expected a positive number") }
    }
}
