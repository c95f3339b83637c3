import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

/// The SentencePiece tokenizers against transformers' `SiglipProcessor` (SigLIP: the slow
/// `SiglipTokenizer`) and the SentencePiece library (SigLIP 2's Gemma model), on texts with case,
/// punctuation, non-ASCII, emoji, whitespace runs, empty and over-long text: ids exact.
@Suite struct SiglipTokenizerTests {
    @Test(arguments: SiglipFixtures.names) func idsMatchTheReference(name: String) throws {
        let tokenizer = try SiglipFixtures.tokenizer(name)
        let golden = try NetworkGoldenSet(url: SiglipFixtures.golden(name))
        let texts = try SiglipFixtures.order(name).texts
        #expect(texts.count == golden.inputIDs.count)
        for (text, expected) in zip(texts, golden.inputIDs) {
            #expect(tokenizer.encode(text) == expected, "\(name): \(text.debugDescription)")
        }
    }

    @Test func unigramModelIsParsed() throws {
        let model = try SentencePieceModel(contentsOf: SiglipFixtures.checkpoint("siglip").appendingPathComponent("spiece.model"))
        #expect(model.algorithm == .unigram)
        #expect(!model.byteFallback)
        #expect(model.normalization.name == "nmt_nfkc")
        #expect(model.normalization.addDummyPrefix && model.normalization.removeExtraWhitespaces)
        #expect(!model.normalization.precompiledCharsMap.isEmpty)
        #expect(model.pieces[2].type == .unknown)
    }

    @Test func bpeModelIsParsed() throws {
        let model = try SentencePieceModel(contentsOf: SiglipFixtures.checkpoint("siglip2").appendingPathComponent("tokenizer.model"))
        #expect(model.algorithm == .bpe)
        #expect(model.byteFallback)
        #expect(!model.normalization.addDummyPrefix && !model.normalization.removeExtraWhitespaces)
        #expect(model.pieces.filter { $0.type == .byte }.count == 256)
    }

    /// nmt_nfkc's character map: full-width letters, ligatures and circled digits fold as NFKC.
    @Test func precompiledMapNormalizes() throws {
        let processor = try SentencePieceProcessor(
            contentsOf: SiglipFixtures.checkpoint("siglip").appendingPathComponent("spiece.model"))
        let normalized = String(decoding: processor.normalize("  ﬁne  ｆｕｌｌ ① "), as: UTF8.self)
        #expect(normalized == "▁fine▁full▁1")
    }

    @Test func truncationKeepsTheEndTokenAndPadsToTheLength() throws {
        for name in SiglipFixtures.names {
            let tokenizer = try SiglipFixtures.tokenizer(name)
            let long = tokenizer.encode(String(repeating: "word ", count: 100))
            #expect(long.count == 16)
            #expect(long.last == tokenizer.endTokenID)
            let short = tokenizer.encode("a")
            #expect(short.count == 16 && short.last == tokenizer.paddingTokenID)
        }
    }

    @Test func brokenModelIsOneLineNamingTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-broken-\(UUID().uuidString).model")
        try Data([0x0a, 0x50, 0x01]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect {
            _ = try SentencePieceProcessor(contentsOf: url)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(url.path) && text.contains("not a SentencePiece model") && !text.contains("\n")
        }
    }
}
