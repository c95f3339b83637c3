import AuditEngine
import CLIPEngine
import Foundation

/// `bench --robustness AUDIT`: the `robustness:` section of an audit file (its designs and its
/// specifications) timed at FairFace validation's size, on random unit embeddings (the cost
/// does not depend on the values; a real run takes the image embeddings from the cache):
/// 10,954 images of 512 dimensions, the audit's attributes and intersections, groups drawn
/// uniformly (an attribute that is a design's target takes that design's classes as its groups,
/// and is the truth). What a run adds besides this is encoding the specifications' distinct
/// prompts once (`prompts`; cached afterwards), at the model's `texts_per_s`. Prints one JSON line.
enum RobustnessBenchmark {
    static let images = 10_954, dimension = 512

    static func run(audit: URL, threads: Int) throws -> String {
        let config = try AuditConfig.load(contentsOf: audit)
        guard let spec = config.robustness else {
            throw AuditError(file: audit.path, "has no `robustness:` section to time")
        }
        var random = SeededRandom(seed: 42)
        func unitVector() -> [Float] {
            // Box–Muller normals, normalised: directions uniform on the sphere.
            var v = (0..<dimension).map { _ -> Float in
                let u = max(random.nextUnit(), 1e-300), w = random.nextUnit()
                return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * w))
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in v.indices { v[i] /= norm }
            return v
        }
        // Each attribute's groups: a target's classes, else five made-up groups.
        let groups = config.attributes.map { attribute in
            config.designs.first { $0.target == attribute }?.classNames ?? (0..<5).map { "\(attribute)-\($0)" }
        }
        let rowGroups = (0..<images).map { _ in groups.map { $0[random.below($0.count)] } }
        let outcomes = config.designs.map { design in
            DesignOutcomes(
                design: design.name, base: design.base, classes: design.classNames,
                harmCategories: design.harmCategories.map(\.name), hasTarget: design.target != nil,
                records: rowGroups.enumerated().map { row, values in
                    let truth = design.target.map { target in
                        config.attributes.firstIndex(of: target).map { values[$0] } ?? design.classNames[0]
                    }
                    return OutcomeRecord(
                        imageKey: "\(row)", groups: values, truth: truth, predicted: design.classNames[0], confidence: 0)
                })
        }
        let settings = MetricSettings(
            attributes: config.attributes, intersections: config.intersections, referenceGroups: config.referenceGroups,
            alpha: config.alpha, minGroupSize: config.minGroupSize, minDifference: config.minDifference)
        let table = PredictionTable(attributes: config.attributes, outcomes: outcomes)
        var kept = EmbeddingMeasurements.ImageSet()
        for row in 0..<images { kept.append(row: row, embedding: unitVector()) }
        var texts: [String: [Float]] = [:]
        func embed(_ prompts: [String]) -> (embeddings: [String: [Float]], encoded: Int) {
            var encoded = 0
            for prompt in prompts where texts[prompt] == nil {
                texts[prompt] = unitVector()
                encoded += 1
            }
            return (texts, encoded)
        }
        // Specification 0: the audit's own wording, as the run scores it before the analysis.
        let own = try config.designs.map { design in
            try ZeroShotClassifier(
                classes: design.classNames,
                promptEmbeddings: design.classes.map { c in design.prompts(forClass: c.name).map { embed([$0]).embeddings[$0]! } },
                logitScale: 100)
        }
        let ownTable = try RobustnessAnalysis.scoreTable(table, designs: config.designs, classifiers: own, images: kept)
        let ownRows = computeAuditMetrics(ownTable, settings: settings).disparities

        let started = Date()
        let outcome = try RobustnessAnalysis.measure(
            spec, designs: config.designs, table: table, images: kept, own: ownRows, settings: settings,
            embedTexts: embed, logitScale: 100, logitBias: nil, score: true, threads: threads)
        let seconds = Date().timeIntervalSince(started)
        let line: [String: Any] = [
            "images": images, "dimension": dimension, "threads": threads, "specifications": spec.specifications,
            "designs": config.designs.count, "classes": config.designs.reduce(0) { $0 + $1.classes.count },
            "rows": outcome.rows?.count ?? 0, "prompts": outcome.promptsTotal,
            "robustness_s": (seconds * 1000).rounded() / 1000,
            "peak_rss_mb": (peakResidentKiB() / 1024 * 10).rounded() / 10
        ]
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
