import Foundation

/// Locations of the test fixtures, found from this file's path (no bundle resources needed):
/// the one place the test targets learn where the package and `Fixtures/` are.
public enum FixturePaths {
    /// The package root: the directory above this file that holds `Package.swift`.
    public static let packageRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    /// `Fixtures/` at the package root.
    public static var root: URL { packageRoot.appendingPathComponent("Fixtures") }

    /// `Fixtures/clip-reference/`: outputs of the public reference implementation.
    public static var clipReference: URL { root.appendingPathComponent("clip-reference") }

    /// `Fixtures/clip-reference/tiny-clip/`: a small CLIP checkpoint with the real tokenizer files.
    public static var tinyCLIP: URL { clipReference.appendingPathComponent("tiny-clip") }
}
