import CLIPEngine
import Foundation

/// Scores unit image embeddings against mitigated class embeddings: the contract's scoring rule
/// (docs/audit-file.md, "Scoring") with the class vectors kept in double precision, and for
/// CLIP-clip each image's clipped dimensions set to 0 and the image normalised again first.
/// Every image's dot products run in index order, so the result does not depend on how the
/// images are split over threads.
struct MitigatedScorer: Sendable {
    /// Row-major [classes, dimension] unit vectors.
    let classes: [Double]
    let classCount: Int
    let dimension: Int
    /// `exp(logit_scale)`, and SigLIP's bias (probabilities are then sigmoids).
    let logitScale: Double
    let logitBias: Double?
    /// Dimensions zeroed in every image before it is normalised again (CLIP-clip), else empty.
    let clipped: [Int]

    init(classEmbeddings: [[Double]], logitScale: Float, logitBias: Float?, clipped: [Int]) {
        classCount = classEmbeddings.count
        dimension = classEmbeddings.first?.count ?? 0
        classes = classEmbeddings.flatMap { $0 }
        self.logitScale = Double(logitScale)
        self.logitBias = logitBias.map(Double.init)
        self.clipped = clipped
    }

    /// The predicted class and its probability for each of `count` row-major unit image
    /// embeddings (`images`, as ``EmbeddingMeasurements/ImageSet`` holds them).
    func score(images: [Float], count: Int) -> [(predicted: Int, confidence: Double)] {
        precondition(images.count == count * dimension)
        var out = [(predicted: Int, confidence: Double)](repeating: (0, 0), count: count)
        guard count > 0 else { return [] }
        // A few chunks per core; the last chunk may be short, and none is empty.
        let per = (count + ProcessInfo.processInfo.activeProcessorCount * 4 - 1) / (ProcessInfo.processInfo.activeProcessorCount * 4)
        let chunks = (count + per - 1) / per
        let d = dimension, k = classCount
        out.withUnsafeMutableBufferPointer { out in
            let results = UnsafeSendable(out)
            images.withUnsafeBufferPointer { images in
                classes.withUnsafeBufferPointer { classes in
                    let (imagesBuffer, classesBuffer) = (UnsafeSendable(images), UnsafeSendable(classes))
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        let images = imagesBuffer.value, classes = classesBuffer.value, out = results.value
                        var x = [Double](repeating: 0, count: d)
                        var logits = [Double](repeating: 0, count: k)
                        for i in (chunk * per)..<min(count, (chunk + 1) * per) {
                            for j in 0..<d { x[j] = Double(images[i * d + j]) }
                            if !clipped.isEmpty {
                                for j in clipped { x[j] = 0 }
                                var sum = 0.0
                                for j in 0..<d { sum += x[j] * x[j] }
                                let norm = sum.squareRoot()
                                if norm > 0 { for j in 0..<d { x[j] /= norm } }
                            }
                            for c in 0..<k {
                                var dot = 0.0
                                for j in 0..<d { dot += classes[c * d + j] * x[j] }
                                logits[c] = logitScale * dot + (logitBias ?? 0)
                            }
                            logits.withUnsafeMutableBufferPointer { values in
                                let predicted = ZeroShotScorer.argMax(UnsafeBufferPointer(values))
                                if logitBias != nil { ZeroShotScorer.sigmoid(values) } else { ZeroShotScorer.softmax(values) }
                                out[i] = (predicted, values[predicted])
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
