import Foundation

/// A Cholesky factorisation `S = L·Lᵀ` of a symmetric positive definite matrix, in double
/// precision, and solves with it. The mitigations' matrices are small (the attribute prompts'
/// Gram matrix, k × k) or well conditioned by construction (`I + λM` with `M` positive
/// semi-definite, every eigenvalue at least 1), so the plain factorisation, accumulated in index
/// order, is both exact enough and the same bits on every machine.
struct SymmetricSolver: Sendable {
    /// Row-major n × n; the lower triangle holds L.
    private let lower: [Double]
    let size: Int

    /// Factorises the row-major `n × n` matrix `s` (only its lower triangle is read); nil when a
    /// pivot is not above `relativeTolerance` × the largest diagonal entry (the matrix is
    /// singular, or too close to it for its inverse to mean anything).
    init?(_ s: [Double], size n: Int, relativeTolerance: Double = 1e-12) {
        precondition(s.count == n * n)
        var l = [Double](repeating: 0, count: n * n)
        let scale = (0..<n).map { s[$0 * n + $0] }.max() ?? 0
        guard scale > 0 else { return nil }
        let ok = l.withUnsafeMutableBufferPointer { l -> Bool in
            for j in 0..<n {
                var d = s[j * n + j]
                for k in 0..<j { d -= l[j * n + k] * l[j * n + k] }
                guard d > relativeTolerance * scale else { return false }
                let pivot = d.squareRoot()
                l[j * n + j] = pivot
                for i in (j + 1)..<max(j + 1, n) {
                    var v = s[i * n + j]
                    for k in 0..<j { v -= l[i * n + k] * l[j * n + k] }
                    l[i * n + j] = v / pivot
                }
            }
            return true
        }
        guard ok else { return nil }
        lower = l
        size = n
    }

    /// `S⁻¹·b`: forward substitution with L, then back substitution with Lᵀ.
    func solve(_ b: [Double]) -> [Double] {
        precondition(b.count == size)
        let n = size
        var x = b
        lower.withUnsafeBufferPointer { l in
            x.withUnsafeMutableBufferPointer { x in
                for i in 0..<n {
                    var v = x[i]
                    for k in 0..<i { v -= l[i * n + k] * x[k] }
                    x[i] = v / l[i * n + i]
                }
                for i in stride(from: n - 1, through: 0, by: -1) {
                    var v = x[i]
                    for k in (i + 1)..<max(i + 1, n) { v -= l[k * n + i] * x[k] }
                    x[i] = v / l[i * n + i]
                }
            }
        }
        return x
    }
}

/// Double-precision vector helpers of the mitigations, each summing in index order.
enum Vectors {
    /// `v / ‖v‖`, in double precision; a zero vector stays zero.
    static func unit(_ v: [Float]) -> [Double] {
        unit(v.map(Double.init))
    }

    static func unit(_ v: [Double]) -> [Double] {
        var sum = 0.0
        for x in v { sum += x * x }
        let norm = sum.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += a[i] * b[i] }
        return sum
    }
}
