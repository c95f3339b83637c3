import AuditEngine
import Foundation
import Testing

/// `clip-audit card` on the top folder of a several-model audit (it has models.csv) and on one
/// model's folder inside it.
@Suite("card on a several-model top folder", .serialized)
struct ModelsCardTests {
    /// Two runs of the fixture audit as the models `a` and `b` of a top folder, with its
    /// run.json and a models.csv (no differing group: the same model twice).
    static func topFolder(_ ws: Workspace) throws -> URL {
        try ws.writeManifest(Workspace.rows(try ws.makeImages(6)))
        try ws.writeAudit()
        let top = ws.url.appendingPathComponent("out")
        for label in ["a", "b"] {
            let result = try CLI.run([
                "run", ws.audit.path, "--output", top.appendingPathComponent(label).path, "--no-cache", "--threads", "1"
            ])
            #expect(result.status == 0, "\(result.stderr)")
        }
        try MetricsCSV.renderModels([]).write(to: top.appendingPathComponent("models.csv"), atomically: true, encoding: .utf8)
        try #"{"name": "fixture", "models": [{"label": "a", "model": "m"}, {"label": "b", "model": "m"}]}"#
            .write(to: top.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        return top
    }

    @Test("a section per model and the comparison; a model's folder inside still gives its own card")
    func topAndModelFolders() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        let top = try Self.topFolder(ws)
        let card = try CLI.run(["card", top.path])
        #expect(card.status == 0, "\(card.stderr)")
        #expect(card.stdout.contains("card/model-card-a.json") && card.stdout.contains("card/model-card-b.json"))
        let fairness = try String(contentsOf: top.appendingPathComponent("card/fairness.md"), encoding: .utf8)
        #expect(fairness.contains("\n### Model comparison\n"))
        #expect(fairness.contains("\n### `a`: ") && fairness.contains("\n### `b`: "))

        let own = try CLI.run(["card", top.appendingPathComponent("a").path])
        #expect(own.status == 0, "\(own.stderr)")
        #expect(FileManager.default.fileExists(atPath: top.appendingPathComponent("a/card/model-card.json").path))
    }

    @Test("a damaged models.csv is one line naming it")
    func damaged() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        let top = try Self.topFolder(ws)
        try "design,metric\n".write(to: top.appendingPathComponent("models.csv"), atomically: true, encoding: .utf8)
        let card = try CLI.run(["card", top.path])
        #expect(card.status != 0)
        let lines = card.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("models.csv") && lines[0].contains("unexpected header"), "\(card.stderr)")
    }
}
