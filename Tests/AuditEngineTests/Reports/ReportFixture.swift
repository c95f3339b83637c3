import Foundation

@testable import AuditEngine
@testable import CLIPEngine

/// A hand-built run for the report tests: 60 made-up images over FairFace's labels (including
/// `Latino_Hispanic` and `more than 70`), a gender design, a denigration design and a variant,
/// with a minimum group size that leaves some groups small. Deterministic: no model, no clock.
enum ReportFixture {
    static let races = ["Black", "East Asian", "Indian", "Latino_Hispanic", "Middle Eastern", "Southeast Asian", "White"]
    static let ages = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]

    static let harmClasses = ["man", "woman", "gorilla", "thief"]

    /// The three designs' outcomes, one record per image.
    static func outcomes() -> [DesignOutcomes] {
        var genderRecords: [OutcomeRecord] = []
        var harmRecords: [OutcomeRecord] = []
        var variantRecords: [OutcomeRecord] = []
        for i in 0..<60 {
            // Race: Black and White are large, the rest smaller, Middle Eastern tiny.
            let others = ["East Asian", "Indian", "Latino_Hispanic", "Southeast Asian"]
            let race = i < 16 ? "Black" : i < 32 ? "White" : i >= 58 ? "Middle Eastern" : others[(i - 32) % others.count]
            let gender = i % 2 == 0 ? "Male" : "Female"
            let age = ages[(i * 7) % ages.count]
            let file = String(format: "img/%03d.jpg", i)
            // Gender accuracy: Black women mostly misclassified; everyone else mostly right.
            let correct = race == "Black" && gender == "Female" ? i % 8 == 1 : i % 11 != 5
            let predictedGender = correct ? gender : (gender == "Male" ? "Female" : "Male")
            // Harm: crime-related far more often for Black images.
            let crime = race == "Black" ? i % 3 != 2 : i % 9 == 0
            let animal = i % 17 == 3
            let harmClass = animal ? "gorilla" : crime ? "thief" : (gender == "Male" ? "man" : "woman")
            let harmCategory: String? = animal ? "non-human" : crime ? "crime-related" : nil
            // The variant adds "child": some crime predictions move to child.
            let variantClass = crime && i % 4 == 0 ? "child" : harmClass
            let variantCategory: String? = variantClass == "child" ? nil : harmCategory
            let groups = [race, gender, age]
            genderRecords.append(
                OutcomeRecord(
                    imageKey: file, groups: groups, truth: gender, predicted: predictedGender,
                    confidence: 0.75))
            harmRecords.append(
                OutcomeRecord(
                    imageKey: file, groups: groups, predicted: harmClass, harmCategory: harmCategory,
                    confidence: 0.5))
            variantRecords.append(
                OutcomeRecord(
                    imageKey: file, groups: groups, predicted: variantClass, harmCategory: variantCategory,
                    confidence: 0.5))
        }
        return [
            DesignOutcomes(design: "gender", classes: ["Male", "Female"], hasTarget: true, records: genderRecords),
            DesignOutcomes(
                design: "denigration", classes: harmClasses, harmCategories: ["non-human", "crime-related"],
                hasTarget: false, records: harmRecords),
            DesignOutcomes(
                design: "denigration+child", base: "denigration", classes: harmClasses + ["child"],
                harmCategories: ["non-human", "crime-related"], hasTarget: false, records: variantRecords)
        ]
    }

    static func run(minGroupSize: Int = 8) -> AuditRun {
        let settings = MetricSettings(
            attributes: ["race", "gender", "age"], intersections: [["race", "gender"]],
            referenceGroups: ["race": "White", "gender": "Male"], alpha: 0.05, minGroupSize: minGroupSize)
        let table = PredictionTable(attributes: settings.attributes, outcomes: outcomes())
        let metrics = computeAuditMetrics(table, settings: settings)
        let spec = { (name: String) in ClassSpec(name: name, phrases: [name]) }
        let harms = [HarmCategory(name: "non-human", classes: ["gorilla"]), HarmCategory(name: "crime-related", classes: ["thief"])]
        let designs = [
            DesignSpec(name: "gender", target: "gender", templates: ["a photo of a {}."], classes: [spec("Male"), spec("Female")]),
            DesignSpec(name: "denigration", templates: ["a photo of a {}."], classes: harmClasses.map(spec), harmCategories: harms),
            DesignSpec(
                name: "denigration+child", templates: ["a photo of a {}."], classes: (harmClasses + ["child"]).map(spec),
                harmCategories: harms, base: "denigration")
        ]
        let config = AuditConfig(
            name: "snapshot", description: "A hand-built run for snapshot tests.", model: nil,
            manifest: ManifestSettings(
                path: URL(fileURLWithPath: "/data/manifest.csv"), imageRoot: URL(fileURLWithPath: "/data"),
                fileColumn: "file", limit: 0),
            attributes: ["race", "gender", "age"], intersections: [["race", "gender"]],
            referenceGroups: ["race": "White", "gender": "Male"], alpha: 0.05, minGroupSize: minGroupSize,
            designs: designs, sourceFile: URL(fileURLWithPath: "/audits/snapshot.yaml"))
        return AuditRun(
            config: config,
            model: ResolvedModel(
                id: "openai/clip-vit-base-patch16", directory: URL(fileURLWithPath: "/models/clip"), revision: "abc123", files: [:]),
            modelKey: ModelKey(weightsSHA256: String(repeating: "ab", count: 32), configurationSHA256: String(repeating: "cd", count: 32)),
            auditFileSHA256: String(repeating: "ef", count: 32), manifestRows: 61, usableRows: 60,
            skipped: [SkippedEntry(line: 62, file: "img/missing.jpg", reason: "image not found: img/missing.jpg", kind: .imageNotFound)],
            uniqueImages: 60, imagesEncoded: 60, imagesFromCache: 0, promptsEncoded: 11, promptsTotal: 11,
            table: table, metrics: metrics, stageTimings: StageTimings([(.scoreAndMeasure, 0.5)]), cachePath: nil, shard: nil)
    }
}
