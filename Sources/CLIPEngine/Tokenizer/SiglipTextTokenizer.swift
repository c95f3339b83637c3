import Foundation

/// The text side of transformers' `SiglipProcessor` for `model_type: siglip` checkpoints, on a
/// SentencePiece model read natively (``SentencePieceProcessor``):
///
/// - **SigLIP** (`spiece.model`, `SiglipTokenizer`): `"▁" + text` (with any `▁` in the text made
///   a space), cut at the added tokens (``AddedTokenSplitter``: `</s>` in a prompt is one
///   token), then for each piece of text `canonicalize_text` — lower-case as Python does when
///   `do_lower_case` (the default), drop ASCII punctuation, collapse whitespace runs to one space,
///   strip — then SentencePiece on `"<unk>" + text` with the unknown token's own pieces dropped
///   from the front (transformers' way of encoding without the dummy prefix); a lone leading `▁`
///   before a special token is dropped; then `</s>` unless the ids already end with it.
/// - **SigLIP 2** (`tokenizer.model`, Gemma's tokenizer): cut at the added tokens, SentencePiece
///   on each piece of text as it is, with `<bos>` and `<eos>` as `tokenizer_config.json`'s
///   `add_bos_token` / `add_eos_token` say (defaults: `<bos>` yes, `<eos>` no, as transformers'
///   `GemmaTokenizer`).
///
/// Either way the ids are cut to the text length keeping the special tokens (`truncation=True`)
/// and padded on the right with the pad id to exactly that length (`padding="max_length"`): the
/// text tower reads every position, padding included, and pools the last.
public struct SiglipTextTokenizer: Sendable {
    /// Which transformers tokenizer the checkpoint's files stand for.
    public enum Kind: String, Sendable {
        /// `SiglipTokenizer` over `spiece.model` (SentencePiece unigram).
        case siglip
        /// `GemmaTokenizer` over `tokenizer.model` (SentencePiece BPE with byte fallback).
        case gemma
    }

    public let kind: Kind
    /// The row length: the text tower's `max_position_embeddings`.
    public let contextLength: Int
    /// The id appended at the end (`</s>` or `<eos>`), nil when the tokenizer appends none.
    public let endTokenID: Int32?
    /// The id put first (Gemma's `<bos>` when `add_bos_token`), else nil.
    public let startTokenID: Int32?
    /// The id rows are padded with.
    public let paddingTokenID: Int32
    /// SigLIP's `do_lower_case`.
    public let lowercases: Bool
    /// The number of SentencePiece pieces: every id is below it.
    public var pieceCount: Int { processor.pieceCount }

    private let processor: SentencePieceProcessor
    /// `len(sp_model.encode(unk_token))`: the pieces SigLIP drops from the front.
    private let unknownTokenLength: Int
    private let unknownToken: String
    /// The strings matched whole before SentencePiece runs.
    let addedTokens: AddedTokenSplitter
    /// The id of the piece `▁` (SigLIP drops it when it stands alone before a special token).
    private let underlineID: Int32?

    /// Loads the SentencePiece model at `modelURL` and the settings of `configURL`
    /// (`tokenizer_config.json`, optional). Errors name the file at fault.
    public init(kind: Kind, modelURL: URL, configURL: URL?, contextLength: Int) throws {
        guard contextLength >= 2 else {
            throw TokenizerError(
                code: .invalidContextLength, file: nil, message: "context length \(contextLength) is too small; it must be at least 2")
        }
        var settings: [String: Any] = [:]
        if let configURL, FileManager.default.fileExists(atPath: configURL.path) {
            let data: Data
            do {
                data = try FileKind.contents(of: configURL, limit: FileKind.checkpointTextLimit)
            } catch {
                throw TokenizerError(code: .unreadableFile, file: configURL, message: "cannot read: \(error)")
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TokenizerError(code: .malformedVocabulary, file: configURL, message: "not a JSON object")
            }
            settings = object
        }
        func token(_ key: String, _ fallback: String) throws -> String {
            // A special token is a string or an AddedToken object with "content".
            switch settings[key] {
            case nil, is NSNull: return fallback
            case let s as String: return s
            case let d as [String: Any]:
                if let s = d["content"] as? String { return s }
            default: break
            }
            throw TokenizerError(code: .malformedVocabulary, file: configURL, message: "\(key) is not a token string")
        }
        func flag(_ key: String, _ fallback: Bool) throws -> Bool {
            guard let value = settings[key], !(value is NSNull) else { return fallback }
            guard let b = value as? Bool else {
                throw TokenizerError(code: .malformedVocabulary, file: configURL, message: "\(key) is not true or false")
            }
            return b
        }
        let processor = try SentencePieceProcessor(contentsOf: modelURL)
        func specialID(_ key: String, _ fallback: String) throws -> Int32 {
            let name = try token(key, fallback)
            let id = processor.id(of: name)
            guard processor.model.pieces[Int(id)].text == name else {
                throw TokenizerError(
                    code: .missingToken, file: modelURL, message: "has no piece \"\(name)\" (\(key) of the tokenizer)")
            }
            return id
        }
        self.kind = kind
        self.contextLength = contextLength
        self.processor = processor
        // The special tokens are added tokens too, whether or not added_tokens_decoder lists them.
        var specialTokens: [(key: String, fallback: String)]
        switch kind {
        case .siglip:
            lowercases = try flag("do_lower_case", true)
            endTokenID = try specialID("eos_token", "</s>")
            startTokenID = nil
            paddingTokenID = try specialID("pad_token", "</s>")
            unknownToken = try token("unk_token", "<unk>")
            specialTokens = [("eos_token", "</s>"), ("unk_token", "<unk>"), ("pad_token", "</s>")]
        case .gemma:
            lowercases = false
            endTokenID = try flag("add_eos_token", false) ? try specialID("eos_token", "<eos>") : nil
            startTokenID = try flag("add_bos_token", true) ? try specialID("bos_token", "<bos>") : nil
            paddingTokenID = try specialID("pad_token", "<pad>")
            unknownToken = try token("unk_token", "<unk>")
            specialTokens = [("bos_token", "<bos>"), ("eos_token", "<eos>"), ("unk_token", "<unk>"), ("pad_token", "<pad>")]
            if settings["mask_token"] != nil { specialTokens.append(("mask_token", "<mask>")) }
        }
        var added = try AddedTokenSplitter.decoderTokens(
            settings["added_tokens_decoder"], pieceCount: processor.pieceCount, file: configURL)
        for (key, fallback) in specialTokens {
            let content = try token(key, fallback)
            if let i = added.firstIndex(where: { $0.content == content }) {
                added[i].special = true
            } else {
                added.append(.init(content: content, id: try specialID(key, fallback), special: true))
            }
        }
        addedTokens = AddedTokenSplitter(tokens: added, isSpace: kind == .siglip ? Self.isPythonSpace : Self.isUnicodeSpace)
        let underline = processor.id(of: "\u{2581}")
        underlineID = processor.model.pieces[Int(underline)].text == "\u{2581}" ? underline : nil
        unknownTokenLength = processor.encode(unknownToken).count
        let specials = (startTokenID == nil ? 0 : 1) + (endTokenID == nil ? 0 : 1)
        guard contextLength > specials else {
            throw TokenizerError(
                code: .invalidContextLength, file: nil,
                message: "context length \(contextLength) leaves no room for text beside \(specials) special tokens")
        }
    }

    /// Python's `str.isspace()`, which `\s` in a `str` pattern and `str.strip()` use.
    static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0d, 0x1c...0x20, 0x85, 0xa0, 0x1680, 0x2000...0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000: return true
        default: return false
        }
    }

    /// Unicode's White_Space, which `tokenizers` (Rust's `char::is_whitespace`) strips beside an
    /// added token.
    static func isUnicodeSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }

    /// SigLIP's `canonicalize_text`: lower-case (when configured), drop `string.punctuation`,
    /// `re.sub(r"\s+", " ", text)`, `strip()`.
    func canonicalize(_ text: String) -> String {
        let lowered = lowercases ? pythonLowercased(text) : text
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for s in lowered.unicodeScalars {
            if Self.isASCIIPunctuation(s) { continue }
            if Self.isPythonSpace(s) {
                pendingSpace = true
                continue
            }
            if pendingSpace && !out.isEmpty { out.append(" ") }
            pendingSpace = false
            out.append(s)
        }
        return String(out)
    }

    /// Python's `string.punctuation`: ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``.
    static func isASCIIPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x21...0x2f, 0x3a...0x40, 0x5b...0x60, 0x7b...0x7e: return true
        default: return false
        }
    }

    /// The ids of `text` after the model's clean-up, without the start and end tokens the
    /// tokenizer adds: SentencePiece pieces, and the ids of added tokens written in the text.
    public func pieces(_ text: String) -> [Int32] {
        switch kind {
        case .siglip:
            let prefixed = "\u{2581}" + text.replacingOccurrences(of: "\u{2581}", with: " ")
            var ids: [Int32] = []
            var secondIsSpecial = false
            for segment in addedTokens.split(prefixed) {
                switch segment {
                case .text(let piece):
                    let encoded = processor.encode(unknownToken + canonicalize(piece))
                    ids += encoded.count >= unknownTokenLength ? encoded.dropFirst(unknownTokenLength) : encoded[...]
                case .token(let token):
                    if ids.count == 1 { secondIsSpecial = token.special }
                    ids.append(token.id)
                }
            }
            // SiglipTokenizer.tokenize: the `▁` put in front stays alone when a special token
            // follows it ("</s>" → ["▁", "</s>"]), and is then dropped.
            if ids.count > 1, secondIsSpecial, let underlineID, ids[0] == underlineID { ids.removeFirst() }
            return ids
        case .gemma:
            var ids: [Int32] = []
            for segment in addedTokens.split(text) {
                switch segment {
                case .text(let piece): ids += processor.encode(piece)
                case .token(let token): ids.append(token.id)
                }
            }
            return ids
        }
    }

    /// The row the text tower reads: the start token (if any), the pieces cut to fit, the end
    /// token (if any), padded to ``contextLength``. SigLIP's tokenizer appends `</s>` only when
    /// the cut ids do not already end with it (`_add_eos_if_not_present`); Gemma's always adds
    /// what its template says.
    public func encode(_ text: String) -> [Int32] {
        var row: [Int32] = []
        row.reserveCapacity(contextLength)
        if let startTokenID { row.append(startTokenID) }
        let room = contextLength - row.count - (endTokenID == nil ? 0 : 1)
        row += pieces(text).prefix(room)
        if let endTokenID, kind == .gemma || row.last != endTokenID { row.append(endTokenID) }
        row += repeatElement(paddingTokenID, count: contextLength - row.count)
        return row
    }
}
