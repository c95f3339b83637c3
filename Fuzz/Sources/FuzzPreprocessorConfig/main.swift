import CLIPEngine
import Foundation
import FuzzSupport

/// `preprocessor_config.json`: whatever loads must preprocess an image into finite values within
/// `PreprocessorConfig.maxPixelValue`, of the size `valueCount` promises.
// SwiftPM links a debug executable with `main` = `FuzzPreprocessorConfig_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzPreprocessorConfig_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

/// 7×5 pixels of every byte value's neighbourhood (0 and 255 included).
let image = RGBImage(width: 7, height: 5, pixels: (0..<(7 * 5 * 3)).map { UInt8(($0 * 37) % 256) })

func test(_ input: UnsafeRawBufferPointer) {
    let url = FuzzSupport.file("preprocessor_config.json", input)
    guard let config = try? PreprocessorConfig(contentsOf: url, imageSize: 32),
        let processor = try? CLIPImageProcessor(config: config)
    else { return }
    // Sizes up to 8192 are valid but take seconds to resample: outputs are checked up to 2^16 pixels.
    let (rh, rw) = processor.resizedSize(width: image.width, height: image.height)
    let (oh, ow) = processor.outputSize(width: image.width, height: image.height)
    guard rh * rw <= 1 << 16, oh * ow <= 1 << 16 else { return }
    let values = processor.preprocess(image)
    precondition(values.count == processor.valueCount(width: image.width, height: image.height))
    for v in values {
        precondition(v.isFinite && abs(v) <= PreprocessorConfig.maxPixelValue, "pixel value \(v)")
    }
}
