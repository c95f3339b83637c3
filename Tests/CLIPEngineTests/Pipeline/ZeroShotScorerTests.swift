import Foundation
import Testing

@testable import CLIPEngine

/// Edge cases of the shared zero-shot scorer that the parity and run/classify agreement tests do
/// not reach.
@Suite struct ZeroShotScorerTests {
    /// `logits_per_image` against no texts is an empty matrix, as `embed` with images only needs.
    @Test func logitsAgainstNoTextsAreEmpty() {
        let scorer = ZeroShotScorer(textEmbeddings: [], dimension: 4, logitScale: 10)
        #expect(scorer.classCount == 0)
        #expect(scorer.logitsPerImage(imageEmbeddings: [1, 2, 3, 4, 5, 6, 7, 8]).isEmpty)
    }

    /// A zero image embedding has no direction: every class gets logit 0 (probabilities uniform,
    /// the first class predicted) rather than the not-a-number of 0 / 0.
    @Test func aZeroImageScoresUniformly() {
        let scorer = ZeroShotScorer(textEmbeddings: [3, 4, 0, 1], dimension: 2, logitScale: 100)
        let scores = scorer.score(imageEmbedding: [0, 0])
        #expect(scores.probabilities == [0.5, 0.5])
        #expect(scores.predicted == 0)
        #expect(scorer.logitsPerImage(imageEmbeddings: [0, 0]) == [0, 0])
    }

    /// The logits are `exp(logit_scale)` × cosine: (3,4)·(1,0) / 5 = 0.6 and (0,1)·(1,0) = 0,
    /// times 10, for image (2,0); a second image (0,-1) gives -8 and -10.
    @Test func logitsPerImageIsScaledCosine() {
        let scorer = ZeroShotScorer(textEmbeddings: [3, 4, 0, 1], dimension: 2, logitScale: 10)
        let logits = scorer.logitsPerImage(imageEmbeddings: [2, 0, 0, -1])
        #expect(logits.count == 4)
        for (got, want) in zip(logits, [Float(6), 0, -8, -10]) { #expect(abs(got - want) < 1e-5) }
    }
}
