import Foundation
import TestSupport

/// The imaging tests' fixtures (see `FixturePaths`) and small file helpers.
enum ImagingFixtures {
    static var fixtures: URL { FixturePaths.root }
    static var clipReference: URL { FixturePaths.clipReference }
    static func referenceImage(_ name: String) -> URL {
        clipReference.appendingPathComponent("images").appendingPathComponent(name)
    }
    static var codecCases: URL { fixtures.appendingPathComponent("codec-cases") }

    /// A JSON file under Fixtures/ as a dictionary.
    static func json(_ relativePath: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(relativePath))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return object
    }

    static func bytes(base64 string: String) -> [UInt8] {
        [UInt8](Data(base64Encoded: string) ?? Data())
    }

    /// A fresh temporary file holding `bytes`, named `name` (in its own directory).
    static func temporaryFile(named name: String, bytes: [UInt8]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }
}
