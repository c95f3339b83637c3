import Foundation

/// Locates the imaging fixtures: walks up from this source file to the directory holding
/// `Package.swift` (the package root), then into `Fixtures/`.
enum ImagingFixtures {
    static let packageRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    static var fixtures: URL { packageRoot.appendingPathComponent("Fixtures") }
    static var clipReference: URL { fixtures.appendingPathComponent("clip-reference") }
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
