import CLIPEngine
import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// Whole runs with `mitigations:` on the tiny fixture checkpoint: the variants reach every file
/// that lists variants, mitigations.csv and retrieval.csv's column are written, and a fit image
/// that is also audited is refused with one line.
@Suite(.serialized) struct MitigationRunTests {
    let fixtures = FixturePaths.packageRoot.appendingPathComponent("Fixtures")

    /// An audit of the first 8 demo images; the other 5 are free to be fit images.
    func audit(in dir: URL, fit: String, mitigations: String? = nil, retrieval: Bool = true) throws -> URL {
        try fit.write(to: dir.appendingPathComponent("fit.csv"), atomically: true, encoding: .utf8)
        let yaml = """
            name: mitigation-run
            model: \(fixtures.appendingPathComponent("clip-reference/tiny-clip").path)
            manifest:
              path: \(fixtures.appendingPathComponent("demo/manifest.csv").path)
              image_root: \(fixtures.appendingPathComponent("clip-reference").path)
              limit: 8
            attributes: [race, gender]
            min_group_size: 2
            designs:
              - name: gender
                target: gender
                classes: {Male: [man], Female: [woman]}
              - name: harm
                classes: {person: [person], thief: [thief]}
                harm_categories: {crime-related: [thief]}
            \(retrieval ? "retrieval: {concepts: [good, criminal], k: [3], permutations: 10}" : "")
            mitigations:
            \(mitigations ?? """
              - name: proj
                method: projection
                attribute_prompts: ["a photo of a man.", "a photo of a woman."]
              - name: cal
                method: calibrated_projection
                designs: [harm]
                attribute_prompts: ["a photo of a man.", "a photo of a woman."]
                pair_template: "a photo of a {attribute} {class}."
                attribute_words: [male, female]
                lambda: 100
              - name: clip
                method: clip_clip
                attribute: gender
                dimensions: 4
                fit_manifest: {path: fit.csv, image_root: \(fixtures.appendingPathComponent("clip-reference").path)}
            """)
            """
        let url = dir.appendingPathComponent("audit.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static let freeFit = """
        file,gender
        images/gradient_palette.png,Female
        images/tiny_upscale.png,Male
        images/extreme_aspect.png,Female
        images/exact_224.png,Male
        images/gradient_gray16.png,Male

        """

    func options(_ dir: URL) -> RunOptions {
        var options = RunOptions()
        options.cacheURL = dir.appendingPathComponent("cache.sqlite")
        options.threads = 2
        options.batchSize = 4
        return options
    }

    @Test func variantsReachEveryVariantFileAndMitigationsCSVAndRetrievalColumnAreWritten() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let run = try AuditRunner.run(auditFile: try audit(in: dir.url, fit: Self.freeFit), options: options(dir.url))
        let names = run.config.designs.map(\.name)
        #expect(names == ["gender", "harm", "gender~proj", "gender~clip", "harm~proj", "harm~cal", "harm~clip"])
        #expect(run.config.designs.filter { $0.name.contains("~") }.allSatisfy { $0.base == String($0.name.split(separator: "~")[0]) })
        #expect(run.table.designs.allSatisfy { $0.scoredCount == 8 })
        #expect(run.mitigation.clipped.count == 1 && run.mitigation.clipped[0].dimensions.count == 4)
        #expect(run.mitigation.clipped[0].fitImages == 5)
        #expect(run.mitigation.retrieval.map(\.mitigation) == ["proj", "cal", "clip"])

        let out = dir.url.appendingPathComponent("report")
        try ReportWriter.write(run, to: out)
        func lines(_ name: String) throws -> [String] {
            try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        #expect(try lines("predictions.csv").filter { $0.hasPrefix("harm~cal,") }.count == 8)
        #expect(try lines("metrics.csv").contains { $0.hasPrefix("gender~clip,accuracy,*,*,8,") })
        #expect(try lines("comparison.csv").contains { $0.hasPrefix("harm~proj,harm,harm_rate:crime-related,*,*,8,") })
        #expect(try lines("summary.csv").contains { $0.hasPrefix("gender~proj,accuracy,gender,") })
        let mitigations = try lines("mitigations.csv")
        #expect(
            mitigations[0]
                == "mitigation,design,metric,attribute,gap_before,gap_after,gap_change,overall_before,overall_after,overall_change")
        #expect(mitigations.contains { $0.hasPrefix("proj,gender,accuracy,race,") })
        #expect(mitigations.contains { $0.hasPrefix("cal,harm,harm_rate:crime-related,gender,") })
        #expect(!mitigations.contains { $0.hasPrefix("cal,gender,") })
        let retrieval = try lines("retrieval.csv")
        #expect(retrieval[0].hasSuffix(",p_value,mitigation"))
        let plainRows = retrieval.dropFirst().filter { $0.hasSuffix(",") }.count
        #expect(plainRows > 0)
        for name in ["proj", "cal", "clip"] { #expect(retrieval.filter { $0.hasSuffix(",\(name)") }.count == plainRows) }
    }

    @Test func theReportAnswersPerMitigationAndCardAndDiffReadTheFolderBack() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let run = try AuditRunner.run(auditFile: try audit(in: dir.url, fit: Self.freeFit), options: options(dir.url))
        let out = dir.url.appendingPathComponent("report")
        try ReportWriter.write(run, to: out)
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        // One finding per mitigation, on the first screen (in Findings, before Setup).
        let findings = try #require(report.components(separatedBy: "## Setup").first)
        for (name, method) in [("proj", "projection"), ("cal", "calibrated projection"), ("clip", "CLIP-clip")] {
            #expect(findings.contains("- `\(name)` (\(method)) "), "no finding for \(name)")
        }
        #expect(findings.contains("accuracy `gender` "))
        #expect(findings.contains("(paired, p = "))
        // The variants are not listed as designs or extends: variants anywhere else in report.md.
        #expect(!report.contains("## Design `gender~proj`") && !report.contains("`harm~cal` vs `harm`"))
        #expect(report.contains("## Mitigations") && report.contains("### `harm`"))
        #expect(
            report.contains("![Mitigations: change in the widest gap against change in accuracy](charts/mitigations-gap-vs-accuracy.svg)"))
        let chart = try String(contentsOf: out.appendingPathComponent("charts/mitigations-gap-vs-accuracy.svg"), encoding: .utf8)
        #expect(chart.contains("Pareto front"))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("charts/gender-proj-delta-accuracy-race.svg").path))

        // run.json keeps the mitigations; the folder read back is the report that was written.
        let json = try String(contentsOf: out.appendingPathComponent("run.json"), encoding: .utf8)
        #expect(json.contains("\"clipped_dimensions\"") && json.contains("\"method\" : \"calibrated_projection\""))
        let folder = try ReportFolder.read(out)
        #expect(folder.data.mitigations.map(\.name) == ["proj", "cal", "clip"])
        #expect(folder.data.mitigations[2].clippedDimensions == run.mitigation.clipped[0].dimensions)
        #expect(folder.data.mitigatedRetrieval.map(\.mitigation) == ["proj", "cal", "clip"])
        #expect(folder.data.mitigatedRetrieval[1].rows.count == run.mitigation.retrieval[1].rows.count)
        #expect(MarkdownReport.render(folder.data, charts: []).contains("## Mitigations"))

        // The card has the mitigation table and findings; its model-index does not list the variants.
        let card = ModelCardExport.render(folder.data)
        let fairness = try #require(card.first { $0.name.hasSuffix(".md") }?.text)
        #expect(fairness.contains("### Mitigations") && fairness.contains("`proj` (projection)"))
        let index = try #require(card.first { $0.name.hasSuffix(".yaml") || $0.name.contains("model-index") }?.text)
        #expect(!index.contains("~proj"))

        // diff compares the variants by name, like any variant.
        let rows = try RunDiff.compare(folder, folder)
        #expect(rows.contains { $0.design == "harm~cal" })
    }

    @Test func anAuditWithoutMitigationsWritesTheRetrievalCSVItAlwaysWrote() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = try audit(in: dir.url, fit: Self.freeFit, mitigations: "  []")
        let run = try AuditRunner.run(auditFile: url, options: options(dir.url))
        #expect(run.config.designs.map(\.name) == ["gender", "harm"])
        let out = dir.url.appendingPathComponent("report")
        try ReportWriter.write(run, to: out)
        let text = try String(contentsOf: out.appendingPathComponent("retrieval.csv"), encoding: .utf8)
        #expect(text == MeasurementsCSV.renderRetrieval(run.measurements.retrieval))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("mitigations.csv").path))
    }

    @Test func aFitImageThatIsAuditedByPathIsRefusedWithOneLine() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let fit = Self.freeFit + "images/real_coffee.png,Female\n"
        let error = #expect(throws: AuditFileError.self) {
            try AuditRunner.run(auditFile: try audit(in: dir.url, fit: fit), options: options(dir.url))
        }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("audit.yaml:") && text.contains("mitigations[2].fit_manifest"), "\(text)")
        #expect(text.contains("real_coffee.png (fit.csv line 7) is an audited image (manifest line 4"), "\(text)")
        #expect(!text.contains("\n"))
    }

    @Test func aFitImageWithTheContentOfAnAuditedOneIsRefusedWithOneLine() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let copies = dir.url.appendingPathComponent("fit-images")
        try FileManager.default.createDirectory(at: copies, withIntermediateDirectories: true)
        for name in ["gradient_palette.png", "tiny_upscale.png", "real_chelsea.png"] {
            try FileManager.default.copyItem(
                at: fixtures.appendingPathComponent("clip-reference/images/\(name)"), to: copies.appendingPathComponent(name))
        }
        let fit = "file,gender\ngradient_palette.png,Female\ntiny_upscale.png,Male\nreal_chelsea.png,Male\n"
        let mitigations = """
              - name: clip
                method: clip_clip
                attribute: gender
                dimensions: 2
                fit_manifest: {path: fit.csv, image_root: fit-images}
            """
        let error = #expect(throws: AuditFileError.self) {
            try AuditRunner.run(auditFile: try audit(in: dir.url, fit: fit, mitigations: mitigations), options: options(dir.url))
        }
        let text = error?.description ?? ""
        #expect(text.contains("mitigations[0].fit_manifest"), "\(text)")
        #expect(
            text.contains(
                "real_chelsea.png (fit.csv line 4) has the same content as an audited image (manifest line 3: images/real_chelsea.png)"),
            "\(text)")
    }

    @Test func tooManyClippedDimensionsAndAMissingAttributeColumnAreRefusedAtTheirKeys() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        func mitigation(_ attribute: String, _ dimensions: Int) -> String {
            """
              - name: clip
                method: clip_clip
                attribute: \(attribute)
                dimensions: \(dimensions)
                fit_manifest: {path: fit.csv, image_root: \(fixtures.appendingPathComponent("clip-reference").path)}
            """
        }
        let wide = #expect(throws: AuditFileError.self) {
            try AuditRunner.run(
                auditFile: try audit(in: dir.url, fit: Self.freeFit, mitigations: mitigation("gender", 24)), options: options(dir.url))
        }
        #expect(wide?.keyPath == "mitigations[0].dimensions")
        #expect(wide?.description.contains("24 dimensions would clip every dimension of the 24-wide embeddings") == true)
        let column = #expect(throws: AuditFileError.self) {
            try AuditRunner.run(
                auditFile: try audit(in: dir.url, fit: Self.freeFit, mitigations: mitigation("race", 2)), options: options(dir.url))
        }
        #expect(column?.keyPath == "mitigations[0].attribute")
        #expect(column?.description.contains("has no column \"race\"") == true)
    }
}
