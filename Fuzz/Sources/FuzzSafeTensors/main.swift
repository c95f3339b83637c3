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
    guard let file = try? SafeTensorsFile(url: url) else { return }
    // An accepted file has a header length that fits, so its data section is what follows it.
    precondition(input.count >= 8)
    let headerLength = (0..<8).reduce(0) { $0 | Int(input[$1]) << (8 * $1) }
    let dataSize = input.count - 8 - headerLength
    var sum: UInt8 = 0
    var ranges: [Range<Int>] = []
    for info in file.tensors.values {
        // Shapes are consistent with the bytes, and every tensor lies within the file.
        precondition(info.shape.allSatisfy { $0 >= 0 }, "\(info.name): negative dimension in \(info.shape)")
        precondition(
            info.dataRange.lowerBound >= 0 && info.dataRange.upperBound <= dataSize,
            "\(info.name): \(info.dataRange) outside \(dataSize) data bytes")
        precondition(
            info.dataRange.count == info.count * info.dtype.size,
            "\(info.name): \(info.dataRange.count) bytes for \(info.shape) \(info.dtype)")
        let raw = file.rawBytes(info)
        precondition(raw.count == info.dataRange.count, "\(info.name): rawBytes gave \(raw.count) bytes")
        if let first = raw.first, let last = raw.last { sum &+= first &+ last }
        if let floats = file.float32InPlace(info) { precondition(floats.count == info.count, "\(info.name): \(floats.count) floats") }
        if !info.dataRange.isEmpty { ranges.append(info.dataRange) }
    }
    // No two tensors share bytes.
    ranges.sort { $0.lowerBound < $1.lowerBound }
    for (a, b) in zip(ranges, ranges.dropFirst()) { precondition(a.upperBound <= b.lowerBound, "tensors overlap: \(a) and \(b)") }
    _ = sum
}
