import CLIPEngine
import Foundation
import Testing

/// Files written in pieces (a report's predictions.csv of a large run is never whole in memory)
/// are still whole or not at all.
@Suite("Atomic files")
struct AtomicFileTests {
    @Test func piecesMakeTheWholeFileAndAFailingWriterLeavesTheOldOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("big.txt")
        var expected = ""
        try AtomicFile.write(to: url) { output in
            for i in 0..<20_000 {
                let line = "line \(i) ☃\n"
                expected += line
                try output.write(line)
            }
            try output.write(Data("end".utf8))
        }
        expected += "end"
        #expect(try Data(contentsOf: url) == Data(expected.utf8))
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try AtomicFile.write(to: url) { output in
                try output.write(String(repeating: "y", count: 200_000))
                throw Stop()
            }
        }
        #expect(try Data(contentsOf: url) == Data(expected.utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["big.txt"])
    }
}
