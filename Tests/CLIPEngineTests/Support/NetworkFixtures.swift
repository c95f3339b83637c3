import Foundation

/// Locates the project's test fixtures: walks up from the calling source file to the directory
/// that holds `Package.swift`, so the tests work from any working directory.
enum NetworkFixtures {
    /// The package root (the directory holding `Package.swift`).
    static func packageRoot(filePath: String = #filePath) -> URL {
        var dir = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        fatalError("no Package.swift above \(filePath)")
    }

    /// `Fixtures/` at the package root.
    static var fixtures: URL { packageRoot().appendingPathComponent("Fixtures") }
    /// The tiny random-weight checkpoint with the real architecture.
    static var tinyClip: URL { fixtures.appendingPathComponent("clip-reference/tiny-clip") }
    /// transformers' outputs for the tiny checkpoint.
    static var golden: URL { fixtures.appendingPathComponent("clip-reference/golden.safetensors") }
    /// A checkpoint of other shapes made by `Scripts/make_shape_fixtures.py`.
    static func shape(_ name: String) -> URL { fixtures.appendingPathComponent("shapes/\(name)") }
}
