import Foundation

/// Scratch memory for one forward pass of a batch through one tower, allocated once per call
/// (never per element or per layer) and freed when the call ends. Each call has its own, so a
/// model can be used from several threads at once.
struct TransformerWorkspace {
    let rows: Int, width: Int, sequence: Int
    /// The residual stream [rows, width].
    let x: UnsafeMutablePointer<Float>
    /// LayerNorm output, then reused [rows, width].
    let h: UnsafeMutablePointer<Float>
    let q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    /// Attention output before out_proj [rows, width].
    let attention: UnsafeMutablePointer<Float>
    /// MLP hidden [rows, intermediate] (also the im2col matrix of the vision tower).
    let mlp: UnsafeMutablePointer<Float>
    /// One head's attention scores [sequence, sequence].
    let scores: UnsafeMutablePointer<Float>
    private let block: UnsafeMutablePointer<Float>

    /// Space for `rows` = batch × `sequence` tokens of `width`, an MLP of `intermediate`, and at
    /// least `extra` floats in `mlp`.
    init(rows: Int, width: Int, intermediate: Int, sequence: Int, extra: Int = 0) {
        self.rows = rows; self.width = width; self.sequence = sequence
        let stream = rows * width
        let mlpCount = max(rows * intermediate, extra)
        let total = 6 * stream + mlpCount + sequence * sequence
        block = .allocate(capacity: max(total, 1))
        x = block
        h = block + stream
        q = block + 2 * stream
        k = block + 3 * stream
        v = block + 4 * stream
        attention = block + 5 * stream
        mlp = block + 6 * stream
        scores = mlp + mlpCount
    }

    func deallocate() { block.deallocate() }
}

/// A stack of pre-LN transformer encoder layers (CLIP's `CLIPEncoder`).
struct TransformerEncoder {
    let layers: [TransformerLayerWeights]
    let width: Int
    let heads: Int
    let intermediate: Int
    let eps: Float
    let activation: CLIPActivation

    /// Runs every layer over `ws.x`, which holds `batch` sequences of `ws.sequence` tokens.
    /// With `causal`, token i attends to tokens 0...i only.
    func callAsFunction(_ ws: TransformerWorkspace, batch: Int, causal: Bool) {
        let d = width, s = ws.sequence, rows = ws.rows
        let headDim = d / heads
        let scale = 1 / Float(headDim).squareRoot()
        for layer in layers {
            // x += out_proj(attention(LN1(x)))
            NetworkKernels.layerNorm(ws.x, rows: rows, width: d, weight: layer.layerNorm1Weight, bias: layer.layerNorm1Bias,
                              eps: eps, output: ws.h)
            NetworkKernels.linear(ws.h, rows: rows, inFeatures: d, weight: layer.qWeight, bias: layer.qBias, outFeatures: d, into: ws.q)
            NetworkKernels.linear(ws.h, rows: rows, inFeatures: d, weight: layer.kWeight, bias: layer.kBias, outFeatures: d, into: ws.k)
            NetworkKernels.linear(ws.h, rows: rows, inFeatures: d, weight: layer.vWeight, bias: layer.vBias, outFeatures: d, into: ws.v)
            for b in 0..<batch {
                for head in 0..<heads {
                    // Strided views: one sequence's rows, one head's columns, leading dimension d.
                    let offset = b * s * d + head * headDim
                    NetworkKernels.gemm(m: s, n: s, k: headDim, alpha: scale, a: ws.q + offset, lda: d,
                                 b: ws.k + offset, ldb: d, transB: true, beta: 0, c: ws.scores, ldc: s)
                    NetworkKernels.softmaxRows(ws.scores, rows: s, width: s, causal: causal)
                    NetworkKernels.gemm(m: s, n: headDim, k: s, a: ws.scores, lda: s,
                                 b: ws.v + offset, ldb: d, transB: false, beta: 0, c: ws.attention + offset, ldc: d)
                }
            }
            NetworkKernels.linear(ws.attention, rows: rows, inFeatures: d, weight: layer.outWeight, bias: layer.outBias,
                           outFeatures: d, into: ws.x, accumulate: true)
            // x += fc2(act(fc1(LN2(x))))
            NetworkKernels.layerNorm(ws.x, rows: rows, width: d, weight: layer.layerNorm2Weight, bias: layer.layerNorm2Bias,
                              eps: eps, output: ws.h)
            NetworkKernels.linear(ws.h, rows: rows, inFeatures: d, weight: layer.fc1Weight, bias: layer.fc1Bias,
                           outFeatures: intermediate, into: ws.mlp)
            NetworkKernels.activate(ws.mlp, count: rows * intermediate, activation)
            NetworkKernels.linear(ws.mlp, rows: rows, inFeatures: intermediate, weight: layer.fc2Weight, bias: layer.fc2Bias,
                           outFeatures: d, into: ws.x, accumulate: true)
        }
    }
}
