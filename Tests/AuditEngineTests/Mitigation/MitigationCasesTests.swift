import CLIPEngine
import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// The mitigations against numpy (Fixtures/Generators/make_mitigation_cases.py): the projection,
/// the calibrated projection (per design and for retrieval), CLIP-clip's mutual information and
/// choice of dimensions, every variant's predictions and confidences, and mitigations.csv's
/// gaps and whole-set values.
@Suite struct MitigationCasesTests {
    struct Cases: Decodable {
        struct Design: Decodable {
            var name: String
            var target: String?
            var classes: [[String]] // [name, [phrases]] flattened below
            var harm: [String: [String]]
            enum CodingKeys: String, CodingKey { case name, target, classes, harm }
            init(from decoder: Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = try c.decode(String.self, forKey: .name)
                target = try c.decodeIfPresent(String.self, forKey: .target)
                harm = try c.decode([String: [String]].self, forKey: .harm)
                var list = try c.nestedUnkeyedContainer(forKey: .classes)
                classes = []
                while !list.isAtEnd {
                    var pair = try list.nestedUnkeyedContainer()
                    let name = try pair.decode(String.self)
                    classes.append([name] + (try pair.decode([String].self)))
                }
            }
        }
        struct Mitigation: Decodable { var name: String; var method: String; var designs: [String] }
        struct Image: Decodable { var file: String; var gender: String; var race: String?; var embedding: [Float] }
        struct Variant: Decodable {
            var variant: String
            var class_embeddings: [[Double]]
            var predicted: [String]
            var confidence: [Double]
        }
        struct Tie: Decodable { var variant: String; var file: String }
        struct Row: Decodable {
            var mitigation: String, design: String, metric: String, attribute: String
            var gap_before: Double, gap_after: Double, overall_before: Double, overall_after: Double
        }
        var dimension: Int
        var logit_scale: Double
        var lambda: Double
        var dimensions: Int
        var templates: [String]
        var attribute_prompts: [String]
        var pair_template: String
        var attribute_words: [String]
        var retrieval_template: String
        var retrieval_concepts: [String]
        var designs: [Design]
        var mitigations: [Mitigation]
        var text: [String: [Float]]
        var images: [Image]
        var fit: [Image]
        var projection_matrix: [[Double]]
        var clip_clip_mutual_information: [Double]
        var clip_clip_dimensions: [Int]
        var retrieval_queries: [String]
        var retrieval_calibrated: [[Double]]
        var variants: [Variant]
        var near_ties: [Tie]
        var mitigation_rows: [Row]
    }

    static let cases: Cases = {
        let url = FixturePaths.root.appendingPathComponent("mitigation/mitigation_cases.json")
        return try! JSONDecoder().decode(Cases.self, from: Data(contentsOf: url))
    }()

    /// The fixture's audit file: its designs and mitigations, as a user would write them.
    static func config() throws -> AuditConfig {
        let c = cases
        func list(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        var yaml = """
            name: mitigation-cases
            manifest: {path: manifest.csv}
            attributes: [gender, race]
            templates: \(list(c.templates))
            retrieval: {templates: ["\(c.retrieval_template)"], concepts: \(list(c.retrieval_concepts)), k: [5], permutations: 0}
            designs:

            """
        for d in c.designs {
            yaml += "  - name: \(d.name)\n"
            if let target = d.target { yaml += "    target: \(target)\n" }
            yaml += "    classes:\n"
            for cls in d.classes { yaml += "      \(cls[0]): \(list(Array(cls.dropFirst())))\n" }
            if !d.harm.isEmpty {
                yaml += "    harm_categories:\n"
                for (k, v) in d.harm { yaml += "      \(k): \(list(v))\n" }
            }
        }
        yaml += "mitigations:\n"
        for m in c.mitigations {
            yaml += "  - name: \(m.name)\n    method: \(m.method)\n    designs: \(list(m.designs))\n"
            switch m.method {
            case "projection":
                yaml += "    attribute_prompts: \(list(c.attribute_prompts))\n"
            case "calibrated_projection":
                yaml += "    attribute_prompts: \(list(c.attribute_prompts))\n"
                yaml +=
                    "    pair_template: \"\(c.pair_template)\"\n    attribute_words: \(list(c.attribute_words))\n    lambda: \(c.lambda)\n"
            default:
                yaml += "    attribute: gender\n    dimensions: \(c.dimensions)\n    fit_manifest: {path: fit.csv}\n"
            }
        }
        return try AuditConfig.parse(yaml: yaml, sourceFile: URL(fileURLWithPath: "/tmp/mitigation-cases.yaml"))
    }

    /// The fit images as FitImages hands them over: unit embeddings, groups in report order.
    static func fits(_ config: AuditConfig) -> FitEmbeddings {
        let groups = Array(Set(cases.fit.map(\.gender))).sorted(by: compareGroupValues)
        var set = EmbeddingMeasurements.ImageSet()
        for (i, image) in cases.fit.enumerated() { set.append(row: i, embedding: image.embedding) }
        let name = config.mitigations.first { if case .clipClip = $0.method { return true } else { return false } }!.name
        return [name: [(set.embeddings, cases.fit.map { groups.firstIndex(of: $0.gender)! }, groups.count, cases.fit.count)]]
    }

    /// Scores the designs as the runner does, then the mitigations' variants.
    static func run() throws -> (config: AuditConfig, table: PredictionTable, outcome: MitigationOutcome) {
        var config = try config()
        var rows = UsableRows(imageRoot: URL(fileURLWithPath: "/"), attributes: ["gender", "race"], targets: config.targetColumns)
        for (i, image) in cases.images.enumerated() {
            rows.append(line: i + 2, file: image.file, values: [image.gender, image.race, image.gender])
        }
        var table = try PredictionTable(rows: rows, designs: config.designs)
        var images = EmbeddingMeasurements.ImageSet()
        let text = cases.text
        for (d, design) in config.designs.enumerated() {
            let classifier = try ZeroShotClassifier(
                classes: design.classNames,
                promptEmbeddings: design.classes.map { c in design.prompts(forClass: c.name).map { text[$0]! } },
                logitScale: Float(cases.logit_scale))
            for (row, image) in cases.images.enumerated() {
                let scores = classifier.score(imageEmbedding: image.embedding)
                table.record(design: d, row: row, classIndex: scores.predicted, confidence: scores.confidence)
            }
        }
        for (row, image) in cases.images.enumerated() { images.append(row: row, embedding: image.embedding) }
        var tables = [table]
        let outcomes = try MitigationBench.score(
            config: &config, tables: &tables, images: [images], textEmbeddings: [text],
            scales: [(Float(cases.logit_scale), nil)], rows: rows, fits: fits(config))
        return (config, tables[0], outcomes[0])
    }

    func unit(_ prompt: String) -> [Double] { Vectors.unit(Self.cases.text[prompt]!) }

    @Test func projectionIsNumpysP0() throws {
        let p0 = try #require(Projection(columns: Self.cases.attribute_prompts.map(unit)))
        let d = Self.cases.dimension
        var worst = 0.0
        for j in 0..<d {
            var e = [Double](repeating: 0, count: d)
            e[j] = 1
            let column = p0.apply(e)
            for i in 0..<d { worst = max(worst, abs(column[i] - Self.cases.projection_matrix[i][j])) }
        }
        // numpy forms the matrix with inv(AᵀA); we solve with a Cholesky factor: achieved ~1e-16.
        #expect(worst < 1e-12, "max |ours − numpy| \(worst)")
    }

    @Test func clipClipMutualInformationAndDimensionsAreNumpys() throws {
        let config = try Self.config()
        let fit = Self.fits(config).values.first![0]
        let information = ClipClip.mutualInformation(
            embeddings: fit.embeddings, count: fit.count, dimension: Self.cases.dimension, labels: fit.labels, groups: fit.groups)
        #expect(information.count == Self.cases.clip_clip_mutual_information.count)
        for (ours, theirs) in zip(information, Self.cases.clip_clip_mutual_information) {
            // The same sums in the same order: achieved 0 or one ulp.
            #expect(abs(ours - theirs) < 1e-12)
        }
        #expect(ClipClip.choose(Self.cases.dimensions, from: information) == Self.cases.clip_clip_dimensions)
    }

    @Test func everyVariantsClassEmbeddingsPredictionsAndConfidencesAreNumpys() throws {
        let (config, table, _) = try Self.run()
        let ties = Set(Self.cases.near_ties.map { "\($0.variant)/\($0.file)" })
        #expect(Self.cases.variants.count == 5)
        for expected in Self.cases.variants {
            let design = try #require(table.designs.first { $0.name == expected.variant }, "no variant \(expected.variant)")
            let spec = try #require(config.design(named: expected.variant))
            #expect(spec.base == String(expected.variant.split(separator: "~")[0]))
            #expect(design.scoredCount == Self.cases.images.count)
            // The variant's class embeddings, through the fitted transform.
            let mitigation = try #require(config.mitigations.first { $0.name == String(expected.variant.split(separator: "~")[1]) })
            let fit = try MitigationFit(
                mitigation, config: config, dimension: Self.cases.dimension, unit: unit, fit: Self.fits(config)[mitigation.name]?[0])
            let base = try #require(config.design(named: spec.base!))
            for (c, cls) in base.classes.enumerated() {
                let ours = fit.transform(forDesign: base).text(
                    MitigationTransform.classEmbedding(base.prompts(forClass: cls.name).map { Self.cases.text[$0]! }))
                let worst = zip(ours, expected.class_embeddings[c]).map { abs($0 - $1) }.max()!
                // numpy inverts (I + λM) and AᵀA; we solve with Cholesky factors: achieved ~1e-15.
                #expect(worst < 1e-9, "\(expected.variant) class \(cls.name): \(worst)")
            }
            var compared = 0
            for (row, image) in Self.cases.images.enumerated() where !ties.contains("\(expected.variant)/\(image.file)") {
                #expect(design.labels[design.label(row: row)] == expected.predicted[row], "\(expected.variant) \(image.file)")
                #expect(abs(design.confidence[row] - expected.confidence[row]) < 1e-9, "\(expected.variant) \(image.file)")
                compared += 1
            }
            #expect(compared > Self.cases.images.count / 2)
        }
    }

    @Test func mitigationRowsAreNumpysGapsAndWholeSetValues() throws {
        let (config, table, _) = try Self.run()
        let settings = MetricSettings(
            attributes: config.attributes, intersections: [], referenceGroups: [:], alpha: 0.05, minGroupSize: 1, minDifference: 0.05)
        let metrics = computeAuditMetrics(table, settings: settings)
        let rows = MitigationRow.rows(mitigations: config.mitigations, metrics: metrics.metrics)
        let tied = Set(Self.cases.near_ties.map(\.variant))
        var compared = 0
        for expected in Self.cases.mitigation_rows
        where !tied.contains("\(expected.design)~\(expected.mitigation)") && !tied.contains(expected.design) {
            let row = try #require(
                rows.first {
                    $0.mitigation == expected.mitigation && $0.design == expected.design && $0.metric.csvName == expected.metric
                        && $0.attribute == Slice(csvText: expected.attribute)
                }, "no row \(expected.mitigation) \(expected.design) \(expected.metric) \(expected.attribute)")
            #expect(abs(row.gapBefore - expected.gap_before) < 1e-9)
            #expect(abs(try #require(row.gapAfter) - expected.gap_after) < 1e-9, "\(expected)")
            #expect(abs(try #require(row.overallBefore) - expected.overall_before) < 1e-9)
            #expect(abs(try #require(row.overallAfter) - expected.overall_after) < 1e-9, "\(expected)")
            #expect(abs(try #require(row.gapChange) - (expected.gap_after - expected.gap_before)) < 1e-9)
            compared += 1
        }
        #expect(compared == Self.cases.mitigation_rows.count)
        // Each variant is compared with its design, paired, like any variant.
        for variant in Self.cases.variants {
            #expect(
                metrics.comparisons.contains { $0.design == variant.variant && $0.base == String(variant.variant.split(separator: "~")[0]) }
            )
        }
    }

    @Test func calibratedProjectionOfRetrievalQueriesUsesTheConceptsPairs() throws {
        let config = try Self.config()
        let mitigation = try #require(config.mitigations.first { $0.name == "gender-cal" })
        let fit = try MitigationFit(mitigation, config: config, dimension: Self.cases.dimension, unit: unit, fit: nil)
        #expect(config.retrieval?.queries == Self.cases.retrieval_queries)
        for (query, expected) in zip(Self.cases.retrieval_queries, Self.cases.retrieval_calibrated) {
            let ours = fit.retrieval.text(unit(query))
            let worst = zip(ours, expected).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-9, "\(query): \(worst)")
        }
    }

    @Test func mitigatedRetrievalRowsCarryTheMitigationAndTheCSVAppendsItsColumn() throws {
        let (_, _, outcome) = try Self.run()
        #expect(outcome.retrieval.map(\.mitigation) == ["gender-proj", "gender-cal", "gender-clip"])
        #expect(outcome.clipped.first?.dimensions == Self.cases.clip_clip_dimensions)
        let plain = [
            RetrievalRow(
                query: "q, one", attribute: Slice(attributes: ["gender"]), k: 5, desired: .dataset, maxSkew: 0.5, minSkew: -0.5, ndkl: 0.1)
        ]
        let text = MitigationsCSV.renderRetrieval(plain, mitigated: [("gender-proj", plain)])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == MeasurementsCSV.retrievalHeader.joined(separator: ",") + ",mitigation")
        #expect(lines[1] == "\"q, one\",gender,5,dataset,0.5,-0.5,0.1,,,,,")
        #expect(lines[2] == "\"q, one\",gender,5,dataset,0.5,-0.5,0.1,,,,,gender-proj")
        // Without mitigations the file is the one MeasurementsCSV always wrote.
        #expect(MeasurementsCSV.renderRetrieval(plain).split(separator: "\n")[0] == MeasurementsCSV.retrievalHeader.joined(separator: ","))
    }
}
