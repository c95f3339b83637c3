import CLIPEngine
import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// SigLIP models in audits: `Audits/demo-siglip.yaml` (the tiny CLIP fixture beside the SigLIP and
/// SigLIP 2 fixtures, with the demo's designs, retrieval and associations) end to end, and a
/// SigLIP model alone.
@Suite(.serialized) struct SiglipAuditTests {
    static let audit = FixturePaths.root.deletingLastPathComponent().appendingPathComponent("Audits/demo-siglip.yaml")

    static func options(cache: URL) -> RunOptions {
        var options = RunOptions()
        options.cacheURL = cache
        options.threads = 2
        options.batchSize = 4
        return options
    }

    @Test func siglipBesideClipAuditsEndToEnd() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let cache = dir.url.appendingPathComponent("cache.sqlite")
        guard case .models(let run) = try AuditRunner.perform(auditFile: Self.audit, options: Self.options(cache: cache)) else {
            Issue.record("expected a several-model run")
            return
        }
        #expect(run.labels == ["tiny", "siglip", "siglip2"])
        #expect(run.runs.map(\.usableRows) == [run.usableRows, run.usableRows, run.usableRows])
        #expect(run.usableRows == 13, "\(run.skipped.map(\.reason))")
        // models.csv compares each SigLIP model with the CLIP one on the same images.
        #expect(Set(run.comparisons.map(\.model)) == ["siglip", "siglip2"])
        // The SigLIP reports say what their confidence is; the CLIP one does not.
        #expect(!run.runs[0].notes.contains(AuditRunner.sigmoidNote))
        #expect(run.runs[1].notes.contains(AuditRunner.sigmoidNote) && run.runs[2].notes.contains(AuditRunner.sigmoidNote))
        // Retrieval and associations ran on the SigLIP embeddings too.
        for r in run.runs { #expect(!r.measurements.retrieval.isEmpty && !r.measurements.associations.isEmpty) }
        let out = dir.url.appendingPathComponent("out")
        try ModelsWriter.write(run, to: out)
        for label in run.labels {
            for name in ["predictions.csv", "metrics.csv", "report.md", "run.json"] {
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(label)/\(name)").path), "\(label)/\(name)")
            }
        }
        let report = try String(contentsOf: out.appendingPathComponent("siglip/report.md"), encoding: .utf8)
        #expect(report.contains("sigmoid"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("models.csv").path))
    }

    /// A SigLIP model alone (`--model`): the confidences are sigmoids, so a design's
    /// probabilities need not sum to one, and every prediction is the highest-scoring class.
    @Test func siglipAloneScoresWithSigmoids() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        var options = Self.options(cache: dir.url.appendingPathComponent("cache.sqlite"))
        options.model = FixturePaths.root.appendingPathComponent("siglip/siglip2").path
        let run = try AuditRunner.run(auditFile: Self.audit, options: options)
        #expect(run.model.format == .siglip)
        #expect(run.usableRows == 13)
        let confidences = run.table.predictions.map(\.confidence)
        #expect(!confidences.isEmpty && confidences.allSatisfy { $0 > 0 && $0 < 1 })
        try ReportWriter.write(run, to: dir.url.appendingPathComponent("out"))
    }
}
