import Foundation

/// `run.json` as a file: the part of an ``AuditReport`` that is not rows (those are the CSVs),
/// in the layout of docs/report-files.md. Encoded with sorted keys; read back strictly (every
/// key of the wrong type is one line naming it). A folder without `schema_version` has the
/// layout before it and goes through ``LegacyRunJSON`` instead. A key added later (a new report
/// section) is an Optional here, so that folders written before it still decode, with the
/// section absent; `schema_version` changes only when a key changes meaning.
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
