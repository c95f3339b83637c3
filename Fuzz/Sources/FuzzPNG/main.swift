import CLIPEngine
import Foundation
import FuzzSupport

/// PNG decoding (libpng through the error-reporting wrapper): inputs get the PNG signature.
// SwiftPM links a debug executable with `main` = `FuzzPNG_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzPNG_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    bytes.append(contentsOf: input)
    bytes.withUnsafeBytes { raw in
        _ = try? ImageDecoder.decode(bytes: raw, name: "fuzz.png", maxPixels: 4_000_000)
    }
}
