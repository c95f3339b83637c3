import CLIPEngine
import Foundation
import FuzzSupport

/// JPEG decoding (through libjpeg and the error-reporting wrapper) and preprocessing-free
/// conversion: inputs get a JPEG start-of-image marker so that every one reaches the JPEG path.
// SwiftPM links a debug executable with `main` = `FuzzJPEG_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzJPEG_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    var bytes: [UInt8] = [0xFF, 0xD8]
    bytes.append(contentsOf: input)
    bytes.withUnsafeBytes { raw in
        // A small pixel limit keeps libFuzzer within its memory limit; the limit itself is part of what is tested.
        _ = try? ImageDecoder.decode(bytes: raw, name: "fuzz.jpg", maxPixels: 4_000_000)
    }
}
