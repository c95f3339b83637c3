import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

/// One tokenizer for all tests (loading parses 49k vocabulary entries and 48k merges).
private let sharedTokenizer: CLIPTokenizer = {
    do {
        return try CLIPTokenizer(directory: FixturePaths.tinyCLIP)
    } catch {
        fatalError("cannot load the fixture tokenizer: \(error)")
    }
}()

private struct ReferenceCase: Decodable, CustomTestStringConvertible, Sendable {
    var text: String
    var ids: [Int32]
    var ids_without_mojibake_repair: [Int32]?
    var needs_mojibake_repair: Bool?
    /// The given cases' flag: the reference ids change when ftfy is left out entirely.
    var requires_ftfy: Bool?

    /// The ids the port must give: OpenAI's, or for the cases only ftfy's mojibake repair
    /// changes, the reference pipeline with `fix_text(text, fix_encoding=False)`.
    var expected: [Int32] { needs_mojibake_repair == true ? (ids_without_mojibake_repair ?? ids) : ids }
    var testDescription: String { text.debugDescription }
}

private struct ExtraCases: Decodable {
    var cases: [ReferenceCase]
}

private func givenCases() throws -> [ReferenceCase] {
    let url = FixturePaths.clipReference.appendingPathComponent("tokenizer_cases.json")
    return try JSONDecoder().decode([ReferenceCase].self, from: Data(contentsOf: url))
}

private func extraCases() throws -> [ReferenceCase] {
    let url = FixturePaths.root.appendingPathComponent("tokenizer_extra_cases.json")
    return try JSONDecoder().decode(ExtraCases.self, from: Data(contentsOf: url)).cases
}

@Suite("CLIPTokenizer against OpenAI simple_tokenizer")
struct CLIPTokenizerReferenceTests {
    @Test("clip-reference/tokenizer_cases.json", arguments: try givenCases())
    fileprivate func referenceCase(_ reference: ReferenceCase) {
        #expect(reference.requires_ftfy == false, "this case needs ftfy's mojibake repair")
        #expect(sharedTokenizer.tokenize(reference.text) == reference.expected)
    }

    @Test("tokenizer_extra_cases.json (Fixtures/Generators/make_tokenizer_cases.py)", arguments: try extraCases())
    fileprivate func extraCase(_ reference: ReferenceCase) {
        #expect(sharedTokenizer.tokenize(reference.text) == reference.expected)
    }

    @Test func fixtureFilesHaveCases() throws {
        #expect(try givenCases().count == 30)
        #expect(try extraCases().count >= 40)
    }

    @Test func knownIDs() {
        #expect(
            sharedTokenizer.tokenize("a photo of an astronaut riding a horse on mars")
                == [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407])
        #expect(sharedTokenizer.tokenize("hello world") == [49406, 3306, 1002, 49407])
    }
}

@Suite("CLIPTokenizer API")
struct CLIPTokenizerAPITests {
    @Test func specialTokensComeFromTheVocabulary() {
        #expect(sharedTokenizer.startTokenID == 49406)
        #expect(sharedTokenizer.endTokenID == 49407)
        #expect(sharedTokenizer.contextLength == 77)
    }

    @Test func encodePadsWithZeros() {
        let ids = sharedTokenizer.encode("hello world")
        #expect(ids.count == 77)
        #expect(Array(ids.prefix(4)) == [49406, 3306, 1002, 49407])
        #expect(ids.dropFirst(4).allSatisfy { $0 == 0 })
        #expect(sharedTokenizer.encode("") == [49406, 49407] + Array(repeating: 0, count: 75))
    }

    @Test func truncatesToContextLengthEndingInEnd() {
        let long = String(repeating: "word ", count: 200)
        let ids = sharedTokenizer.tokenize(long)
        #expect(ids.count == 77)
        #expect(ids.first == 49406)
        #expect(ids.last == 49407)
        #expect(sharedTokenizer.encode(long) == ids)
    }

    @Test func customContextLength() throws {
        let short = try CLIPTokenizer(directory: FixturePaths.tinyCLIP, contextLength: 4)
        #expect(short.tokenize("a photo of a cat") == [49406, 320, 1125, 49407])
        #expect(short.encode("hi") == [49406, 1883, 49407, 0])
    }

    @Test func repeatedCallsUseTheCacheConsistently() {
        let first = sharedTokenizer.tokenize("astronaut astronaut astronaut")
        let second = sharedTokenizer.tokenize("astronaut astronaut astronaut")
        #expect(first == second)
        #expect(first == [49406, 18376, 18376, 18376, 49407])
    }

    @Test func concurrentUseGivesTheSameIDs() async throws {
        let texts = try givenCases().map(\.text) + extraCases().map(\.text)
        let expected = texts.map { sharedTokenizer.tokenize($0) }
        let tokenizer = try CLIPTokenizer(directory: FixturePaths.tinyCLIP)
        let results = await withTaskGroup(of: (Int, [Int32]).self) { group in
            for _ in 0..<4 {
                for (index, text) in texts.enumerated() {
                    group.addTask { (index, tokenizer.tokenize(text)) }
                }
            }
            var all: [(Int, [Int32])] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == texts.count * 4)
        for (index, ids) in results { #expect(ids == expected[index]) }
    }
}
