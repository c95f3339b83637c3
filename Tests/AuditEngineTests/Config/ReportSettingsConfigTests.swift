import Foundation
import Testing

@testable import AuditEngine

/// The audit file's `min_difference` and `dataset`.
@Suite("Audit file: report settings")
struct ReportSettingsConfigTests {
    func load(_ extra: String) throws -> AuditConfig {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        return try AuditConfig.load(contentsOf: try dir.write("audit.yaml", minimalAudit + extra))
    }

    func failure(_ extra: String) throws -> String {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = try dir.write("audit.yaml", minimalAudit + extra)
        let error = try #require(throws: AuditFileError.self) { try AuditConfig.load(contentsOf: url) }
        #expect(!error.description.contains("\n"))
        return error.description
    }

    @Test func minDifferenceAndDatasetAreRead() throws {
        let defaults = try load("")
        #expect(defaults.minDifference == 0.05)
        #expect(defaults.dataset == nil)
        let config = try load("min_difference: 0.1\ndataset: {id: HuggingFaceM4/FairFace, split: validation}\n")
        #expect(config.minDifference == 0.1)
        #expect(config.dataset == HubDataset(id: "HuggingFaceM4/FairFace", split: "validation"))
        #expect(try load("dataset: {id: fairface}\n").dataset == HubDataset(id: "fairface"))
    }

    @Test func badValuesAreOneLineErrors() throws {
        #expect(try failure("min_difference: 1.5\n").contains("min_difference: must be at least 0 and below 1"))
        #expect(
            try failure("dataset: {id: /data/fairface.csv}\n").contains(
                "dataset.id: \"/data/fairface.csv\" is not a Hugging Face Hub dataset id"))
        #expect(try failure("dataset: {split: validation}\n").contains("dataset: needs `id:`"))
        #expect(try failure("dataset: {id: a/b, revision: x}\n").contains("unknown key `revision`"))
    }
}
