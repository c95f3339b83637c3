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
        guard let image = try? ImageDecoder.decode(bytes: raw, name: "fuzz.png", maxPixels: 4_000_000) else { return }
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
