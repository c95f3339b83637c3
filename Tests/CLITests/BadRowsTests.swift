import Foundation
import Testing

/// Every kind of bad row is skipped with its reason, counted in report.md and
/// run.json, and the run completes; `--strict` makes any skip fatal.
@Suite("bad manifest rows", .serialized)
struct BadRowsTests {
    /// A manifest with good rows and one row of every bad kind; returns the bad kinds by line.
    static func makeMessyWorkspace() throws -> Workspace {
        let ws = try Workspace()
        let good = try ws.makeImages(6)
        let fm = FileManager.default
        let png = try Data(contentsOf: CLI.fixtures.appendingPathComponent("images/real_chelsea.png"))
        try png.prefix(png.count / 2).write(to: ws.images.appendingPathComponent("truncated.png"))
        var fakeJPEG = Data([0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x05])
        fakeJPEG.append(Data(repeating: 0x5A, count: 4000))
        try fakeJPEG.write(to: ws.images.appendingPathComponent("corrupt.jpg"))
        try Data(repeating: 0x5A, count: 400).write(to: ws.images.appendingPathComponent("text.png"))
        var fakePNG = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        fakePNG.append(Data(repeating: 0x33, count: 100))
        try fakePNG.write(to: ws.images.appendingPathComponent("corrupt.png"))
        try Data().write(to: ws.images.appendingPathComponent("empty.png"))
        let outside = ws.url.deletingLastPathComponent().appendingPathComponent("outside-\(UUID().uuidString).png")
        try png.write(to: outside)
        try fm.createSymbolicLink(atPath: ws.images.appendingPathComponent("link.png").path, withDestinationPath: outside.path)
        try fm.createDirectory(at: ws.url.appendingPathComponent("root"), withIntermediateDirectories: true)

        var rows = Workspace.rows(good)
        rows += [
            "images/not_there.png,Male,White", // missing file
            "images/truncated.png,Female,White", // truncated image
            "images/corrupt.jpg,Male,Black", // corrupt image
            "images/corrupt.png,Male,Black", // corrupt image (valid signature)
            "images/text.png,Male,Black", // not an image at all
            "images/empty.png,Female,Black", // zero bytes
            "../\(outside.lastPathComponent),Male,White", // `..`
            "\(outside.path),Male,White", // absolute
            "images/link.png,Female,White", // symlink out
            "\(good[1]),,White", // empty label
            "\(good[0]),Male,White", // duplicate, same labels
            "images/./\((good[2] as NSString).lastPathComponent),Male,Black" // same file, other labels
        ]
        try ws.writeManifest(rows)
        try ws.writeAudit()
        return ws
    }

    @Test("each bad row is skipped with its reason and counted; the run completes")
    func skipsAndCounts() throws {
        let ws = try Self.makeMessyWorkspace()
        defer { ws.cleanUp() }
        let out = ws.path("report")
        let result = try CLI.run(["run", ws.audit.path, "--output", out, "--no-cache", "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("12 row(s) skipped"), "\(result.stderr)")

        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json"))) as? [String: Any])
        let counts = try #require(json["counts"] as? [String: Int])
        #expect(counts["rows_scored"] == 6)
        #expect(counts["rows_skipped"] == 12)
        let skipped = try #require(json["skipped"] as? [[String: Any]])
        let reasons = Dictionary(uniqueKeysWithValues: skipped.map { ($0["line"] as! Int, $0["reason"] as! String) })
        // Line 1 is the header, the six good rows are lines 2–7.
        let expected: [Int: String] = [
            8: "image not found", 9: "truncated", 10: "JPEG", 11: "PNG", 12: "not a JPEG or PNG file", 13: "empty file (0 bytes)",
            14: "`..` leaves the folder", 15: "absolute path", 16: "a symlink resolves to",
            17: "empty value in column \"gender\"", 18: "duplicate of line 2", 19: "already listed on line 4 with other labels"
        ]
        for (line, fragment) in expected {
            #expect(reasons[line]?.contains(fragment) == true, "line \(line): \(reasons[line] ?? "not skipped"), expected \(fragment)")
        }
        let byReason = try #require(json["skipped_by_reason"] as? [String: Int])
        // Counted by kind of cause, without the details (line numbers, paths, libpng's words).
        #expect(
            byReason == [
                "image not found": 1, "truncated": 1, "corrupt JPEG data": 1, "corrupt PNG data": 1,
                "not a JPEG or PNG file": 1, "empty file": 1, "path outside image_root": 3,
                "empty gender": 1, "duplicate row": 1, "duplicate image with other labels": 1
            ])
        #expect(result.stderr.contains("path outside image_root: 3"), "\(result.stderr)")

        let report = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(report.contains("12 skipped"))
        for line in expected.keys { #expect(report.contains("| \(line) |"), "report.md does not list line \(line)") }
    }

    @Test("--strict makes any skipped row fatal, naming the first")
    func strictFails() throws {
        let ws = try Self.makeMessyWorkspace()
        defer { ws.cleanUp() }
        let out = ws.path("report")
        let result = try CLI.run(["run", ws.audit.path, "--output", out, "--no-cache", "--strict", "--threads", "1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--strict: 12 row(s) would be skipped; first at line 8"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/run.json"))
    }

    @Test("an image whose header claims more pixels than --max-pixels is skipped as too large")
    func pixelLimit() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(3)))
        try ws.writeAudit()
        let out = ws.path("report")
        // tiny_upscale.png is 20×13 (260 pixels); the gradients are 227×300.
        let none = try CLI.run(["run", ws.audit.path, "--output", out, "--no-cache", "--max-pixels", "100", "--threads", "1"])
        #expect(none.status != 0, "a run that could score no row must fail, not write empty tables")
        #expect(none.stderr.contains("no row could be scored"), "\(none.stderr)")
        let some = try CLI.run(["run", ws.audit.path, "--output", out, "--no-cache", "--max-pixels", "1000", "--threads", "1"])
        #expect(some.status == 0, "\(some.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json"))) as? [String: Any])
        let skipped = try #require(json["skipped"] as? [[String: Any]])
        #expect(skipped.count == 2)
        for entry in skipped {
            let reason = entry["reason"] as? String ?? ""
            #expect(reason.contains("1000"), "\(reason)")
        }
    }

    /// With a cache, images above the limit were scored from their cached embeddings: the
    /// report depended on what the cache held.
    @Test("--max-pixels skips the same images whether their embeddings are cached or not")
    func pixelLimitHoldsForCachedImages() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(3)))
        try ws.writeAudit()
        let cache = ws.path("cache.sqlite")
        let fill = try CLI.run(["run", ws.audit.path, "--output", ws.path("all"), "--cache", cache, "--threads", "1"])
        #expect(fill.status == 0, "\(fill.stderr)")
        let uncached = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("uncached"), "--no-cache", "--max-pixels", "1000", "--threads", "1"
        ])
        let cached = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("cached"), "--cache", cache, "--max-pixels", "1000", "--threads", "1"
        ])
        #expect(uncached.status == 0 && cached.status == 0, "\(uncached.stderr)\n\(cached.stderr)")
        #expect(cached.stderr.contains("0 image(s) encoded"), "\(cached.stderr)")
        for file in ["predictions.csv", "metrics.csv", "report.md"] {
            let a = try String(contentsOfFile: ws.path("uncached/\(file)"), encoding: .utf8)
            let b = try String(contentsOfFile: ws.path("cached/\(file)"), encoding: .utf8)
            #expect(a == b, "\(file) differs with a cache")
        }
    }

    @Test("a target value that is no class of its design is a configuration error, not a silent skip")
    func unknownLabelIsFatal() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        var rows = Workspace.rows(try ws.makeImages(4))
        rows[1] = rows[1].replacingOccurrences(of: "Female", with: "Femal")
        try ws.writeManifest(rows)
        try ws.writeAudit()
        let result = try CLI.run(["run", ws.audit.path, "--output", ws.path("report"), "--no-cache"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown values in column \"gender\""), "\(result.stderr)")
        #expect(result.stderr.contains("\"Femal\" (1)"), "\(result.stderr)")
    }
}
