import CLIPEngine
import Foundation

/// `clip-audit bench --mitigations`: the mitigation bench at FairFace validation's size, on
/// random embeddings (the cost does not depend on the values; a real run takes them from the
/// cache): 10,954 images of 512 dimensions, five designs (gender, race and age with targets,
/// a four-class harm design and a five-class variant of it), and the three methods applied to
/// every design — 15 variants — with CLIP-clip fitted on 2,000 further images.
public enum MitigationBenchmark {
    public static let images = 10_954, dimension = 512, fitImages = 2_000

    /// What was timed: fitting and scoring every variant, then the metrics of every design and
    /// variant (what the run computes next), in seconds.
    public struct Timing: Sendable {
        public var variants: Int
        public var mitigationSeconds: Double
        public var metricsSeconds: Double
    }

    public static func run() throws -> Timing {
        var random = SeededRandom(seed: 7)
        func unitVector() -> [Float] {
            var v = (0..<dimension).map { _ -> Float in
                let u = max(random.nextUnit(), 1e-300), w = random.nextUnit()
                return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * w))
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in v.indices { v[i] /= norm }
            return v
        }
        let races = ["Black", "East Asian", "Indian", "Latino_Hispanic", "Middle Eastern", "Southeast Asian", "White"]
        let ages = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
        let yaml = """
            name: mitigation-bench
            manifest: {path: manifest.csv}
            attributes: [race, gender, age]
            templates: ["a photo of a {}.", "a cropped photo of a {}."]
            designs:
              - {name: gender, target: gender, classes: {Male: [man, male person], Female: [woman, female person]}}
              - name: race
                target: race
                classes: {\(races.map { "\"\($0)\": [\"\($0) person\"]" }.joined(separator: ", "))}
              - name: age
                target: age
                classes: {\(ages.map { "\"\($0)\": [\"person aged \($0)\"]" }.joined(separator: ", "))}
              - name: denigration
                classes: {human: [human being], gorilla: [gorilla], chimpanzee: [chimpanzee], thief: [thief, criminal]}
                harm_categories: {non-human: [gorilla, chimpanzee], crime-related: [thief]}
              - {name: denigration+child, extends: denigration, add_classes: {child: [child]}}
            mitigations:
              - {name: proj, method: projection, attribute_prompts: ["a photo of a man.", "a photo of a woman."]}
              - name: cal
                method: calibrated_projection
                attribute_prompts: ["a photo of a man.", "a photo of a woman."]
                pair_template: "a photo of a {attribute} {class}."
                attribute_words: [male, female]
                lambda: 1000
              - {name: clip, method: clip_clip, attribute: gender, dimensions: 100, fit_manifest: {path: fit.csv}}
            """
        var config = try AuditConfig.parse(yaml: yaml, sourceFile: URL(fileURLWithPath: "/bench/mitigation-bench.yaml"))
        var text: [String: [Float]] = [:]
        var prompts = config.mitigationPrompts
        for design in config.designs {
            for c in design.classes { prompts += design.prompts(forClass: c.name) }
        }
        for prompt in prompts where text[prompt] == nil { text[prompt] = unitVector() }

        var rows = UsableRows(imageRoot: URL(fileURLWithPath: "/"), attributes: config.attributes, targets: config.targetColumns)
        var set = EmbeddingMeasurements.ImageSet()
        for i in 0..<images {
            let race = races[random.below(races.count)], gender = random.below(2) == 0 ? "Male" : "Female"
            let age = ages[random.below(ages.count)]
            rows.append(line: i + 2, file: "img\(i).jpg", values: [race, gender, age, gender, race, age])
            set.append(row: i, embedding: unitVector())
        }
        var table = try PredictionTable(rows: rows, designs: config.designs)
        for d in table.designs.indices {
            for row in 0..<images {
                table.record(design: d, row: row, classIndex: random.below(table.designs[d].classes.count), confidence: 0.5)
            }
        }
        var fit = [Float](), labels = [Int]()
        for i in 0..<fitImages {
            fit += unitVector()
            labels.append(i % 2)
        }
        var tables = [table]
        let started = Date()
        _ = try MitigationBench.score(
            config: &config, tables: &tables, images: [set], textEmbeddings: [text], scales: [(100, nil)], rows: rows,
            fits: ["clip": [(fit, labels, 2, fitImages)]])
        let mitigation = Date().timeIntervalSince(started)
        let settings = MetricSettings(attributes: config.attributes, intersections: [], referenceGroups: [:])
        let metricsStarted = Date()
        _ = computeAuditMetrics(tables[0], settings: settings)
        return Timing(
            variants: tables[0].designs.count - 5, mitigationSeconds: mitigation, metricsSeconds: Date().timeIntervalSince(metricsStarted))
    }
}
