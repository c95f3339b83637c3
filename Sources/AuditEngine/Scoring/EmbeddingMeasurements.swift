import CLIPEngine
import Foundation

/// What the `retrieval:`, `associations:` and `robustness:` sections measured on the kept
/// embeddings: the contents of `retrieval.csv`, `retrieval_groups.csv`, `association.csv` and
/// `robustness.csv`.
public struct EmbeddingMeasurements: Sendable {
    public var retrieval: [RetrievalRow] = []
    public var retrievalGroups: [RetrievalGroupRow] = []
    public var associations: [(spec: AssociationSpec, result: AssociationResult)] = []
    /// Every disparity row under the other wordings of the prompts (nil: no `robustness:`).
    public var robustness: [RobustnessRow]?

    public init() {}

    /// Every prompt the two sections need encoded: the retrieval queries and each word in each
    /// of its templates, and the prompts the mitigations add. They go through the text cache with
    /// the designs' prompts.
    public static func prompts(for config: AuditConfig) -> [String] {
        var prompts = (config.retrieval?.queries ?? []) + config.mitigationPrompts
        for test in config.associations {
            for word in test.targetA.words + test.targetB.words { prompts += test.prompts(for: word) }
        }
        return prompts
    }

    /// The scored images' normalised embeddings, collected as the run scores them.
    public struct ImageSet: Sendable {
        /// The manifest rows (``UsableRows`` indices) of the images, in manifest order.
        public var rows: [Int] = []
        /// `rows.count × dimension` L2-normalised embeddings.
        public var embeddings: [Float] = []
        public var dimension = 0

        public init() {}

        public mutating func append(row: Int, embedding: [Float]) {
            dimension = embedding.count
            rows.append(row)
            embeddings += ZeroShotScorer.normalized(embedding)
        }

        /// Puts the images in manifest order (a run may deliver them in another).
        mutating func sortByRow() {
            guard rows != rows.sorted() else { return }
            let order = rows.indices.sorted { rows[$0] < rows[$1] }
            var sorted = [Float]()
            sorted.reserveCapacity(embeddings.count)
            for i in order { sorted += embeddings[(i * dimension)..<((i + 1) * dimension)] }
            rows = order.map { rows[$0] }
            embeddings = sorted
        }
    }

    /// Measures both sections over `images`.
    ///
    /// - Throws: `AuditFileError` at the key's line for what only the scored rows can tell: a
    ///   `k` above the number of scored images, an association group with no scored image.
    static func measure(
        config: AuditConfig, rows: UsableRows, images: ImageSet,
        textEmbeddings: [String: [Float]]
    ) throws -> EmbeddingMeasurements {
        var images = images
        images.sortByRow()
        var result = EmbeddingMeasurements()
        let count = images.rows.count
        guard count > 0 else { return result }

        func text(_ prompt: String) -> [Float] { ZeroShotScorer.normalized(textEmbeddings[prompt]!) }

        if let spec = config.retrieval {
            for (i, k) in spec.ks.enumerated() where k > count {
                throw config.error(at: "retrieval.k[\(i)]", "k = \(k) is more than the \(count) scored images")
            }
            let attributes = spec.attributes.map { labels(of: $0, config: config, rows: rows, images: images) }
            let measured = RetrievalSkew.measure(
                images: images.embeddings, count: count, dimension: images.dimension,
                queries: spec.queries.map { (text: $0, embedding: text($0)) },
                attributes: attributes.map { RetrievalAttribute(name: $0.name, groups: $0.groups, labels: $0.labels) },
                ks: spec.ks, permutations: spec.permutations, seed: spec.seed)
            result.retrieval = measured.rows
            result.retrievalGroups = measured.groups
        }

        for test in config.associations {
            let attribute = labels(of: test.attribute, config: config, rows: rows, images: images)
            func members(_ group: String, _ which: Int) throws -> [Int] {
                guard let g = attribute.groups.firstIndex(of: group) else {
                    throw config.error(
                        at: "associations[\(test.index)].groups[\(which)]",
                        "no scored image has \(test.attribute) \"\(group)\" (groups: \(attribute.groups.joined(separator: ", ")))")
                }
                let list = attribute.labels.indices.filter { attribute.labels[$0] == g }
                if list.count < 2 {
                    throw config.error(
                        at: "associations[\(test.index)].groups[\(which)]",
                        "\(test.attribute) \"\(group)\" has \(list.count) scored image; a test needs at least 2 per group")
                }
                return list
            }
            let x = try members(test.groupX, 0), y = try members(test.groupY, 1)
            func wordVector(_ word: String) -> [Float] {
                // The normalised mean of the word's normalised template embeddings.
                let prompts = test.prompts(for: word)
                var mean = [Double](repeating: 0, count: images.dimension)
                for prompt in prompts {
                    for (j, v) in text(prompt).enumerated() { mean[j] += Double(v) }
                }
                let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return mean.map { Float(norm > 0 ? $0 / norm : 0) }
            }
            let s = AssociationTest.associations(
                images: images.embeddings, count: count, dimension: images.dimension,
                a: test.targetA.words.map(wordVector), b: test.targetB.words.map(wordVector))
            result.associations.append(
                (
                    test,
                    AssociationTest.test(
                        s: s, x: x, y: y, permutations: test.permutations,
                        seed: test.seed)
                ))
        }
        return result
    }

    /// The group of every image for an attribute or intersection key, groups in report order.
    static func labels(
        of key: String, config: AuditConfig, rows: UsableRows,
        images: ImageSet
    ) -> (name: String, groups: [String], labels: [Int]) {
        let slice = Slice(csvText: key)
        let names = slice.attributes
        let columns = names.map { rows.attributes.firstIndex(of: $0)! }
        let scored = Set(images.rows)
        let grouping = rows.grouping(columns: columns, including: { scored.contains($0) })
        let values = grouping.groups.map { rows.values(of: $0, columns: columns) }
        let order = values.indices.sorted { a, b in
            for (l, r) in zip(values[a], values[b]) where l != r { return compareGroupValues(l, r) }
            return false
        }
        var rank = [Int](repeating: 0, count: order.count)
        for (position, group) in order.enumerated() { rank[group] = position }
        return (
            key, order.map { slice.groupText(values[$0]) },
            images.rows.map { rank[Int(grouping.groupOfRow[$0])] }
        )
    }
}
