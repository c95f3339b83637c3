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
public struct CLIPTokenizer: Sendable {
    /// The number of ids ``encode(_:)`` returns and the most ``tokenize(_:)`` returns.
    public let contextLength: Int
    /// The id of `<|startoftext|>` in `vocab.json`.
    public let startTokenID: Int32
    /// The id of `<|endoftext|>` in `vocab.json`.
    public let endTokenID: Int32
    /// The id ``encode(_:)`` pads with (0, as OpenAI's `clip.tokenize` does).
    public let paddingTokenID: Int32 = 0

    /// The highest id in `vocab.json`.
    public var highestTokenID: Int32 { model.highestID }

    private let model: BPEModel

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
        self.model = model
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

    /// The BPE ids of `text` without start/end tokens and without truncation.
    public func bpeTokens(_ text: String) -> [Int32] {
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
