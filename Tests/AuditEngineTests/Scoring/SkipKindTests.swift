import CLIPEngine
import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// Rows skipped for an image that cannot be used are counted under the kind of cause the image
/// has, and `validate` and `run` count and order the kinds of one manifest alike.
@Suite(.serialized) struct SkipKindTests {
    static let images = FixturePaths.clipReference.appendingPathComponent("images")
    /// Below real_astronaut.png (512×512), above every gradient (227×300).
    static let maxPixels = 100_000

    /// A folder with six usable images and one of each kind of unusable one; returns the audit
    /// file and, per bad row's file, the kind it must be counted under.
    static func messyAudit(in dir: TempDir) throws -> (audit: URL, expected: [String: SkipKind]) {
        let fm = FileManager.default
        let folder = dir.url.appendingPathComponent("images")
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        func copy(_ name: String, as target: String) throws -> Data {
            let data = try Data(contentsOf: images.appendingPathComponent(name))
            try data.write(to: folder.appendingPathComponent(target))
            return data
        }
        let good = [
            "gradient_gray.jpg", "gradient_rgb.jpg", "gradient_progressive.jpg",
            "gradient_palette.png", "tiny_upscale.png", "gradient_gray16.png"
        ]
        for name in good { _ = try copy(name, as: name) }
        let jpeg = try Data(contentsOf: images.appendingPathComponent("gradient_rgb.jpg"))
        try jpeg.prefix(jpeg.count / 2).write(to: folder.appendingPathComponent("half.jpg"))
        let png = try Data(contentsOf: images.appendingPathComponent("gradient_rgba.png"))
        try png.prefix(png.count / 2).write(to: folder.appendingPathComponent("half.png"))
        try Data("not an image\n".utf8).write(to: folder.appendingPathComponent("text.jpg"))
        _ = try copy("real_astronaut.png", as: "large.png")
        try Data(contentsOf: FixturePaths.root.appendingPathComponent("codec-cases/cmyk.jpg"))
            .write(to: folder.appendingPathComponent("cmyk.jpg"))
        try Data().write(to: folder.appendingPathComponent("empty.png"))
        // A quantisation table segment whose length (5) is too short for a table.
        var corruptJPEG = Data([0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x05])
        corruptJPEG.append(Data(repeating: 0x5A, count: 4000))
        try corruptJPEG.write(to: folder.appendingPathComponent("corrupt.jpg"))
        var corruptPNG = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        corruptPNG.append(Data(repeating: 0x33, count: 100))
        try corruptPNG.write(to: folder.appendingPathComponent("corrupt.png"))

        // The bad rows come in an order in which the kinds' first appearances differ from
        // their frequencies: a count that followed the file would list them otherwise.
        let expected: [(file: String, kind: SkipKind)] = [
            ("images/text.jpg", .notAnImage), ("images/gone1.jpg", .imageNotFound), ("images/half.jpg", .truncated),
            ("images/large.png", .tooLarge), ("images/half.png", .truncated), ("images/gone2.png", .imageNotFound),
            ("images/cmyk.jpg", .unsupported), ("images/empty.png", .emptyFile), ("images/corrupt.jpg", .corruptJPEG),
            ("images/corrupt.png", .corruptPNG), ("images/gone3.png", .imageNotFound)
        ]
        var rows = ["file,gender,race"]
        for (i, file) in (good.map { "images/\($0)" } + expected.map(\.file)).enumerated() {
            rows.append("\(file),\(i % 2 == 0 ? "Male" : "Female"),\(["White", "Black"][(i / 2) % 2])")
        }
        try (rows.joined(separator: "\n") + "\n").write(
            to: dir.url.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
        let audit = dir.url.appendingPathComponent("audit.yaml")
        try """
        name: skip-kinds
        model: \(FixturePaths.tinyCLIP.path)
        manifest: {path: manifest.csv, image_root: .}
        attributes: [race, gender]
        reference_groups: {race: White}
        min_group_size: 1
        designs:
          - name: gender
            target: gender
            classes: {Male: [man], Female: [woman]}
        """.write(to: audit, atomically: true, encoding: .utf8)
        return (audit, Dictionary(uniqueKeysWithValues: expected))
    }

    func runOptions() -> RunOptions {
        var options = RunOptions()
        options.useCache = false
        options.threads = 2
        options.batchSize = 4
        options.maxPixels = Self.maxPixels
        return options
    }

    @Test(
        "run counts each unusable image under its kind: missing, truncated JPEG and PNG, not an image, too large, unsupported, empty, corrupt"
    )
    func runCountsEachDecodeFailureUnderItsKind() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let (audit, expected) = try Self.messyAudit(in: dir)
        let run = try AuditRunner.run(auditFile: audit, options: runOptions())
        #expect(run.usableRows == 6)
        let kinds = Dictionary(uniqueKeysWithValues: run.skipped.map { ($0.file ?? "", $0.kind) })
        #expect(kinds == expected)
        // The row's reason keeps the decoder's details; the kind does not depend on them.
        let truncated = run.skipped.first { $0.file == "images/half.png" }
        #expect(truncated?.reason.hasPrefix("truncated (") == true, "\(truncated?.reason ?? "")")
    }

    @Test("validate's image check gives each unusable image the kind run gives it")
    func validateGivesRunsKinds() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let (audit, expected) = try Self.messyAudit(in: dir)
        var report = try AuditValidator.validate(AuditConfig.load(contentsOf: audit))
        AuditValidator.checkImages(&report, depth: .decode, threads: 2, maxPixels: Self.maxPixels)
        var kinds = Dictionary(uniqueKeysWithValues: report.undecodableImages.map { ($0.file ?? "", $0.kind) })
        for row in report.skipped { kinds[row.file ?? ""] = row.reason.kind }
        #expect(kinds == expected)
    }

    @Test("validate and run count and order the skipped kinds of one manifest alike, in report.md and run.json too")
    func validateAndRunCountAlike() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let (audit, _) = try Self.messyAudit(in: dir)
        var report = try AuditValidator.validate(AuditConfig.load(contentsOf: audit))
        AuditValidator.checkImages(&report, depth: .decode, threads: 2, maxPixels: Self.maxPixels)
        let validated = report.skipCountsForRun.map { "\($0.kind): \($0.count)" }
        // Most frequent first, then by text.
        #expect(
            validated == [
                "image not found: 3", "truncated: 2", "corrupt JPEG data: 1", "corrupt PNG data: 1", "empty file: 1",
                "image too large: 1", "not a JPEG or PNG file: 1", "unsupported image: 1"
            ])
        // validate's own lines list the manifest's skips in the same order.
        #expect(report.lines.filter { $0.hasPrefix("  skipped, ") } == ["  skipped, image not found: 3"])

        let run = try AuditRunner.run(auditFile: audit, options: runOptions())
        let out = dir.url.appendingPathComponent("report")
        try ReportWriter.write(run, to: out)
        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        let table = markdown.components(separatedBy: "| reason | rows |\n|---|---:|\n")[1].components(separatedBy: "\n\n")[0]
        let reported = table.split(separator: "\n").map { line -> String in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return "\(cells[0]): \(cells[1])"
        }
        #expect(reported == validated)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any])
        let byReason = try #require(json["skipped_by_reason"] as? [String: Int])
        #expect(byReason == Dictionary(uniqueKeysWithValues: report.skipCountsForRun.map { ("\($0.kind)", $0.count) }))
    }

    @Test("an empty file column and a zero-byte image, which read alike, are one count, not a repeated key")
    func kindsThatReadAlikeAreOneCount() {
        let counts = SkipKind.counts([.emptyValue(column: "file"), .emptyFile, .truncated])
        #expect(counts.map { "\($0.kind): \($0.count)" } == ["empty file: 2", "truncated: 1"])
    }
}
