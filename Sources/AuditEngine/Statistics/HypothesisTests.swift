import Foundation

/// Standard normal cumulative distribution Φ(x) = ½·erfc(−x/√2).
///
/// Written with `erfc` rather than `1 − erf` so the lower tail keeps full relative accuracy
/// (Φ(−37) ≈ 5.7e−300 instead of 0).
public func standardNormalCDF(_ x: Double) -> Double {
    0.5 * erfc(-x / 2.0.squareRoot())
}

/// Standard normal upper tail 1 − Φ(x) = ½·erfc(x/√2), accurate for large x.
public func standardNormalSurvival(_ x: Double) -> Double {
    0.5 * erfc(x / 2.0.squareRoot())
}

/// Two-sided p-value of a standard normal statistic: 2·(1 − Φ(|z|)) = erfc(|z|/√2).
/// NaN in, NaN out.
public func twoSidedNormalPValue(z: Double) -> Double {
    guard !z.isNaN else { return .nan }
    return min(1, erfc(abs(z) / 2.0.squareRoot()))
}

/// The result of a pooled two-proportion z-test.
public struct TwoProportionZTest: Sendable, Equatable {
    /// z = (p̂₁ − p̂₂)/√(p̄(1−p̄)(1/n₁ + 1/n₂)); `nil` when the test is undefined.
    public var z: Double?
    /// The two-sided p-value; 1 when the test is undefined.
    public var pValue: Double
}

/// Two-sided pooled two-proportion z-test of H₀: p₁ = p₂.
///
/// p̄ = (x₁+x₂)/(n₁+n₂), z = (p̂₁−p̂₂)/√(p̄(1−p̄)(1/n₁+1/n₂)), p = 2·(1 − Φ(|z|)). z² is Pearson's
/// χ² on the 2×2 table without continuity correction, so p equals that test's p-value.
/// The test is undefined when p̄ is 0 or 1 or a sample is empty; the contract then reports
/// p = 1 (and `z` is `nil`).
public func pooledTwoProportionZTest(
    successes1 x1: Int, trials1 n1: Int, successes2 x2: Int, trials2 n2: Int
) -> TwoProportionZTest {
    guard n1 > 0, n2 > 0 else { return TwoProportionZTest(z: nil, pValue: 1) }
    let total = Double(n1 + n2)
    let pooled = Double(x1 + x2) / total
    guard pooled > 0, pooled < 1 else { return TwoProportionZTest(z: nil, pValue: 1) }
    let p1 = Double(x1) / Double(n1)
    let p2 = Double(x2) / Double(n2)
    let se = (pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n2))).squareRoot()
    let z = (p1 - p2) / se
    return TwoProportionZTest(z: z, pValue: twoSidedNormalPValue(z: z))
}

/// Holm's step-down adjustment (Holm 1979) of a family of p-values.
///
/// Sort the m p-values ascending; the adjusted p₍ᵢ₎ is max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎)
/// (the running maximum keeps the adjusted values monotone). The result is returned in the
/// order of the input. Ties give equal adjusted values whatever their order.
public func holmAdjusted(_ pValues: [Double]) -> [Double] {
    let m = pValues.count
    guard m > 0 else { return [] }
    let order = pValues.indices.sorted { (pValues[$0], $0) < (pValues[$1], $1) }
    var adjusted = [Double](repeating: 1, count: m)
    var runningMax = 0.0
    for (rank, index) in order.enumerated() {
        let scaled = min(1, Double(m - rank) * pValues[index])
        runningMax = max(runningMax, scaled)
        adjusted[index] = runningMax
    }
    return adjusted
}

/// Holm's adjustment applied separately within each family: `family[i]` names the family of
/// `pValues[i]` (the report's families are design × metric × attribute). Returned in input order.
public func holmAdjusted<Family: Hashable>(_ pValues: [Double], families: [Family]) -> [Double] {
    precondition(pValues.count == families.count)
    var members: [Family: [Int]] = [:]
    for (index, family) in families.enumerated() { members[family, default: []].append(index) }
    var adjusted = pValues
    for indices in members.values {
        for (index, value) in zip(indices, holmAdjusted(indices.map { pValues[$0] })) { adjusted[index] = value }
    }
    return adjusted
}

/// Natural log of P(X ≤ k) for X ~ Binomial(n, ½), for 0 ≤ k ≤ n/2.
///
/// Sums the terms C(n, i) downward from i = k (the largest term when k ≤ n/2) relative to that
/// term, so nothing overflows, and stops once further terms cannot change the sum; the leading
/// term's log comes from `lgamma`. Works for n in the millions.
func logBinomialHalfLowerTail(_ k: Int, _ n: Int) -> Double {
    precondition(k >= 0 && 2 * k <= n)
    var relativeSum = 1.0
    var term = 1.0
    var i = k
    while i > 0 {
        term *= Double(i) / Double(n - i + 1)
        relativeSum += term
        if term < relativeSum * 1e-17 { break }
        i -= 1
    }
    let logLeading =
        lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
        - Double(n) * M_LN2
    return logLeading + log(relativeSum)
}

/// Exact (conditional) McNemar test on the discordant counts b and c of a paired 2×2 table:
/// p = min(1, 2·P(Binomial(b + c, ½) ≤ min(b, c))); p = 1 when b + c = 0.
///
/// Computed in log space, so b + c up to 10⁶ and beyond is fine; p-values below the smallest
/// positive Double come out as 0.
public func exactMcNemarPValue(b: Int, c: Int) -> Double {
    precondition(b >= 0 && c >= 0, "counts must be non-negative")
    let n = b + c
    let k = min(b, c)
    guard n > 0, 2 * k < n else { return 1 }
    if n <= 62 {
        // Exactly: Σ C(n, i) for i ≤ k in integers, over 2^(n−1) — one rounding at most, so
        // b = 2, c = 6 gives 37/128 = 0.2890625 exactly (the log-gamma route gave
        // 0.28906250000000017, which a six-decimal report prints as 0.289063, not 0.289062).
        var term: UInt64 = 1, sum: UInt64 = 1
        for i in 0..<k {
            term = term * UInt64(n - i) / UInt64(i + 1) // C(n, i+1); exact, and < 2^62 for n ≤ 62
            sum += term
        }
        return min(1, Double(sum) / Double(sign: .plus, exponent: n - 1, significand: 1))
    }
    return min(1, 2 * exp(logBinomialHalfLowerTail(k, n)))
}
