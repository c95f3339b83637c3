import CLIPEngine
import Foundation

/// The top folder's `run.json` of a several-model audit (docs/report-files.md): the audit, each
/// model with its folder, the shared counts, skipped rows, timings and files. `card` reads back
/// `name` and the models' labels (``ModelsFolder``); each model's own report is its folder's.
struct ModelsRunJSON: Codable {
    var schemaVersion: Int?
    var tool: String
    var version: String
    var name: String
    var auditFile: String
    var auditFileSHA256: String
    var models: [Model]
    var counts: Counts
    var skippedByReason: [String: Int]
    var skipped: [RunJSON.SkipJSON]
    var timings: [String: Double]
    var cache: String?
    var files: [String]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", tool, version, name, auditFile = "audit_file", auditFileSHA256 = "audit_file_sha256"
        case models, counts, skippedByReason = "skipped_by_reason", skipped, timings = "timings_s", cache, files
    }

    struct Model: Codable {
        var label: String
        var model: String
        var weightsSHA256: String
        var folder: String
        var encodeSeconds: Double
        enum CodingKeys: String, CodingKey {
            case label, model, weightsSHA256 = "weights_sha256", folder, encodeSeconds = "encode_seconds"
        }
    }

    struct Counts: Codable {
        var manifestRows: Int
        var rowsScored: Int
        var rowsSkipped: Int
        var comparisons: Int
        enum CodingKeys: String, CodingKey {
            case manifestRows = "manifest_rows", rowsScored = "rows_scored", rowsSkipped = "rows_skipped", comparisons
        }
    }

    /// What `card` needs of a top folder's run.json: the audit's name and the model labels in
    /// order, each checked (a label names a folder under the top folder, so one read back must
    /// not lead out of it). Both layouts have them in the same place.
    struct Labels: Decodable {
        static let expected = "expected an object with \"name\" and \"models\": [{\"label\", \"model\"}, …]"

        var name: String
        var labels: [String]

        enum CodingKeys: String, CodingKey { case name, models }

        struct Entry: Decodable {
            var label: String
            var model: String
        }

        init(from decoder: Decoder) throws {
            let c: KeyedDecodingContainer<CodingKeys>
            do { c = try decoder.container(keyedBy: CodingKeys.self) } catch DecodingError.typeMismatch {
                throw RunJSONProblem(Self.expected)
            }
            guard let name = try? c.decode(String.self, forKey: .name) else {
                throw RunJSONProblem("name: missing or not a string (\(Self.expected))")
            }
            guard let entries = try? c.decode([Lenient<Entry>].self, forKey: .models) else {
                throw RunJSONProblem("models: \(c.contains(.models) ? "not a list" : "missing") (\(Self.expected))")
            }
            guard entries.count >= 2 else {
                throw RunJSONProblem("models: \(entries.count) model(s), a top folder has two or more")
            }
            var labels: [String] = []
            for (i, entry) in entries.enumerated() {
                guard let label = entry.value?.label else {
                    throw RunJSONProblem("models[\(i)]: not an object with a string \"label\" and \"model\"")
                }
                if let problem = AuditModel.labelProblem(label) {
                    throw RunJSONProblem("models[\(i)].label \(JSONText.quoted(label)) is not a model label: it \(problem)")
                }
                guard !labels.contains(label) else {
                    throw RunJSONProblem("models[\(i)].label \"\(label)\" repeats an earlier model's")
                }
                labels.append(label)
            }
            self.name = TextSafety.visibleControls(name, keeping: [])
            self.labels = labels
        }
    }
}
