import Foundation
import Testing

@testable import CLIPEngine

/// Preprocessing numbers that would make NaN, infinite or absurd pixel values, or overflow the
/// resize arithmetic, are refused when the file is read, naming the file and the key.
@Suite struct PreprocessorConfigErrorTests {
    /// The one-line error for `json` (recording an issue when it parses).
    func error(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            _ = try PreprocessorConfig(json: Data(json.utf8), file: "/m/preprocessor_config.json")
            Issue.record("accepted \(json)", sourceLocation: sourceLocation)
            return nil
        } catch let error as ImageError {
            #expect(error.code == .badConfig, sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("preprocessor_config.json: "), "\(error)", sourceLocation: sourceLocation)
            #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
            return error.description
        } catch {
            Issue.record("expected an ImageError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test func rescaleFactorMustKeepPixelsFinite() {
        #expect(error(#"{"rescale_factor": 1e308}"#)?.contains("\"rescale_factor\" 1e+308 makes pixel value 255 into inf") == true)
        #expect(error(#"{"rescale_factor": 1e30}"#)?.contains("\"rescale_factor\"") == true)
        #expect(error(#"{"rescale_factor": 0}"#)?.contains("\"rescale_factor\" is 0.0, expected a positive number") == true)
        #expect(error(#"{"rescale_factor": -0.5}"#)?.contains("\"rescale_factor\"") == true)
        // Unused when do_rescale is false, but still not a rescale factor.
        #expect(error(#"{"do_rescale": false, "rescale_factor": 0}"#)?.contains("\"rescale_factor\"") == true)
    }

    @Test func stdMustBePositiveAndFiniteInFloat32() {
        // 1e-50 is not 0 as a double, but it is in float32, where the division happens.
        #expect(error(#"{"image_std": [0.26, 1e-50, 0.27]}"#)?.contains("\"image_std\" value 1 is 1e-50") == true)
        #expect(error(#"{"image_std": [0.26, 0, 0.27]}"#)?.contains("\"image_std\" value 1 is 0.0") == true)
        #expect(error(#"{"image_std": -0.5}"#)?.contains("\"image_std\" value 0 is -0.5") == true)
        #expect(error(#"{"image_std": [1e300, 1, 1]}"#)?.contains("\"image_std\" value 0") == true)
        // Positive and finite, but dividing by it takes pixel values past any sane range.
        #expect(error(#"{"image_std": [1e-9, 1, 1]}"#)?.contains("\"image_mean\" 0.48145466 and \"image_std\" 1e-09") == true)
    }

    @Test func meanMustBeFiniteInFloat32() {
        #expect(error(#"{"image_mean": [0.5, 1e300, 0.5]}"#)?.contains("\"image_mean\" value 1 is 1e+300") == true)
    }

    /// A NaN mean (Python's json writes NaN for float('nan')) is refused by validate, which
    /// CLIPImageProcessor also runs on configurations built in code.
    @Test func nanMeanIsRefused() {
        var config = PreprocessorConfig()
        config.imageMean = [0.5, .nan, 0.5]
        #expect(throws: ImageError.self) { try config.validate() }
        #expect(throws: ImageError.self) { try CLIPImageProcessor(config: config) }
    }

    /// Sizes far beyond any image, whose products overflowed, and numbers NSNumber's intValue
    /// does not represent.
    @Test func sizesAreBounded() {
        #expect(error(#"{"size": {"shortest_edge": 1e300}}"#)?.contains("\"size.shortest_edge\" is") == true)
        #expect(error(#"{"size": 100000}"#)?.contains("more than the 8192 pixels allowed") == true)
        #expect(error(#"{"crop_size": {"height": 9000, "width": 224}}"#)?.contains("\"crop_size.height\"") == true)
        #expect(error(#"{"resample": 1e300}"#)?.contains("\"resample\" must be an integer") == true)
        #expect(error(#"{"do_resize": 1e300}"#)?.contains("\"do_resize\" must be true or false") == true)
    }

    @Test func keyWrittenTwiceIsRefused() {
        #expect(error(#"{"rescale_factor": 0.5, "rescale_factor": 0.0039}"#)?.contains("\"rescale_factor\" appears twice") == true)
        #expect(error(#"{"size": {"height": 224, "height": 300, "width": 224}}"#)?.contains("\"size.height\" appears twice") == true)
    }

    /// CLIP's own settings and common variants stay accepted, and are read as written (a parse
    /// that kept the defaults would pass a test that only checks nothing is thrown).
    @Test func ordinarySettingsPass() throws {
        let scaled = try PreprocessorConfig(
            json: Data(#"{"rescale_factor": 0.00784313725490196, "image_mean": 0.5, "image_std": 0.5}"#.utf8))
        #expect(scaled.rescaleFactor == 0.00784313725490196)
        #expect(scaled.imageMean == [0.5, 0.5, 0.5] && scaled.imageStd == [0.5, 0.5, 0.5])
        let off = try PreprocessorConfig(json: Data(#"{"do_rescale": false, "do_normalize": false, "do_resize": 1}"#.utf8))
        #expect(!off.doRescale && !off.doNormalize && off.doResize)
        let largest = try PreprocessorConfig(json: Data(#"{"size": 8192, "crop_size": 8192}"#.utf8))
        #expect(largest.resize == .shortestEdge(8192) && largest.cropHeight == 8192 && largest.cropWidth == 8192)
    }
}
