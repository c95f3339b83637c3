import Foundation

/// A transformers SigLIP `config.json` (`model_type: siglip`, `SiglipConfig`): the towers' sizes
/// as a ``CLIPConfiguration`` (so the rest of the engine reads them where it reads CLIP's) and
/// what SigLIP adds. Missing keys take `SiglipTextConfig` / `SiglipVisionConfig`'s defaults;
/// SigLIP 2's fixed-resolution checkpoints use the same config.
public struct SiglipConfiguration: Sendable, Equatable {
    /// The sizes; `projectionDim` is the joint width (the vision width, which the text head's
    /// `projection_size` must equal for the cosine to be defined).
    public var clip: CLIPConfiguration
    /// `vision_config.vision_use_head`: the attention-pooling head (needed: it makes the image embedding).
    public var visionUseHead: Bool

    /// Whether `url`'s JSON says `model_type: siglip` (false for anything unreadable: the CLIP
    /// path then reports the file).
    public static func isSiglip(_ url: URL) -> Bool {
        guard let data = try? FileKind.contents(of: url, limit: FileKind.checkpointTextLimit),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return false }
        return object["model_type"] as? String == "siglip"
    }

    /// Reads `config.json`. Errors name the file and the key.
    public init(contentsOf url: URL) throws {
        let file = url.path
        let data: Data
        do {
            data = try FileKind.contents(of: url, limit: FileKind.checkpointTextLimit)
        } catch {
            throw CLIPConfigurationError(file: file, key: nil, message: "cannot read: \(error)")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIPConfigurationError(file: file, key: nil, message: "not a JSON object")
        }
        guard root["model_type"] as? String == "siglip" else {
            throw CLIPConfigurationError(file: file, key: "model_type", message: "is not \"siglip\"")
        }
        func section(_ key: String) throws -> [String: Any] {
            switch root[key] {
            case nil, is NSNull: return [:]
            case let d as [String: Any]: return d
            default: throw CLIPConfigurationError(file: file, key: key, message: "is not an object")
            }
        }
        let text = try section("text_config"), vision = try section("vision_config")
        func int(_ d: [String: Any], _ prefix: String, _ key: String, _ fallback: Int, minimum: Int = 1) throws -> Int {
            guard let value = d[key], !(value is NSNull) else { return fallback }
            // A bool also arrives as an NSNumber (objCType "c"); sizes are bounded so products of them cannot overflow.
            guard let n = value as? NSNumber, String(cString: n.objCType) != "c", let i = Int(exactly: n.doubleValue), i >= minimum,
                i <= 1 << 20
            else {
                throw CLIPConfigurationError(
                    file: file, key: "\(prefix).\(key)", message: "is \(value), expected an integer from \(minimum) to \(1 << 20)")
            }
            return i
        }
        func float(_ d: [String: Any], _ prefix: String, _ key: String, _ fallback: Float) throws -> Float {
            guard let value = d[key], !(value is NSNull) else { return fallback }
            guard let n = value as? NSNumber, String(cString: n.objCType) != "c", n.doubleValue > 0, n.doubleValue.isFinite else {
                throw CLIPConfigurationError(file: file, key: "\(prefix).\(key)", message: "is \(value), expected a positive number")
            }
            return n.floatValue
        }
        func activation(_ d: [String: Any], _ prefix: String) throws -> CLIPActivation {
            guard let value = d["hidden_act"], !(value is NSNull) else { return .geluTanh }
            guard let name = value as? String, let act = CLIPActivation(rawValue: name) else {
                throw CLIPConfigurationError(
                    file: file, key: "\(prefix).hidden_act",
                    message: "is \(value); supported: gelu_pytorch_tanh, gelu, quick_gelu")
            }
            return act
        }
        var c = CLIPConfiguration()
        c.text.vocabSize = try int(text, "text_config", "vocab_size", 32000)
        c.text.hiddenSize = try int(text, "text_config", "hidden_size", 768)
        c.text.intermediateSize = try int(text, "text_config", "intermediate_size", 3072)
        c.text.numHiddenLayers = try int(text, "text_config", "num_hidden_layers", 12)
        c.text.numAttentionHeads = try int(text, "text_config", "num_attention_heads", 12)
        c.text.maxPositionEmbeddings = try int(text, "text_config", "max_position_embeddings", 64, minimum: 2)
        c.text.layerNormEps = try float(text, "text_config", "layer_norm_eps", 1e-6)
        c.text.hiddenAct = try activation(text, "text_config")
        c.text.padTokenID = try int(text, "text_config", "pad_token_id", 1, minimum: 0)
        c.text.eosTokenID = try int(text, "text_config", "eos_token_id", 1, minimum: 0)
        let projection = try int(text, "text_config", "projection_size", c.text.hiddenSize)
        c.vision.hiddenSize = try int(vision, "vision_config", "hidden_size", 768)
        c.vision.intermediateSize = try int(vision, "vision_config", "intermediate_size", 3072)
        c.vision.numHiddenLayers = try int(vision, "vision_config", "num_hidden_layers", 12)
        c.vision.numAttentionHeads = try int(vision, "vision_config", "num_attention_heads", 12)
        c.vision.numChannels = try int(vision, "vision_config", "num_channels", 3)
        c.vision.imageSize = try int(vision, "vision_config", "image_size", 224)
        c.vision.patchSize = try int(vision, "vision_config", "patch_size", 16)
        c.vision.layerNormEps = try float(vision, "vision_config", "layer_norm_eps", 1e-6)
        c.vision.hiddenAct = try activation(vision, "vision_config")
        c.projectionDim = c.vision.hiddenSize
        for (prefix, width, heads) in [
            ("text_config", c.text.hiddenSize, c.text.numAttentionHeads), ("vision_config", c.vision.hiddenSize, c.vision.numAttentionHeads)
        ] where width % heads != 0 {
            throw CLIPConfigurationError(
                file: file, key: "\(prefix).num_attention_heads", message: "is \(heads), which does not divide hidden_size \(width)")
        }
        guard c.vision.imageSize % c.vision.patchSize == 0 else {
            throw CLIPConfigurationError(
                file: file, key: "vision_config.patch_size",
                message: "is \(c.vision.patchSize), which does not divide image_size \(c.vision.imageSize)")
        }
        guard projection == c.vision.hiddenSize else {
            throw CLIPConfigurationError(
                file: file, key: "text_config.projection_size",
                message:
                    "is \(projection), but image embeddings are vision_config.hidden_size \(c.vision.hiddenSize) wide: they cannot be compared"
            )
        }
        let useHead: Bool
        switch vision["vision_use_head"] {
        case nil, is NSNull: useHead = true
        case let b as Bool: useHead = b
        default: throw CLIPConfigurationError(file: file, key: "vision_config.vision_use_head", message: "is not true or false")
        }
        guard useHead else {
            throw CLIPConfigurationError(
                file: file, key: "vision_config.vision_use_head",
                message: "is false: without the attention-pooling head the model makes no image embedding")
        }
        clip = c
        visionUseHead = useHead
    }
}
