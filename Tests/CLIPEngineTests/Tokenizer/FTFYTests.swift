import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

private let ftfyTokenizer: CLIPTokenizer = {
    do {
        return try CLIPTokenizer(directory: FixturePaths.tinyCLIP)
    } catch {
        fatalError("cannot load the fixture tokenizer: \(error)")
    }
}()

private struct FTFYCase: Decodable, CustomTestStringConvertible, Sendable {
    var source: String
    var text: String
    var fixed: String
    var ids: [Int32]
    var ids_without_mojibake_repair: [Int32]
    var needs_mojibake_repair: Bool
    var testDescription: String { "\(source): \(String(text.prefix(60)).debugDescription)" }
}

private struct FTFYCases: Decodable {
    var cases: [FTFYCase]
}

private func ftfyCases() throws -> [FTFYCase] {
    let url = FixturePaths.root.appendingPathComponent("ftfy_cases.json")
    return try JSONDecoder().decode(FTFYCases.self, from: Data(contentsOf: url)).cases
}

/// The tokenizer's text fixes against ftfy 6.3.1 (`fix_text(text, fix_encoding=False)`) on
/// licence text, manual pages and hand-written lines (Fixtures/Generators/make_ftfy_cases.py).
@Suite("ftfy fixes against ftfy 6.3.1")
struct FTFYTests {
    @Test("ftfy_cases.json: fixed text", arguments: try ftfyCases())
    fileprivate func fixedText(_ reference: FTFYCase) {
        let got = String(String.UnicodeScalarView(FTFY.fixText(Array(reference.text.unicodeScalars))))
        #expect(Array(got.unicodeScalars) == Array(reference.fixed.unicodeScalars))
    }

    @Test("ftfy_cases.json: token ids", arguments: try ftfyCases())
    fileprivate func tokenIDs(_ reference: FTFYCase) {
        let expected = reference.needs_mojibake_repair ? reference.ids_without_mojibake_repair : reference.ids
        #expect(ftfyTokenizer.tokenize(reference.text) == expected)
    }

    /// The fixture must exercise the fixes: most of its lines are changed by more than NFC.
    @Test func fixtureHasLinesFTFYChanges() throws {
        let cases = try ftfyCases()
        let changed = cases.filter {
            Array($0.fixed.unicodeScalars) != Array($0.text.precomposedStringWithCanonicalMapping.unicodeScalars)
        }
        #expect(cases.count >= 400)
        #expect(changed.count >= 200)
        #expect(cases.contains { $0.source == "licence" } && cases.contains { $0.source == "manual" })
    }

    @Test func curlyApostropheTokenizesLikeStraight() {
        #expect(
            ftfyTokenizer.tokenize("a photo of a nurse\u{2019}s uniform")
                == ftfyTokenizer.tokenize("a photo of a nurse's uniform"))
    }

    @Test func fullWidthAndLigatures() {
        #expect(TextCleaner.clean("ＬＯＵＤ　ＮＯＩＳＥＳ：ﬁ") == Array("loud noises:fi".unicodeScalars))
    }

    /// Once a line holds `<`, ftfy keeps entities on it and on every later line as they are
    /// (the tokenizer's own `html.unescape` still decodes them afterwards).
    @Test func htmlAutoRuleSticksToLaterLines() {
        let fixed = FTFY.fixText(Array("a &NTILDE;\n<b> &NTILDE;\nc &NTILDE;".unicodeScalars))
        #expect(String(String.UnicodeScalarView(fixed)) == "a Ñ\n<b> &NTILDE;\nc &NTILDE;")
    }
}

@Suite("Text-embedding cache key")
struct TokenizerKeyTests {
    /// Prompt embeddings cached under the NFC-only clean-up must not be reused: the key the
    /// cache sees names the clean-up revision, not only the tokenizer files.
    @Test func cacheKeyNamesTheCleaningRevision() throws {
        let pipeline = try CLIPPipeline(model: ResolvedModel(id: "tiny-clip", directory: FixturePaths.tinyCLIP, revision: nil, files: [:]))
        #expect(pipeline.tokenizerKey != pipeline.tokenizerSHA256)
        #expect(pipeline.tokenizerKey.hasPrefix(pipeline.tokenizerSHA256))
        #expect(pipeline.tokenizerKey.hasSuffix(":cleaning-\(TextCleaner.revision)"))
        #expect(TextCleaner.revision >= 2)
    }
}
