import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

/// What transformers does with text a user may type that a plain SentencePiece run gets wrong:
/// special-token strings (`</s>`, `<unk>`, `<eos>`, `<bos>`, `<pad>`) written in a prompt are one
/// token each, and SigLIP's lower-casing is Python's, with the final sigma. References:
/// `Fixtures/siglip/tokenizer-cases.json`, made by
/// `Fixtures/Generators/make_siglip_tokenizer_cases.py` with transformers' own tokenizers and
/// CPython's `str.lower()`.
@Suite struct SiglipTokenizerCaseTests {
    struct Cases: Decodable {
        struct IDs: Decodable {
            var text: String
            var ids: [Int32]
        }
        struct Lower: Decodable {
            var text: String
            var lower: String
        }
        var special_ids: [String: [IDs]]
        var lower: [Lower]
    }

    static func cases() throws -> Cases {
        try JSONDecoder().decode(
            Cases.self, from: Data(contentsOf: FixturePaths.root.appendingPathComponent("siglip/tokenizer-cases.json")))
    }

    @Test(arguments: SiglipFixtures.names) func specialTokenStringsMatchTransformers(name: String) throws {
        let tokenizer = try SiglipFixtures.tokenizer(name)
        let cases = try #require(try Self.cases().special_ids[name])
        #expect(cases.count >= 9)
        for item in cases {
            #expect(tokenizer.encode(item.text) == item.ids, "\(name): \(item.text.debugDescription)")
        }
    }

    @Test func lowercasingIsPythons() throws {
        let cases = try Self.cases().lower
        #expect(cases.count >= 10)
        // Without the final-sigma rule at least one case differs: the fixture can fail.
        #expect(cases.contains { $0.text.lowercased() != $0.lower })
        for item in cases {
            #expect(pythonLowercased(item.text) == item.lower, "\(item.text.debugDescription)")
        }
    }

    @Test func addedTokensMatchLeftmostLongestAndStrip() {
        let splitter = AddedTokenSplitter(
            tokens: [
                .init(content: "<a>", id: 1, special: true),
                .init(content: "<a><b>", id: 2, special: false, lstrip: true, rstrip: true)
            ], isSpace: SiglipTextTokenizer.isPythonSpace)
        #expect(
            splitter.split("x  <a><b>  y<a>z")
                == [.text("x"), .token(splitter.tokens[1]), .text("y"), .token(splitter.tokens[0]), .text("z")])
        #expect(splitter.split("") == [])
        #expect(splitter.split("<a>") == [.token(splitter.tokens[0])])
    }

    @Test func addedTokensTheModelCannotEmbedAreRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-added-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = SiglipFixtures.checkpoint("siglip2")
        let model = directory.appendingPathComponent("tokenizer.model")
        try FileManager.default.copyItem(at: source.appendingPathComponent("tokenizer.model"), to: model)
        let config = directory.appendingPathComponent("tokenizer_config.json")
        for (decoder, expected) in [
            (#"{"9999": {"content": "<x>", "special": true}}"#, "id 9999 is beyond the model's 520 pieces"),
            (#"{"5": {"content": "<x>", "single_word": true}}"#, "is single_word"),
            (#"{"5": {"content": "a b", "normalized": true}}"#, "is normalized and holds white space"),
            (#"{"5": {"lstrip": false}}"#, "has no content string")
        ] {
            try Data(#"{"added_tokens_decoder": \#(decoder)}"#.utf8).write(to: config)
            #expect {
                _ = try SiglipTextTokenizer(kind: .gemma, modelURL: model, configURL: config, contextLength: 16)
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix(config.path) && text.contains(expected) && !text.contains("\n")
            }
        }
    }
}
