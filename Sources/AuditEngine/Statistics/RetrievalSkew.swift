import CClipOpenBLAS
import Foundation

/// An attribute (or intersection) whose groups retrieval skew is measured over.
public struct RetrievalAttribute: Sendable, Equatable {
    /// `race`, or `race|gender` for an intersection.
    public var name: String
    /// The groups, in report order (ties in max/min skew go to the first).
    public var groups: [String]
    /// The group index of every image, in image order.
    public var labels: [Int]

    public init(name: String, groups: [String], labels: [Int]) {
        self.name = name
        self.groups = groups
        self.labels = labels
    }
}

/// What the top k is compared with: each group's share of all scored images, or an equal share
/// per group.
public enum DesiredDistribution: String, Sendable, CaseIterable {
    case dataset, uniform
}

/// One line of `retrieval.csv`.
public struct RetrievalRow: Sendable, Equatable {
    /// The query's text; nil for the mean over the queries (`*` in retrieval.csv).
    public var query: String?
    public var attribute: Slice
    public var k: Int
    public var desired: DesiredDistribution
    public var maxSkew: Double
    public var minSkew: Double
    public var ndkl: Double
    /// The group with the largest skew (nil in `*` rows).
    public var maxGroup: String?
    /// The group with the smallest skew (nil in `*` rows).
    public var minGroup: String?
    /// The mean of the permutation null's MaxSkew (nil without permutations).
    public var nullMaxSkew: Double?
    /// `(1 + #{null ≥ observed}) / (1 + permutations)` (nil in `*` rows and without permutations).
    public var pValue: Double?
}

/// One line of `retrieval_groups.csv` (desired: dataset).
public struct RetrievalGroupRow: Sendable, Equatable {
    public var query: String
    public var attribute: Slice
    public var group: String
    public var k: Int
    public var count: Int
    public var share: Double
    public var desiredShare: Double
    public var skew: Double
}

/// Retrieval skew (Geyik et al. 2019, with Berg et al. 2022's convention for absent groups):
/// who a model returns first for a neutral query, against who is in the set.
///
/// For each query every image is ranked by cosine similarity (ties: image order); in the top k,
/// `skew_g = ln(max(count_g / k, 1/k) / desired_g)`, MaxSkew and MinSkew are the extremes, and
/// `NDKL = (1/Z) Σ_{i ≤ k} KL(D_i ‖ D*) / log2(i + 1)` with `Z = Σ_{i ≤ k} 1 / log2(i + 1)`.
///
/// The null baseline permutes the attribute's labels over the images. Under that permutation
/// the top k of any ranking is a uniformly random k-subset of the labels, so the null depends
/// only on the group sizes and k, not on the query: it is drawn once per attribute (one partial
/// Fisher–Yates shuffle to the largest k per permutation, read off at every k) and shared by
/// every query. Each attribute's draws come from `SeededRandom(seed:)` started afresh.
public enum RetrievalSkew {
    /// Measures every query against every attribute at every k and both desired distributions.
    ///
    /// - Parameters:
    ///   - images: `count × dimension` L2-normalised image embeddings, row-major.
    ///   - queries: each query's text and L2-normalised embedding (`dimension` values).
    ///   - ks: ranks to measure at; each in `1...count`.
    /// - Returns: `retrieval.csv`'s rows (the `*` mean rows first) and `retrieval_groups.csv`'s.
    public static func measure(
        images: [Float], count: Int, dimension: Int,
        queries: [(text: String, embedding: [Float])],
        attributes: [RetrievalAttribute], ks: [Int],
        permutations: Int, seed: UInt64
    ) -> (rows: [RetrievalRow], groups: [RetrievalGroupRow]) {
        let ks = Array(Set(ks)).sorted()
        guard let kmax = ks.last, count > 0, !queries.isEmpty else { return ([], []) }
        precondition(images.count == count * dimension && ks.first! >= 1 && kmax <= count)

        let similarities = similarityMatrix(images: images, count: count, dimension: dimension, queries: queries)
        let plans = attributes.map { AttributePlan($0, count: count, ks: ks) }
        let nulls = plans.map { $0.nullMaxSkews(ks: ks, permutations: permutations, seed: seed) }

        var perQuery: [RetrievalRow] = []
        var groupRows: [RetrievalGroupRow] = []
        var ranking = [Int](repeating: 0, count: kmax)
        for (q, query) in queries.enumerated() {
            similarities.withUnsafeBufferPointer { all in
                topK(UnsafeBufferPointer(rebasing: all[(q * count)..<((q + 1) * count)]), k: kmax, into: &ranking)
            }
            for (a, plan) in plans.enumerated() {
                let measured = plan.measure(ranking: ranking, ks: ks)
                for (ki, k) in ks.enumerated() {
                    let counts = measured.counts[ki]
                    for desired in DesiredDistribution.allCases {
                        let target = plan.desired(desired)
                        let skews = skew(counts: counts, k: k, desired: target)
                        let (maxIndex, minIndex) = extremes(skews)
                        var row = RetrievalRow(
                            query: query.text, attribute: Slice(csvText: plan.attribute.name), k: k, desired: desired,
                            maxSkew: skews[maxIndex], minSkew: skews[minIndex],
                            ndkl: measured.ndkl[desired]![ki],
                            maxGroup: plan.attribute.groups[maxIndex], minGroup: plan.attribute.groups[minIndex])
                        if permutations > 0, let null = nulls[a][desired]?[ki] {
                            row.nullMaxSkew = null.reduce(0, +) / Double(null.count)
                            let atLeast = null.reduce(0) { $0 + ($1 >= row.maxSkew ? 1 : 0) }
                            row.pValue = Double(1 + atLeast) / Double(1 + permutations)
                        }
                        perQuery.append(row)
                        if desired == .dataset {
                            for (g, group) in plan.attribute.groups.enumerated() {
                                groupRows.append(
                                    RetrievalGroupRow(
                                        query: query.text, attribute: Slice(csvText: plan.attribute.name), group: group,
                                        k: k, count: counts[g], share: Double(counts[g]) / Double(k),
                                        desiredShare: target[g], skew: skews[g]))
                            }
                        }
                    }
                }
            }
        }
        // The mean over queries, per attribute × k × desired: the figure the literature reports.
        var means: [RetrievalRow] = []
        let perCombination = attributes.count * ks.count * DesiredDistribution.allCases.count
        for c in 0..<perCombination {
            let rows = stride(from: c, to: perQuery.count, by: perCombination).map { perQuery[$0] }
            let n = Double(rows.count)
            var mean = rows[0]
            mean.query = nil
            mean.maxSkew = rows.reduce(0) { $0 + $1.maxSkew } / n
            mean.minSkew = rows.reduce(0) { $0 + $1.minSkew } / n
            mean.ndkl = rows.reduce(0) { $0 + $1.ndkl } / n
            mean.maxGroup = nil
            mean.minGroup = nil
            mean.pValue = nil
            if rows[0].nullMaxSkew != nil { mean.nullMaxSkew = rows.reduce(0) { $0 + $1.nullMaxSkew! } / n }
            means.append(mean)
        }
        return (means + perQuery, groupRows)
    }

    /// `skew_g = ln(max(count_g / k, 1/k) / desired_g)`.
    public static func skew(counts: [Int], k: Int, desired: [Double]) -> [Double] {
        counts.indices.map { g in log(Double(max(counts[g], 1)) / Double(k) / desired[g]) }
    }

    /// The indices of the largest and smallest value; ties go to the first.
    static func extremes(_ values: [Double]) -> (max: Int, min: Int) {
        var hi = 0, lo = 0
        for i in values.indices.dropFirst() {
            if values[i] > values[hi] { hi = i }
            if values[i] < values[lo] { lo = i }
        }
        return (hi, lo)
    }

    /// Query × image cosine similarities (`queries.count × count`, row-major): one matrix product.
    static func similarityMatrix(
        images: [Float], count: Int, dimension: Int,
        queries: [(text: String, embedding: [Float])]
    ) -> [Float] {
        var q = [Float]()
        q.reserveCapacity(queries.count * dimension)
        for query in queries {
            precondition(query.embedding.count == dimension)
            q += query.embedding
        }
        var out = [Float](repeating: 0, count: queries.count * count)
        // out[queries × count] = q[queries × d] · images[count × d]ᵀ
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queries.count), Int32(count), Int32(dimension),
            1, q, Int32(dimension), images, Int32(dimension), 0, &out, Int32(count))
        return out
    }

    /// The indices of the `k` most similar images, most similar first (ties: lower index first),
    /// by a bounded heap: O(n log k) rather than a full sort per query.
    static func topK(_ scores: UnsafeBufferPointer<Float>, k: Int, into result: inout [Int]) {
        // `before(a, b)`: a ranks ahead of b.
        @inline(__always) func before(_ a: Int, _ b: Int) -> Bool {
            scores[a] > scores[b] || (scores[a] == scores[b] && a < b)
        }
        // A heap whose root is the worst-ranked of the best k seen so far.
        var heap = [Int]()
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < heap.count && before(heap[worst], heap[l]) { worst = l }
                if r < heap.count && before(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        for index in 0..<scores.count {
            if heap.count < k {
                heap.append(index)
                var i = heap.count - 1
                while i > 0 {
                    let parent = (i - 1) / 2
                    guard before(heap[parent], heap[i]) else { break }
                    heap.swapAt(parent, i)
                    i = parent
                }
            } else if before(index, heap[0]) {
                heap[0] = index
                siftDown(0)
            }
        }
        heap.sort(by: before)
        result = heap
    }

    /// An attribute's labels, group sizes and desired shares, and its share of the work.
    struct AttributePlan {
        let attribute: RetrievalAttribute
        let datasetShares: [Double]
        let uniformShares: [Double]
        /// Σ_{i ≤ k} 1 / log2(i + 1) for i = 1...kmax (index i − 1).
        let discountSums: [Double]

        init(_ attribute: RetrievalAttribute, count: Int, ks: [Int]) {
            self.attribute = attribute
            var sizes = [Int](repeating: 0, count: attribute.groups.count)
            for label in attribute.labels { sizes[label] += 1 }
            datasetShares = sizes.map { Double($0) / Double(count) }
            uniformShares = sizes.map { _ in 1 / Double(sizes.count) }
            var sums = [Double]()
            var total = 0.0
            for i in 1...(ks.last ?? 1) {
                total += 1 / log2(Double(i + 1))
                sums.append(total)
            }
            discountSums = sums
        }

        func desired(_ kind: DesiredDistribution) -> [Double] {
            kind == .dataset ? datasetShares : uniformShares
        }

        /// Group counts at each k and NDKL at each k for both desired distributions, in one pass
        /// over the ranking.
        func measure(ranking: [Int], ks: [Int]) -> (counts: [[Int]], ndkl: [DesiredDistribution: [Double]]) {
            let groups = attribute.groups.count
            var counts = [Int](repeating: 0, count: groups)
            var atK: [[Int]] = []
            var ndkl: [DesiredDistribution: [Double]] = [.dataset: [], .uniform: []]
            var weighted: [DesiredDistribution: Double] = [.dataset: 0, .uniform: 0]
            var next = 0
            for i in 1...ks.last! {
                counts[attribute.labels[ranking[i - 1]]] += 1
                let discount = 1 / log2(Double(i + 1))
                for kind in DesiredDistribution.allCases {
                    let target = desired(kind)
                    var kl = 0.0
                    for g in 0..<groups where counts[g] > 0 {
                        let share = Double(counts[g]) / Double(i)
                        kl += share * log(share / target[g])
                    }
                    weighted[kind]! += kl * discount
                }
                if i == ks[next] {
                    atK.append(counts)
                    for kind in DesiredDistribution.allCases { ndkl[kind]!.append(weighted[kind]! / discountSums[i - 1]) }
                    next += 1
                }
            }
            return (atK, ndkl)
        }

        /// The null's MaxSkew draws: `[desired][k index][permutation]`.
        func nullMaxSkews(ks: [Int], permutations: Int, seed: UInt64) -> [DesiredDistribution: [[Double]]] {
            guard permutations > 0 else { return [:] }
            var random = SeededRandom(seed: seed)
            var labels = attribute.labels
            let n = labels.count, kmax = ks.last!
            var draws: [DesiredDistribution: [[Double]]] = [:]
            for kind in DesiredDistribution.allCases {
                draws[kind] = ks.map { _ in [Double](repeating: 0, count: permutations) }
            }
            var counts = [Int](repeating: 0, count: attribute.groups.count)
            for p in 0..<permutations {
                for g in counts.indices { counts[g] = 0 }
                var next = 0
                for i in 0..<kmax {
                    // Partial Fisher–Yates: position i takes a uniform pick of the rest.
                    let j = i + random.below(n - i)
                    labels.swapAt(i, j)
                    counts[labels[i]] += 1
                    if i + 1 == ks[next] {
                        for kind in DesiredDistribution.allCases {
                            let skews = RetrievalSkew.skew(counts: counts, k: i + 1, desired: desired(kind))
                            draws[kind]![next][p] = skews.max()!
                        }
                        next += 1
                    }
                }
            }
            return draws
        }
    }
}
