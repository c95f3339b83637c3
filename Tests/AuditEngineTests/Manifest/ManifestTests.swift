import Foundation
import TestSupport
import Testing

@testable import AuditEngine

@Suite("Manifest reader")
struct ManifestTests {
    @Test func quotedFieldsEmbeddedCommasAndNewlines() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = try dir.write(
            "m.csv",
            "file,caption,race\n\"a.jpg\",\"hello, world\",White\nb.jpg,\"two\nlines\",\"Black\"\nc.jpg,\"say \"\"hi\"\"\",Indian\n")
        let manifest = try Manifest.read(contentsOf: url)
        #expect(manifest.columns == ["file", "caption", "race"])
        #expect(
            manifest.rows.map(\.fields) == [
                ["a.jpg", "hello, world", "White"],
                ["b.jpg", "two\nlines", "Black"],
                ["c.jpg", "say \"hi\"", "Indian"]
            ])
        #expect(manifest.rows.map(\.line) == [2, 3, 5])
        #expect(manifest.skipped.isEmpty)
        #expect(manifest.value(of: "race", in: manifest.rows[1]) == "Black")
    }

    @Test func crlfBomAndTrailingBlankLines() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        var data = Data([0xEF, 0xBB, 0xBF])
        data.append(Data("\"file\",race\r\na.jpg,White\r\n\r\nb.jpg,\"East Asian\"\r\n\r\n\r\n".utf8))
        let url = try dir.write("m.csv", data)
        let manifest = try Manifest.read(contentsOf: url)
        #expect(manifest.columns == ["file", "race"])
        #expect(manifest.rows.map(\.fields) == [["a.jpg", "White"], ["b.jpg", "East Asian"]])
        #expect(manifest.rows.map(\.line) == [2, 4])
    }

    @Test func raggedRowsAreSkippedWithReason() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = try dir.write("m.csv", "file,gender,race\na.jpg,Male,White\nb.jpg,Female\nc.jpg,Male,Black,extra\nd.jpg,Female,Indian\n")
        let manifest = try Manifest.read(contentsOf: url)
        #expect(manifest.rows.map(\.line) == [2, 5])
        #expect(
            manifest.skipped == [
                SkippedRow(line: 3, file: "b.jpg", reason: .wrongFieldCount(expected: 3, found: 2)),
                SkippedRow(line: 4, file: "c.jpg", reason: .wrongFieldCount(expected: 3, found: 4))
            ])
        #expect(manifest.skipped[0].description == "line 3 (b.jpg): expected 3 fields, found 2")
    }

    @Test func unterminatedQuoteIsAnErrorNamingTheRow() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = try dir.write("bad.csv", "file,race\na.jpg,White\nb.jpg,\"Black\nc.jpg,Indian\n")
        let error = try #require(throws: ManifestError.self) { try Manifest.read(contentsOf: url) }
        #expect(error.line == 3)
        #expect(error.description.hasPrefix("bad.csv:3: unterminated quoted field"))
        #expect(!error.description.contains("\n"))
    }

    @Test func invalidUTF8IsAnErrorNamingTheRow() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        var data = Data("file,race\na.jpg,White\nb.jpg,".utf8)
        data.append(contentsOf: [0xFF, 0xFE])
        data.append(Data("\n".utf8))
        let url = try dir.write("latin.csv", data)
        let error = try #require(throws: ManifestError.self) { try Manifest.read(contentsOf: url) }
        #expect(error.line == 3)
        #expect(error.description.hasPrefix("latin.csv:3: invalid UTF-8"))
    }

    @Test func missingAndEmptyFiles() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let missing = try #require(throws: ManifestError.self) {
            try Manifest.read(contentsOf: dir.url.appendingPathComponent("nope.csv"))
        }
        #expect(missing.description == "nope.csv: manifest not found")
        let empty = try dir.write("empty.csv", "\n\n")
        #expect(throws: ManifestError.self) { try Manifest.read(contentsOf: empty) }
        let dup = try dir.write("dup.csv", "file,race,race\n")
        let error = try #require(throws: ManifestError.self) { try Manifest.read(contentsOf: dup) }
        #expect(error.description == "dup.csv:1: duplicate column \"race\" in the header")
    }

    @Test func fairFaceHeaderAndRealisticRows() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = try dir.write(
            "fairface_label_val.csv",
            """
            file,age,gender,race,service_test
            val/1.jpg,3-9,Male,East Asian,False
            val/2.jpg,50-59,Female,East Asian,True
            val/3.jpg,30-39,Male,White,True
            val/4.jpg,20-29,Female,Latino_Hispanic,True
            val/5.jpg,more than 70,Male,Southeast Asian,False
            val/6.jpg,0-2,Female,Middle Eastern,True

            """)
        let manifest = try Manifest.read(contentsOf: url)
        #expect(manifest.columns == ["file", "age", "gender", "race", "service_test"])
        #expect(manifest.rows.count == 6)
        #expect(manifest.value(of: "age", in: manifest.rows[4]) == "more than 70")
        #expect(manifest.value(of: "race", in: manifest.rows[3]) == "Latino_Hispanic")
        let limited = try Manifest.read(contentsOf: url, limit: 2)
        #expect(limited.rows.map(\.line) == [2, 3])
    }

    @Test func largeFileStreamsAcrossChunks() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        var text = "file,note,race\n"
        for i in 1...20_000 {
            text += i % 1000 == 0 ? "img/\(i).jpg,\"multi\r\nline, \(i)\",White\r\n" : "img/\(i).jpg,n\(i),Black\r\n"
        }
        let url = try dir.write("big.csv", text)
        let manifest = try Manifest.read(contentsOf: url)
        #expect(manifest.rows.count == 20_000)
        #expect(manifest.rows[999].fields == ["img/1000.jpg", "multi\r\nline, 1000", "White"])
        #expect(manifest.rows[999].line == 1001)
        #expect(manifest.rows[1000].line == 1003)
        #expect(manifest.rows.last?.line == 20_020) // the last row is itself a two-line record
    }

    @Test func spacesAroundUnquotedFieldsAreTrimmed() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = try dir.write("m.csv", "file, race\na.jpg, \"East Asian\" \nb.jpg ,more than 70\n")
        let manifest = try Manifest.read(contentsOf: url)
        #expect(manifest.columns == ["file", "race"])
        #expect(manifest.rows.map(\.fields) == [["a.jpg", "East Asian"], ["b.jpg", "more than 70"]])
    }

    /// The Python `csv` module as an independent reference (Fixtures/Generators/make_csv_cases.py).
    @Test func matchesPythonCSVReader() throws {
        let folder = FixturePaths.packageRoot.appendingPathComponent("Fixtures/csv-cases")
        let data = try Data(contentsOf: folder.appendingPathComponent("expected.json"))
        let expected = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [[String]]])
        #expect(expected.count >= 8)
        for (name, rows) in expected.sorted(by: { $0.key < $1.key }) {
            let records = try CSVRecordReader.readAll(contentsOf: folder.appendingPathComponent(name))
            #expect(records.map(\.fields) == rows, "\(name)")
        }
    }
}
