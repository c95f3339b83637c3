import Foundation

/// transformers' added tokens: strings such as `</s>` or `<eos>` that are found in the raw text
/// before the model's own tokenization and become their ids whole. A prompt that contains `</s>`
/// is one token there, not `<`, `/`, `s`, `>`; an audit whose phrases hold such a string must
/// get the ids transformers gives.
///
/// The set is the checkpoint's `added_tokens_decoder` (`tokenizer_config.json`) and the special
/// tokens the tokenizer names (end, unknown, padding, and Gemma's start and mask tokens).
/// Matching is leftmost-longest, as both transformers' slow tokenizers (their trie) and the fast
/// ones (`tokenizers`' Aho-Corasick with leftmost-longest) do; a token's `lstrip`/`rstrip` removes
/// the white space beside it. `single_word` tokens, and `normalized` ones with a space (matched
/// after the normaliser by `tokenizers`), are refused when loading rather than split differently.
struct AddedTokenSplitter: Sendable {
    /// One added token.
    struct Token: Sendable, Equatable {
        var content: String
        var id: Int32
        /// One of the tokenizer's special tokens (SigLIP drops a lone leading `▁` before one).
        var special: Bool
        var lstrip = false
        var rstrip = false
    }

    /// A piece of the text: ordinary text for the model's tokenizer, or an added token.
    enum Segment: Equatable {
        case text(String)
        case token(Token)
    }

    let tokens: [Token]
    /// What `lstrip`/`rstrip` count as white space: Python's `str.isspace` for the slow
    /// tokenizers, Unicode's White_Space for `tokenizers` (Rust's `char::is_whitespace`).
    let isSpace: @Sendable (Unicode.Scalar) -> Bool
    /// Tokens by their first scalar, longest first.
    private let byFirstScalar: [Unicode.Scalar: [(scalars: [Unicode.Scalar], token: Token)]]

    init(tokens: [Token], isSpace: @escaping @Sendable (Unicode.Scalar) -> Bool) {
        self.tokens = tokens
        self.isSpace = isSpace
        var table: [Unicode.Scalar: [(scalars: [Unicode.Scalar], token: Token)]] = [:]
        for token in tokens {
            let scalars = Array(token.content.unicodeScalars)
            guard let first = scalars.first else { continue }
            table[first, default: []].append((scalars, token))
        }
        for key in table.keys { table[key]!.sort { $0.scalars.count > $1.scalars.count } }
        byFirstScalar = table
    }

    /// `text` cut at every added token, leftmost first and the longest at a position; empty text
    /// pieces are left out, as transformers skips them.
    func split(_ text: String) -> [Segment] {
        let scalars = Array(text.unicodeScalars)
        guard !byFirstScalar.isEmpty else { return scalars.isEmpty ? [] : [.text(text)] }
        var segments: [Segment] = []
        var textStart = 0
        var i = 0
        var stripNextLeft = false
        func flushText(upTo end: Int, stripRight: Bool) {
            var start = textStart, stop = end
            if stripNextLeft { while start < stop && isSpace(scalars[start]) { start += 1 } }
            if stripRight { while stop > start && isSpace(scalars[stop - 1]) { stop -= 1 } }
            if start < stop {
                var piece = String.UnicodeScalarView()
                piece.append(contentsOf: scalars[start..<stop])
                segments.append(.text(String(piece)))
            }
        }
        while i < scalars.count {
            if let candidates = byFirstScalar[scalars[i]],
                let match = candidates.first(where: {
                    i + $0.scalars.count <= scalars.count && scalars[i..<(i + $0.scalars.count)].elementsEqual($0.scalars)
                })
            {
                flushText(upTo: i, stripRight: match.token.lstrip)
                segments.append(.token(match.token))
                i += match.scalars.count
                textStart = i
                stripNextLeft = match.token.rstrip
            } else {
                i += 1
            }
        }
        flushText(upTo: scalars.count, stripRight: false)
        return segments
    }

    /// The added tokens of `tokenizer_config.json`'s `added_tokens_decoder` (`{"id": {"content":
    /// …, "lstrip": …, "rstrip": …, "single_word": …, "normalized": …, "special": …}}`), checked
    /// against the model: an id the text tower has no row for, or a way of matching this splitter
    /// does not do, is one line naming the file.
    static func decoderTokens(_ value: Any?, pieceCount: Int, file: URL?) throws -> [Token] {
        guard let value, !(value is NSNull) else { return [] }
        func fail(_ message: String) -> TokenizerError { TokenizerError(code: .malformedVocabulary, file: file, message: message) }
        guard let entries = value as? [String: Any] else { throw fail("added_tokens_decoder is not an object of id → token") }
        var tokens: [Token] = []
        for key in entries.keys.sorted(by: { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }) {
            guard let id = Int32(key), id >= 0 else { throw fail("added_tokens_decoder: \"\(key)\" is not a token id") }
            guard Int(id) < pieceCount else {
                throw fail("added_tokens_decoder: id \(id) is beyond the model's \(pieceCount) pieces")
            }
            guard let entry = entries[key] as? [String: Any], let content = entry["content"] as? String, !content.isEmpty else {
                throw fail("added_tokens_decoder[\(key)] has no content string")
            }
            func flag(_ name: String) throws -> Bool {
                switch entry[name] {
                case nil, is NSNull: return false
                case let b as Bool: return b
                default: throw fail("added_tokens_decoder[\(key)].\(name) is not true or false")
                }
            }
            if try flag("single_word") {
                throw fail("added_tokens_decoder[\(key)] (\(content.debugDescription)) is single_word, which clip-audit does not match")
            }
            if try flag("normalized"), content.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
                throw fail(
                    "added_tokens_decoder[\(key)] (\(content.debugDescription)) is normalized and holds white space, which clip-audit does not match"
                )
            }
            tokens.append(
                Token(content: content, id: id, special: try flag("special"), lstrip: try flag("lstrip"), rstrip: try flag("rstrip")))
        }
        return tokens
    }
}
