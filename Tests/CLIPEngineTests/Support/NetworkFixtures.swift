import Foundation
import TestSupport

/// The network tests' fixtures (see `FixturePaths`).
enum NetworkFixtures {
    /// The tiny random-weight checkpoint with the real architecture.
    static var tinyClip: URL { FixturePaths.tinyCLIP }
    /// transformers' outputs for the tiny checkpoint.
    static var golden: URL { FixturePaths.clipReference.appendingPathComponent("golden.safetensors") }
    /// A checkpoint of other shapes made by `Fixtures/Generators/make_shape_fixtures.py`.
    static func shape(_ name: String) -> URL { FixturePaths.root.appendingPathComponent("shapes/\(name)") }
}
