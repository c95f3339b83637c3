import Foundation

/// The zero-shot scoring rule of the contract (SPEC.md, "Scoring"):
/// each class's text embedding is the L2-normalised mean of the L2-normalised embeddings of every
/// template × phrase; the image embedding is L2-normalised; logits are `exp(logit_scale)` × cosine;
/// probabilities are the softmax over the design's classes; the prediction is the arg-max, ties
/// going to the class listed first.
public struct ZeroShotClassifier: Sendable {
    /// Class names, in the design's order.
    public let classes: [String]
    /// Row-major [classes, dim] unit vectors.
    public let classEmbeddings: [Float]
    /// The embedding width.
    public let dimension: Int
    /// `exp(logit_scale)`.
    public let logitScale: Float

    /// Builds the classifier from each class's prompt embeddings (projected, not normalised).
    public init(classes: [String], promptEmbeddings: [[[Float]]], logitScale: Float) throws {
        precondition(classes.count == promptEmbeddings.count)
        guard let dim = promptEmbeddings.first?.first?.count, dim > 0 else {
            throw AuditError("a design has a class with no prompts")
        }
        var matrix = [Float](repeating: 0, count: classes.count * dim)
        for (c, prompts) in promptEmbeddings.enumerated() {
            guard !prompts.isEmpty else { throw AuditError("class \"\(classes[c])\" has no prompts") }
            var mean = [Double](repeating: 0, count: dim)
            for embedding in prompts {
                precondition(embedding.count == dim)
                let unit = Self.normalized(embedding)
                for i in 0..<dim { mean[i] += Double(unit[i]) }
            }
            let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0..<dim { matrix[c * dim + i] = Float(norm > 0 ? mean[i] / norm : 0) }
        }
        self.classes = classes
        self.classEmbeddings = matrix
        self.dimension = dim
        self.logitScale = logitScale
    }

    /// An embedding divided by its L2 norm (accumulated in double precision).
    public static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        guard norm > 0 else { return v }
        return v.map { Float(Double($0) / norm) }
    }

    /// The outcome for one image: per-class probabilities, the predicted class index and its probability.
    public struct Scores: Sendable {
        public var probabilities: [Double]
        public var predicted: Int
        public var confidence: Double { probabilities[predicted] }
    }

    /// Scores one image embedding (projected, not normalised).
    public func score(imageEmbedding: [Float]) -> Scores {
        precondition(imageEmbedding.count == dimension)
        let image = Self.normalized(imageEmbedding)
        var logits = [Double](repeating: 0, count: classes.count)
        for c in 0..<classes.count {
            var dot = 0.0
            for i in 0..<dimension { dot += Double(classEmbeddings[c * dimension + i]) * Double(image[i]) }
            logits[c] = Double(logitScale) * dot
        }
        let maxLogit = logits.max() ?? 0
        var sum = 0.0
        var probabilities = logits.map { exp($0 - maxLogit) }
        for p in probabilities { sum += p }
        for i in probabilities.indices { probabilities[i] /= sum }
        // Arg-max on the logits, strict comparison: ties go to the class listed first.
        var best = 0
        for c in 1..<max(1, classes.count) where logits[c] > logits[best] { best = c }
        return Scores(probabilities: probabilities, predicted: best)
    }
}
