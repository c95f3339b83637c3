import CClipKernels
import CClipOpenBLAS
import Foundation

/// The numeric building blocks of the forward passes. Linear layers go through the packed
/// product of `CClipKernels` (`PackedLinear`), attention's per-head products through
/// `cblas_sgemm` (OpenBLAS single-threaded: callers split the work, see `Parallel`); the
/// element-wise loops are the vectorised C kernels of `CClipKernels`.
enum NetworkKernels {
    /// C[m×n] = alpha·A[m×k]·B[k×n] + beta·C, row-major, with leading dimensions (strided views).
    /// `transB` reads B as its transpose, i.e. B is stored [n×k] (Linear weights are [out, in]).
    @inline(__always)
    static func gemm(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transB: Bool,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[rows×out] (+)= x[rows×in]·Wᵀ (+ bias), on the calling thread. With `accumulate` the
    /// result is added to y (a residual connection); otherwise y is overwritten. `bias: false`
    /// leaves the layer's bias out (a caller that adds it later, fused with a LayerNorm).
    /// `columns` limits the work to those output columns, starting at a multiple of
    /// `CLIP_PACKED_PANEL` (for splitting by columns).
    static func linear(
        _ x: UnsafePointer<Float>, rows: Int, _ layer: PackedLinear, bias: Bool = true,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool = false, columns: Range<Int>? = nil
    ) {
        let n = layer.outFeatures
        let cols = columns ?? 0..<n
        guard rows > 0, !cols.isEmpty else { return }
        let out = y + cols.lowerBound
        if bias, let b = layer.bias {
            let values = b.pointer + cols.lowerBound
            if accumulate {
                clip_add_bias(out, rows, cols.count, n, values)
            } else {
                clip_fill_rows(out, rows, cols.count, n, values)
            }
        } else if !accumulate {
            clip_fill_rows(out, rows, cols.count, n, nil)
        }
        clip_gemm_packed(
            rows, n, layer.inFeatures, x, layer.inFeatures, layer.packed, cols.lowerBound, cols.upperBound,
            y, n)
    }

    /// `linear` on `threads` threads: by rows when there are enough of them, else by panels of
    /// output columns (a few pooled rows). Either way each output gets the same bits.
    static func parallelLinear(
        _ x: UnsafePointer<Float>, rows: Int, _ layer: PackedLinear, bias: Bool = true,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool = false, threads: Int
    ) {
        let xs = SendablePointer(x), ys = SendablePointer(y)
        let k = layer.inFeatures, n = layer.outFeatures
        if rows >= 64 * threads {
            let chunks = Parallel.rowChunks(rows, threads: threads)
            Parallel.claim(chunks, workers: threads) { chunk, _ in
                let r = Parallel.part(chunk, of: chunks, total: rows)
                linear(
                    xs.value + r.lowerBound * k, rows: r.count, layer, bias: bias,
                    into: ys.value + r.lowerBound * n, accumulate: accumulate)
            }
        } else {
            let panel = Int(CLIP_PACKED_PANEL)
            let panels = (n + panel - 1) / panel
            let tasks = max(1, min(threads, panels / 4))
            Parallel.run(tasks) { i in
                let p = Parallel.part(i, of: tasks, total: panels)
                linear(
                    xs.value, rows: rows, layer, bias: bias, into: ys.value, accumulate: accumulate,
                    columns: (p.lowerBound * panel)..<min(n, p.upperBound * panel))
            }
        }
    }

    /// LayerNorm over the last dimension of a [rows×width] matrix (biased variance, as torch).
    /// `output` may equal `input`.
    static func layerNorm(
        _ input: UnsafePointer<Float>, rows: Int, width: Int,
        weight: WeightTensor, bias: WeightTensor, eps: Float,
        output: UnsafeMutablePointer<Float>, inputStride: Int? = nil, outputStride: Int? = nil
    ) {
        clip_layer_norm(
            input, rows, width, inputStride ?? width, weight.pointer, bias.pointer, eps,
            output, outputStride ?? width)
    }

    /// x += bias (a residual's bias), then output = LayerNorm(x), row by row.
    static func addBiasLayerNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, residualBias: WeightTensor,
        weight: WeightTensor, bias: WeightTensor, eps: Float,
        output: UnsafeMutablePointer<Float>
    ) {
        clip_add_bias_layer_norm(x, rows, width, residualBias.pointer, weight.pointer, bias.pointer, eps, output)
    }

    /// im2col for a ViT's patch embedding: row b·N + (gy·g + gx) of `cols` [count·N, C·P·P] holds
    /// patch (gy, gx) of image b in the conv weight's (channel, y, x) order, so the conv becomes one
    /// product with the [D, C·P·P] weight. `images` are [count, C, side, side]; images are split
    /// over up to `threads` tasks.
    static func patchRows(
        _ images: UnsafePointer<Float>, count: Int, channels c: Int, side: Int, patch p: Int,
        into cols: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let g = side / p, n = g * g, k = c * p * p, perImage = c * side * side
        let tasks = min(threads, count)
        let source = SendablePointer(images), target = SendablePointer(cols)
        Parallel.run(tasks) { i in
            for b in Parallel.part(i, of: tasks, total: count) {
                let image = source.value + b * perImage
                for gy in 0..<g {
                    for gx in 0..<g {
                        let row = target.value + (b * n + gy * g + gx) * k
                        for ch in 0..<c {
                            for y in 0..<p {
                                let from = image + (ch * side + gy * p + y) * side + gx * p
                                (row + (ch * p + y) * p).update(from: from, count: p)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The activation in place over `count` values.
    static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: CLIPActivation) {
        switch activation {
        case .quickGELU: clip_quick_gelu(x, count)
        case .gelu: clip_gelu(x, count)
        case .geluTanh: clip_gelu_tanh(x, count)
        }
    }

    /// Softmax of each row of a [rows×width] matrix (leading dimension `ld`) in place, numerically
    /// stable (max subtracted). With `causal`, row i (counted from `firstRow`) keeps only columns
    /// 0...i (the others become 0), as an additive −∞ mask.
    static func softmaxRows(
        _ s: UnsafeMutablePointer<Float>, rows: Int, width: Int, ld: Int? = nil,
        causal: Bool, firstRow: Int = 0
    ) {
        clip_softmax_rows(s, rows, width, ld ?? width, causal ? 1 : 0, firstRow)
    }
}

/// A pointer handed to the workers of `Parallel.run`; each writes a disjoint part.
struct SendablePointer<Pointee>: @unchecked Sendable {
    let value: UnsafeMutablePointer<Pointee>
    init(_ value: UnsafeMutablePointer<Pointee>) { self.value = value }
    init(_ value: UnsafePointer<Pointee>) { self.value = UnsafeMutablePointer(mutating: value) }
}
