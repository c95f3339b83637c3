import Foundation
import Testing

@testable import AuditEngine

/// `card` and `diff` read report CSVs a record at a time (``CSVStream``) and pair designs'
/// lines without keeping them (``PredictionJoin``); both must give what reading whole gave.
@Suite("Report CSVs read as streams")
struct PredictionStreamTests {
    static func temporaryFile(_ data: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-stream-\(UUID().uuidString).csv")
        try data.write(to: url)
        return url
    }

    static func records(_ url: URL) throws -> [[String]] {
        let stream = try CSVStream(url)
        var out: [[String]] = []
        while let record = try stream.next() { out.append(record.fields) }
        return out
    }

    @Test func streamReadsWhatSimpleCSVReads() throws {
        // A record longer than the read chunk, quotes across chunk ends, CRLF, a lone CR, no
        // final line end, an empty last field.
        let long = String(repeating: "x\"y,", count: 40_000)
        var writer = CSVWriter()
        for row in [["a", "b,c", "d\"e", ""], ["line\nbreak", " spaced ", long], ["é名", "\r"], [""]] { writer.writeRow(row) }
        for text in [writer.text, "a,b\r\nc,d\r\n", "a,b\nc,", "h\n\"q\"\"\",x"] {
            let url = try Self.temporaryFile(Data(text.utf8))
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(try Self.records(url) == SimpleCSV.parse(text), "\(text.prefix(40).debugDescription)")
        }
        let open = try Self.temporaryFile(Data("a,b\nc,\"open\n".utf8))
        defer { try? FileManager.default.removeItem(at: open) }
        #expect(
            "\(try #require(throws: AuditError.self) { try Self.records(open) })" == "\(open.path): record 2: a quoted field is not closed")
        let latin1 = try Self.temporaryFile(Data([0x61, 0x0A, 0x62, 0xE9, 0x0A]))
        defer { try? FileManager.default.removeItem(at: latin1) }
        #expect("\(try #require(throws: AuditError.self) { try Self.records(latin1) })" == "\(latin1.path): not UTF-8 text")
    }

    @Test func streamGoesBackToARecord() throws {
        let url = try Self.temporaryFile(Data("h\n1\n2\n3\n".utf8))
        defer { try? FileManager.default.removeItem(at: url) }
        let stream = try CSVStream(url)
        _ = try stream.next()
        let second = try #require(try stream.next())
        #expect(second.start == CSVStream.Position(offset: 2, record: 2) && second.fields == ["1"])
        _ = try stream.next()
        stream.seek(to: second.start)
        #expect(try stream.next()?.fields == ["1"])
        #expect(try stream.next()?.start.record == 3)
    }

    /// A copy of `dir` whose predictions.csv lists the lines of the designs at `reversing` (by
    /// their order in the file) backwards: the same images, no longer in the same order.
    static func reordered(_ dir: URL, reversing: Set<Int>) throws -> URL {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-reordered-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: dir, to: copy)
        let file = copy.appendingPathComponent("predictions.csv")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        var blocks: [[String]] = []
        var design: String?
        for line in lines.dropFirst() {
            let name = String(line.prefix { $0 != "," })
            if name != design { blocks.append([]); design = name }
            blocks[blocks.count - 1].append(line)
        }
        let text =
            ([lines[0]] + blocks.enumerated().flatMap { reversing.contains($0.offset) ? $0.element.reversed() : $0.element })
            .joined(separator: "\n") + "\n"
        try text.write(to: file, atomically: true, encoding: .utf8)
        return copy
    }

    /// Lines that do not line up are paired by partitions, with the counts lined-up lines give.
    @Test func reorderedLinesGiveTheSameDiffAndCard() throws {
        let (dir, _) = try ReportFolderTests.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        let blocks = folder.predictionBlocks.count
        #expect(blocks >= 3)
        let reordered = try Self.reordered(dir, reversing: Set(stride(from: 1, to: blocks, by: 2)))
        defer { try? FileManager.default.removeItem(at: reordered) }
        let other = try ReportFolder.read(reordered)
        #expect(other.data.comparisons == folder.data.comparisons)
        #expect(other.data.comparisons.contains { $0.baseOnly + $0.variantOnly > 0 })
        #expect(try RunDiff.compare(folder, other) == RunDiff.compare(folder, folder))
        #expect(try RunDiff.compare(folder, other).allSatisfy { $0.test == .paired })
    }

    @Test func designLinesSplitByAnotherDesignAreAnError() throws {
        let (dir, _) = try ReportFolderTests.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("predictions.csv")
        var lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        let first = String(lines[1].prefix { $0 != "," })
        let other = try #require(lines.firstIndex { !$0.hasPrefix(first + ",") && $0 != lines[0] })
        lines.append(lines[1])
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let error = try #require(throws: AuditError.self) { try ReportFolder.read(dir) }
        #expect(
            "\(error)"
                == "\(file.path): record \(lines.count): design \"\(first)\" again after other designs' lines (its lines start at record 2); clip-audit writes each design's lines together"
        )
        #expect(other > 1)
    }
}
