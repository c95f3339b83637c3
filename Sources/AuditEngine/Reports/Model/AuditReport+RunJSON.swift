import Foundation

/// The report as `run.json` (its rows are the CSVs): ``RunJSON`` is the file's layout, this
/// extension the mapping both ways. Encoding the report encodes that layout, so `Codable` and the
/// file are one thing.
extension AuditReport: Codable {
    public func encode(to encoder: Encoder) throws {
        try RunJSON(self).encode(to: encoder)
    }

    /// The report as run.json holds it: everything but the rows (read from the CSVs by
    /// ``read(folder:)``).
    public init(from decoder: Decoder) throws {
        self.init(try RunJSON(from: decoder))
    }

    /// `run.json`'s text: the report without its rows, keys sorted, one trailing newline.
    public func runJSON() throws -> String {
        String(decoding: try Self.encoder.encode(self), as: UTF8.self) + "\n"
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // An effect size over groups with no spread is not a number: kept, not an error.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// The report `run.json` at `path` holds (either layout), without rows; every problem one
    /// line naming the file.
    static func decodeRunJSON(_ data: Data, path: String) throws -> AuditReport {
        if data.isEmpty { throw AuditError(file: path, "not valid JSON (the file is empty)") }
        if String(data: data, encoding: .utf8) == nil { throw AuditError(file: path, "not valid JSON (not UTF-8 text)") }
        do {
            let envelope = try decoder.decode(RunJSONEnvelope.self, from: data)
            switch envelope.schemaVersion {
            case nil: return try decoder.decode(LegacyRunJSON.self, from: data).report
            case let version? where version == schemaVersion: return try decoder.decode(AuditReport.self, from: data)
            case let version?:
                throw RunJSONProblem(
                    "schema_version \(version) is not one this clip-audit reads (up to \(schemaVersion)); read it with a newer clip-audit")
            }
        } catch let problem as RunJSONProblem {
            throw AuditError(file: path, problem.message)
        } catch let error as DecodingError {
            throw AuditError(file: path, RunJSONEnvelope.describe(error, data))
        }
    }

    init(_ json: RunJSON) {
        let slices = (json.settings.attributes + json.settings.intersections).map(Slice.init(csvText:))
        let designs = json.designs.map { d -> Design in
            var design = Design(name: d.name, base: d.base, hasTarget: d.target != nil, headlineMetrics: [])
            design.target = d.target
            design.templates = d.templates
            design.classes = d.classes.map { DesignClass(name: $0.name, phrases: $0.phrases) }
            design.harmCategories = d.harmCategories.map { HarmCategory(name: $0.name, classes: $0.classes) }
            design.addedClasses = d.addedClasses
            design.removedClasses = d.removedClasses
            design.published = d.published.compactMap(\.figure)
            return design
        }
        self.init(
            name: json.name, modelID: json.model.id, weightsSHA256: json.model.weightsSHA256, manifestName: json.manifest.path,
            alpha: json.settings.alpha, minGroupSize: json.settings.minGroupSize, slices: slices, designs: designs, metrics: [],
            disparities: [], comparisons: [])
        description = json.description
        model = Model(
            id: json.model.id, revision: json.model.revision, directory: json.model.directory, fingerprint: json.model.fingerprint,
            weightsSHA256: json.model.weightsSHA256)
        auditFile = json.auditFile
        auditFileSHA256 = json.auditFileSHA256
        manifest = Manifest(
            path: json.manifest.path, imageRoot: json.manifest.imageRoot, fileColumn: json.manifest.fileColumn, limit: json.manifest.limit)
        minDifference = json.settings.minDifference ?? AuditConfig.defaultMinDifference
        referenceGroups = json.settings.referenceGroups ?? [:]
        dataset = json.settings.dataset
        notes = json.notes
        let c = json.counts
        counts.manifestRows = c.manifestRows
        counts.rowsScored = c.rowsScored
        counts.rowsSkipped = c.rowsSkipped
        counts.uniqueImages = c.uniqueImages
        counts.imagesEncoded = c.imagesEncoded
        counts.imagesFromCache = c.imagesFromCache
        counts.prompts = c.prompts
        counts.promptsEncoded = c.promptsEncoded
        counts.designs = c.designs
        counts.predictions = c.predictions
        confusions = json.confusions.map {
            ConfusionTable(
                design: $0.design, attribute: Slice(csvText: $0.attribute), group: $0.group, labels: $0.labels, counts: $0.counts,
                recall: $0.recall, n: $0.n)
        }
        findings = json.findings.compactMap(\.finding)
        skipped = json.skipped.map { Skip(reason: $0.reason, line: $0.line, file: $0.file) }
        skippedByReason = Self.skipCounts(json.skippedByReason)
        timings = json.timings
        cache = json.cache
        files = json.files
        runID = json.runID
        toolVersion = json.version
        mitigations = (json.mitigations ?? []).map {
            Mitigation(
                name: $0.name, method: $0.method, designs: $0.designs, clippedDimensions: $0.clippedDimensions, fitImages: $0.fitImages)
        }
    }

    /// Skip counts in report order (most first, ties by name), from run.json's object.
    static func skipCounts(_ counts: [String: Int]) -> [SkipCount] {
        counts.map { SkipCount(kind: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.kind < $1.kind }
    }
}

extension RunJSON {
    init(_ report: AuditReport) {
        schemaVersion = AuditReport.schemaVersion
        tool = "clip-audit"
        version = report.toolVersion
        runID = report.runID
        name = report.name
        description = report.description
        auditFile = report.auditFile
        auditFileSHA256 = report.auditFileSHA256
        let m = report.model
        model = ModelJSON(
            id: m.id, revision: m.revision, directory: m.directory, fingerprint: m.fingerprint, weightsSHA256: m.weightsSHA256)
        manifest = ManifestJSON(
            path: report.manifest.path, imageRoot: report.manifest.imageRoot, fileColumn: report.manifest.fileColumn,
            limit: report.manifest.limit)
        settings = SettingsJSON(
            alpha: report.alpha, minGroupSize: report.minGroupSize, minDifference: report.minDifference,
            attributes: report.attributes, intersections: report.slices.filter(\.isIntersection).map(\.csvText),
            referenceGroups: report.referenceGroups, dataset: report.dataset)
        let c = report.counts
        counts = CountsJSON(
            manifestRows: c.manifestRows, rowsScored: c.rowsScored, rowsSkipped: c.rowsSkipped, uniqueImages: c.uniqueImages,
            imagesEncoded: c.imagesEncoded, imagesFromCache: c.imagesFromCache, prompts: c.prompts, promptsEncoded: c.promptsEncoded,
            designs: c.designs, predictions: c.predictions)
        notes = report.notes
        designs = report.designs.map { d in
            DesignJSON(
                name: d.name, base: d.base, target: d.target, templates: d.templates,
                classes: d.classes.map { ClassJSON(name: $0.name, phrases: $0.phrases) },
                harmCategories: d.harmCategories.map { HarmJSON(name: $0.name, classes: $0.classes) },
                addedClasses: d.addedClasses, removedClasses: d.removedClasses, published: d.published.map { PublishedJSON($0) })
        }
        confusions = report.confusions.map {
            ConfusionJSON(
                design: $0.design, attribute: $0.attribute.csvText, group: $0.group, labels: $0.labels, counts: $0.counts,
                recall: $0.recall, n: $0.n)
        }
        findings = report.findings.map(FindingJSON.init)
        skipped = report.skipped.map { SkipJSON(reason: $0.reason, line: $0.line, file: $0.file) }
        skippedByReason = Dictionary(report.skippedByReason.map { ($0.kind, $0.count) }, uniquingKeysWith: +)
        timings = report.timings
        cache = report.cache
        files = report.files
        mitigations =
            report.mitigations.isEmpty
            ? nil
            : report.mitigations.map {
                MitigationJSON(
                    name: $0.name, method: $0.method, designs: $0.designs, clippedDimensions: $0.clippedDimensions, fitImages: $0.fitImages)
            }
    }
}

extension RunJSON.FindingJSON {
    init(_ finding: MeasurementFinding) {
        switch finding {
        case .retrieval(let r):
            kind = "retrieval"
            queries = r.queries
            k = r.k
            beyondNull = r.beyondNull.map { RunJSON.AttributeCountJSON(attribute: $0.attribute.csvText, count: $0.count) }
            mostSkewed = r.mostSkewed.map {
                RunJSON.MostSkewedJSON(
                    query: $0.query, attribute: $0.attribute.csvText, group: $0.group, k: $0.k, share: $0.share,
                    desiredShare: $0.desiredShare,
                    maxSkew: $0.maxSkew, nullMaxSkew: $0.nullMaxSkew, pValue: $0.pValue)
            }
        case .associations(let tests):
            kind = "associations"
            self.tests = tests.map {
                RunJSON.AssociationJSON(name: $0.name, effectSize: $0.effectSize, ciLow: $0.ciLow, ciHigh: $0.ciHigh, pValue: $0.pValue)
            }
        case .sentence(let text):
            kind = "sentence"
            self.text = text
        }
    }

    /// The finding, or nil for a kind this version does not know (a newer writer's).
    var finding: MeasurementFinding? {
        switch kind {
        case "retrieval":
            guard let queries, let k else { return nil }
            return .retrieval(
                .init(
                    queries: queries, k: k,
                    beyondNull: (beyondNull ?? []).map { .init(attribute: Slice(csvText: $0.attribute), count: $0.count) },
                    mostSkewed: mostSkewed.map {
                        .init(
                            query: $0.query, attribute: Slice(csvText: $0.attribute), k: $0.k, group: $0.group, share: $0.share,
                            desiredShare: $0.desiredShare, maxSkew: $0.maxSkew, nullMaxSkew: $0.nullMaxSkew, pValue: $0.pValue)
                    }))
        case "associations":
            return .associations(
                (tests ?? []).map { .init(name: $0.name, effectSize: $0.effectSize, ciLow: $0.ciLow, ciHigh: $0.ciHigh, pValue: $0.pValue) }
            )
        case "sentence":
            return text.map { .sentence(LegacyRunJSON.safeSentence($0)) }
        default:
            return nil
        }
    }
}
