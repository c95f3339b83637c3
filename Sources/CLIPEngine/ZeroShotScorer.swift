import Foundation

/// Zero-shot scoring, the one implementation that `run` (through the audit's classifier),
/// `classify` and `embed`'s `logits_per_image` share, so that they agree to the last bit:
/// each class's text embedding is the L2-normalised mean of its prompts' L2-normalised
/// embeddings (a class of one prompt is that prompt normalised, twice); the image embedding is
/// L2-normalised; logits are `exp(logit_scale)` × cosine; probabilities are the softmax over the
/// classes; the prediction is the arg-max of the logits, ties going to the class listed first.
///
/// For SigLIP (`logitBias` set) logits are `exp(logit_scale)` × cosine + `logit_bias` and each
/// class's probability is its own sigmoid, as SigLIP is trained: the probabilities need not sum
/// to one, and the prediction is still the arg-max (the sigmoid keeps the order).
///
/// Norms, means, dot products and the softmax are accumulated in double precision, in index
/// order, so the result does not depend on how the work is split; the unit vectors are stored as
/// `Float`, as the embeddings are.
public struct ZeroShotScorer: Sendable {
    /// Row-major [classes, dimension] unit vectors (zero for a class whose prompts cancel out).
    public let classEmbeddings: [Float]
    /// The number of classes.
    public let classCount: Int
    /// The embedding width.
    public let dimension: Int
    /// `exp(logit_scale)`.
    public let logitScale: Float
    /// SigLIP's `logit_bias`: when set, probabilities are sigmoids of the biased logits instead
    /// of their softmax.
    public let logitBias: Float?

    /// The scorer for classes given by their prompts' embeddings (projected, not normalised):
    /// `promptEmbeddings[c]` holds class `c`'s prompts, each `dimension` wide. Every class needs
    /// at least one prompt and every embedding the same positive width (callers check, naming
    /// what is missing).
    public init(promptEmbeddings: [[[Float]]], logitScale: Float, logitBias: Float? = nil) {
        let dim = promptEmbeddings.first?.first?.count ?? 0
        precondition(dim > 0, "a class with no prompts")
        var matrix = [Float](repeating: 0, count: promptEmbeddings.count * dim)
        var unit = [Float](repeating: 0, count: dim)
        var mean = [Double](repeating: 0, count: dim)
        for (c, prompts) in promptEmbeddings.enumerated() {
            precondition(!prompts.isEmpty, "a class with no prompts")
            for i in 0..<dim { mean[i] = 0 }
            for embedding in prompts {
                precondition(embedding.count == dim)
                embedding.withUnsafeBufferPointer { source in
                    unit.withUnsafeMutableBufferPointer { Self.normalize(source, into: $0) }
                }
                for i in 0..<dim { mean[i] += Double(unit[i]) }
            }
            let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0..<dim { matrix[c * dim + i] = Float(norm > 0 ? mean[i] / norm : 0) }
        }
        classEmbeddings = matrix
        classCount = promptEmbeddings.count
        dimension = dim
        self.logitScale = logitScale
        self.logitBias = logitBias
    }

    /// The scorer whose classes are the rows of `textEmbeddings` ([count, dimension], projected,
    /// not normalised), one prompt each: what `classify` and `embed` score against.
    public init(textEmbeddings: [Float], dimension: Int, logitScale: Float, logitBias: Float? = nil) {
        precondition(dimension > 0 && textEmbeddings.count % dimension == 0)
        guard !textEmbeddings.isEmpty else {
            // No texts, no classes: `logits_per_image` of no texts is empty, not a trap.
            self.init(classEmbeddings: [], classCount: 0, dimension: dimension, logitScale: logitScale, logitBias: logitBias)
            return
        }
        let rows = (0..<(textEmbeddings.count / dimension)).map {
            [Array(textEmbeddings[($0 * dimension)..<(($0 + 1) * dimension)])]
        }
        self.init(promptEmbeddings: rows, logitScale: logitScale, logitBias: logitBias)
    }

    private init(classEmbeddings: [Float], classCount: Int, dimension: Int, logitScale: Float, logitBias: Float?) {
        self.classEmbeddings = classEmbeddings
        self.classCount = classCount
        self.dimension = dimension
        self.logitScale = logitScale
        self.logitBias = logitBias
    }

    /// Writes `v` divided by its L2 norm (accumulated in double precision) to `out`; copies `v`
    /// as it is when the norm is zero (or not a number), so a zero vector stays zero.
    public static func normalize(_ v: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count == v.count)
        var sum = 0.0
        for x in v { sum += Double(x) * Double(x) }
        let norm = sum.squareRoot()
        guard norm > 0 else {
            for i in v.indices { out[i] = v[i] }
            return
        }
        for i in v.indices { out[i] = Float(Double(v[i]) / norm) }
    }

    /// An embedding divided by its L2 norm (accumulated in double precision).
    public static func normalized(_ v: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        v.withUnsafeBufferPointer { source in out.withUnsafeMutableBufferPointer { normalize(source, into: $0) } }
        return out
    }

    /// Writes the logits of one unit image vector to `logits` (`classCount` of them).
    public func logits(unitImage image: UnsafeBufferPointer<Float>, into logits: UnsafeMutableBufferPointer<Double>) {
        precondition(image.count == dimension && logits.count == classCount)
        let scale = Double(logitScale), bias = Double(logitBias ?? 0)
        classEmbeddings.withUnsafeBufferPointer { classes in
            for c in 0..<classCount {
                let row = c * dimension
                var dot = 0.0
                for i in 0..<dimension { dot += Double(classes[row + i]) * Double(image[i]) }
                logits[c] = scale * dot + bias
            }
        }
    }

    /// The arg-max of `logits`, ties going to the first (strict comparison).
    public static func argMax(_ logits: UnsafeBufferPointer<Double>) -> Int {
        var best = 0
        for c in 1..<max(1, logits.count) where logits[c] > logits[best] { best = c }
        return best
    }

    /// Turns logits into their softmax in place (shifted by the largest logit, so large logits
    /// do not overflow).
    public static func softmax(_ values: UnsafeMutableBufferPointer<Double>) {
        guard var top = values.first else { return }
        for v in values.dropFirst() where top < v { top = v }
        var sum = 0.0
        for i in values.indices {
            values[i] = exp(values[i] - top)
            sum += values[i]
        }
        for i in values.indices { values[i] /= sum }
    }

    /// Turns logits into their sigmoids in place (SigLIP's per-class probabilities).
    public static func sigmoid(_ values: UnsafeMutableBufferPointer<Double>) {
        for i in values.indices { values[i] = 1 / (1 + exp(-values[i])) }
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
        var unit = [Float](repeating: 0, count: dimension)
        var probabilities = [Double](repeating: 0, count: classCount)
        var predicted = 0
        imageEmbedding.withUnsafeBufferPointer { source in
            unit.withUnsafeMutableBufferPointer { Self.normalize(source, into: $0) }
        }
        unit.withUnsafeBufferPointer { image in
            probabilities.withUnsafeMutableBufferPointer { values in
                logits(unitImage: image, into: values)
                predicted = Self.argMax(UnsafeBufferPointer(values))
                if logitBias != nil { Self.sigmoid(values) } else { Self.softmax(values) }
            }
        }
        return Scores(probabilities: probabilities, predicted: predicted)
    }

    /// The logits of every image against every class, [images, classes] — CLIPModel's
    /// `logits_per_image` when each class is one text. `imageEmbeddings` is [images, dimension],
    /// projected, not normalised.
    public func logitsPerImage(imageEmbeddings: [Float]) -> [Float] {
        precondition(imageEmbeddings.count % dimension == 0)
        let images = imageEmbeddings.count / dimension
        var out = [Float](repeating: 0, count: images * classCount)
        var unit = [Float](repeating: 0, count: dimension)
        var row = [Double](repeating: 0, count: classCount)
        imageEmbeddings.withUnsafeBufferPointer { all in
            for i in 0..<images {
                unit.withUnsafeMutableBufferPointer {
                    Self.normalize(UnsafeBufferPointer(rebasing: all[(i * dimension)..<((i + 1) * dimension)]), into: $0)
                }
                unit.withUnsafeBufferPointer { image in row.withUnsafeMutableBufferPointer { logits(unitImage: image, into: $0) } }
                for c in 0..<classCount { out[i * classCount + c] = Float(row[c]) }
            }
        }
        return out
    }
}
