import CClipKernels
import CClipOpenBLAS
import Foundation

/// The numeric building blocks of the forward passes. Products go through `cblas_sgemm`
/// (row-major, OpenBLAS single-threaded: callers split the work, see `Parallel`); the
/// element-wise loops are the vectorised C kernels of `CClipKernels`.
enum NetworkKernels {
    /// C[m×n] = alpha·A[m×k]·B[k×n] + beta·C, row-major, with leading dimensions (strided views).
    /// `transB` reads B as its transpose, i.e. B is stored [n×k] (Linear weights are [out, in]).
    @inline(__always)
    static func gemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                     a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
                     b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[rows×out] (+)= x[rows×in]·Wᵀ + bias, W stored [out, in], on the calling thread. With
    /// `accumulate` the result is added to y (a residual connection); otherwise y is overwritten.
    /// `columns` limits the work to those output columns (W's rows), for splitting by columns.
    static func linear(_ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                       weight: WeightTensor, bias: WeightTensor?, outFeatures: Int,
                       into y: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                       columns: Range<Int>? = nil) {
        let cols = columns ?? 0..<outFeatures
        guard rows > 0, !cols.isEmpty else { return }
        let width = cols.count
        let out = y + cols.lowerBound
        var beta: Float = accumulate ? 1 : 0
        if let bias {
            let b = bias.pointer + cols.lowerBound
            for r in 0..<rows {
                let row = out + r * outFeatures
                if accumulate {
                    for j in 0..<width { row[j] += b[j] }
                } else {
                    row.update(from: b, count: width)
                }
            }
            beta = 1
        }
        gemm(m: rows, n: width, k: inFeatures, a: x, lda: inFeatures,
             b: weight.pointer + cols.lowerBound * inFeatures, ldb: inFeatures, transB: true,
             beta: beta, c: out, ldc: outFeatures)
    }

    /// `linear` on `threads` threads: by rows when there are enough of them, else by output
    /// columns (a few pooled rows: each thread then packs only its share of the weight).
    static func parallelLinear(_ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                               weight: WeightTensor, bias: WeightTensor?, outFeatures: Int,
                               into y: UnsafeMutablePointer<Float>, accumulate: Bool = false, threads: Int) {
        let xs = SendablePointer(x), ys = SendablePointer(y)
        if rows >= 64 * threads {
            Parallel.run(threads) { i in
                let r = Parallel.part(i, of: threads, total: rows)
                linear(xs.value + r.lowerBound * inFeatures, rows: r.count, inFeatures: inFeatures, weight: weight,
                       bias: bias, outFeatures: outFeatures, into: ys.value + r.lowerBound * outFeatures,
                       accumulate: accumulate)
            }
        } else {
            let tasks = max(1, min(threads, outFeatures / 64))
            Parallel.run(tasks) { i in
                linear(xs.value, rows: rows, inFeatures: inFeatures, weight: weight, bias: bias,
                       outFeatures: outFeatures, into: ys.value, accumulate: accumulate,
                       columns: Parallel.part(i, of: tasks, total: outFeatures))
            }
        }
    }

    /// LayerNorm over the last dimension of a [rows×width] matrix (biased variance, as torch).
    /// `output` may equal `input`.
    static func layerNorm(_ input: UnsafePointer<Float>, rows: Int, width: Int,
                          weight: WeightTensor, bias: WeightTensor, eps: Float,
                          output: UnsafeMutablePointer<Float>, inputStride: Int? = nil, outputStride: Int? = nil) {
        clip_layer_norm(input, rows, width, inputStride ?? width, weight.pointer, bias.pointer, eps,
                        output, outputStride ?? width)
    }

    /// x += bias (a residual's bias), then output = LayerNorm(x), row by row.
    static func addBiasLayerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, residualBias: WeightTensor,
                                 weight: WeightTensor, bias: WeightTensor, eps: Float,
                                 output: UnsafeMutablePointer<Float>) {
        clip_add_bias_layer_norm(x, rows, width, residualBias.pointer, weight.pointer, bias.pointer, eps, output)
    }

    /// y[r] += bias for each row.
    static func addBias(_ y: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: WeightTensor) {
        clip_add_bias(y, rows, width, bias.pointer)
    }

    /// The activation in place over `count` values.
    static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: CLIPActivation) {
        switch activation {
        case .quickGELU: clip_quick_gelu(x, count)
        case .gelu: clip_gelu(x, count)
        }
    }

    /// Softmax of each row of a [rows×width] matrix (leading dimension `ld`) in place, numerically
    /// stable (max subtracted). With `causal`, row i (counted from `firstRow`) keeps only columns
    /// 0...i (the others become 0), as an additive −∞ mask.
    static func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, width: Int, ld: Int? = nil,
                            causal: Bool, firstRow: Int = 0) {
        clip_softmax_rows(s, rows, width, ld ?? width, causal ? 1 : 0, firstRow)
    }
}

/// A pointer handed to the workers of `Parallel.run`; each writes a disjoint part.
struct SendablePointer<Pointee>: @unchecked Sendable {
    let value: UnsafeMutablePointer<Pointee>
    init(_ value: UnsafeMutablePointer<Pointee>) { self.value = value }
    init(_ value: UnsafePointer<Pointee>) { self.value = UnsafeMutablePointer(mutating: value) }
}
