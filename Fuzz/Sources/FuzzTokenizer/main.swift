import CLIPEngine
import Foundation
import FuzzSupport

/// The tokenizer (NFC, HTML unescape, clean-up, pre-tokenizer, byte-level BPE) on arbitrary
/// text, with the real CLIP vocabulary of the fixture checkpoint.
let tokenizer: CLIPTokenizer = {
    let directory = FuzzSupport.packageRoot.appendingPathComponent("Fixtures/clip-reference/tiny-clip")
    do { return try CLIPTokenizer(directory: directory) } catch { fatalError("cannot load the tokenizer: \(error)") }
}()

// SwiftPM links a debug executable with `main` = `FuzzTokenizer_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzTokenizer_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    // Load the 49,408-token vocabulary and 48,894 merges before the driver starts timing inputs:
    // loaded lazily, under AddressSanitizer on a busy machine, it took the first input past
    // libFuzzer's -timeout.
    _ = tokenizer
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    let ids = tokenizer.tokenize(text)
    precondition(ids.count >= 2 && ids.count <= 77, "tokenize gave \(ids.count) ids")
    precondition(tokenizer.encode(text).count == 77)
}
