import Foundation
import Testing

@testable import AuditEngine
@testable import CLIPEngine

/// Labels that display as other text: bidi overrides and isolates, zero-width characters (Unicode
/// category Cf), and bare URLs that a Markdown renderer would make links of. From the manifest and
/// a checkpoint folder's name they reach every output; none may carry them as they are.
@Suite("Invisible characters and bare URLs in every report format")
struct InvisibleTextTests {
    /// `Black` + RIGHT-TO-LEFT OVERRIDE + `etihW` displays as "BlackWhite".
    static let override = "Black\u{202E}etihW"
    static let isolate = "\u{2067}Asian\u{2069}"
    static let zeroWidth = "Ind\u{200B}ian"
    static let joiner = "La\u{200D}tino\u{FEFF}"
    static let tag = "Tag\u{E0041}"
    static let url = "http://evil.example/x"
    static let secure = "see https://evil.example"
    static let www = "www.evil.example"
    static let races = [override, isolate, zeroWidth, joiner, tag, url, secure, www, "White"]
    /// A local checkpoint folder whose name holds an override.
    static let modelID = "/home/someone/checkpoints/clip\u{202E}lanif"

    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.generalCategory == .format }

    static func writtenFolder() throws -> URL {
        let run = HostileFixture.run(races: races, modelID: modelID)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-invisible-\(UUID().uuidString)")
        try ReportWriter.write(run, to: dir)
        return dir
    }

    /// Every file below `dir`, relative path → text.
    static func files(_ dir: URL) throws -> [(String, String)] {
        let paths = try FileManager.default.subpathsOfDirectory(atPath: dir.path)
        return try paths.sorted().compactMap { path in
            var isDirectory: ObjCBool = false
            let url = dir.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            return (path, try String(contentsOf: url, encoding: .utf8))
        }
    }

    @Test func noOutputHoldsAnInvisibleFormattingCharacter() throws {
        let dir = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        _ = try ModelCardExport.write(folder.data, to: dir.appendingPathComponent("card"))
        try RunDiff.write(try RunDiff.compare(folder, folder), a: folder, b: folder, to: dir.appendingPathComponent("diff"))
        let written = try Self.files(dir)
        for name in [
            "report.md", "details.md", "report.html", "metrics.csv", "predictions.csv", "card/fairness.md", "card/model-card.json",
            "card/model-index.yaml", "diff/diff.md", "diff/diff.csv"
        ] {
            #expect(written.contains { $0.0 == name }, "\(name) not written")
        }
        #expect(written.contains { $0.0.hasPrefix("charts/") && $0.0.hasSuffix(".svg") })
        // run.json keeps the labels as they were, JSON-escaped; it is provenance, not a report.
        for (name, text) in written where name != "run.json" {
            let found = text.unicodeScalars.first(where: Self.isInvisible)
            #expect(found == nil, "\(name) holds U+\(String(format: "%04X", found?.value ?? 0))")
        }
        // They are shown, as U+FFFD, where they were.
        let markdown = try #require(written.first { $0.0 == "report.md" }?.1)
        #expect(markdown.contains("Black\u{FFFD}etihW"))
        #expect(markdown.contains("Ind\u{FFFD}ian"))
        let metrics = try #require(written.first { $0.0 == "metrics.csv" }?.1)
        #expect(metrics.contains("\u{FFFD}Asian\u{FFFD}"))
    }

    /// GitHub makes `http://…`, `https://…` and `www.…` links in Markdown text: a label in
    /// report.md, details.md, the card's fairness.md or diff.md stays text, and still shows as
    /// itself (report.html reads the escapes back).
    @Test func bareURLsInLabelsAreNotLinks() throws {
        let dir = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        _ = try ModelCardExport.write(folder.data, to: dir.appendingPathComponent("card"))
        try RunDiff.write(try RunDiff.compare(folder, folder), a: folder, b: folder, to: dir.appendingPathComponent("diff"))
        for name in ["report.md", "details.md", "card/fairness.md", "diff/diff.md"] {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            for autolink in ["http://", "https://", "www.evil"] {
                #expect(!text.contains(autolink), "\(name) holds \(autolink)")
            }
            #expect(text.contains("http\\://evil.example/x"), "\(name)")
            #expect(text.contains("www\\.evil.example"), "\(name)")
        }
        let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains(">http://evil.example/x<") || html.contains("http://evil.example/x</"))
        #expect(html.contains("www.evil.example"))
        #expect(!html.contains("href=\"http"))
        #expect(!html.contains("http\\:"))
    }

    @Test func escapesOfURLsAndInvisibleCharacters() {
        #expect(MarkdownEscape.text("http://x.y") == "http\\://x.y")
        #expect(MarkdownEscape.text("HTTPS://x.y") == "HTTPS\\://x.y")
        #expect(MarkdownEscape.text("ftp://x") == "ftp\\://x")
        #expect(MarkdownEscape.text("WWW.x.y") == "WWW\\.x.y")
        #expect(MarkdownEscape.text("a\u{202E}b") == "a\u{FFFD}b")
        #expect(MarkdownEscape.code("a\u{200B}b") == "a\u{FFFD}b")
        // Ordinary names keep their dots and colons.
        for name in ["harm_rate:crime-related", "a photo of a {}.", "St. Louis", "1:2", "awww"] {
            #expect(MarkdownEscape.text(name) == name)
        }
        for text in [Self.url, Self.www, Self.secure] {
            #expect(MarkdownHTML.inline(MarkdownEscape.text(text)) == MarkdownHTML.escape(text))
        }
        #expect(CSVWriter.neutralise("a\u{2066}b") == "a\u{FFFD}b")
        #expect(SVGDocument.escapeText("a\u{202E}b") == "a\u{FFFD}b")
        #expect(ModelCardExport.yaml("a\u{202E}b") == "\"a\u{FFFD}b\"")
        #expect(JSONValue.string("a\u{2067}b").render(indent: 0) == "\"a\u{FFFD}b\"")
    }

    /// model-card.json names the model as model-index.yaml does: the Hub id, or the checkpoint's
    /// folder name, never the local path it was read from.
    @Test func modelCardJSONHasNoLocalPath() throws {
        let dir = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        let card = ModelCardExport.render(folder.data)
        let json = try #require(card.first { $0.name == "model-card.json" }?.text)
        #expect(!json.contains("/home/someone"))
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect((object["model_details"] as? [String: Any])?["name"] as? String == "clip\u{FFFD}lanif")
        for export in card { #expect(!export.text.contains("/home/someone"), "\(export.name)") }
    }
}
