import Foundation

/// A mitigation fitted to one model's embeddings for one design (or for retrieval's queries):
/// what becomes of a class or query embedding and, for CLIP-clip, of an image embedding
/// (docs/audit-file.md, "Mitigations"). Everything is computed in double precision from the
/// stored (Float) embeddings.
struct MitigationTransform: Sendable {
    enum Kind: Sendable {
        /// `c ↦ P0·c`, `P0 = I − A(AᵀA)⁻¹Aᵀ`.
        case projection(Projection)
        /// `c ↦ P0·(I + λM)⁻¹·c`.
        case calibrated(Projection, SymmetricSolver)
        /// `v ↦ v` with `dimensions` set to 0, in texts and images.
        case clipped(dimensions: [Int])
    }

    let kind: Kind

    /// The dimensions CLIP-clip zeroes in every image (nil: images are unchanged).
    var clippedDimensions: [Int]? {
        if case .clipped(let dimensions) = kind { return dimensions }
        return nil
    }

    /// The transformed text embedding `c` (a unit vector), normalised again; a vector the
    /// transform sends to zero stays zero (it then scores 0 against every image).
    func text(_ c: [Double]) -> [Double] {
        switch kind {
        case .projection(let p0): return Vectors.unit(p0.apply(c))
        case .calibrated(let p0, let calibration): return Vectors.unit(p0.apply(calibration.solve(c)))
        case .clipped(let dimensions):
            var v = c
            for j in dimensions { v[j] = 0 }
            return Vectors.unit(v)
        }
    }
}

/// `P0 = I − A(AᵀA)⁻¹Aᵀ`, the orthogonal projection onto the complement of the span of the
/// attribute prompts' unit embeddings (the columns of A), applied without forming the d × d
/// matrix: `P0·c = c − A·(AᵀA)⁻¹·(Aᵀc)`.
struct Projection: Sendable {
    /// The columns of A.
    let columns: [[Double]]
    let gram: SymmetricSolver

    /// Nil when the prompts' embeddings are linearly dependent (AᵀA is singular).
    init?(columns: [[Double]]) {
        let k = columns.count
        var g = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in 0..<k { g[i * k + j] = Vectors.dot(columns[i], columns[j]) }
        }
        guard let solver = SymmetricSolver(g, size: k, relativeTolerance: 1e-10) else { return nil }
        self.columns = columns
        gram = solver
    }

    func apply(_ c: [Double]) -> [Double] {
        let w = gram.solve(columns.map { Vectors.dot($0, c) })
        var out = c
        for (column, weight) in zip(columns, w) {
            for i in out.indices { out[i] -= column[i] * weight }
        }
        return out
    }
}

extension MitigationTransform {
    /// The L2-normalised mean of the L2-normalised `prompts`: a class's embedding as the
    /// scoring rule defines it, kept in double precision.
    static func classEmbedding(_ prompts: [[Float]]) -> [Double] {
        var mean = [Double](repeating: 0, count: prompts.first?.count ?? 0)
        for prompt in prompts {
            for (i, v) in Vectors.unit(prompt).enumerated() { mean[i] += v }
        }
        return Vectors.unit(mean)
    }

    /// Calibrated projection's `I + λM`, `M = (1/|S|) Σ (z_i − z_j)(z_i − z_j)ᵀ` over `pairs`
    /// (each a list of unit embeddings that differ only in the attribute word; every i < j of a
    /// list is a pair). With no pair, M is 0.
    static func calibration(pairs: [[[Double]]], lambda: Double, dimension d: Int) -> SymmetricSolver {
        var m = [Double](repeating: 0, count: d * d)
        var count = 0
        for group in pairs {
            for i in group.indices {
                for j in (i + 1)..<max(i + 1, group.count) {
                    let delta = zip(group[i], group[j]).map { $0 - $1 }
                    m.withUnsafeMutableBufferPointer { m in
                        for r in 0..<d where delta[r] != 0 {
                            let row = r * d, dr = delta[r]
                            for c in 0...r { m[row + c] += dr * delta[c] }
                        }
                    }
                    count += 1
                }
            }
        }
        let weight = count > 0 ? lambda / Double(count) : 0
        for r in 0..<d {
            for c in 0...r { m[r * d + c] *= weight }
            m[r * d + r] += 1
        }
        // Every eigenvalue of I + λM is at least 1: the factorisation cannot fail.
        return SymmetricSolver(m, size: d, relativeTolerance: 0)!
    }
}

/// CLIP-clip's choice of dimensions (Wang et al. 2021): the mutual information of each
/// embedding dimension, cut into 10 equal-count bins, with the attribute.
enum ClipClip {
    /// The number of equal-count bins each dimension's values are cut into.
    static let bins = 10

    /// Each dimension's mutual information (natural log) with the group labels over `count`
    /// row-major unit embeddings: bin = ⌊10·rank/n⌋, rank from 0 by value, ties in row order;
    /// `Σ p(b,g)·ln(p(b,g)/(p(b)·p(g)))` over the cells with images, bins outer, groups inner.
    static func mutualInformation(embeddings: [Float], count n: Int, dimension d: Int, labels: [Int], groups: Int) -> [Double] {
        precondition(labels.count == n && embeddings.count == n * d)
        var groupCount = [Int](repeating: 0, count: groups)
        for g in labels { groupCount[g] += 1 }
        var result = [Double](repeating: 0, count: d)
        var order = [Int](repeating: 0, count: n)
        var cells = [Int](repeating: 0, count: bins * groups)
        let total = Double(n)
        embeddings.withUnsafeBufferPointer { e in
            for j in 0..<d {
                for i in 0..<n { order[i] = i }
                // Ties in row (manifest) order: the index breaks them, so the sort need not be stable.
                order.sort { a, b in
                    let x = e[a * d + j], y = e[b * d + j]
                    return x < y || (x == y && a < b)
                }
                for c in cells.indices { cells[c] = 0 }
                var binCount = [Int](repeating: 0, count: bins)
                for (rank, i) in order.enumerated() {
                    let b = bins * rank / n
                    cells[b * groups + labels[i]] += 1
                    binCount[b] += 1
                }
                var mi = 0.0
                for b in 0..<bins {
                    for g in 0..<groups where cells[b * groups + g] > 0 {
                        let joint = Double(cells[b * groups + g])
                        mi += joint / total * log(joint * total / (Double(binCount[b]) * Double(groupCount[g])))
                    }
                }
                result[j] = mi
            }
        }
        return result
    }

    /// The `k` dimensions of largest mutual information, ties to the lower index, ascending.
    static func choose(_ k: Int, from information: [Double]) -> [Int] {
        let ranked = information.indices.sorted { information[$0] > information[$1] || (information[$0] == information[$1] && $0 < $1) }
        return ranked.prefix(k).sorted()
    }
}
