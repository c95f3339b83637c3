import Foundation

/// What an OpenCLIP or OpenAI checkpoint needs besides its weights: the network's sizes (as a
/// `CLIPConfiguration`, the one type the network reads) and the preprocessing settings.
public struct ForeignCheckpointConfiguration: Sendable, Equatable {
    /// The network's sizes. Text pooling is at `argmax(input_ids)` (`eosTokenID` 2, the rule the
    /// network already has for it): open_clip's `pool_type='argmax'` and OpenAI's
    /// `text.argmax(dim=-1)`; the end-of-text id is the largest, so it is its first occurrence.
    public var configuration: CLIPConfiguration
    /// Per-channel normalisation.
    public var mean: [Double]
    public var std: [Double]
    /// open_clip's `resize_mode`: `shortest` (resize + centre crop) or `squash`.
    public var resizeMode: String
    /// open_clip's `custom_text`: the text tower's tensors are under `text.`.
    public var customText = false
    /// How the weights name their tensors.
    public var layout: WeightLayout { customText ? .openCLIPCustomText : .openAI }
    /// A one-line summary of the sizes, for `model info`.
    public var summary: String {
        let c = configuration, v = c.vision, t = c.text
        return
            "vision ViT \(v.numHiddenLayers) layers × \(v.hiddenSize) wide, \(v.numAttentionHeads) heads, MLP \(v.intermediateSize), patch \(v.patchSize), \(v.imageSize) px; "
            + "text \(t.numHiddenLayers) layers × \(t.hiddenSize) wide, \(t.numAttentionHeads) heads, MLP \(t.intermediateSize), vocabulary \(t.vocabSize), context \(t.maxPositionEmbeddings); "
            + "projection \(c.projectionDim); activation \(v.hiddenAct == .quickGELU ? "QuickGELU" : "GELU")"
    }

    static func base(quickGELU: Bool) -> CLIPConfiguration {
        var c = CLIPConfiguration()
        c.text.hiddenAct = quickGELU ? .quickGELU : .gelu
        c.vision.hiddenAct = quickGELU ? .quickGELU : .gelu
        c.text.bosTokenID = 49406
        c.text.eosTokenID = 2
        c.text.padTokenID = 0
        return c
    }

    // MARK: OpenCLIP

    /// The fields of open_clip 3.3's `CLIPVisionCfg`: open_clip builds `CLIPVisionCfg(**vision_cfg)`,
    /// so any other key raises (a typo would otherwise leave the default silently in force).
    static let openCLIPVisionKeys: Set<String> = [
        "layers", "width", "head_width", "mlp_ratio", "patch_size", "image_size", "ls_init_value", "patch_dropout",
        "attentional_pool", "attn_pooler_queries", "attn_pooler_heads", "no_ln_pre", "pos_embed_type", "final_ln_after_pool",
        "pool_type", "output_tokens", "act_kwargs", "norm_kwargs", "block_type", "qk_norm", "scaled_cosine_attn", "scale_heads",
        "scale_attn_inner", "scale_attn", "scale_fc", "timm_model_name", "timm_model_pretrained", "timm_pool", "timm_proj",
        "timm_proj_bias", "timm_drop", "timm_drop_path"
    ]
    /// The fields of open_clip 3.3's `CLIPTextCfg` (built the same way).
    static let openCLIPTextKeys: Set<String> = [
        "context_length", "vocab_size", "hf_tokenizer_name", "tokenizer_mode", "tokenizer_kwargs", "width", "heads", "layers",
        "mlp_ratio", "ls_init_value", "embed_cls", "pad_id", "eos_id", "no_causal_mask", "final_ln_after_pool", "pool_type",
        "proj_bias", "proj_type", "output_tokens", "act_kwargs", "norm_kwargs", "block_type", "qk_norm", "scaled_cosine_attn",
        "scale_heads", "scale_attn_inner", "scale_attn", "scale_fc", "hf_model_name", "hf_model_pretrained", "hf_proj_type",
        "hf_pooler_type"
    ]
    /// `model_cfg`'s keys: the model class's keyword arguments (`CLIP(**model_cfg)` raises on
    /// another) and `custom_text`, which open_clip's factory pops first.
    static let openCLIPModelKeys: Set<String> = [
        "embed_dim", "vision_cfg", "text_cfg", "quick_gelu", "init_logit_scale", "init_logit_bias", "nonscalar_logit_scale",
        "output_dict", "custom_text", "multimodal_cfg"
    ]
    /// Keys of the three that hold a bool. Python reads any non-empty string as true, so
    /// `"quick_gelu": "false"` would be QuickGELU there and false here: only JSON true and
    /// false are accepted.
    static let openCLIPBoolKeys: Set<String> = [
        "attentional_pool", "no_ln_pre", "final_ln_after_pool", "output_tokens", "qk_norm", "scaled_cosine_attn", "scale_heads",
        "scale_attn_inner", "scale_attn", "scale_fc", "timm_model_pretrained", "timm_proj_bias", "embed_cls", "no_causal_mask",
        "proj_bias", "hf_model_pretrained", "quick_gelu", "custom_text", "nonscalar_logit_scale", "output_dict"
    ]

    /// The buffers OpenAI's TorchScript archives hold beside the weights, which
    /// `clip.model.build_model` deletes before its strict load.
    static let openAIArchiveBuffers: Set<String> = ["input_resolution", "context_length", "vocab_size"]

    /// Whether a JSON number was written as an integer (`12`, not `12.0`, `1e3` or `true`):
    /// open_clip passes sizes to torch as they are, and a float size raises there.
    static func isJSONInteger(_ n: NSNumber) -> Bool {
        !["c", "d", "f"].contains(String(cString: n.objCType)) && !(n is NSDecimalNumber)
    }

    /// The known key closest to `key` (at most two edits away), for "did you mean".
    static func closest(to key: String, in known: Set<String>) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
            var row = Array(0...b.count)
            for i in 1...a.count {
                var previous = row[0]
                row[0] = i
                for j in 1...b.count {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }
        let scored = known.sorted().map { ($0, distance(Array(key), Array($0))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    /// Reads `open_clip_config.json` (`model_cfg` and `preprocess_cfg`), with open_clip's
    /// defaults for keys left out. Architectures outside plain ViT CLIP with OpenAI's BPE are
    /// refused with one line that says what the checkpoint is.
    public init(openCLIPConfig url: URL) throws {
        let path = url.path
        func fail(_ key: String?, _ message: String) -> CLIPConfigurationError {
            CLIPConfigurationError(file: path, key: key, message: message)
        }
        let data: Data
        do { data = try FileKind.contents(of: url) } catch { throw fail(nil, "cannot read: \(error.reason)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail(nil, "is not a JSON object")
        }
        guard let model = root["model_cfg"] as? [String: Any] else { throw fail("model_cfg", "is missing or not an object") }
        let preprocess = (root["preprocess_cfg"] as? [String: Any]) ?? [:]
        func section(_ name: String) throws -> [String: Any] {
            guard let value = model[name], !(value is NSNull) else { return [:] }
            guard let dict = value as? [String: Any] else { throw fail("model_cfg.\(name)", "is not an object") }
            return dict
        }
        let vision = try section("vision_cfg"), text = try section("text_cfg")
        func isSet(_ dict: [String: Any], _ key: String) -> Bool {
            guard let value = dict[key], !(value is NSNull) else { return false }
            // A number is set when non-zero (NSNumber's boolValue truncates 0.1 to false).
            if let n = value as? NSNumber { return String(cString: n.objCType) == "c" ? n.boolValue : n.doubleValue != 0 }
            if let s = value as? String { return !s.isEmpty }
            if let d = value as? [String: Any] { return !d.isEmpty }
            return true
        }
        func int(_ dict: [String: Any], _ prefix: String, _ key: String, _ fallback: Int, max upper: Int = 1 << 20) throws -> Int {
            guard let value = dict[key], !(value is NSNull) else { return fallback }
            guard let n = value as? NSNumber, Self.isJSONInteger(n), n.doubleValue == n.doubleValue.rounded(),
                n.doubleValue >= 1, n.doubleValue <= Double(upper)
            else {
                throw fail(prefix + key, "is \(value), expected an integer in 1...\(upper)")
            }
            return n.intValue
        }
        func number(_ dict: [String: Any], _ prefix: String, _ key: String, _ fallback: Double) throws -> Double {
            guard let value = dict[key], !(value is NSNull) else { return fallback }
            guard let n = value as? NSNumber, String(cString: n.objCType) != "c", n.doubleValue.isFinite, n.doubleValue > 0 else {
                throw fail(prefix + key, "is \(value), expected a positive number")
            }
            return n.doubleValue
        }
        /// open_clip's MLP width, `int(width * mlp_ratio)`, bounded like every size (a ratio of
        /// 1e300 must not trap in the conversion to Int).
        func mlpWidth(_ dict: [String: Any], _ prefix: String, width: Int) throws -> Int {
            let product = Double(width) * (try number(dict, prefix, "mlp_ratio", 4.0))
            guard product >= 1, product <= Double(1 << 20) else {
                throw fail(prefix + "mlp_ratio", "gives an MLP width of \(product) for width \(width), expected 1...\(1 << 20)")
            }
            return Int(product)
        }
        func string(_ dict: [String: Any], _ prefix: String, _ key: String, _ fallback: String) throws -> String {
            guard let value = dict[key], !(value is NSNull) else { return fallback }
            guard let text = value as? String else { throw fail(prefix + key, "is \(value), expected a string") }
            return text
        }

        // Bools are JSON true or false (see openCLIPBoolKeys), before anything reads them.
        for (dict, prefix) in [(model, "model_cfg."), (vision, "model_cfg.vision_cfg."), (text, "model_cfg.text_cfg.")] {
            for key in dict.keys.sorted() where Self.openCLIPBoolKeys.contains(key) {
                let value = dict[key]!
                guard value is NSNull || (value as? NSNumber).map({ String(cString: $0.objCType) == "c" }) == true else {
                    throw fail(prefix + key, "is \(value is String ? "the text \"\(value)\"" : "\(value)"), expected true or false")
                }
            }
        }

        // What the checkpoint is, when it is not a plain ViT CLIP with OpenAI's tokenizer.
        if isSet(model, "multimodal_cfg") {
            throw fail("model_cfg.multimodal_cfg", "this is a CoCa checkpoint (a captioning decoder); only plain CLIP is supported")
        }
        if isSet(model, "init_logit_bias") {
            throw fail("model_cfg.init_logit_bias", "this is a SigLIP checkpoint (sigmoid loss, its own tokenizer); only CLIP is supported")
        }
        if vision["layers"] is [Any] {
            throw fail("model_cfg.vision_cfg.layers", "this is a ResNet image tower (ModifiedResNet); only ViT image towers are supported")
        }
        if isSet(vision, "timm_model_name") {
            throw fail(
                "model_cfg.vision_cfg.timm_model_name",
                "this is a timm image tower (\(vision["timm_model_name"]!)); only open_clip's own ViT is supported")
        }
        if isSet(vision, "attentional_pool") { throw fail("model_cfg.vision_cfg.attentional_pool", "attentional pooling is not supported") }
        if isSet(text, "hf_model_name") {
            throw fail(
                "model_cfg.text_cfg.hf_model_name",
                "this is a Hugging Face text tower (\(text["hf_model_name"]!)) with its own tokenizer; only CLIP's text transformer is supported"
            )
        }
        if isSet(text, "hf_tokenizer_name") {
            throw fail(
                "model_cfg.text_cfg.hf_tokenizer_name",
                "the tokenizer \(text["hf_tokenizer_name"]!) is not CLIP's BPE; only OpenAI's tokenizer is supported")
        }
        if isSet(text, "tokenizer_mode") || isSet(text, "tokenizer_kwargs") {
            throw fail("model_cfg.text_cfg.tokenizer_kwargs", "tokenizer options are not supported (only OpenAI's tokenizer as it is)")
        }
        for (dict, prefix) in [(vision, "model_cfg.vision_cfg."), (text, "model_cfg.text_cfg.")] {
            for key in [
                "ls_init_value", "no_ln_pre", "qk_norm", "scaled_cosine_attn", "scale_heads", "scale_attn_inner",
                "scale_attn", "scale_fc", "embed_cls", "no_causal_mask", "proj_bias", "act_kwargs"
            ] where isSet(dict, key) {
                throw fail(prefix + key, "is set; only the plain CLIP transformer is supported")
            }
            let block = try string(dict, prefix, "block_type", "default")
            if block != "default" { throw fail(prefix + "block_type", "\"\(block)\" is not supported") }
            if let norm = dict["norm_kwargs"] as? [String: Any], !norm.keys.allSatisfy({ $0 == "eps" }) {
                throw fail(prefix + "norm_kwargs", "only eps may be set")
            }
        }
        // A key open_clip would reject (a typo such as text_cfg.head for heads) is rejected.
        for (dict, prefix, known, what) in [
            (model, "model_cfg.", Self.openCLIPModelKeys, "an argument of open_clip's CLIP model"),
            (vision, "model_cfg.vision_cfg.", Self.openCLIPVisionKeys, "a field of open_clip's CLIPVisionCfg"),
            (text, "model_cfg.text_cfg.", Self.openCLIPTextKeys, "a field of open_clip's CLIPTextCfg")
        ] {
            if let unknown = dict.keys.sorted().first(where: { !known.contains($0) }) {
                let hint = Self.closest(to: unknown, in: known).map { " (did you mean \($0)?)" } ?? ""
                throw fail(prefix + unknown, "is not \(what)\(hint); open_clip refuses this config")
            }
        }
        for (dict, prefix) in [(vision, "model_cfg.vision_cfg."), (text, "model_cfg.text_cfg.")] {
            if let norm = dict["norm_kwargs"], !(norm is NSNull), !(norm is [String: Any]) {
                throw fail(prefix + "norm_kwargs", "is \(norm), expected an object")
            }
        }
        if try string(vision, "model_cfg.vision_cfg.", "pool_type", "tok") != "tok" {
            throw fail("model_cfg.vision_cfg.pool_type", "\"\(vision["pool_type"]!)\" is not supported (only tok)")
        }
        if try string(vision, "model_cfg.vision_cfg.", "pos_embed_type", "learnable") != "learnable" {
            throw fail("model_cfg.vision_cfg.pos_embed_type", "\"\(vision["pos_embed_type"]!)\" is not supported (only learnable)")
        }
        if try string(text, "model_cfg.text_cfg.", "pool_type", "argmax") != "argmax" {
            throw fail("model_cfg.text_cfg.pool_type", "\"\(text["pool_type"]!)\" is not supported (only argmax)")
        }
        if try string(text, "model_cfg.text_cfg.", "proj_type", "linear") != "linear" {
            throw fail("model_cfg.text_cfg.proj_type", "\"\(text["proj_type"]!)\" is not supported (only linear)")
        }

        customText = isSet(model, "custom_text")
        // Checked above to be JSON true or false when present.
        let quickGELU = (model["quick_gelu"] as? NSNumber)?.boolValue ?? false
        var c = Self.base(quickGELU: quickGELU)
        c.projectionDim = try int(model, "model_cfg.", "embed_dim", 512)

        let vp = "model_cfg.vision_cfg."
        var v = c.vision
        v.hiddenSize = try int(vision, vp, "width", 768)
        let headWidth = try int(vision, vp, "head_width", 64)
        guard v.hiddenSize % headWidth == 0 else { throw fail(vp + "head_width", "\(headWidth) does not divide width \(v.hiddenSize)") }
        v.numAttentionHeads = v.hiddenSize / headWidth
        v.numHiddenLayers = try int(vision, vp, "layers", 12, max: 1024)
        v.intermediateSize = try mlpWidth(vision, vp, width: v.hiddenSize)
        v.patchSize = try int(vision, vp, "patch_size", 16, max: 8192)
        if let sides = vision["image_size"] as? [Any] {
            func side(_ value: Any) -> Int? {
                guard let n = value as? NSNumber, Self.isJSONInteger(n), abs(n.doubleValue) <= 8192 else { return nil }
                return n.intValue
            }
            guard sides.count == 2, let a = side(sides[0]), let b = side(sides[1]), a == b, a > 0 else {
                throw fail(vp + "image_size", "is \(sides); only square images are supported")
            }
            v.imageSize = a
        } else {
            v.imageSize = try int(vision, vp, "image_size", 224, max: 8192)
        }
        guard v.imageSize % v.patchSize == 0 else {
            throw fail(vp + "patch_size", "\(v.patchSize) does not divide image_size \(v.imageSize)")
        }
        if let norm = vision["norm_kwargs"] as? [String: Any] { v.layerNormEps = Float(try number(norm, vp + "norm_kwargs.", "eps", 1e-5)) }

        let tp = "model_cfg.text_cfg."
        var t = c.text
        t.vocabSize = try int(text, tp, "vocab_size", 49408)
        t.maxPositionEmbeddings = try int(text, tp, "context_length", 77, max: 1 << 16)
        guard t.maxPositionEmbeddings >= 2 else { throw fail(tp + "context_length", "is \(t.maxPositionEmbeddings), expected at least 2") }
        t.hiddenSize = try int(text, tp, "width", 512)
        t.numAttentionHeads = try int(text, tp, "heads", 8)
        guard t.hiddenSize % t.numAttentionHeads == 0 else {
            throw fail(tp + "heads", "\(t.numAttentionHeads) does not divide width \(t.hiddenSize)")
        }
        t.numHiddenLayers = try int(text, tp, "layers", 12, max: 1024)
        t.intermediateSize = try mlpWidth(text, tp, width: t.hiddenSize)
        if let norm = text["norm_kwargs"] as? [String: Any] { t.layerNormEps = Float(try number(norm, tp + "norm_kwargs.", "eps", 1e-5)) }
        c.vision = v
        c.text = t
        configuration = c

        func triple(_ key: String, _ fallback: [Double]) throws -> [Double] {
            guard let value = preprocess[key], !(value is NSNull) else { return fallback }
            guard let list = value as? [NSNumber], list.count == 3, list.allSatisfy({ $0.doubleValue.isFinite }) else {
                throw fail("preprocess_cfg." + key, "is \(value), expected three numbers")
            }
            return list.map(\.doubleValue)
        }
        mean = try triple("mean", PreprocessorConfig.openAIMean)
        std = try triple("std", PreprocessorConfig.openAIStd)
        guard std.allSatisfy({ $0 > 0 }) else { throw fail("preprocess_cfg.std", "has a value that is not positive") }
        // open_clip's PreprocessCfg asserts RGB.
        let mode = try string(preprocess, "preprocess_cfg.", "mode", "RGB")
        guard mode == "RGB" else { throw fail("preprocess_cfg.mode", "\"\(mode)\" is not supported (open_clip accepts only RGB)") }
        let interpolation = try string(preprocess, "preprocess_cfg.", "interpolation", "bicubic")
        guard interpolation == "bicubic" else {
            throw fail("preprocess_cfg.interpolation", "\"\(interpolation)\" is not supported (only bicubic)")
        }
        resizeMode = try string(preprocess, "preprocess_cfg.", "resize_mode", "shortest")
        guard ["shortest", "squash"].contains(resizeMode) else {
            throw fail("preprocess_cfg.resize_mode", "\"\(resizeMode)\" is not supported (shortest or squash)")
        }
        if let size = preprocess["size"], !(size is NSNull) {
            let sides = (size as? [Int]) ?? ((size as? Int).map { [$0, $0] } ?? [])
            guard sides.count == 2, sides[0] == v.imageSize, sides[1] == v.imageSize else {
                throw fail("preprocess_cfg.size", "is \(size), but the vision tower takes \(v.imageSize) px")
            }
        }
        // Mean and std are applied as float32: checked here so that errors name this file and
        // its keys (the image processor's own check would name transformers' file and keys).
        try preprocessorConfig.validate(file: path, meanKey: "preprocess_cfg.mean", stdKey: "preprocess_cfg.std")
    }

    // MARK: OpenAI

    /// The sizes of an OpenAI checkpoint, inferred from its tensors' shapes as
    /// `clip.model.build_model` does: widths from the LayerNorms and embeddings, heads = width / 64,
    /// patch and image size from the conv and the positions, layers by counting resblocks.
    public init(openAIArchive archive: PyTorchArchive) throws {
        let path = archive.url.path
        func fail(_ message: String) -> PyTorchArchiveError { PyTorchArchiveError(file: path, message: message) }
        let names = archive.tensorNames
        if names.contains(where: { $0.hasPrefix("visual.layer1.") || $0.hasPrefix("visual.attnpool.") }) {
            throw fail("this is an OpenAI ResNet checkpoint (ModifiedResNet image tower); only ViT image towers are supported")
        }
        func shape(_ name: String, rank: Int) throws -> [Int] {
            guard let s = archive.shape(of: name) else {
                throw fail(
                    "tensor \"\(name)\" not found: not an OpenAI CLIP ViT checkpoint\(archive.rootClass.map { " (root module \($0))" } ?? "")"
                )
            }
            guard s.count == rank, s.allSatisfy({ $0 > 0 }) else {
                throw fail("tensor \"\(name)\" has shape \(s), expected \(rank) positive dimensions")
            }
            return s
        }
        /// The number of blocks under `prefix`, counted as `build_model` counts them (distinct
        /// indices), which must be 0, 1, … in turn: `clip` then loads strictly, so blocks 0, 1
        /// and 5 are refused there, where counting up from 0 would run two and drop block 5.
        func layers(_ prefix: String) throws -> Int {
            let indices = Set(
                names.compactMap { name -> Int? in
                    guard name.hasPrefix(prefix) else { return nil }
                    return Int(name.dropFirst(prefix.count).prefix { $0 != "." })
                })
            guard indices == Set(0..<indices.count) else {
                let shown = indices.sorted().prefix(12).map(String.init).joined(separator: ", ")
                throw fail(
                    "\(prefix.dropLast()) holds blocks \(shown)\(indices.count > 12 ? ", …" : ""), not 0 to \(indices.count - 1): blocks are missing"
                )
            }
            return indices.count
        }
        var c = Self.base(quickGELU: true)
        let conv = try shape("visual.conv1.weight", rank: 4)
        let positions = try shape("visual.positional_embedding", rank: 2)
        let grid = Int((Double(positions[0] - 1)).squareRoot().rounded())
        guard grid >= 1, grid * grid + 1 == positions[0], conv[2] == conv[3], conv[1] == 3 else {
            throw fail("visual.conv1.weight \(conv) and visual.positional_embedding \(positions) do not describe a square ViT")
        }
        let (image, overflow) = conv[2].multipliedReportingOverflow(by: grid)
        guard !overflow, image <= 8192 else { throw fail("image size \(conv[2]) × \(grid) is too large") }
        var v = c.vision
        v.hiddenSize = conv[0]
        v.patchSize = conv[2]
        v.imageSize = image
        v.numHiddenLayers = try layers("visual.transformer.resblocks.")
        v.numAttentionHeads = v.hiddenSize / 64
        v.intermediateSize = try shape("visual.transformer.resblocks.0.mlp.c_fc.weight", rank: 2)[0]
        let textPositions = try shape("positional_embedding", rank: 2)
        let tokens = try shape("token_embedding.weight", rank: 2)
        let projection = try shape("text_projection", rank: 2)
        var t = c.text
        t.hiddenSize = try shape("ln_final.weight", rank: 1)[0]
        t.maxPositionEmbeddings = textPositions[0]
        t.vocabSize = tokens[0]
        t.numHiddenLayers = try layers("transformer.resblocks.")
        t.numAttentionHeads = t.hiddenSize / 64
        t.intermediateSize = try shape("transformer.resblocks.0.mlp.c_fc.weight", rank: 2)[0]
        for (name, width, heads) in [("vision", v.hiddenSize, v.numAttentionHeads), ("text", t.hiddenSize, t.numAttentionHeads)] {
            guard heads >= 1, width % heads == 0 else { throw fail("the \(name) width \(width) gives no whole number of 64-wide heads") }
        }
        guard v.numHiddenLayers >= 1, t.numHiddenLayers >= 1, t.maxPositionEmbeddings >= 2 else {
            throw fail("no transformer layers or too short a context: not an OpenAI CLIP ViT checkpoint")
        }
        c.projectionDim = projection[1]
        c.vision = v
        c.text = t
        configuration = c
        mean = PreprocessorConfig.openAIMean
        std = PreprocessorConfig.openAIStd
        resizeMode = "shortest"
    }

    /// The preprocessing settings: CLIP's resize and crop at the vision tower's size (or the
    /// squash resize), with this checkpoint's mean and std.
    public var preprocessorConfig: PreprocessorConfig {
        var p = PreprocessorConfig(imageSize: configuration.vision.imageSize)
        p.imageMean = mean
        p.imageStd = std
        if resizeMode == "squash" {
            p.resize = .exact(height: configuration.vision.imageSize, width: configuration.vision.imageSize)
        }
        return p
    }
}
