import CLIPEngine
import Foundation

/// The zero-shot scoring rule of the contract (docs/audit-file.md, "Scoring") for one design: its class
/// names over CLIPEngine's `ZeroShotScorer`, which `classify` and `embed` score with too, so a
/// design's probabilities are bit for bit those `classify` computes for the same prompts. Each
/// class's text embedding is the L2-normalised mean of the L2-normalised embeddings of every
/// template × phrase; the image embedding is L2-normalised; logits are `exp(logit_scale)` ×
/// cosine; probabilities are the softmax over the design's classes; the prediction is the
/// arg-max, ties going to the class listed first.
public struct ZeroShotClassifier: Sendable {
    /// Class names, in the design's order.
    public let classes: [String]
    /// The scorer over the classes' averaged prompt embeddings.
    public let scorer: ZeroShotScorer
    /// Row-major [classes, dim] unit vectors.
    public var classEmbeddings: [Float] { scorer.classEmbeddings }
    /// The outcome for one image: per-class probabilities, the predicted class index and its probability.
    public typealias Scores = ZeroShotScorer.Scores

    /// Builds the classifier from each class's prompt embeddings (projected, not normalised);
    /// `logitBias` is SigLIP's (probabilities are then per-class sigmoids).
    public init(classes: [String], promptEmbeddings: [[[Float]]], logitScale: Float, logitBias: Float? = nil) throws {
        precondition(classes.count == promptEmbeddings.count)
        // Checked here, where the classes have names, rather than trapping in the scorer.
        guard let dim = promptEmbeddings.first?.first?.count, dim > 0 else {
            throw AuditError("a design has a class with no prompts")
        }
        for (c, prompts) in promptEmbeddings.enumerated() where prompts.isEmpty {
            throw AuditError("class \"\(classes[c])\" has no prompts")
        }
        self.classes = classes
        self.scorer = ZeroShotScorer(promptEmbeddings: promptEmbeddings, logitScale: logitScale, logitBias: logitBias)
    }

    /// Scores one image embedding (projected, not normalised).
    public func score(imageEmbedding: [Float]) -> Scores { scorer.score(imageEmbedding: imageEmbedding) }
}
