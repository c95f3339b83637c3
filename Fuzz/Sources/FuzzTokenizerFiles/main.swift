import CLIPEngine
import Foundation
import FuzzSupport

/// The tokenizer's files: `vocab.json` (the input up to its first NUL byte) and `merges.txt`
/// (the rest), loaded for a text encoder of `vocabularySize` rows. Whatever loads must give ids
/// inside that table for any text, and sequences of the context length.
// SwiftPM links a debug executable with `main` = `FuzzTokenizerFiles_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzTokenizerFiles_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

let vocabularySize = 4096
let texts = ["a photo of a person", "Hello, World! 123", "naïve café ünïcödé 🙂", "<|endoftext|> x", ""]

func test(_ input: UnsafeRawBufferPointer) {
    let split = input.firstIndex(of: 0) ?? input.count
    let vocabulary = FuzzSupport.file("vocab.json", UnsafeRawBufferPointer(rebasing: input[..<split]))
    let merges = FuzzSupport.file("merges.txt", UnsafeRawBufferPointer(rebasing: input[min(split + 1, input.count)...]))
    guard
        let tokenizer = try? CLIPTokenizer(
            vocabularyURL: vocabulary, mergesURL: merges, contextLength: 16,
            vocabularySize: vocabularySize)
    else { return }
    // The merges file's own text makes words that its merges apply to.
    let mergesText = String(decoding: input[min(split + 1, input.count)...].prefix(512), as: UTF8.self)
    for text in texts + [mergesText] {
        let ids = tokenizer.encode(text)
        precondition(ids.count == 16, "encode gave \(ids.count) ids")
        for id in ids { precondition(id >= 0 && Int(id) < vocabularySize, "id \(id) outside the table of \(vocabularySize)") }
    }
}
