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
        guard let image = try? ImageDecoder.decode(bytes: raw, name: "fuzz.jpg", maxPixels: 4_000_000) else { return }
        checkDecoded(image, maxPixels: 4_000_000)
    }
}

/// What an accepted image must be, whatever the input: a positive size within the pixel limit,
/// three bytes per pixel, and an alpha plane (when kept) of one byte per pixel.
func checkDecoded(_ image: RGBImage, maxPixels: Int) {
    precondition(image.width > 0 && image.height > 0, "decoded a \(image.width)×\(image.height) image")
    let (area, overflow) = image.width.multipliedReportingOverflow(by: image.height)
    precondition(!overflow && area <= maxPixels, "decoded \(image.width)×\(image.height), over the \(maxPixels)-pixel limit")
    precondition(image.pixels.count == area * 3, "\(image.pixels.count) bytes for \(image.width)×\(image.height) RGB")
    if let alpha = image.alpha { precondition(alpha.count == area, "\(alpha.count) alpha bytes for \(area) pixels") }
}
