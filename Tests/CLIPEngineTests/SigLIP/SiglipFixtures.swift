import Foundation
import TestSupport

@testable import CLIPEngine

/// `Fixtures/siglip/` (made by `Fixtures/Generators/make_siglip_fixtures.py`): a SigLIP and a
/// SigLIP 2 checkpoint with random weights and transformers' outputs for them.
enum SiglipFixtures {
    static let names = ["siglip", "siglip2"]
    static func checkpoint(_ name: String) -> URL { FixturePaths.root.appendingPathComponent("siglip/\(name)") }
    static func golden(_ name: String) -> URL { FixturePaths.root.appendingPathComponent("siglip/\(name).safetensors") }

    /// The texts and image file names of a golden set, in row order.
    static func order(_ name: String) throws -> (texts: [String], images: [URL]) {
        let data = try Data(contentsOf: FixturePaths.root.appendingPathComponent("siglip/\(name).json"))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let images = (object["images"] as! [String]).map {
            FixturePaths.clipReference.appendingPathComponent("images/\($0)")
        }
        return (object["texts"] as! [String], images)
    }

    /// The tokenizer of fixture checkpoint `name` at its text length of 16.
    static func tokenizer(_ name: String) throws -> SiglipTextTokenizer {
        let directory = checkpoint(name)
        let isSiglip = name == "siglip"
        return try SiglipTextTokenizer(
            kind: isSiglip ? .siglip : .gemma,
            modelURL: directory.appendingPathComponent(isSiglip ? "spiece.model" : "tokenizer.model"),
            configURL: directory.appendingPathComponent("tokenizer_config.json"), contextLength: 16)
    }
}
