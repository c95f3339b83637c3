import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

/// A scratch directory with a copy of the real tokenizer files, one of which a test breaks.
private struct ScratchTokenizerFiles {
    let directory: URL
    var vocabulary: URL { directory.appendingPathComponent("vocab.json") }
    var merges: URL { directory.appendingPathComponent("merges.txt") }

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clip-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(
                at: FixturePaths.tinyCLIP.appendingPathComponent(name),
                to: directory.appendingPathComponent(name))
        }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    func load() throws -> CLIPTokenizer { try CLIPTokenizer(directory: directory) }
}

/// Runs `body` and returns the `TokenizerError` it throws (recording an issue if it does not).
private func tokenizerError(_ body: () throws -> CLIPTokenizer) -> TokenizerError? {
    do {
        _ = try body()
        Issue.record("expected a TokenizerError")
        return nil
    } catch let error as TokenizerError {
        #expect(!error.description.contains("\n"), "the message should be one line")
        return error
    } catch {
        Issue.record("expected a TokenizerError, got \(error)")
        return nil
    }
}

@Suite("CLIPTokenizer errors")
struct TokenizerErrorTests {
    @Test func missingDirectoryNamesVocabularyFile() {
        let missing = URL(fileURLWithPath: "/nonexistent/clip-tokenizer")
        let error = tokenizerError { try CLIPTokenizer(directory: missing) }
        #expect(error?.code == .unreadableFile)
        #expect(error?.file?.lastPathComponent == "vocab.json")
        #expect(error?.description.contains("/nonexistent/clip-tokenizer/vocab.json") == true)
        #expect(error?.description.contains("not found") == true)
    }

    @Test func missingMergesFile() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        try FileManager.default.removeItem(at: files.merges)
        let error = tokenizerError { try files.load() }
        #expect(error?.code == .unreadableFile)
        #expect(error?.description.contains("merges.txt") == true)
    }

    @Test func malformedVocabularyJSON() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        try Data("{\"a\": 1,".utf8).write(to: files.vocabulary)
        let error = tokenizerError { try files.load() }
        #expect(error?.code == .malformedVocabulary)
        #expect(error?.description.contains("vocab.json") == true)
    }

    @Test func vocabularyWithNonIntegerIDs() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        try Data("{\"a\": \"one\"}".utf8).write(to: files.vocabulary)
        let error = tokenizerError { try files.load() }
        #expect(error?.code == .malformedVocabulary)
        #expect(error?.description.contains("vocab.json") == true)
    }

    @Test func vocabularyWithoutSpecialTokens() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        var vocabulary = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: files.vocabulary))
        vocabulary["<|endoftext|>"] = nil
        try JSONEncoder().encode(vocabulary).write(to: files.vocabulary)
        let error = tokenizerError { try files.load() }
        #expect(error?.code == .missingToken)
        #expect(error?.description.contains("vocab.json") == true)
        #expect(error?.description.contains("<|endoftext|>") == true)
    }

    @Test func malformedMergesLine() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        var lines = try String(contentsOf: files.merges, encoding: .utf8).components(separatedBy: "\n")
        lines[3] = "this line has three"
        try Data(lines.joined(separator: "\n").utf8).write(to: files.merges)
        let error = tokenizerError { try files.load() }
        #expect(error?.code == .malformedMerges)
        #expect(error?.description.contains("merges.txt") == true)
        #expect(error?.description.contains("line 4") == true)
    }

    @Test func mergeOfUnknownSymbols() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        try Data("#version: 0.2\ni n\nqqq zzz\n".utf8).write(to: files.merges)
        let error = tokenizerError { try files.load() }
        #expect(error?.code == .malformedMerges)
        #expect(error?.description.contains("merges.txt") == true)
        #expect(error?.description.contains("line 3") == true)
    }

    /// An id at or past the text encoder's vocabulary size would index past its embedding table.
    @Test func idPastTheVocabularySizeIsRefused() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        // The real vocabulary's ids are 0...49407: all fit a table of 49408 rows, none one of 49407.
        _ = try CLIPTokenizer(directory: files.directory, vocabularySize: 49408)
        let error = tokenizerError { try CLIPTokenizer(directory: files.directory, vocabularySize: 49407) }
        #expect(error?.code == .malformedVocabulary)
        #expect(error?.file?.lastPathComponent == "vocab.json")
        #expect(error?.description.contains("\"<|endoftext|>\" has id 49407, outside the text encoder's vocabulary of 49407") == true)
    }

    @Test func emptyMergesAreRefused() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        try Data("#version: 0.2\n".utf8).write(to: files.merges)
        let error = tokenizerError { try files.load() }
        #expect(error?.code == .malformedMerges)
        #expect(error?.description.hasSuffix("merges.txt: has no merges (a CLIP tokenizer has tens of thousands)") == true)
    }

    @Test func tokenListedTwiceIsRefused() throws {
        let files = try ScratchTokenizerFiles()
        defer { files.remove() }
        var text = try String(contentsOf: files.vocabulary, encoding: .utf8)
        let brace = try #require(text.lastIndex(of: "}"))
        text.replaceSubrange(brace..., with: ", \"photo</w>\": 5}")
        try Data(text.utf8).write(to: files.vocabulary)
        let error = tokenizerError { try files.load() }
        #expect(error?.code == .malformedVocabulary)
        #expect(error?.description.hasSuffix("vocab.json: token \"photo</w>\" appears twice") == true)
    }

    @Test func contextLengthTooSmall() {
        let error = tokenizerError { try CLIPTokenizer(directory: FixturePaths.tinyCLIP, contextLength: 1) }
        #expect(error?.code == .invalidContextLength)
    }
}
