import Foundation
import Testing

@testable import CLIPEngine

@Suite struct ImagingConfigTests {
    func parse(_ json: String, imageSize: Int = 224) throws -> PreprocessorConfig {
        try PreprocessorConfig(json: Data(json.utf8), file: "/m/preprocessor_config.json", imageSize: imageSize)
    }

    @Test func tinyClipConfigEqualsDefaults() throws {
        let url = ImagingFixtures.clipReference.appendingPathComponent("tiny-clip/preprocessor_config.json")
        let config = try PreprocessorConfig(contentsOf: url)
        #expect(config == PreprocessorConfig(imageSize: 224))
        // 0.00392156862745098 parses to exactly Python's 1/255 (not NSDecimalNumber's rounding).
        #expect(config.rescaleFactor == 1.0 / 255.0)
        #expect(config.imageMean == [0.48145466, 0.4578275, 0.40821073])
    }

    @Test func legacyIntSizesAndAbsentFile() throws {
        let c = try parse(#"{"size": 336, "crop_size": 300, "do_center_crop": false}"#)
        #expect(c.resize == .shortestEdge(336))
        #expect(c.cropHeight == 300 && c.cropWidth == 300 && !c.doCenterCrop)
        let e = try parse(#"{"size": {"height": 100, "width": 120}, "image_mean": 0.5, "image_std": [1, 1, 1]}"#)
        #expect(e.resize == .exact(height: 100, width: 120))
        #expect(e.imageMean == [0.5, 0.5, 0.5])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("no-config-\(UUID().uuidString)")
        #expect(try PreprocessorConfig.load(directory: dir, imageSize: 336) == PreprocessorConfig(imageSize: 336))
    }

    @Test func unsupportedResampleIsAClearError() throws {
        do {
            _ = try parse(#"{"resample": 1}"#)
            Issue.record("accepted Lanczos")
        } catch let error as ImageError {
            #expect(error.code == .badConfig)
            #expect(
                error.description
                    == "preprocessor_config.json: resample 1 (LANCZOS) is not supported; only 3 (BICUBIC) and 2 (BILINEAR) are")
        }
        #expect(throws: ImageError.self) { try parse(#"{"image_mean": [0.5, 0.5]}"#) }
        #expect(throws: ImageError.self) { try parse(#"{"size": {"shortest_edge": -3}}"#) }
        #expect(throws: ImageError.self) { try parse("[1, 2]") }
    }

    /// transformers' get_resize_output_image_size: int(size · long / short), truncated.
    @Test func resizeArithmetic() throws {
        let p = try CLIPImageProcessor()
        #expect(p.resizedSize(width: 1000, height: 60) == (224, 3733))
        #expect(p.resizedSize(width: 227, height: 300) == (296, 224))
        #expect(p.resizedSize(width: 224, height: 224) == (224, 224))
        #expect(p.resizedSize(width: 20, height: 13) == (224, 344))
        #expect(CLIPImageProcessor.floorDiv(-23, 2) == -12 && CLIPImageProcessor.floorDiv(23, 2) == 11)
    }

    /// A crop larger than the (unresized) image pads with zeros, centred as transformers does
    /// (ceil of half the missing rows/columns before the image).
    @Test func cropPadsSmallImagesWithZeros() throws {
        var config = PreprocessorConfig(imageSize: 4)
        config.doResize = false
        config.doNormalize = false
        config.doRescale = false
        let p = try CLIPImageProcessor(config: config)
        // 3 wide, 1 high; values 10, 20, 30 in every channel.
        let image = RGBImage(width: 3, height: 1, pixels: [10, 10, 10, 20, 20, 20, 30, 30, 30])
        let out = p.preprocess(image)
        #expect(out.count == 3 * 4 * 4)
        // Rows: pad top ceil(3/2) = 2 → image in row 2; columns: pad left ceil(1/2) = 1.
        let channel0 = Array(out[0..<16])
        #expect(channel0 == [0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 20, 30, 0, 0, 0, 0])
    }

    /// Rescale in float64 then float32, normalise in float32: spot-check against numpy's values.
    @Test func rescaleAndNormaliseDtypes() throws {
        let p = try CLIPImageProcessor(config: PreprocessorConfig(imageSize: 1))
        let out = p.preprocess(RGBImage(width: 1, height: 1, pixels: [255, 128, 0]))
        #expect(out[0] == (Float(255.0 * (1.0 / 255.0)) - Float(0.48145466)) / Float(0.26862954))
        #expect(out[1] == (Float(128.0 * (1.0 / 255.0)) - Float(0.4578275)) / Float(0.26130258))
        #expect(out[2] == (Float(0) - Float(0.40821073)) / Float(0.27577711))
    }
}
