import Foundation
import Testing

@testable import AuditEngine

/// `clip-audit card`'s exports: Hub metadata that a model card takes as it is, a short fairness
/// section, and no card left beside a report it does not describe.
@Suite("Model card exports")
struct ModelCardTests {
    static func data(
        modelID: String = "openai/clip-vit-base-patch16",
        dataset: HubDataset? = HubDataset(id: "HuggingFaceM4/FairFace", split: "validation")
    ) -> AuditReport {
        var data = AuditReport(run: ReportFixture.run())
        data.model.id = modelID
        data.dataset = dataset
        return data
    }

    /// model-index.yaml as indented lines, split into its results.
    static func results(_ yaml: String) -> [[String]] {
        var results: [[String]] = []
        for line in yaml.split(separator: "\n").map(String.init) {
            if line.hasPrefix("  - task:") { results.append([]) }
            if !results.isEmpty { results[results.count - 1].append(line) }
        }
        return results
    }

    @Test func modelIndexHasOneResultPerDesignWithMetricsNamedByGroup() throws {
        let data = Self.data()
        let yaml = ModelCardExport.modelIndex(data)
        #expect(yaml.hasPrefix("model-index:\n- name: \"openai/clip-vit-base-patch16\"\n  results:\n"))
        let results = Self.results(yaml)
        #expect(results.count == data.designs.count)
        let gender = results[0]
        #expect(gender.contains("      type: \"HuggingFaceM4/FairFace\""))
        #expect(gender.contains("      split: \"validation\""))
        // The group is in the metric's name and args, never in the split.
        #expect(gender.contains("      name: \"accuracy (race: Black)\""))
        let black = try #require(gender.firstIndex(of: "      name: \"accuracy (race: Black)\""))
        #expect(
            gender[black + 1] == "      args:" && gender[black + 2] == "        attribute: \"race\""
                && gender[black + 3] == "        group: \"Black\"")
        #expect(results.allSatisfy { $0.filter { $0.hasPrefix("      split:") }.count == 1 })
        // Every metric has the fields the Hub's parser requires.
        for result in results {
            #expect(result.filter { $0.hasPrefix("    - type: ") }.count == result.filter { $0.hasPrefix("      value: ") }.count)
        }
    }

    @Test func modelIndexNeverNamesALocalPath() {
        #expect(Self.results(ModelCardExport.modelIndex(Self.data(modelID: "/models/checkpoints/my-clip"))).count == 3)
        #expect(ModelCardExport.modelIndex(Self.data(modelID: "/models/checkpoints/my-clip")).contains("- name: \"my-clip\"\n"))
        #expect(ModelCardExport.hubModelName("../tiny-clip/") == "tiny-clip")
        #expect(ModelCardExport.hubModelName("laion/CLIP-ViT-B-16-laion2B-s34B-b88K") == "laion/CLIP-ViT-B-16-laion2B-s34B-b88K")
    }

    @Test func fairnessSectionIsTheFindingsThenTheTablesWithVariantsBesideTheirBase() {
        let markdown = ModelCardExport.markdown(Self.data())
        let headings = markdown.split(separator: "\n").filter { $0.hasPrefix("#") }
        #expect(
            headings == [
                "## Bias and Fairness", "### Findings", "### Accuracy by group", "### Demographic parity and equalized odds",
                "### Harm rates by group"
            ])
        #expect(markdown.contains("| gender | race | 100.0 pp [+47.3 pp, +100.0 pp] | 0.00 | 75.0 pp [-11.4 pp, +92.9 pp] | 0.00 |"))
        #expect(markdown.contains("- Adding `child` (`denigration+child` vs `denigration`): "))
        #expect(markdown.contains("| race | n | denigration non-human | denigration+child non-human | denigration crime-related |"))
        #expect(markdown.split(separator: "\n", omittingEmptySubsequences: false).count <= 80)
    }

    @Test func aNewRunRemovesACardFromAnotherRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("card-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = ReportFixture.run()
        try ReportWriter.write(run, to: dir)
        let card = dir.appendingPathComponent("card")
        _ = try ModelCardExport.write(try ReportFolder.read(dir).data, to: card)
        try "mine".write(to: card.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        // The same results again: the card still describes them and stays.
        try ReportWriter.write(run, to: dir)
        #expect(FileManager.default.fileExists(atPath: card.appendingPathComponent("fairness.md").path))
        // Other results: the card's files go, the user's file stays.
        try ReportWriter.write(ReportFixture.run(minGroupSize: 20), to: dir)
        for name in ModelCardExport.fileNames + [ModelCardExport.runKeyName] {
            #expect(!FileManager.default.fileExists(atPath: card.appendingPathComponent(name).path), "\(name)")
        }
        #expect(FileManager.default.fileExists(atPath: card.appendingPathComponent("notes.txt").path))
    }
}
