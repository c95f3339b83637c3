import Foundation

/// OpenAI CLIP's byte-level BPE tokenizer, giving exactly the ids of `clip/simple_tokenizer.py`
/// (without ftfy's mojibake repair).
///
/// The pipeline: ``TextCleaner`` (NFC, `html.unescape` twice, whitespace, lowercase) →
/// ``PreTokenizer`` (the CLIP split pattern) → ``BPEModel`` (bytes → BPE → vocabulary ids),
/// wrapped in the start and end tokens.
///
/// The tokenizer is a value type sharing an immutable model and a locked merge cache, so one
/// instance can be used from many tasks at once.
///
/// A SigLIP checkpoint's tokenizer (``SiglipTextTokenizer``: SentencePiece, transformers' clean-up)
/// is carried in the same type, so that the pipeline, the audit's text embedder and `embed` take
/// either; its ``tokenize(_:)`` gives the padded row, since SigLIP's text tower reads every position.
public struct CLIPTokenizer: Sendable {
    /// The number of ids ``encode(_:)`` returns and the most ``tokenize(_:)`` returns.
    public let contextLength: Int
    /// The id of `<|startoftext|>` in `vocab.json` (SigLIP: its start token, or −1 when it has none).
    public let startTokenID: Int32
    /// The id of `<|endoftext|>` in `vocab.json` (SigLIP: its end token, or −1 when it appends none).
    public let endTokenID: Int32
    /// The id ``encode(_:)`` pads with (0, as OpenAI's `clip.tokenize` does; SigLIP: its pad token).
    public let paddingTokenID: Int32

    /// The highest id in `vocab.json` (SigLIP: the SentencePiece model's last piece).
    public var highestTokenID: Int32 {
        switch backend {
        case .openAI(let model): return model.highestID
        case .sentencePiece(let tokenizer): return Int32(tokenizer.pieceCount - 1)
        }
    }

    private enum Backend: Sendable {
        case openAI(BPEModel)
        case sentencePiece(SiglipTextTokenizer)
    }
    private let backend: Backend

    /// The SigLIP tokenizer this one stands for, nil for OpenAI's BPE.
    public var siglip: SiglipTextTokenizer? {
        if case .sentencePiece(let tokenizer) = backend { return tokenizer }
        return nil
    }

    /// Wraps a SigLIP checkpoint's tokenizer.
    public init(siglip tokenizer: SiglipTextTokenizer) {
        backend = .sentencePiece(tokenizer)
        contextLength = tokenizer.contextLength
        startTokenID = tokenizer.startTokenID ?? -1
        endTokenID = tokenizer.endTokenID ?? -1
        paddingTokenID = tokenizer.paddingTokenID
    }

    /// The special token strings, as they appear in `vocab.json`.
    public static let startToken = "<|startoftext|>"
    /// The end-of-text token string.
    public static let endToken = "<|endoftext|>"

    /// Loads the tokenizer from a Hugging Face style `vocab.json` (token → id) and `merges.txt`
    /// (a `#version` line, then one merge per line in rank order; at most 48,894 are used, as
    /// OpenAI's tokenizer does).
    ///
    /// - Parameters:
    ///   - contextLength: the sequence length; at least 2.
    ///   - vocabularySize: the rows of the text encoder's token embedding
    ///     (`text_config.vocab_size`); when given, an id in `vocab.json` at or above it is an
    ///     error, since the encoder would read past its table for it.
    /// - Throws: ``TokenizerError`` naming the file when a file is missing or malformed.
    public init(vocabularyURL: URL, mergesURL: URL, contextLength: Int = 77, vocabularySize: Int? = nil) throws {
        guard contextLength >= 2 else {
            throw TokenizerError(
                code: .invalidContextLength, file: nil,
                message: "context length \(contextLength) is too small; it must be at least 2")
        }
        let model = try BPEModel(
            vocabularyURL: vocabularyURL, mergesURL: mergesURL,
            specialTokens: [Self.startToken, Self.endToken], vocabularySize: vocabularySize)
        backend = .openAI(model)
        paddingTokenID = 0
        self.contextLength = contextLength
        startTokenID = model.vocabulary[Self.startToken]!
        endTokenID = model.vocabulary[Self.endToken]!
    }

    /// Loads `vocab.json` and `merges.txt` from `directory` (a Hugging Face CLIP checkpoint).
    ///
    /// - Throws: ``TokenizerError`` naming the file when a file is missing or malformed.
    public init(directory: URL, contextLength: Int = 77, vocabularySize: Int? = nil) throws {
        try self.init(
            vocabularyURL: directory.appendingPathComponent("vocab.json"),
            mergesURL: directory.appendingPathComponent("merges.txt"),
            contextLength: contextLength, vocabularySize: vocabularySize)
    }

    /// The BPE ids of `text` without start/end tokens and without truncation (SigLIP: the
    /// SentencePiece ids after its clean-up).
    public func bpeTokens(_ text: String) -> [Int32] {
        guard case .openAI(let model) = backend else { return siglip!.pieces(text) }
        let scalars = TextCleaner.clean(text)
        var ids: [Int32] = []
        ids.reserveCapacity(scalars.count + 2)
        var bytes: [UInt8] = []
        for piece in PreTokenizer.split(scalars) {
            bytes.removeAll(keepingCapacity: true)
            for scalar in scalars[piece] { UTF8.encode(scalar) { bytes.append($0) } }
            model.encode(piece: bytes, into: &ids)
        }
        return ids
    }

    /// The start token, the BPE ids of `text`, and the end token — not padded.
    ///
    /// Longer sequences are cut to ``contextLength`` with the last id replaced by the end token,
    /// as `clip.tokenize(..., truncate=True)` does.
    public func tokenize(_ text: String) -> [Int32] {
        if let siglip { return siglip.encode(text) }
        var ids = [startTokenID]
        ids.append(contentsOf: bpeTokens(text))
        ids.append(endTokenID)
        if ids.count > contextLength {
            ids.removeSubrange(contextLength...)
            ids[contextLength - 1] = endTokenID
        }
        return ids
    }

    /// ``tokenize(_:)`` padded with ``paddingTokenID`` to exactly ``contextLength`` ids.
    public func encode(_ text: String) -> [Int32] {
        var ids = tokenize(text)
        ids.append(contentsOf: repeatElement(paddingTokenID, count: contextLength - ids.count))
        return ids
    }
}
