import Foundation
import Testing

@testable import CLIPEngine

/// The whole image path (decode → resize → crop → rescale → normalise) against transformers'
/// slow CLIPImageProcessor on Pillow: `pixel_values` in golden.safetensors.
@Suite struct ImagingParityTests {
    @Test func goldenPixelValues() throws {
        let golden = try SafeTensorsFile(url: ImagingFixtures.clipReference.appendingPathComponent("golden.safetensors"))
        let info = try golden.info("pixel_values")
        #expect(info.shape == [12, 3, 224, 224])
        let expected = try golden.floats("pixel_values")
        let names = try #require(try ImagingFixtures.json("clip-reference/golden.json")["images"] as? [String])
        #expect(names.count == 12)
        let config = try PreprocessorConfig(
            contentsOf: ImagingFixtures.clipReference.appendingPathComponent("tiny-clip/preprocessor_config.json"))
        let processor = try CLIPImageProcessor(config: config)
        let per = 3 * 224 * 224
        var batch = [Float](repeating: .nan, count: names.count * per)
        for (i, name) in names.enumerated() {
            let image = try ImageDecoder.decode(contentsOf: ImagingFixtures.referenceImage(name))
            #expect(processor.valueCount(width: image.width, height: image.height) == per)
            batch.withUnsafeMutableBufferPointer { all in
                processor.preprocess(image, into: UnsafeMutableBufferPointer(rebasing: all[(i * per)..<((i + 1) * per)]))
            }
            var differing = 0
            var maxDiff: Float = 0
            for j in 0..<per {
                let d = abs(batch[i * per + j] - expected[i * per + j])
                if !(d == 0) { differing += 1 }
                maxDiff = max(maxDiff, d.isNaN ? .infinity : d)
            }
            print("parity \(name): \(differing) of \(per) values differ, max |diff| \(maxDiff)")
            // Achieved: every value bit-identical on all 12 images (the resampler is Pillow's
            // fixed-point arithmetic ported exactly), so any difference is a bug; a tolerance of
            // one 8-bit level would let a wrong filter weight through.
            #expect(differing == 0, "\(name): \(differing) of \(per) values differ, max diff \(maxDiff)")
        }
    }

    /// gradient_gray16.png is scaled to 8 bits (v >> 8), not clipped to white as Pillow's
    /// convert("RGB") does; expected bytes come from pypng's 16-bit samples (not Pillow).
    @Test func gray16IsScaledNotClipped() throws {
        let expected = try ImagingFixtures.json("gray16-expected.json")
        let grey = ImagingFixtures.bytes(base64: try #require(expected["grey8"] as? String))
        let image = try ImageDecoder.decode(contentsOf: ImagingFixtures.referenceImage("gradient_gray16.png"))
        #expect(image.width == expected["width"] as? Int)
        #expect(image.height == expected["height"] as? Int)
        #expect(image.alpha == nil)
        #expect(grey.count == image.width * image.height)
        var mismatches = 0
        for i in 0..<grey.count {
            let p = image.pixels[(3 * i)..<(3 * i + 3)]
            if p.contains(where: { $0 != grey[i] }) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        // Not Pillow's defect: a real gradient, not a white image.
        let distinct = Set(image.pixels)
        #expect(distinct.count > 100)
        #expect(image.pixels.min()! < 20 && image.pixels.max()! > 235)

        // And through the processor.
        let values = try CLIPImageProcessor().preprocess(image)
        #expect(values.count == 3 * 224 * 224)
        #expect(values.allSatisfy { $0.isFinite })
    }

    /// The processor is a value type used from several threads at once: same results.
    @Test func concurrentUseGivesSameValues() async throws {
        let processor = try CLIPImageProcessor()
        let names = ["real_chelsea.png", "gradient_rgba.png", "tiny_upscale.png", "extreme_aspect.png"]
        let images = try names.map { try ImageDecoder.decode(contentsOf: ImagingFixtures.referenceImage($0)) }
        let serial = images.map { processor.preprocess($0) }
        let parallel = await withTaskGroup(of: (Int, [Float]).self) { group in
            for round in 0..<3 {
                for (i, image) in images.enumerated() {
                    _ = round
                    group.addTask { (i, processor.preprocess(image)) }
                }
            }
            var results: [(Int, [Float])] = []
            for await r in group { results.append(r) }
            return results
        }
        for (i, values) in parallel { #expect(values == serial[i]) }
    }
}
