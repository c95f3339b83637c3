import CLIPEngine
import Foundation

/// What the mitigations measured for one model beyond the variants' predictions: retrieval
/// measured again with each mitigation applied, and what each fit chose (for run.json).
public struct MitigationOutcome: Sendable {
    /// Per mitigation (audit-file order): `retrieval.csv`'s rows with it applied.
    public var retrieval: [(mitigation: String, rows: [RetrievalRow])] = []
    /// Per CLIP-clip mitigation: the dimensions it set to 0 (ascending) and its fit images.
    public var clipped: [(mitigation: String, dimensions: [Int], fitImages: Int)] = []

    public init() {}
}

/// The mitigation bench (docs/audit-file.md, "Mitigations"): fits each mitigation of the audit
/// file to each model's embeddings, scores every variant `<design>~<name>` from the images'
/// embeddings already computed, and measures retrieval again with it applied. Nothing is encoded
/// but the fit images (through the cache); the prompts it adds were encoded with the designs'.
public enum MitigationBench {
    /// Adds a variant `<design>~<name>` (base: the design) to `config.designs` and to every
    /// table for each mitigation × design it applies to, after the audit's designs (design by
    /// design, each design's variants in the order of `mitigations:`), and scores it. `images[m]`, `textEmbeddings[m]` and
    /// `scales[m]` are model m's unit image embeddings, prompt embeddings and logit scale (and
    /// SigLIP bias); `embedder` encodes the CLIP-clip fit images for every model at once. In a
    /// shard run only the fit images are encoded (into the cache).
    ///
    /// - Throws: `AuditFileError` at the mitigation's key: a fit manifest that cannot be read,
    ///   lacks the attribute column or shares an image (by path or content) with the audit; fit
    ///   images that cannot be used; attribute prompts whose embeddings are linearly dependent;
    ///   more dimensions than the embedding has.
    public static func run(
        config: inout AuditConfig, tables: inout [PredictionTable], images: [EmbeddingMeasurements.ImageSet],
        textEmbeddings: [[String: [Float]]], scales: [(scale: Float, bias: Float?)], rows: UsableRows,
        embedder: ImageEmbedder, scoring: Bool = true
    ) throws -> [MitigationOutcome] {
        guard !config.mitigations.isEmpty else { return Array(repeating: MitigationOutcome(), count: tables.count) }
        let fits = try FitImages.embed(config: config, rows: rows, embedder: embedder, models: tables.count)
        guard scoring else { return Array(repeating: MitigationOutcome(), count: tables.count) }
        return try score(
            config: &config, tables: &tables, images: images, textEmbeddings: textEmbeddings, scales: scales, rows: rows, fits: fits)
    }

    /// ``run(config:tables:images:textEmbeddings:scales:rows:embedder:scoring:)`` once the fit
    /// images are embedded: `fits` holds, per CLIP-clip mitigation and model, their unit
    /// embeddings and group labels.
    public static func score(
        config: inout AuditConfig, tables: inout [PredictionTable], images: [EmbeddingMeasurements.ImageSet],
        textEmbeddings: [[String: [Float]]], scales: [(scale: Float, bias: Float?)], rows: UsableRows,
        fits: FitEmbeddings
    ) throws -> [MitigationOutcome] {
        var outcomes = Array(repeating: MitigationOutcome(), count: tables.count)
        let designs = config.designs
        var variants: [(spec: DesignSpec, mitigation: MitigationSpec, design: DesignSpec)] = []
        for design in designs {
            for mitigation in config.mitigations where mitigation.designs.contains(design.name) {
                var spec = design
                spec.name = mitigation.variantName(of: design.name)
                spec.base = design.name
                // Published figures are the design's context, not the variant's.
                spec.published = []
                variants.append((spec, mitigation, design))
            }
        }
        for m in tables.indices {
            var sorted = images[m]
            sorted.sortByRow()
            let text = textEmbeddings[m]
            func unit(_ prompt: String) -> [Double] { Vectors.unit(text[prompt]!) }
            let dimension = sorted.dimension
            var transforms: [String: MitigationFit] = [:]
            for mitigation in config.mitigations {
                transforms[mitigation.name] = try MitigationFit(
                    mitigation, config: config, dimension: dimension, unit: unit, fit: fits[mitigation.name]?[m])
            }
            for variant in variants {
                let fit = transforms[variant.mitigation.name]!
                let transform = fit.transform(forDesign: variant.design)
                let classes = variant.design.classes.map { c in
                    transform.text(MitigationTransform.classEmbedding(variant.design.prompts(forClass: c.name).map { text[$0]! }))
                }
                let scorer = MitigatedScorer(
                    classEmbeddings: classes, logitScale: scales[m].scale, logitBias: scales[m].bias,
                    clipped: transform.clippedDimensions ?? [])
                let scores = scorer.score(images: sorted.embeddings, count: sorted.rows.count)
                let column = tables[m].appendVariant(variant.spec)
                for (row, score) in zip(sorted.rows, scores) {
                    tables[m].record(design: column, row: row, classIndex: score.predicted, confidence: score.confidence)
                }
            }
            for mitigation in config.mitigations {
                let fit = transforms[mitigation.name]!
                if case .clipClip = mitigation.method, let dims = fit.retrieval.clippedDimensions {
                    outcomes[m].clipped.append((mitigation.name, dims, fits[mitigation.name]?[m].count ?? 0))
                }
                if let spec = config.retrieval {
                    outcomes[m].retrieval.append(
                        (
                            mitigation.name,
                            try retrieval(spec, config: config, rows: rows, images: sorted, transform: fit.retrieval, text: text)
                        ))
                }
            }
        }
        // After the audit's own designs, as the tables' columns were appended: every file lists
        // the designs as written, then the variants, design by design.
        config.designs = designs + variants.map(\.spec)
        return outcomes
    }

    /// Retrieval skew with `transform` applied to the queries (and, for CLIP-clip, the images).
    static func retrieval(
        _ spec: RetrievalSpec, config: AuditConfig, rows: UsableRows, images: EmbeddingMeasurements.ImageSet,
        transform: MitigationTransform, text: [String: [Float]]
    ) throws -> [RetrievalRow] {
        let count = images.rows.count
        guard count > 0 else { return [] }
        for (i, k) in spec.ks.enumerated() where k > count {
            throw config.error(at: "retrieval.k[\(i)]", "k = \(k) is more than the \(count) scored images")
        }
        var embeddings = images.embeddings
        if let dims = transform.clippedDimensions {
            let d = images.dimension
            for i in 0..<count {
                var v = (0..<d).map { Double(embeddings[i * d + $0]) }
                for j in dims { v[j] = 0 }
                v = Vectors.unit(v)
                for j in 0..<d { embeddings[i * d + j] = Float(v[j]) }
            }
        }
        let attributes = spec.attributes.map { EmbeddingMeasurements.labels(of: $0, config: config, rows: rows, images: images) }
        return RetrievalSkew.measure(
            images: embeddings, count: count, dimension: images.dimension,
            queries: spec.queries.map { (text: $0, embedding: transform.text(Vectors.unit(text[$0]!)).map(Float.init)) },
            attributes: attributes.map { RetrievalAttribute(name: $0.name, groups: $0.groups, labels: $0.labels) },
            ks: spec.ks, permutations: spec.permutations, seed: spec.seed
        ).rows
    }
}

/// One mitigation fitted to one model: the transform of each design it applies to, and of
/// retrieval's queries.
struct MitigationFit {
    private var byDesign: [String: MitigationTransform] = [:]
    /// For retrieval (calibrated projection: pairs from the concepts).
    let retrieval: MitigationTransform

    init(
        _ mitigation: MitigationSpec, config: AuditConfig, dimension: Int, unit: (String) -> [Double],
        fit: (embeddings: [Float], labels: [Int], groups: Int, count: Int)?
    ) throws {
        let path = "mitigations[\(mitigation.index)]"
        func projection() throws -> Projection {
            guard let p0 = Projection(columns: mitigation.attributePrompts.map(unit)) else {
                throw config.error(
                    at: "\(path).attribute_prompts",
                    "the attribute prompts' embeddings are linearly dependent (AᵀA is singular); drop the prompts that repeat another's direction"
                )
            }
            return p0
        }
        switch mitigation.method {
        case .projection:
            retrieval = MitigationTransform(kind: .projection(try projection()))
            for design in mitigation.designs { byDesign[design] = retrieval }
        case .calibratedProjection(_, _, _, let lambda):
            let p0 = try projection()
            func calibrated(_ phrases: [String]) -> MitigationTransform {
                let pairs = phrases.map { mitigation.pairPrompts(phrase: $0).map(unit) }
                return MitigationTransform(
                    kind: .calibrated(p0, MitigationTransform.calibration(pairs: pairs, lambda: lambda, dimension: dimension)))
            }
            retrieval = calibrated(config.retrieval?.concepts ?? [])
            for name in mitigation.designs {
                guard let design = config.design(named: name) else { continue }
                byDesign[name] = calibrated(design.classes.flatMap(\.phrases))
            }
        case .clipClip(_, let dimensions, _):
            guard let fit else { preconditionFailure("CLIP-clip without fit images") }
            if dimensions >= dimension {
                throw config.error(
                    at: "\(path).dimensions", "\(dimensions) dimensions would clip every dimension of the \(dimension)-wide embeddings")
            }
            let information = ClipClip.mutualInformation(
                embeddings: fit.embeddings, count: fit.count, dimension: dimension, labels: fit.labels, groups: fit.groups)
            retrieval = MitigationTransform(kind: .clipped(dimensions: ClipClip.choose(dimensions, from: information)))
            for design in mitigation.designs { byDesign[design] = retrieval }
        }
    }

    func transform(forDesign design: DesignSpec) -> MitigationTransform { byDesign[design.name]! }
}

extension PredictionTable {
    /// Appends an empty column set for `spec` (a mitigation's variant) and returns its index.
    mutating func appendVariant(_ spec: DesignSpec) -> Int {
        let categories = spec.harmCategories.map(\.name)
        let classHarm = spec.classNames.map { name in spec.harmCategory(ofClass: name).flatMap { categories.firstIndex(of: $0) } ?? -1 }
        designs.append(
            DesignPredictions(
                name: spec.name, base: spec.base, classes: spec.classNames, harmCategories: categories,
                hasTarget: spec.target != nil, labels: spec.classNames, labelHarm: classHarm,
                harmLabels: categories, truthColumn: spec.target.flatMap { rows.targets.firstIndex(of: $0) },
                rows: rows))
        return designs.count - 1
    }
}
