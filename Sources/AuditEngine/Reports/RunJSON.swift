import Foundation

/// `run.json` as a file: the part of an ``AuditReport`` that is not rows (those are the CSVs),
/// in the layout of docs/report-files.md. Encoded with sorted keys; read back strictly (every
/// key of the wrong type is one line naming it). A folder without `schema_version` has the
/// layout before it and goes through ``LegacyRunJSON`` instead.
struct RunJSON: Codable {
    var schemaVersion: Int
    var tool: String
    var version: String
    var runID: String
    var name: String
    var description: String?
    var auditFile: String
    var auditFileSHA256: String
    var model: ModelJSON
    var manifest: ManifestJSON
    var settings: SettingsJSON
    var counts: CountsJSON
    var notes: [String]
    var designs: [DesignJSON]
    var confusions: [ConfusionJSON]
    var findings: [FindingJSON]
    var skipped: [SkipJSON]
    var skippedByReason: [String: Int]
    var timings: [String: Double]
    var cache: String?
    var files: [String]
    /// Only for an audit with `mitigations:` (absent otherwise, so other folders' run.json is unchanged).
    var mitigations: [MitigationJSON]?

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", tool, version, runID = "run_id", name, description
        case auditFile = "audit_file", auditFileSHA256 = "audit_file_sha256", model, manifest, settings, counts, notes
        case designs, confusions, findings, skipped, skippedByReason = "skipped_by_reason", timings = "timings_s", cache, files
        case mitigations
    }

    struct MitigationJSON: Codable {
        var name: String
        var method: String
        var designs: [String]
        var clippedDimensions: [Int]?
        var fitImages: Int?
        enum CodingKeys: String, CodingKey {
            case name, method, designs, clippedDimensions = "clipped_dimensions", fitImages = "fit_images"
        }
    }

    struct ModelJSON: Codable {
        var id: String
        var revision: String?
        var directory: String
        var fingerprint: String
        var weightsSHA256: String
        enum CodingKeys: String, CodingKey { case id, revision, directory, fingerprint, weightsSHA256 = "weights_sha256" }
    }

    struct ManifestJSON: Codable {
        var path: String
        var imageRoot: String
        var fileColumn: String
        var limit: Int
        enum CodingKeys: String, CodingKey { case path, imageRoot = "image_root", fileColumn = "file_column", limit }
    }

    struct CountsJSON: Codable {
        var manifestRows, rowsScored, rowsSkipped, uniqueImages, imagesEncoded, imagesFromCache: Int
        var prompts, promptsEncoded, designs, predictions: Int
        enum CodingKeys: String, CodingKey {
            case manifestRows = "manifest_rows", rowsScored = "rows_scored", rowsSkipped = "rows_skipped"
            case uniqueImages = "unique_images", imagesEncoded = "images_encoded", imagesFromCache = "images_from_cache"
            case prompts, promptsEncoded = "prompts_encoded", designs, predictions
        }
    }

    struct ClassJSON: Codable {
        var name: String
        var phrases: [String]
    }

    struct HarmJSON: Codable {
        var name: String
        var classes: [String]
    }

    struct DesignJSON: Codable {
        var name: String
        var base: String?
        var target: String?
        var templates: [String]
        var classes: [ClassJSON]
        var harmCategories: [HarmJSON]
        var addedClasses: [String]
        var removedClasses: [String]
        var published: [PublishedJSON]
        enum CodingKeys: String, CodingKey {
            case name, base, target, templates, classes, harmCategories = "harm_categories"
            case addedClasses = "added_classes", removedClasses = "removed_classes", published
        }
    }

    struct ConfusionJSON: Codable {
        var design: String
        var attribute: String
        var group: String
        var labels: [String]
        var counts: [[Int]]
        var recall: [Double?]
        var n: Int
    }

    struct SkipJSON: Codable {
        var reason: String
        var line: Int?
        var file: String?
    }

    /// One finding, tagged by `kind`: `retrieval`, `associations`, or `sentence` (a finding
    /// converted from a folder that kept sentences).
    struct FindingJSON: Codable {
        var kind: String
        var queries: Int?
        var k: Int?
        var beyondNull: [AttributeCountJSON]?
        var mostSkewed: MostSkewedJSON?
        var tests: [AssociationJSON]?
        var text: String?
        enum CodingKeys: String, CodingKey {
            case kind, queries, k, beyondNull = "beyond_null", mostSkewed = "most_skewed", tests, text
        }
    }

    struct AttributeCountJSON: Codable {
        var attribute: String
        var count: Int
    }

    struct MostSkewedJSON: Codable {
        var query, attribute, group: String
        var k: Int
        var share, desiredShare, maxSkew: Double
        var nullMaxSkew, pValue: Double?
        enum CodingKeys: String, CodingKey {
            case query, attribute, group, k, share, desiredShare = "desired_share", maxSkew = "max_skew"
            case nullMaxSkew = "null_max_skew", pValue = "p_value"
        }
    }

    struct AssociationJSON: Codable {
        var name: String
        var effectSize, ciLow, ciHigh, pValue: Double
        enum CodingKeys: String, CodingKey {
            case name, effectSize = "effect_size", ciLow = "ci_low", ciHigh = "ci_high", pValue = "p_value"
        }
    }
}

/// A published figure as run.json keeps it: the groups and their values as two lists.
struct PublishedJSON: Codable {
    var design: String?
    var source: String
    var metric: String
    var attribute: String
    var groups: [String]
    var values: [Double]

    init(_ figure: PublishedFigure, design: String? = nil) {
        self.design = design
        source = figure.source
        metric = figure.metric.csvName
        attribute = figure.attribute
        groups = figure.values.map(\.group)
        values = figure.values.map(\.value)
    }

    /// The figure, or nil when it is not one (an unknown metric, lists of different lengths, a
    /// value outside [0, 1]).
    var figure: PublishedFigure? {
        guard let metric = Metric(csvName: metric), groups.count == values.count, values.allSatisfy({ (0...1).contains($0) }) else {
            return nil
        }
        return PublishedFigure(source: source, metric: metric, attribute: attribute, values: Array(zip(groups, values)))
    }
}

/// run.json's `settings`, shared by every layout: checked as it is decoded, each problem one
/// line naming the key (`settings.alpha: not a number between 0 and 1 (exclusive)`).
struct SettingsJSON: Codable {
    static let expected = "expected an object with \"settings\": {\"alpha\", \"min_group_size\", \"attributes\", \"intersections\"}"

    var alpha: Double
    var minGroupSize: Int
    var minDifference: Double?
    var attributes: [String]
    var intersections: [String]
    var referenceGroups: [String: String]?
    var dataset: HubDataset?

    enum CodingKeys: String, CodingKey {
        case alpha, minGroupSize = "min_group_size", minDifference = "min_difference", attributes, intersections
        case referenceGroups = "reference_groups", dataset
    }

    struct DatasetJSON: Codable {
        var id: String
        var split: String?
    }

    init(
        alpha: Double, minGroupSize: Int, minDifference: Double, attributes: [String], intersections: [String],
        referenceGroups: [String: String], dataset: HubDataset?
    ) {
        self.alpha = alpha
        self.minGroupSize = minGroupSize
        self.minDifference = minDifference
        self.attributes = attributes
        self.intersections = intersections
        self.referenceGroups = referenceGroups
        self.dataset = dataset
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func fail(_ key: CodingKeys, _ problem: String) -> RunJSONProblem {
            RunJSONProblem("settings.\(key.rawValue): \(c.contains(key) ? problem : "missing") (\(Self.expected))")
        }
        guard let attributes = try? c.decode([String].self, forKey: .attributes) else { throw fail(.attributes, "not a list of strings") }
        guard let intersections = try? c.decode([String].self, forKey: .intersections) else {
            throw fail(.intersections, "not a list of strings")
        }
        guard let alpha = try? c.decode(Double.self, forKey: .alpha), alpha > 0, alpha < 1 else {
            throw fail(.alpha, "not a number between 0 and 1 (exclusive)")
        }
        guard let size = try? c.decode(Double.self, forKey: .minGroupSize), size >= 0, size <= Double(Int32.max), size == size.rounded()
        else {
            throw fail(.minGroupSize, "not a whole number of at least 0")
        }
        self.attributes = attributes
        self.intersections = intersections
        self.alpha = alpha
        minGroupSize = Int(size)
        if c.contains(.minDifference) {
            guard let value = try? c.decode(Double.self, forKey: .minDifference), value >= 0, value < 1 else {
                throw fail(.minDifference, "not a number from 0 to below 1")
            }
            minDifference = value
        }
        referenceGroups = try? c.decodeIfPresent([String: String].self, forKey: .referenceGroups)
        if c.contains(.dataset) {
            guard let fields = try? c.decode(DatasetJSON.self, forKey: .dataset), !fields.id.isEmpty else {
                throw fail(.dataset, "not an object with a string \"id\"")
            }
            dataset = HubDataset(id: fields.id, split: fields.split)
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(alpha, forKey: .alpha)
        try c.encode(minGroupSize, forKey: .minGroupSize)
        try c.encodeIfPresent(minDifference, forKey: .minDifference)
        try c.encode(attributes, forKey: .attributes)
        try c.encode(intersections, forKey: .intersections)
        try c.encodeIfPresent(referenceGroups, forKey: .referenceGroups)
        try c.encodeIfPresent(dataset.map { DatasetJSON(id: $0.id, split: $0.split) }, forKey: .dataset)
    }
}

/// A problem found while decoding run.json, worded for the reader; the caller names the file.
struct RunJSONProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
