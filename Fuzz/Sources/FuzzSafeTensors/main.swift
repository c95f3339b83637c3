import CLIPEngine
import Foundation
import FuzzSupport

/// The safetensors header reader: header length, JSON, dtypes, shapes and offsets; then every
/// tensor's bytes are touched, which must stay inside the mapping for any header it accepted.
// SwiftPM links a debug executable with `main` = `FuzzSafeTensors_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzSafeTensors_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    let url = FuzzSupport.file("fuzz.safetensors", input)
    if let file = try? SafeTensorsFile(url: url) {
        var sum: UInt8 = 0
        for info in file.tensors.values {
            let raw = file.rawBytes(info)
            if let first = raw.first, let last = raw.last { sum &+= first &+ last }
            _ = file.float32InPlace(info)
        }
        _ = sum
    }
}
