import CLIPEngine
import Foundation
import FuzzSupport

/// The tokenizer (NFC, HTML unescape, clean-up, pre-tokenizer, byte-level BPE) on arbitrary
/// text, with the real CLIP vocabulary of the fixture checkpoint; and the same text through the
/// SigLIP fixtures' SentencePiece tokenizers (added-token split, Python lower-casing, unigram and
/// byte-fallback BPE).
let tokenizer: CLIPTokenizer = {
    let directory = FuzzSupport.packageRoot.appendingPathComponent("Fixtures/clip-reference/tiny-clip")
    do { return try CLIPTokenizer(directory: directory) } catch { fatalError("cannot load the tokenizer: \(error)") }
}()

let siglipTokenizers: [SiglipTextTokenizer] = [
    ("siglip", "spiece.model", SiglipTextTokenizer.Kind.siglip), ("siglip2", "tokenizer.model", .gemma)
]
.map { name, model, kind in
    let directory = FuzzSupport.packageRoot.appendingPathComponent("Fixtures/siglip/\(name)")
    do {
        return try SiglipTextTokenizer(
            kind: kind, modelURL: directory.appendingPathComponent(model),
            configURL: directory.appendingPathComponent("tokenizer_config.json"), contextLength: 16)
    } catch { fatalError("cannot load the \(name) tokenizer: \(error)") }
}

// SwiftPM links a debug executable with `main` = `FuzzTokenizer_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzTokenizer_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    // Load the 49,408-token vocabulary and 48,894 merges before the driver starts timing inputs:
    // loaded lazily, under AddressSanitizer on a busy machine, it took the first input past
    // libFuzzer's -timeout.
    _ = tokenizer
    _ = siglipTokenizers
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    let ids = tokenizer.tokenize(text)
    precondition(ids.count >= 2 && ids.count <= 77, "tokenize gave \(ids.count) ids")
    // Start and end tokens frame every sequence, truncation included (the end is kept).
    precondition(ids.first == tokenizer.startTokenID && ids.last == tokenizer.endTokenID, "ids not framed: \(ids)")
    // Every id names a vocabulary entry (an id past it would index outside the token embedding).
    precondition(ids.allSatisfy { $0 >= 0 && $0 <= tokenizer.highestTokenID }, "an id outside the vocabulary: \(ids)")
    // encode is tokenize padded with 0 to the context length.
    let encoded = tokenizer.encode(text)
    precondition(encoded.count == 77 && Array(encoded.prefix(ids.count)) == ids, "encode disagrees with tokenize")
    precondition(encoded.dropFirst(ids.count).allSatisfy { $0 == tokenizer.paddingTokenID }, "encode pads with non-zero ids")
    for siglip in siglipTokenizers {
        let row = siglip.encode(text)
        // Exactly the text length, every id a piece of the model (the text tower's embedding rows).
        precondition(row.count == 16, "SigLIP row of \(row.count) ids")
        precondition(row.allSatisfy { $0 >= 0 && Int($0) < siglip.pieceCount }, "SigLIP id outside the model: \(row)")
        // The end token survives truncation.
        if let end = siglip.endTokenID { precondition(row.contains(end), "SigLIP row without its end token: \(row)") }
        let pieces = siglip.pieces(text)
        precondition(pieces.allSatisfy { $0 >= 0 && Int($0) < siglip.pieceCount }, "SigLIP piece outside the model")
    }
}
