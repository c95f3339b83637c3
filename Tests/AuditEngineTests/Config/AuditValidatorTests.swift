import Foundation
import Testing

@testable import AuditEngine

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Audit validator")
struct AuditValidatorTests {
    /// A folder with `audit.yaml`, `data/m.csv` and images under `data/val/`.
    func setUp(csv: String, images: [String], extra: String = "") throws -> (TempDir, AuditConfig) {
        let dir = try TempDir()
        try dir.write(
            "audit.yaml",
            """
            name: v
            manifest:
              path: data/m.csv
            attributes: [race, gender]
            min_group_size: 2
            designs:
              - name: race
                target: race
                classes: {White: white person, Black: black person, Indian: indian person}
              - name: gender
                target: gender
                classes: {Male: man, Female: woman}
            \(extra)
            """)
        try dir.write("data/m.csv", csv)
        for image in images { try dir.write("data/\(image)", Data([0xFF])) }
        return (dir, try AuditConfig.load(contentsOf: dir.url.appendingPathComponent("audit.yaml")))
    }

    @Test func usableRowsAndGroupCounts() throws {
        let (dir, config) = try setUp(
            csv: """
                file,age,gender,race,service_test
                val/1.jpg,20-29,Male,White,True
                val/2.jpg,3-9,Female,Black,False
                val/3.jpg,more than 70,Female,Black,True

                """, images: ["val/1.jpg", "val/2.jpg", "val/3.jpg"])
        defer { dir.cleanUp() }
        let report = try AuditValidator.validate(config)
        #expect(report.isValid)
        #expect(report.rowsRead == 3)
        #expect(report.usableRows.map(\.file) == ["val/1.jpg", "val/2.jpg", "val/3.jpg"])
        #expect(report.usableRows[1].truth(for: config.designs[0]) == "Black")
        #expect(report.usableRows[1].group(of: ["race", "gender"]) == "Black|Female")
        #expect(
            report.groupCounts.filter { $0.attribute == "race" }
                == [GroupCount(attribute: "race", group: "Black", count: 2), GroupCount(attribute: "race", group: "White", count: 1)])
        #expect(report.warnings.contains { $0.hasPrefix("race: 1 group(s) smaller than min_group_size 2: White (1)") })
        #expect(report.warnings.contains { $0 == "design \"race\": no usable row has class \"Indian\" as its race" })
        #expect(!report.lines.isEmpty)
    }

    @Test func unknownLabelValuesAreOneErrorWithCounts() throws {
        let (dir, config) = try setUp(
            csv: """
                file,gender,race
                val/1.jpg,Male,Latino
                val/2.jpg,Female,Asian
                val/3.jpg,Female,Latino
                val/4.jpg,Male,White

                """, images: ["val/1.jpg", "val/2.jpg", "val/3.jpg", "val/4.jpg"])
        defer { dir.cleanUp() }
        let report = try AuditValidator.validate(config)
        #expect(
            report.errors.map(\.description) == [
                "audit.yaml:8: designs[0].target: unknown values in column \"race\" for design \"race\": \"Latino\" (2), \"Asian\" (1); classes are: \"White\", \"Black\", \"Indian\""
            ])
        #expect(!report.isValid)
    }

    @Test func duplicateRowsAreSkippedWithTheFirstLine() throws {
        let (dir, config) = try setUp(
            csv: """
                file,gender,race
                val/1.jpg,Male,White
                val/2.jpg,Female,Black
                val/1.jpg,Male,White
                val//2.jpg,Male,Black

                """, images: ["val/1.jpg", "val/2.jpg"])
        defer { dir.cleanUp() }
        let report = try AuditValidator.validate(config)
        #expect(report.usableRows.map(\.line) == [2, 3])
        #expect(
            report.skipped.map(\.description) == [
                "line 4 (val/1.jpg): duplicate of line 2 (image val/1.jpg)",
                "line 5 (val//2.jpg): image val//2.jpg already listed on line 3 with other labels (the first row counts)"
            ])
        #expect(report.skippedByReason.count == 2)
        // The validator keeps a hash per path, not the path: with every hash the same, it must
        // still tell a duplicate from another file by the path itself.
        let manifest = try Manifest.read(contentsOf: config.manifest.path)
        var pass = ValidationPass(
            config: config, manifestURL: manifest.url, columns: manifest.columns, checkImageFiles: true,
            pathHash: { _ in 42 })
        for row in manifest.rows { pass.add(row) }
        let colliding = pass.finish()
        #expect(colliding.usableRows.map(\.line) == [2, 3])
        #expect(colliding.skipped.map(\.description) == report.skipped.map(\.description))
    }

    @Test func missingImagesEscapesAndEmptyLabelsAreSkipped() throws {
        let (dir, config) = try setUp(
            csv: """
                file,gender,race
                val/1.jpg,Male,White
                val/missing.jpg,Female,Black
                ../outside.jpg,Male,White
                val/../val/1.jpg,Male,White
                /etc/passwd,Male,White
                val/link.jpg,Female,Black
                val/2.jpg,,Black
                ,Male,White
                val/2.jpg,Female, 
                val/2.jpg,Female,Black,extra

                """, images: ["val/1.jpg", "val/2.jpg"])
        defer { dir.cleanUp() }
        try dir.write("outside.jpg", Data([0]))
        try FileManager.default.createSymbolicLink(
            atPath: dir.url.appendingPathComponent("data/val/link.jpg").path,
            withDestinationPath: dir.url.appendingPathComponent("outside.jpg").path)
        let report = try AuditValidator.validate(config)
        #expect(report.errors.isEmpty)
        // Line 5 names line 2's file again (`val/../val/1.jpg` is `val/1.jpg`): a duplicate.
        #expect(report.usableRows.map(\.line) == [2])
        let reasons = report.skipped.map { "\($0.line) \($0.reason.kind)" }
        #expect(
            reasons == [
                "3 image not found", "4 path outside image_root", "5 duplicate row", "6 path outside image_root",
                "7 path outside image_root", "8 empty gender", "9 empty file", "10 empty race",
                "11 wrong number of fields"
            ])
        #expect(
            report.skipped[1].description
                == "line 4 (../outside.jpg): image path \"../outside.jpg\" is outside image_root (`..` leaves the folder)")
        #expect(report.skipped[2].reason == .duplicate(path: "val/../val/1.jpg", firstLine: 2, sameLabels: true))
        #expect(report.skipped[3].reason == .escapesImageRoot(path: "/etc/passwd", detail: "absolute path"))
        #expect(report.skipped[4].description.contains("a symlink resolves to"))
        #expect(report.missingImageCount == 1)
        #expect(report.missingImageExamples == ["val/missing.jpg"])
        #expect(report.skippedByReason.first == SkipCount(kind: .outsideImageRoot, count: 3))
        #expect(report.warnings.contains { $0.hasPrefix("1 image file(s) not found under") })
    }

    @Test func missingColumnsPointIntoTheAuditFile() throws {
        let (dir, config) = try setUp(csv: "path,race\nval/1.jpg,White\n", images: ["val/1.jpg"])
        defer { dir.cleanUp() }
        let report = try AuditValidator.validate(config)
        #expect(
            report.errors.map(\.description) == [
                "audit.yaml:3: manifest.path: the manifest has no file column \"file\" (columns: path, race)",
                "audit.yaml:4: attributes[1]: column \"gender\" is not in the manifest (columns: path, race)",
                "audit.yaml:11: designs[1].target: target column \"gender\" of design \"gender\" is not in the manifest (columns: path, race)"
            ])
        #expect(throws: AuditFileError.self) { try RowChecker(config: config, columns: ["path", "race"]) }
    }

    @Test func missingManifestAndReferenceGroup() throws {
        let (dir, config) = try setUp(
            csv: "file,gender,race\nval/1.jpg,Male,White\n", images: ["val/1.jpg"],
            extra: "reference_groups: {race: Black}")
        defer { dir.cleanUp() }
        let report = try AuditValidator.validate(config)
        #expect(
            report.errors.map(\.description) == [
                "audit.yaml:13: reference_groups.race: reference group \"Black\" has no usable rows (groups: White)"
            ])
        try FileManager.default.removeItem(at: config.manifest.path)
        let error = try #require(throws: AuditFileError.self) { try AuditValidator.validate(config) }
        #expect(error.description.hasPrefix("audit.yaml:3: manifest.path: manifest not found: /"))
    }

    /// A header-only manifest (or one whose every row is skipped) is one error, the cause; the
    /// reference groups' "no usable rows" used to come first, one per attribute.
    @Test func noUsableRowIsOneErrorWithTheCause() throws {
        let (dir, config) = try setUp(
            csv: "file,age,gender,race,service_test\n", images: [],
            extra: "reference_groups: {race: White, gender: Male}")
        defer { dir.cleanUp() }
        let report = try AuditValidator.validate(config)
        #expect(report.errors.map(\.description) == ["audit.yaml:3: manifest.path: no usable rows in m.csv: it has no data rows"])
        #expect(report.warnings.isEmpty, "\(report.warnings)")
    }

    /// A directory or a FIFO named as an image was "image not found" (the directory) or, when
    /// read, "you don't have permission" (the FIFO): now both say what they are.
    @Test func directoriesAndFIFOsAreNotImageFiles() throws {
        let (dir, config) = try setUp(
            csv: """
                file,age,gender,race,service_test
                val/1.jpg,20-29,Male,White,True
                val/folder,3-9,Female,Black,False
                val/pipe,3-9,Female,Black,False

                """, images: ["val/1.jpg"])
        defer { dir.cleanUp() }
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("data/val/folder"), withIntermediateDirectories: true)
        #expect(mkfifo(dir.url.appendingPathComponent("data/val/pipe").path, 0o644) == 0)
        let report = try AuditValidator.validate(config)
        #expect(report.usableRows.map(\.file) == ["val/1.jpg"])
        #expect(
            report.skipped.map { "\($0.reason)" } == [
                "image path \"val/folder\" is a directory, not a file",
                "image path \"val/pipe\" is a FIFO, not a file"
            ])
        #expect(Set(report.skipped.map(\.reason.kind)) == [.notAFile])
    }

    @Test func rowCheckerWithoutImageChecks() throws {
        let (dir, config) = try setUp(csv: "file,gender,race\n", images: [])
        defer { dir.cleanUp() }
        let checker = try RowChecker(config: config, columns: ["file", "gender", "race"], checkImageFiles: false)
        guard case .usable(let row) = checker.check(ManifestRow(line: 2, fields: ["a/b.jpg", " Male ", "White"])) else {
            Issue.record("expected a usable row")
            return
        }
        #expect(row.attributes == ["gender": "Male", "race": "White"])
        #expect(row.imageURL == config.manifest.imageRoot.appendingPathComponent("a/b.jpg").standardizedFileURL)
    }
}
