import Foundation

/// Scratch memory for one forward pass of a batch through one tower, allocated once per call
/// (never per element or per layer) and freed when the call ends. Each call has its own, so a
/// model can be used from several threads at once.
struct TransformerWorkspace {
    let rows: Int, width: Int, sequence: Int, threads: Int
    /// The residual stream [rows, width].
    let x: UnsafeMutablePointer<Float>
    /// LayerNorm output, then reused [rows, width].
    let h: UnsafeMutablePointer<Float>
    let q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    /// Attention output before out_proj [rows, width].
    let attention: UnsafeMutablePointer<Float>
    /// MLP hidden [rows, intermediate] (also the im2col matrix of the vision tower).
    let mlp: UnsafeMutablePointer<Float>
    /// Attention scores, one [sequence, sequence] block per thread.
    let scores: UnsafeMutablePointer<Float>
    /// The pooled token of each sequence after the last layer [batch, width], followed by two
    /// more [batch, width] blocks the last layer uses for that token's LN1 output and queries.
    let pooled: UnsafeMutablePointer<Float>
    private let block: UnsafeMutablePointer<Float>

    /// Space for `batch` sequences of `sequence` tokens of `width`, an MLP of `intermediate`,
    /// and at least `extra` floats in `mlp`, for a pass on `threads` threads.
    init(batch: Int, width: Int, intermediate: Int, sequence: Int, threads: Int, extra: Int = 0) {
        let rows = batch * sequence
        self.rows = rows; self.width = width; self.sequence = sequence; self.threads = threads
        let stream = rows * width
        let mlpCount = max(rows * intermediate, extra)
        let scoreCount = threads * sequence * sequence
        let total = 6 * stream + 3 * batch * width + mlpCount + scoreCount
        block = .allocate(capacity: max(total, 1))
        x = block
        h = block + stream
        q = block + 2 * stream
        k = block + 3 * stream
        v = block + 4 * stream
        attention = block + 5 * stream
        pooled = block + 6 * stream
        mlp = pooled + 3 * batch * width
        scores = mlp + mlpCount
    }

    func deallocate() { block.deallocate() }
}

/// A stack of pre-LN transformer encoder layers (CLIP's `CLIPEncoder`).
///
/// Only one token of each sequence is read after the encoder (the class token of an image, the
/// end-of-text token of a prompt), so the last layer runs its queries, attention output and MLP
/// for that token alone; keys and values still come from every token. Up to rounding in the
/// products this is the same arithmetic as the full layer restricted to those rows.
///
/// Work is split over `ws.threads` threads: products and element-wise steps by rows (each
/// thread runs one row range from a layer's attention output through the next layer's Q, K, V,
/// so a layer needs two rendezvous), attention by (sequence, head) pairs.
struct TransformerEncoder {
    let layers: [TransformerLayerWeights]
    let width: Int
    let heads: Int
    let intermediate: Int
    let eps: Float
    let activation: CLIPActivation

    /// Runs every layer over `ws.x`, which holds `batch` sequences of `ws.sequence` tokens, and
    /// leaves in `ws.pooled` [batch, width] the final hidden state of the token at
    /// `poolingPositions[b]` of each sequence (before any final LayerNorm). With `causal`, token
    /// i attends to tokens 0...i only. `ws.x` is not the full final state afterwards.
    func callAsFunction(_ ws: TransformerWorkspace, batch: Int, causal: Bool, poolingPositions: [Int]) {
        precondition(!layers.isEmpty && poolingPositions.count == batch)
        let d = width, s = ws.sequence, rows = ws.rows, m = intermediate
        let headDim = d / heads
        let scale = 1 / Float(headDim).squareRoot()
        let rowTasks = max(1, min(ws.threads, rows / 16))
        let w = SendableWorkspace(ws)

        // Row range → LN1 of layer `l` (after adding the previous layer's pending fc2 bias), Q, K, V.
        // The last layer's queries are made later, for the pooled rows only.
        func attentionInputs(_ l: Int, _ r: Range<Int>) {
            let ws = w.value, layer = layers[l], o = r.lowerBound * d
            if l == 0 {
                NetworkKernels.layerNorm(ws.x + o, rows: r.count, width: d, weight: layer.layerNorm1Weight,
                                         bias: layer.layerNorm1Bias, eps: eps, output: ws.h + o)
            } else {
                NetworkKernels.addBiasLayerNorm(ws.x + o, rows: r.count, width: d, residualBias: layers[l - 1].fc2Bias,
                                                weight: layer.layerNorm1Weight, bias: layer.layerNorm1Bias, eps: eps,
                                                output: ws.h + o)
            }
            if l < layers.count - 1 {
                NetworkKernels.linear(ws.h + o, rows: r.count, inFeatures: d, weight: layer.qWeight, bias: layer.qBias,
                                      outFeatures: d, into: ws.q + o)
            }
            NetworkKernels.linear(ws.h + o, rows: r.count, inFeatures: d, weight: layer.kWeight, bias: layer.kBias,
                                  outFeatures: d, into: ws.k + o)
            NetworkKernels.linear(ws.h + o, rows: r.count, inFeatures: d, weight: layer.vWeight, bias: layer.vBias,
                                  outFeatures: d, into: ws.v + o)
        }

        // Row range → x += out_proj(attention) + bias; LN2; fc1; activation; x += fc2 (its bias
        // is added by the next layer's LN1 step).
        func attentionOutputAndMLP(_ l: Int, _ r: Range<Int>) {
            let ws = w.value, layer = layers[l], o = r.lowerBound * d
            NetworkKernels.linear(ws.attention + o, rows: r.count, inFeatures: d, weight: layer.outWeight, bias: nil,
                                  outFeatures: d, into: ws.x + o, accumulate: true)
            NetworkKernels.addBiasLayerNorm(ws.x + o, rows: r.count, width: d, residualBias: layer.outBias,
                                            weight: layer.layerNorm2Weight, bias: layer.layerNorm2Bias, eps: eps,
                                            output: ws.h + o)
            let hidden = ws.mlp + r.lowerBound * m
            NetworkKernels.linear(ws.h + o, rows: r.count, inFeatures: d, weight: layer.fc1Weight, bias: layer.fc1Bias,
                                  outFeatures: m, into: hidden)
            NetworkKernels.activate(hidden, count: r.count * m, activation)
            NetworkKernels.linear(hidden, rows: r.count, inFeatures: m, weight: layer.fc2Weight, bias: nil,
                                  outFeatures: d, into: ws.x + o, accumulate: true)
        }

        Parallel.run(rowTasks) { i in attentionInputs(0, Parallel.part(i, of: rowTasks, total: rows)) }
        for l in 0..<(layers.count - 1) {
            // Full self-attention, (sequence, head) pairs split over the threads.
            let pairs = batch * heads
            let pairTasks = max(1, min(ws.threads, pairs))
            Parallel.run(pairTasks) { i in
                let ws = w.value
                let scores = ws.scores + i * s * s
                for pair in Parallel.part(i, of: pairTasks, total: pairs) {
                    let b = pair / heads, head = pair % heads
                    // Strided views: one sequence's rows, one head's columns, leading dimension d.
                    let offset = b * s * d + head * headDim
                    NetworkKernels.gemm(m: s, n: s, k: headDim, alpha: scale, a: ws.q + offset, lda: d,
                                        b: ws.k + offset, ldb: d, transB: true, beta: 0, c: scores, ldc: s)
                    NetworkKernels.softmaxRows(scores, rows: s, width: s, causal: causal)
                    NetworkKernels.gemm(m: s, n: headDim, k: s, a: scores, lda: s,
                                        b: ws.v + offset, ldb: d, transB: false, beta: 0, c: ws.attention + offset, ldc: d)
                }
            }
            Parallel.run(rowTasks) { i in
                let r = Parallel.part(i, of: rowTasks, total: rows)
                attentionOutputAndMLP(l, r)
                attentionInputs(l + 1, r)
            }
        }

        // The last layer, for the pooled token of each sequence, in compact [batch, ·] buffers:
        // the residual in `pooled`, then its LN1 output and queries; attention output in
        // `attention`, LN2 output in h (free once K and V are made), MLP hidden in mlp.
        let layer = layers[layers.count - 1]
        let xp = ws.pooled, hq = ws.pooled + batch * d, queries = ws.pooled + 2 * batch * d
        let attended = ws.attention
        for (b, position) in poolingPositions.enumerated() {
            precondition(position >= 0 && position < s)
            (hq + b * d).update(from: ws.h + (b * s + position) * d, count: d)
            (xp + b * d).update(from: ws.x + (b * s + position) * d, count: d)
        }
        // (x already holds the layer before's fc2 bias: LN1's step added it in place.)
        NetworkKernels.parallelLinear(hq, rows: batch, inFeatures: d, weight: layer.qWeight, bias: layer.qBias,
                                      outFeatures: d, into: queries, threads: ws.threads)
        let pairs = batch * heads
        let pairTasks = max(1, min(ws.threads, pairs))
        let positions = poolingPositions
        Parallel.run(pairTasks) { i in
            let ws = w.value
            let scores = ws.scores + i * s * s
            for pair in Parallel.part(i, of: pairTasks, total: pairs) {
                let b = pair / heads, head = pair % heads
                let keys = b * s * d + head * headDim
                // The pooled row attends to every token (vision) or to tokens 0...position (causal).
                let visible = causal ? positions[b] + 1 : s
                NetworkKernels.gemm(m: 1, n: visible, k: headDim, alpha: scale, a: queries + b * d + head * headDim, lda: d,
                                    b: ws.k + keys, ldb: d, transB: true, beta: 0, c: scores, ldc: s)
                NetworkKernels.softmaxRows(scores, rows: 1, width: visible, causal: false)
                NetworkKernels.gemm(m: 1, n: headDim, k: visible, a: scores, lda: s,
                                    b: ws.v + keys, ldb: d, transB: false, beta: 0,
                                    c: attended + b * d + head * headDim, ldc: d)
            }
        }
        NetworkKernels.parallelLinear(attended, rows: batch, inFeatures: d, weight: layer.outWeight, bias: layer.outBias,
                                      outFeatures: d, into: xp, accumulate: true, threads: ws.threads)
        NetworkKernels.layerNorm(xp, rows: batch, width: d, weight: layer.layerNorm2Weight, bias: layer.layerNorm2Bias,
                                 eps: eps, output: ws.h)
        NetworkKernels.parallelLinear(ws.h, rows: batch, inFeatures: d, weight: layer.fc1Weight, bias: layer.fc1Bias,
                                      outFeatures: m, into: ws.mlp, threads: ws.threads)
        NetworkKernels.activate(ws.mlp, count: batch * m, activation)
        NetworkKernels.parallelLinear(ws.mlp, rows: batch, inFeatures: m, weight: layer.fc2Weight, bias: layer.fc2Bias,
                                      outFeatures: d, into: xp, accumulate: true, threads: ws.threads)
    }
}

/// The workspace handed to the workers of `Parallel.run`; each writes a disjoint part.
struct SendableWorkspace: @unchecked Sendable {
    let value: TransformerWorkspace
    init(_ value: TransformerWorkspace) { self.value = value }
}
