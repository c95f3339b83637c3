import Foundation

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
