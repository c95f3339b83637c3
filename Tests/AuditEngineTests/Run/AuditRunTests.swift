import CLIPEngine
import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// Whole runs of the audit on the fixture checkpoint and images: the numbers against transformers'
/// embeddings, the cache (a changed design encodes no image), and the report files' format.
@Suite(.serialized) struct AuditRunTests {
    let fixtures = FixturePaths.packageRoot.appendingPathComponent("Fixtures")

    /// Writes an audit file over the fixture images in a temp folder; returns its URL.
    func audit(in dir: URL, designs: String, extra: String = "") throws -> URL {
        let yaml = """
            name: test-audit
            model: \(fixtures.appendingPathComponent("clip-reference/tiny-clip").path)
            manifest:
              path: \(fixtures.appendingPathComponent("demo/manifest.csv").path)
              image_root: \(fixtures.appendingPathComponent("clip-reference").path)
            attributes: [race, gender]
            intersections: [[race, gender]]
            min_group_size: 2
            \(extra)
            designs:
            \(designs)
            """
        let url = dir.appendingPathComponent("audit.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func options(cache: URL) -> RunOptions {
        var options = RunOptions()
        options.cacheURL = cache
        options.threads = 2
        options.batchSize = 5
        return options
    }

    /// The gender design most runs here use: one phrase per class.
    static let genderDesign = """
          - name: gender
            target: gender
            classes: {Male: [man], Female: [woman]}
        """

    @Test func genderProbabilitiesAreTransformersAndTheCacheSkipsImagesOnADesignChange() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let cache = dir.url.appendingPathComponent("cache.sqlite")
        let design = Self.genderDesign
        let first = try AuditRunner.run(
            auditFile: try audit(in: dir.url, designs: design, extra: #"templates: ["a photo of a {}."]"#),
            options: options(cache: cache))
        #expect(first.imagesEncoded == 13 && first.imagesFromCache == 0)
        #expect(first.usableRows == 13 && first.skipped.count == 1)
        #expect(first.skipped.first?.file == "images/not_there.jpg")

        // transformers' logits for "a photo of a man." (text 2) and "a photo of a woman." (text 3).
        let golden = try SafeTensorsFile(url: fixtures.appendingPathComponent("clip-reference/golden.safetensors"))
        let logits = try golden.floats("logits_per_image")
        let goldenImages =
            (try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("clip-reference/golden.json")))
            as! [String: Any])["images"] as! [String]
        var checked = 0
        var worst = 0.0
        for prediction in first.predictions {
            guard let i = goldenImages.firstIndex(of: String(prediction.file.dropFirst("images/".count))) else { continue }
            let man = Double(logits[i * 30 + 2]), woman = Double(logits[i * 30 + 3])
            let pMale = 1 / (1 + exp(woman - man))
            let expected = man >= woman ? ("Male", pMale) : ("Female", 1 - pMale)
            #expect(prediction.predicted == expected.0, "\(prediction.file)")
            worst = max(worst, abs(prediction.confidence - expected.1))
            // The softmax of transformers' logits: achieved at most 3.2e-6 (the logits' own error).
            #expect(abs(prediction.confidence - expected.1) < 2e-5, "\(prediction.file)")
            checked += 1
        }
        #expect(checked == 12)
        print("parity run confidence: max |ours - softmax of transformers' logits| \(worst)")

        // A changed design (a new class phrase and a variant) encodes no image, only the new prompts.
        let changed =
            design + """

                  - name: gender-ensemble
                    extends: gender
                    remove_classes: [Male, Female]
                    add_classes: {Male: [man, male], Female: [woman, female]}
                """
        let second = try AuditRunner.run(
            auditFile: try audit(in: dir.url, designs: changed, extra: #"templates: ["a photo of a {}."]"#),
            options: options(cache: cache))
        #expect(second.imagesEncoded == 0 && second.imagesFromCache == 13)
        #expect(second.promptsEncoded == 2 && second.promptsTotal == 4)
        // The cached embeddings give the same predictions as the first run.
        let firstGender = first.predictions.filter { $0.design == "gender" }.map(\.confidence)
        let secondGender = second.predictions.filter { $0.design == "gender" }.map(\.confidence)
        #expect(firstGender == secondGender)
        #expect(second.metrics.comparisons.contains { $0.design == "gender-ensemble" && $0.base == "gender" && $0.metric == .accuracy })
    }

    /// Embeddings a build with other arithmetic cached (same weights and configuration, another
    /// `CLIPModel.numericsRevision`) are not reused: mixed with this build's, a resumed run would
    /// differ in its last digits from a single run.
    @Test func embeddingsOfAnotherForwardPassRevisionAreNotReused() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let cacheURL = dir.url.appendingPathComponent("cache.sqlite")
        let design = Self.genderDesign
        let auditURL = try audit(in: dir.url, designs: design)
        let first = try AuditRunner.run(auditFile: auditURL, options: options(cache: cacheURL))
        #expect(first.modelKey.numericsRevision == CLIPModel.numericsRevision)
        #expect(first.imagesEncoded == 13)

        // This revision's embeddings, stored in a fresh cache under the key an earlier revision
        // would have used.
        let pipeline = try CLIPPipeline(model: first.model)
        let cache = try EmbeddingCache(url: cacheURL)
        var earlier = first.modelKey
        earlier.numericsRevision -= 1
        let hashes = try FileManager.default.contentsOfDirectory(
            at: fixtures.appendingPathComponent("clip-reference/images"), includingPropertiesForKeys: nil
        )
        .map { try Data(contentsOf: $0).withUnsafeBytes { SHA256Digest.hex(of: $0) } }
        let current = try cache.imageEmbeddings(
            for: hashes, model: first.modelKey,
            preprocessing: pipeline.preprocessingKey)
        #expect(current.count == 13)
        let stale = dir.url.appendingPathComponent("stale.sqlite")
        let staleCache = try EmbeddingCache(url: stale)
        try staleCache.storeImageEmbeddings(
            current.map { ($0.key, $0.value) }, model: earlier,
            preprocessing: pipeline.preprocessingKey)
        // Every image is encoded again.
        let second = try AuditRunner.run(auditFile: auditURL, options: options(cache: stale))
        #expect(second.imagesEncoded == 13 && second.imagesFromCache == 0)
    }

    @Test func reportFolderHasEveryFileWithTheContractsColumns() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        var opts = options(cache: dir.url.appendingPathComponent("c.sqlite"))
        opts.useCache = false
        let designs = """
              - name: gender
                target: gender
                classes: {Male: [man], Female: [woman]}
              - name: harm
                classes: {person: [person], gorilla: [gorilla], thief: [thief]}
                harm_categories: {non-human: [gorilla], crime-related: [thief]}
              - name: harm+child
                extends: harm
                add_classes: {child: [child]}
            """
        let run = try AuditRunner.run(auditFile: try audit(in: dir.url, designs: designs), options: opts)
        #expect(run.cachePath == nil)
        let out = dir.url.appendingPathComponent("report")
        try ReportWriter.write(run, to: out)
        func lines(_ name: String) throws -> [String] {
            try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let predictions = try lines("predictions.csv")
        #expect(predictions[0] == "design,file,race,gender,truth,predicted,confidence,harm_category")
        #expect(predictions.count == 1 + 3 * 13)
        #expect(predictions.contains { $0.hasPrefix("gender,images/real_astronaut.png,White,Female,Female,") })
        #expect(
            predictions.filter { $0.hasPrefix("harm,") }.allSatisfy {
                $0.split(separator: ",", omittingEmptySubsequences: false)[4].isEmpty
            })
        #expect(try lines("metrics.csv")[0] == "design,metric,attribute,group,n,count,value,ci_low,ci_high")
        #expect(
            try lines("metrics.csv").contains(
                "gender,accuracy,race|gender,White|Male,2,\(run.metrics.metrics.first { $0.group == "White|Male" && $0.metric == .accuracy }!.count),\(CSVNumber.format(run.metrics.metrics.first { $0.group == "White|Male" && $0.metric == .accuracy }!.value)),\(CSVNumber.format(run.metrics.metrics.first { $0.group == "White|Male" && $0.metric == .accuracy }!.ciLow)),\(CSVNumber.format(run.metrics.metrics.first { $0.group == "White|Male" && $0.metric == .accuracy }!.ciHigh))"
            ))
        #expect(
            try lines("disparities.csv")[0]
                == "design,metric,attribute,group,reference,value,reference_value,difference,ratio,p_value,p_adjusted,significant,"
                + "n,reference_n,diff_ci_low,diff_ci_high,four_fifths,small_group")
        let comparison = try lines("comparison.csv")
        #expect(comparison[0] == "design,base,metric,attribute,group,n,base_value,value,delta,ci_low,ci_high,p_value")
        #expect(comparison.contains { $0.hasPrefix("harm+child,harm,harm_rate:any,*,*,13,") })
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        for heading in [
            "# Bias audit: test-audit", "## Setup", "## Design `gender`", "### Accuracy by group",
            "### Harm rates by group", "## Variant comparisons", "## Skipped rows", "images/not_there.jpg"
        ] {
            #expect(report.contains(heading), "report.md lacks \(heading)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as! [String: Any]
        let counts = json["counts"] as! [String: Int]
        #expect(counts["rows_scored"] == 13 && counts["rows_skipped"] == 1 && counts["predictions"] == 39)
        let weights = try SHA256Digest.hex(ofFile: fixtures.appendingPathComponent("clip-reference/tiny-clip/model.safetensors"))
        #expect((json["model"] as! [String: Any])["weights_sha256"] as? String == weights)
        // The fingerprint keeps the text it has always had: weights, configuration, numerics.
        let configuration = try CLIPPipeline(model: run.model).configurationSHA256
        #expect(
            (json["model"] as! [String: Any])["fingerprint"] as? String
                == "\(weights):\(configuration):numerics-\(CLIPModel.numericsRevision)")
        #expect(
            json["audit_file_sha256"] as? String == SHA256Digest.hex(of: try Data(contentsOf: dir.url.appendingPathComponent("audit.yaml")))
        )
        // No temporary files are left beside the reports.
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == (ReportWriter.fileNames + ["charts", OutputFolder.ledgerName("report")]).sorted())
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("charts").path).allSatisfy {
                $0.hasSuffix(".svg")
            })
    }

    @Test func strictMakesASkipFatalAndNamesTheRow() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        var opts = options(cache: dir.url.appendingPathComponent("c.sqlite"))
        opts.strict = true
        let designs = Self.genderDesign
        #expect {
            _ = try AuditRunner.run(auditFile: try audit(in: dir.url, designs: designs), options: opts)
        } throws: { error in
            "\(error)".contains("manifest.csv") && "\(error)".contains("line 15") && "\(error)".contains("not_there.jpg")
        }
    }
}
