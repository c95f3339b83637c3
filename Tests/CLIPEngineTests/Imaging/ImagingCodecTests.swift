import Foundation
import Testing

@testable import CLIPEngine

/// The decoder against Pillow's `Image.open(...).convert("RGB")` for PNG/JPEG variants, and the
/// transparency compositing against transformers 5's `convert_to_rgb` (Pillow alpha_composite).
/// Fixtures/codec-cases/, written by Fixtures/Generators/make_resample_cases.py.
@Suite struct ImagingCodecTests {
    var expected: [String: [String: Any]] {
        (try? ImagingFixtures.json("codec-cases/expected.json"))?["files"] as? [String: [String: Any]] ?? [:]
    }

    static let names = [
        "baseline.jpg", "progressive.jpg", "subsampling_444.jpg", "grey.jpg",
        "palette_trns.png", "palette_4bit.png", "grey_alpha.png", "bilevel.png", "grey_trns.png",
        "interlaced_rgb.png", "interlaced_rgba.png", "rgb16.png", "grey_2bit.png"
    ]

    @Test func everyFixtureIsListed() {
        #expect(Set(expected.keys) == Set(Self.names))
    }

    @Test(arguments: names)
    func decodesLikePillow(_ name: String) throws {
        let entry = try #require(expected[name], "no expected entry for \(name)")
        let image = try ImageDecoder.decode(contentsOf: ImagingFixtures.codecCases.appendingPathComponent(name))
        #expect(image.width == entry["width"] as? Int)
        #expect(image.height == entry["height"] as? Int)
        let rgb = ImagingFixtures.bytes(base64: try #require(entry["rgb"] as? String))
        #expect(image.pixels == rgb, "\(name): \(zip(image.pixels, rgb).filter { $0 != $1 }.count) bytes differ from Pillow")
        let hasAlpha = try #require(entry["hasAlpha"] as? Bool)
        #expect((image.alpha != nil) == hasAlpha, "\(name): alpha presence")
        if hasAlpha {
            let composited = ImagingFixtures.bytes(base64: try #require(entry["composited"] as? String))
            let ours = image.compositedOnWhite()
            #expect(ours.alpha == nil)
            #expect(
                ours.pixels == composited,
                "\(name): \(zip(ours.pixels, composited).filter { $0 != $1 }.count) bytes differ from alpha_composite")
        }
    }

    @Test func decodesFromMemoryRegardlessOfName() throws {
        let data = try Data(contentsOf: ImagingFixtures.codecCases.appendingPathComponent("baseline.jpg"))
        let a = try ImageDecoder.decode(data: data, name: "misnamed.png")
        let b = try ImageDecoder.decode(contentsOf: ImagingFixtures.codecCases.appendingPathComponent("baseline.jpg"))
        #expect(a == b)
    }
}
