import CClipKernels
import Foundation
import Testing

/// The tanh-form GELU kernel (SigLIP's `gelu_pytorch_tanh`) against PyTorch's formula evaluated
/// in double precision, 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))): the AVX2 path computes it as
/// v / (1 + e^(−2u)), so this pins that identity and its exp approximation, tails included.
struct ActivationKernelTests {
    static func reference(_ v: Float) -> Double {
        let x = Double(v)
        return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    @Test("gelu_tanh matches PyTorch's formula to float precision over [-12, 12], with a ragged tail")
    func geluTanhMatchesTheFormula() {
        // 4,801 values: not a multiple of 8, so the vector loop's tail runs too.
        var values = (0...4800).map { Float($0) * 0.005 - 12 }
        let inputs = values
        values.withUnsafeMutableBufferPointer { clip_gelu_tanh($0.baseAddress!, $0.count) }
        var worst = 0.0
        for (v, y) in zip(inputs, values) {
            // Relative to max(|v|, 1e-3): near 0 the output scales with v.
            worst = max(worst, abs(Double(y) - Self.reference(v)) / max(Double(abs(v)), 1e-3))
        }
        #expect(values.count == 4801)
        // Achieved 1.05e-7 (about one float ulp); the erf form differs by about 2e-4.
        #expect(worst < 1e-6, "worst relative error \(worst)")
    }

    @Test("gelu_tanh keeps extremes finite: large negatives vanish, large positives stay themselves")
    func geluTanhExtremes() {
        var values: [Float] = [-1e30, -100, -20, 20, 100, 1e30, 0]
        values.withUnsafeMutableBufferPointer { clip_gelu_tanh($0.baseAddress!, $0.count) }
        // The exp is clamped at e^88.4, so v / (1 + e) leaves at most |v|·4e-39 where PyTorch's
        // tanh form gives -0: below anything a float embedding carries after the next product.
        #expect(values[0...2].allSatisfy { $0 <= 0 && $0 > -1e-8 }, "\(values)")
        #expect(values[3] == 20 && values[4] == 100 && values[5] == 1e30)
        #expect(values[6] == 0)
    }
}
