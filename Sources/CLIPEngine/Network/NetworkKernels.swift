import CClipOpenBLAS
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The numeric building blocks of the forward passes. Large products go through `cblas_sgemm`
/// (row-major); the element-wise loops run on raw pointers.
enum NetworkKernels {
    /// C[m×n] = alpha·A[m×k]·B[k×n] + beta·C, row-major, with leading dimensions (strided views).
    /// `transB` reads B as its transpose, i.e. B is stored [n×k] (Linear weights are [out, in]).
    @inline(__always)
    static func gemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                     a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
                     b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[rows×out] (+)= x[rows×in]·Wᵀ + bias, W stored [out, in]. With `accumulate` the result is
    /// added to y (a residual connection); otherwise y is overwritten.
    static func linear(_ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                       weight: WeightTensor, bias: WeightTensor?, outFeatures: Int,
                       into y: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        var beta: Float = accumulate ? 1 : 0
        if let bias {
            let b = bias.pointer
            for r in 0..<rows {
                let row = y + r * outFeatures
                if accumulate {
                    for j in 0..<outFeatures { row[j] += b[j] }
                } else {
                    for j in 0..<outFeatures { row[j] = b[j] }
                }
            }
            beta = 1
        }
        gemm(m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
             b: weight.pointer, ldb: inFeatures, transB: true, beta: beta, c: y, ldc: outFeatures)
    }

    /// LayerNorm over the last dimension of a [rows×width] matrix (biased variance, as torch).
    /// `output` may equal `input`.
    static func layerNorm(_ input: UnsafePointer<Float>, rows: Int, width: Int,
                          weight: WeightTensor, bias: WeightTensor, eps: Float,
                          output: UnsafeMutablePointer<Float>, inputStride: Int? = nil, outputStride: Int? = nil) {
        let g = weight.pointer, b = bias.pointer
        let inStride = inputStride ?? width, outStride = outputStride ?? width
        let n = Float(width)
        for r in 0..<rows {
            let x = input + r * inStride
            let y = output + r * outStride
            var sum: Float = 0
            for j in 0..<width { sum += x[j] }
            let mean = sum / n
            var squares: Float = 0
            for j in 0..<width {
                let d = x[j] - mean
                squares += d * d
            }
            let inv = 1 / (squares / n + eps).squareRoot()
            for j in 0..<width { y[j] = (x[j] - mean) * inv * g[j] + b[j] }
        }
    }

    /// The activation in place over `count` values.
    static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: CLIPActivation) {
        switch activation {
        case .quickGELU:
            for i in 0..<count {
                let v = x[i]
                x[i] = v / (1 + expf(-1.702 * v))
            }
        case .gelu:
            let invSqrt2: Float = 0.70710678118654752440
            for i in 0..<count {
                let v = x[i]
                x[i] = 0.5 * v * (1 + erff(v * invSqrt2))
            }
        }
    }

    /// Softmax of each row of a [rows×width] matrix in place, numerically stable (max subtracted).
    /// With `causal`, row i keeps only columns 0...i (the others become 0), as an additive −∞ mask.
    static func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, width: Int, causal: Bool) {
        for r in 0..<rows {
            let row = s + r * width
            let valid = causal ? min(r + 1, width) : width
            var maxValue = -Float.infinity
            for j in 0..<valid where row[j] > maxValue { maxValue = row[j] }
            var sum: Float = 0
            for j in 0..<valid {
                let e = expf(row[j] - maxValue)
                row[j] = e
                sum += e
            }
            let inv = 1 / sum
            for j in 0..<valid { row[j] *= inv }
            for j in valid..<width { row[j] = 0 }
        }
    }
}
