import Foundation
import Testing

@testable import CLIPEngine

/// PillowResampler against real Pillow (`Image.resize(size, BICUBIC)`), bit for bit:
/// Fixtures/resample-cases.json, written by Fixtures/Generators/make_resample_cases.py.
@Suite struct ImagingResamplerTests {
    @Test func matchesPillowBitForBit() throws {
        let root = try ImagingFixtures.json("resample-cases.json")
        let cases = try #require(root["cases"] as? [[String: Any]])
        #expect(cases.count >= 15)
        for c in cases {
            let w = try #require(c["width"] as? Int), h = try #require(c["height"] as? Int)
            let ow = try #require(c["outWidth"] as? Int), oh = try #require(c["outHeight"] as? Int)
            let input = ImagingFixtures.bytes(base64: try #require(c["input"] as? String))
            let expected = ImagingFixtures.bytes(base64: try #require(c["output"] as? String))
            #expect(input.count == w * h * 3 && expected.count == ow * oh * 3)
            let resampler = PillowResampler(inputWidth: w, inputHeight: h, outputWidth: ow, outputHeight: oh)
            let out = resampler.resample(RGBImage(width: w, height: h, pixels: input))
            let differing = zip(out.pixels, expected).filter { $0 != $1 }.count
            #expect(differing == 0, "\(w)x\(h) -> \(ow)x\(oh): \(differing) bytes differ")
        }
    }

    /// Pillow's coefficient details: at scale 1 the window of output 5 is input 4..<8 (center 5.5,
    /// int(5.5 − 2 + 0.5) = 4, int(5.5 + 2 + 0.5) = 8) with a single 1.0 = 2^22 on input 5 (the
    /// kernel is 0 at ±1 and ±2), and every row of weights sums to 2^22 within rounding.
    @Test func coefficientsAreNormalisedFixedPoint() {
        let same = PillowResampler.coefficients(inSize: 10, outSize: 10)
        #expect(same.ksize == 5)
        #expect(same.first[5] == 4 && same.count[5] == 4)
        #expect(Array(same.weights[(5 * 5)..<(5 * 5 + 5)]) == [0, 1 << 22, 0, 0, 0])
        let down = PillowResampler.coefficients(inSize: 37, outSize: 11)
        for i in 0..<11 {
            let row = down.weights[(i * down.ksize)..<((i + 1) * down.ksize)]
            #expect(abs(Int(row.reduce(0, +)) - (1 << 22)) <= down.ksize)
        }
    }

    /// Pillow 13 runs the vertical pass first when the height shrinks more than twice as much as
    /// the width (here 23 → 3 against 37 → 100); the cases file includes such sizes.
    @Test func passOrderFollowsPillow13() {
        #expect(!PillowResampler(inputWidth: 37, inputHeight: 23, outputWidth: 100, outputHeight: 3).horizontalFirst)
        #expect(PillowResampler(inputWidth: 37, inputHeight: 23, outputWidth: 16, outputHeight: 10).horizontalFirst)
        #expect(PillowResampler(inputWidth: 451, inputHeight: 300, outputWidth: 336, outputHeight: 224).horizontalFirst)
        #expect(!PillowResampler(inputWidth: 300, inputHeight: 1000, outputWidth: 224, outputHeight: 746).horizontalFirst)
    }

    @Test func sameSizeIsACopy() {
        let pixels = (0..<(7 * 5 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let image = RGBImage(width: 7, height: 5, pixels: pixels)
        #expect(PillowResampler(inputWidth: 7, inputHeight: 5, outputWidth: 7, outputHeight: 5).resample(image) == image)
    }
}
