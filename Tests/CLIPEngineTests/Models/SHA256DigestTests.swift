import Foundation
import Testing

@testable import CLIPEngine

extension Models {
    @Suite struct SHA256DigestTests {
        @Test func fipsVectors() {
            #expect(SHA256Digest.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(SHA256Digest.hex(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            let two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            #expect(SHA256Digest.hex(of: Data(two.utf8)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
            let bytes = Array("abc".utf8)
            #expect(
                bytes.withUnsafeBytes { SHA256Digest.hex(of: $0) } == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        }

        /// A file larger than one 4 MiB chunk, against coreutils' sha256sum.
        @Test func fileMatchesSha256sum() throws {
            for url in [
                LoopbackHubServer.tinyClip.appendingPathComponent("model.safetensors"),
                LoopbackHubServer.tinyClip.appendingPathComponent("config.json")
            ] {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
                process.arguments = [url.path]
                let pipe = Pipe()
                process.standardOutput = pipe
                try process.run()
                let output = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let expected = String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init)
                #expect(try SHA256Digest.hex(ofFile: url) == expected)
            }
        }

        @Test func emptyAndMissingFiles() throws {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)")
            try Data().write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(try SHA256Digest.hex(ofFile: url) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(throws: FingerprintError.self) { try SHA256Digest.hex(ofFile: url.appendingPathExtension("nope")) }
        }
    }
}
