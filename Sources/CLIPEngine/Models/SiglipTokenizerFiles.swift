import Foundation

/// The tokenizer files of a SigLIP checkpoint, and the tokenizer they make.
public enum SiglipTokenizerFiles {
    /// The SentencePiece model: `spiece.model` (SigLIP's `SiglipTokenizer`) or `tokenizer.model`
    /// (SigLIP 2's Gemma tokenizer). The first present is used.
    public static let modelNames = ["spiece.model", "tokenizer.model"]
    /// Read when present: the tokenizer's settings and the image processor's.
    public static let optionalNames = ["tokenizer_config.json", "preprocessor_config.json"]

    /// The tokenizer of `resolved` (a SigLIP checkpoint) for rows of `contextLength`.
    static func tokenizer(_ resolved: ResolvedModel, contextLength: Int) throws -> SiglipTextTokenizer {
        func file(_ name: String) -> URL? { resolved.files[name] }
        guard let name = modelNames.first(where: { file($0) != nil }), let url = file(name) else {
            throw TokenizerError(
                code: .unreadableFile, file: resolved.directory.appendingPathComponent(modelNames[0]),
                message: "missing: a SigLIP checkpoint needs spiece.model or tokenizer.model")
        }
        return try SiglipTextTokenizer(
            kind: name == "spiece.model" ? .siglip : .gemma, modelURL: url, configURL: file("tokenizer_config.json"),
            contextLength: contextLength)
    }
}
