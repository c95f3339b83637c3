import Foundation

/// A two-sided confidence interval `[lower, upper]`.
public struct ConfidenceInterval: Sendable, Equatable {
    /// The lower limit.
    public var lower: Double
    /// The upper limit.
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }
}

/// The two-sided 95% standard-normal quantile the contract names (`REFERENCE-NOTES.md`).
public let z95: Double = 1.959964

/// Wilson score interval for a binomial proportion (Wilson 1927; method 3 of Newcombe 1998,
/// "Two-sided confidence intervals for the single proportion", Stat Med 17:857).
///
/// With p̂ = x/n: centre (p̂ + z²/2n)/(1 + z²/n), half-width z·√(p̂(1−p̂)/n + z²/4n²)/(1 + z²/n).
/// The limits are clamped to [0, 1] so rounding never reports a limit like −1e−17 for x = 0.
///
/// - Parameters:
///   - successes: x, with 0 ≤ x ≤ n.
///   - trials: n.
///   - z: the standard-normal quantile (default 1.959964 for 95%).
/// - Returns: the interval, or `nil` when n = 0 (no information).
public func wilsonInterval(successes: Int, trials: Int, z: Double = z95) -> ConfidenceInterval? {
    guard trials > 0 else { return nil }
    precondition(successes >= 0 && successes <= trials, "successes must lie in 0...trials")
    let n = Double(trials)
    let p = Double(successes) / n
    let z2 = z * z
    let denominator = 1 + z2 / n
    let centre = (p + z2 / (2 * n)) / denominator
    let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
    // At the boundaries the exact limit is 0 (x = 0) or 1 (x = n); use it instead of a
    // difference of two nearly equal numbers.
    let lower = successes == 0 ? 0 : max(0, centre - half)
    let upper = successes == trials ? 1 : min(1, centre + half)
    return ConfidenceInterval(lower: lower, upper: upper)
}

/// Newcombe's hybrid score interval for the difference p₁ − p₂ of two independent proportions
/// (method 10 of Newcombe 1998, "Interval estimation for the difference between independent
/// proportions: comparison of eleven methods", Stat Med 17:873).
///
/// With (l₁, u₁), (l₂, u₂) the Wilson intervals of p̂₁ = x₁/n₁ and p̂₂ = x₂/n₂ and d = p̂₁ − p̂₂:
/// lower = d − √((p̂₁ − l₁)² + (u₂ − p̂₂)²), upper = d + √((u₁ − p̂₁)² + (p̂₂ − l₂)²).
///
/// - Returns: the interval, or `nil` when either sample is empty.
public func newcombeUnpairedDifferenceInterval(
    successes1: Int, trials1: Int, successes2: Int, trials2: Int, z: Double = z95
) -> ConfidenceInterval? {
    guard let w1 = wilsonInterval(successes: successes1, trials: trials1, z: z),
        let w2 = wilsonInterval(successes: successes2, trials: trials2, z: z)
    else { return nil }
    let p1 = Double(successes1) / Double(trials1)
    let p2 = Double(successes2) / Double(trials2)
    let d = p1 - p2
    let lower = d - hypot(p1 - w1.lower, w2.upper - p2)
    let upper = d + hypot(w1.upper - p1, p2 - w2.lower)
    return ConfidenceInterval(lower: max(-1, lower), upper: min(1, upper))
}

/// Newcombe's square-and-add (hybrid score) interval for the difference of two proportions
/// measured on the same units: method 10 of Newcombe 1998, "Improved confidence intervals for
/// the difference between binomial proportions based on paired data", Stat Med 17:2635, in the
/// form given by Fagerland, Lydersen & Laake (2017), "Statistical Analysis of Contingency
/// Tables", chapter 8 (also Altman et al. 2000, "Statistics with Confidence", ch. 6).
///
/// The paired 2×2 table counts units by (first, second) outcome:
/// `a` = both positive, `b` = first only, `c` = second only, `d` = neither; N = a+b+c+d.
/// p̂₁ = (a+b)/N, p̂₂ = (a+c)/N, estimate p̂₁ − p̂₂ = (b − c)/N. With (l₁, u₁), (l₂, u₂) their
/// Wilson intervals and ψ the correlation estimate
/// ψ = (A − N/2)/√(r₁r₂c₁c₂) when A = ad − bc > N/2, 0 when 0 ≤ A ≤ N/2, A/√(r₁r₂c₁c₂) when
/// A < 0 (r, c the margins; ψ = 0 when a margin is 0):
/// lower = est − √((p̂₁−l₁)² + (u₂−p̂₂)² − 2ψ(p̂₁−l₁)(u₂−p̂₂)),
/// upper = est + √((p̂₂−l₂)² + (u₁−p̂₁)² − 2ψ(p̂₂−l₂)(u₁−p̂₁)).
///
/// - Returns: the interval for p̂₁ − p̂₂, or `nil` when N = 0.
public func newcombePairedDifferenceInterval(
    bothPositive a: Int, firstOnly b: Int, secondOnly c: Int, neither d: Int, z: Double = z95
) -> ConfidenceInterval? {
    precondition(a >= 0 && b >= 0 && c >= 0 && d >= 0, "counts must be non-negative")
    let total = a + b + c + d
    guard total > 0,
        let w1 = wilsonInterval(successes: a + b, trials: total, z: z),
        let w2 = wilsonInterval(successes: a + c, trials: total, z: z)
    else { return nil }
    let n = Double(total)
    let p1 = Double(a + b) / n
    let p2 = Double(a + c) / n
    let estimate = Double(b - c) / n
    // Margins as Doubles: their product overflows Int for N around 1e5.
    let r1 = Double(a + b), r2 = Double(c + d), c1 = Double(a + c), c2 = Double(b + d)
    var psi = 0.0
    if r1 > 0 && r2 > 0 && c1 > 0 && c2 > 0 {
        let cross = Double(a) * Double(d) - Double(b) * Double(c)
        let scale = (r1 * r2).squareRoot() * (c1 * c2).squareRoot()
        if cross > n / 2 {
            psi = (cross - n / 2) / scale
        } else if cross < 0 {
            psi = cross / scale
        }
    }
    let dl1 = p1 - w1.lower, du1 = w1.upper - p1
    let dl2 = p2 - w2.lower, du2 = w2.upper - p2
    let lowerSpread = max(0, dl1 * dl1 + du2 * du2 - 2 * psi * dl1 * du2).squareRoot()
    let upperSpread = max(0, dl2 * dl2 + du1 * du1 - 2 * psi * dl2 * du1).squareRoot()
    return ConfidenceInterval(lower: max(-1, estimate - lowerSpread), upper: min(1, estimate + upperSpread))
}
