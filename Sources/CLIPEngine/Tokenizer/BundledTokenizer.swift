import Foundation

/// OpenAI CLIP's tokenizer files, carried by clip-audit for the checkpoints that ship none
/// (OpenCLIP and OpenAI's own). They are read through the same loader as a checkpoint's
/// `vocab.json` and `merges.txt` (one code path): `BPEModel` asks `data(for:)` before it reads a
/// file, and these two URLs name the bundled copies.
///
/// The merges are `OpenAIMerges.swift` (generated); the vocabulary is derived from them as
/// `simple_tokenizer.py` does: the 256 byte symbols in `bytes_to_unicode` order, the same with
/// `</w>`, each merge's concatenation in rank order, then `<|startoftext|>` and `<|endoftext|>`
/// (49,408 ids, the `vocab.json` of Hugging Face's CLIP repos).
public enum BundledTokenizer {
    /// The bundled `vocab.json`. The path is under `/dev/null`, which is not a folder, so it
    /// can never name a real file.
    public static let vocabularyURL = URL(fileURLWithPath: "/dev/null/clip-audit-bundled/openai-clip/vocab.json")
    /// The bundled `merges.txt`.
    public static let mergesURL = URL(fileURLWithPath: "/dev/null/clip-audit-bundled/openai-clip/merges.txt")

    /// The bytes of a bundled file, or nil for any other URL.
    static func data(for url: URL) -> Data? {
        switch url.path {
        case vocabularyURL.path: return vocabularyJSON
        case mergesURL.path: return mergesFile
        default: return nil
        }
    }

    /// The tokenizer over the bundled files, for a text tower of `contextLength` positions.
    public static func tokenizer(contextLength: Int) throws -> CLIPTokenizer {
        try CLIPTokenizer(vocabularyURL: vocabularyURL, mergesURL: mergesURL, contextLength: contextLength)
    }

    /// SHA-256 of the bundled `vocab.json` followed by `merges.txt` (what decides the ids).
    public static var sha256: String {
        var bytes = vocabularyJSON
        bytes.append(mergesFile)
        return SHA256Digest.hex(of: bytes)
    }

    /// `merges.txt` as Hugging Face's CLIP repos ship it (ending in a newline).
    private static let mergesFile = Data((mergesText + "\n").utf8)

    private static let vocabularyJSON: Data = {
        var tokens: [String] = []
        tokens.reserveCapacity(49408)
        // bytes_to_unicode's order: the printable bytes first, then the others.
        let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        let order = printable + (0..<256).filter { !printable.contains($0) }
        let symbols = order.map { String(Character(ByteEncoder.byteToScalar[$0])) }
        tokens += symbols
        tokens += symbols.map { $0 + "</w>" }
        // Split on scalars, as BPEModel reads merges.txt (not on grapheme clusters).
        for line in mergesText.unicodeScalars.split(separator: "\n").dropFirst() {
            var token = String.UnicodeScalarView()
            for scalar in line where scalar != " " { token.append(scalar) }
            tokens.append(String(token))
        }
        tokens += [CLIPTokenizer.startToken, CLIPTokenizer.endToken]
        let entries = tokens.enumerated().map { "\(JSONText.quoted($0.element)):\($0.offset)" }
        return Data(("{" + entries.joined(separator: ",") + "}").utf8)
    }()
}
