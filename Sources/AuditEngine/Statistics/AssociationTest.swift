import Foundation

/// What one WEAT-style association test measured (a line of `association.csv`).
public struct AssociationResult: Sendable, Equatable {
    public var nX: Int
    public var nY: Int
    /// `(mean_X s − mean_Y s) / sd_{X∪Y} s` (sample sd).
    public var effectSize: Double
    /// The 95% percentile-bootstrap interval of the effect size.
    public var ciLow: Double
    public var ciHigh: Double
    /// One-sided: how often a re-partition of X ∪ Y gives a statistic at least the observed one.
    public var pValue: Double
    /// The re-partitions the p-value counts: all of them when that is no more than asked for
    /// (the exact test), else the number drawn.
    public var permutations: Int
    /// Whether every re-partition was enumerated.
    public var exact: Bool
}

/// The Word Embedding Association Test (Caliskan et al. 2017) with images as the targets, as
/// Ross et al. 2021 and Berg et al. 2022 apply it to CLIP: do faces of group X sit closer to
/// word set A (and those of Y to B) than chance would give?
///
/// For each image w (L2-normalised), `s(w) = mean_{a∈A} cos(w, a) − mean_{b∈B} cos(w, b)`; the
/// statistic is `S = Σ_X s − Σ_Y s`, the effect size `(mean_X s − mean_Y s) / sd_{X∪Y} s`.
/// The p-value counts re-partitions of X ∪ Y into sets of the same sizes with a statistic at
/// least S: every one of them when there are no more than `permutations` (p = count / total),
/// otherwise `permutations` drawn with `SeededRandom(seed:)` (p = (1 + count) / (1 + draws)).
/// The interval resamples X and Y separately (1000 times, `SeededRandom(seed: seed + 1)`) and
/// takes the 2.5th and 97.5th percentiles (linear interpolation, as numpy's default).
public enum AssociationTest {
    /// The bootstrap's resample count.
    public static let bootstrapResamples = 1000

    /// `s(w)` for each image: with normalised vectors, `w · (mean A − mean B)`.
    /// - Parameters:
    ///   - images: `count × dimension` L2-normalised embeddings, row-major.
    ///   - a, b: the word sets' L2-normalised embeddings.
    public static func associations(images: [Float], count: Int, dimension: Int, a: [[Float]], b: [[Float]]) -> [Double] {
        precondition(!a.isEmpty && !b.isEmpty && images.count == count * dimension)
        var direction = [Double](repeating: 0, count: dimension)
        for word in a { for j in 0..<dimension { direction[j] += Double(word[j]) / Double(a.count) } }
        for word in b { for j in 0..<dimension { direction[j] -= Double(word[j]) / Double(b.count) } }
        return (0..<count).map { i in
            var s = 0.0
            for j in 0..<dimension { s += Double(images[i * dimension + j]) * direction[j] }
            return s
        }
    }

    /// Tests X (the images `x` of `s`) against Y (`y`).
    public static func test(s: [Double], x: [Int], y: [Int], permutations: Int, seed: UInt64) -> AssociationResult {
        precondition(x.count >= 2 && y.count >= 2)
        let sx = x.map { s[$0] }, sy = y.map { s[$0] }
        let effect = effectSize(sx, sy)
        let pooled = sx + sy
        let total = pooled.reduce(0, +)
        let observed = sx.reduce(0, +) - sy.reduce(0, +)
        // Sums are compared with a margin of rounding: the observed partition, added up in
        // another order, must still count as "at least the observed".
        let margin = 1e-9 * max(1, pooled.reduce(0) { $0 + abs($1) })
        let partitions = binomial(pooled.count, sx.count, cap: permutations)

        var atLeast = 0
        var evaluated = 0
        let exact = partitions != nil
        if let partitions {
            // Every subset of |X| of the pooled values: S_perm = 2 Σ_subset − total.
            forEachSubsetSum(pooled, size: sx.count) { sum in
                if 2 * sum - total >= observed - margin { atLeast += 1 }
            }
            evaluated = partitions
        } else {
            var random = SeededRandom(seed: seed)
            var values = pooled
            for _ in 0..<permutations {
                var sum = 0.0
                for i in 0..<sx.count {
                    let j = i + random.below(values.count - i)
                    values.swapAt(i, j)
                    sum += values[i]
                }
                if 2 * sum - total >= observed - margin { atLeast += 1 }
            }
            evaluated = permutations
        }
        let p = exact ? Double(atLeast) / Double(evaluated) : Double(1 + atLeast) / Double(1 + evaluated)

        var random = SeededRandom(seed: seed &+ 1)
        var effects = [Double]()
        effects.reserveCapacity(bootstrapResamples)
        var bx = sx, by = sy
        for _ in 0..<bootstrapResamples {
            for i in bx.indices { bx[i] = sx[random.below(sx.count)] }
            for i in by.indices { by[i] = sy[random.below(sy.count)] }
            let e = effectSize(bx, by)
            if e.isFinite { effects.append(e) }
        }
        effects.sort()
        return AssociationResult(
            nX: sx.count, nY: sy.count, effectSize: effect,
            ciLow: percentile(effects, 0.025), ciHigh: percentile(effects, 0.975),
            pValue: p, permutations: evaluated, exact: exact)
    }

    /// `(mean x − mean y) / sd(x ∪ y)` with the sample sd; NaN when every value is the same.
    static func effectSize(_ x: [Double], _ y: [Double]) -> Double {
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        let n = Double(x.count + y.count)
        let mean = (x.reduce(0, +) + y.reduce(0, +)) / n
        let ss = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } + y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let sd = (ss / (n - 1)).squareRoot()
        return sd > 0 ? (mx - my) / sd : .nan
    }

    /// numpy's default percentile (linear interpolation between closest ranks) of sorted values.
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// C(n, k) when it is at most `cap`, else nil.
    static func binomial(_ n: Int, _ k: Int, cap: Int) -> Int? {
        let k = min(k, n - k)
        var value = 1
        for i in 0..<k {
            // value · (n − i) / (i + 1) stays an integer at every step.
            let (product, overflow) = value.multipliedReportingOverflow(by: n - i)
            if overflow { return nil }
            value = product / (i + 1)
            if value > cap && i + 1 < k { return nil }
        }
        return value <= cap ? value : nil
    }

    /// Calls `body` with the sum of every `size`-subset of `values`.
    static func forEachSubsetSum(_ values: [Double], size: Int, _ body: (Double) -> Void) {
        func walk(_ start: Int, _ left: Int, _ sum: Double) {
            if left == 0 { body(sum); return }
            guard values.count - start >= left else { return }
            for i in start...(values.count - left) {
                walk(i + 1, left - 1, sum + values[i])
            }
        }
        walk(0, size, 0)
    }
}
