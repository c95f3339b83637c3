import Foundation
import Testing
@testable import AuditEngine

/// Published sources under a table are separate list items: notes on consecutive plain lines
/// render as one run-on paragraph in every Markdown viewer.
@Suite("published sources under a table")
struct PublishedNotesTests {
    @Test("two sources are two list items, one source a plain line")
    func sourcesAreListItems() throws {
        var run = ReportFixture.run()
        let index = try #require(run.config.designs.firstIndex { $0.name == "gender" })
        run.config.designs[index].published = [
            PublishedFigure(source: "CLIP paper, Table 4", metric: "accuracy", attribute: "race", values: [("Black", 0.967), ("White", 0.959)]),
            PublishedFigure(source: "CLIP model card", metric: "accuracy", attribute: "race", values: [("White", 0.965)]),
        ]
        let markdown = MarkdownReport.render(run)
        let notes = markdown.split(separator: "\n").filter { $0.contains("Published: CLIP") }
        #expect(notes.contains("- [1] Published: CLIP paper, Table 4. Context, not an expected value."), "\(notes)")
        #expect(notes.contains("- [2] Published: CLIP model card. Context, not an expected value."), "\(notes)")

        run.config.designs[index].published.removeLast()
        let single = MarkdownReport.render(run).split(separator: "\n").filter { $0.contains("Published: CLIP") }
        #expect(single.contains("Published: CLIP paper, Table 4. Context, not an expected value."), "\(single)")
    }
}
