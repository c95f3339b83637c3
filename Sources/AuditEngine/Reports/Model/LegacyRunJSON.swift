import Foundation

/// `run.json` as clip-audit wrote it before `schema_version` (layout 1), converted to an
/// ``AuditReport`` at the edge: the only place that layout is read. Only `settings` is required
/// (as it always was); every other key is taken when it is there and of the right shape, since
/// older folders lack some (`variants`, `published`, `designs`, `measurement_findings`).
struct LegacyRunJSON: Decodable {
    var report: AuditReport

    enum CodingKeys: String, CodingKey {
        case settings, name, model, manifest, runID = "run_id", measurementFindings = "measurement_findings", variants, published
        case designs, counts, skipped, skippedByReason = "skipped_by_reason", timings = "timings_s", cache, files, version
        case auditFile = "audit_file", auditFileSHA256 = "audit_file_sha256"
    }

    struct Model: Decodable {
        var id: String?
        var revision: String?
        var directory: String?
        var fingerprint: String?
        var weightsSHA256: String?
        enum CodingKeys: String, CodingKey { case id, revision, directory, fingerprint, weightsSHA256 = "weights_sha256" }
    }

    struct Manifest: Decodable {
        var path: String?
        var imageRoot: String?
        var fileColumn: String?
        var limit: Int?
        enum CodingKeys: String, CodingKey { case path, imageRoot = "image_root", fileColumn = "file_column", limit }
    }

    struct Variant: Decodable {
        var design: String
        var addedClasses: [String]?
        var removedClasses: [String]?
        enum CodingKeys: String, CodingKey { case design, addedClasses = "added_classes", removedClasses = "removed_classes" }
    }

    /// One entry of layout 1's `designs` (design name → what decides its predictions).
    struct Signature: Decodable {
        var target: String?
        var templates: [String]
        var classes: [RunJSON.ClassJSON]
        var harmCategories: [String: [String]]
        enum CodingKeys: String, CodingKey { case target, templates, classes, harmCategories = "harm_categories" }
    }

    /// A finding sentence of layout 1 as a card may show it: escaped Markdown never holds a raw
    /// `<` or `>`, so an edited run.json cannot bring markup into a card through one.
    static func safeSentence(_ text: String) -> String {
        TextSafety.visibleControls(text, keeping: []).replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let settings = try c.decode(SettingsJSON.self, forKey: .settings)
        let model = (try? c.decodeIfPresent(Model.self, forKey: .model)) ?? nil
        let manifest = (try? c.decodeIfPresent(Manifest.self, forKey: .manifest)) ?? nil
        var report = AuditReport(
            name: (try? c.decodeIfPresent(String.self, forKey: .name)) ?? nil ?? "",
            modelID: model?.id ?? "unknown", weightsSHA256: model?.weightsSHA256 ?? "",
            manifestName: manifest?.path ?? "manifest.csv", alpha: settings.alpha, minGroupSize: settings.minGroupSize,
            slices: (settings.attributes + settings.intersections).map(Slice.init(csvText:)), designs: [], metrics: [],
            disparities: [], comparisons: [])
        report.model.revision = model?.revision
        report.model.directory = model?.directory ?? ""
        report.model.fingerprint = model?.fingerprint ?? ""
        report.manifest.imageRoot = manifest?.imageRoot ?? ""
        report.manifest.fileColumn = manifest?.fileColumn ?? ""
        report.manifest.limit = manifest?.limit ?? 0
        report.minDifference = settings.minDifference ?? AuditConfig.defaultMinDifference
        report.referenceGroups = settings.referenceGroups ?? [:]
        report.dataset = settings.dataset
        report.runID = (try? c.decodeIfPresent(String.self, forKey: .runID)) ?? nil ?? ""
        report.auditFile = (try? c.decodeIfPresent(String.self, forKey: .auditFile)) ?? nil ?? ""
        report.auditFileSHA256 = (try? c.decodeIfPresent(String.self, forKey: .auditFileSHA256)) ?? nil ?? ""
        report.toolVersion = (try? c.decodeIfPresent(String.self, forKey: .version)) ?? nil ?? ""
        // Retrieval and association findings, as the run wrote them (absent in older folders);
        // an entry that is no string is left out.
        if let sentences = try? c.decodeIfPresent([Lenient<String>].self, forKey: .measurementFindings) {
            report.findings = sentences.compactMap(\.value).map { .sentence(Self.safeSentence($0)) }
        }
        if let skipped = try? c.decodeIfPresent([RunJSON.SkipJSON].self, forKey: .skipped) {
            report.skipped = skipped.map { AuditReport.Skip(reason: $0.reason, line: $0.line, file: $0.file) }
        }
        if let counts = try? c.decodeIfPresent([String: Int].self, forKey: .skippedByReason) {
            report.skippedByReason = AuditReport.skipCounts(counts)
        }
        report.timings = ((try? c.decodeIfPresent([String: Double].self, forKey: .timings)) ?? nil) ?? [:]
        report.cache = (try? c.decodeIfPresent(String.self, forKey: .cache)) ?? nil
        report.files = ((try? c.decodeIfPresent([String].self, forKey: .files)) ?? nil) ?? []
        if let counts = try? c.decodeIfPresent(RunJSON.CountsJSON.self, forKey: .counts) {
            report.counts.manifestRows = counts.manifestRows
            report.counts.rowsScored = counts.rowsScored
            report.counts.rowsSkipped = counts.rowsSkipped
            report.counts.uniqueImages = counts.uniqueImages
            report.counts.imagesEncoded = counts.imagesEncoded
            report.counts.imagesFromCache = counts.imagesFromCache
            report.counts.prompts = counts.prompts
            report.counts.promptsEncoded = counts.promptsEncoded
            report.counts.designs = counts.designs
            report.counts.predictions = counts.predictions
        }
        var published: [PublishedJSON] = []
        if c.contains(.published) {
            guard let entries = try? c.decode([Lenient<PublishedJSON>].self, forKey: .published) else {
                throw RunJSONProblem("published: not a list of objects")
            }
            for (i, entry) in entries.enumerated() {
                guard let json = entry.value, json.design != nil, json.figure != nil else {
                    throw RunJSONProblem(
                        "published: entry \(i + 1) needs design, source, metric, attribute, and groups with as many values from 0 to 1")
                }
            }
            published = entries.compactMap(\.value)
        }
        let variants = ((try? c.decodeIfPresent([Variant].self, forKey: .variants)) ?? nil) ?? []
        // All or none: a folder whose signatures cannot all be read has none (as before).
        let signatures = ((try? c.decodeIfPresent([String: Signature].self, forKey: .designs)) ?? nil) ?? [:]
        // Layout 1 does not list the designs in order: these carry what it kept about each, and
        // ``ReportFolder`` lays them out in metrics.csv's order, bases from comparison.csv.
        var names: [String] = []
        for name in signatures.keys.sorted() + variants.map(\.design) + published.compactMap(\.design) where !names.contains(name) {
            names.append(name)
        }
        report.designs = names.map { name in
            let signature = signatures[name]
            var design = AuditReport.Design(name: name, hasTarget: signature?.target != nil, headlineMetrics: [])
            if let signature {
                design.target = signature.target
                design.templates = signature.templates
                design.classes = signature.classes.map { AuditReport.DesignClass(name: $0.name, phrases: $0.phrases) }
                design.harmCategories = signature.harmCategories.keys.sorted().map {
                    HarmCategory(name: $0, classes: signature.harmCategories[$0]!)
                }
            }
            if let variant = variants.first(where: { $0.design == name }) {
                design.addedClasses = variant.addedClasses ?? []
                design.removedClasses = variant.removedClasses ?? []
            }
            design.published = published.filter { $0.design == name }.compactMap(\.figure)
            return design
        }
        report.schemaVersion = 1
        self.report = report
    }
}
