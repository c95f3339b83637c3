import CClipKernels
import Foundation

/// Scratch memory for one forward pass of a batch through one tower, allocated once per call
/// (never per element or per layer) and freed when the call ends. Each call has its own, so a
/// model can be used from several threads at once.
struct TransformerWorkspace {
    let rows: Int, width: Int, threads: Int
    /// The residual stream [rows, width].
    let x: UnsafeMutablePointer<Float>
    /// LayerNorm output, then reused [rows, width].
    let h: UnsafeMutablePointer<Float>
    let q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    /// Attention output before out_proj [rows, width].
    let attention: UnsafeMutablePointer<Float>
    /// MLP hidden [rows, intermediate] (also the im2col matrix of the vision tower).
    let mlp: UnsafeMutablePointer<Float>
    /// Attention scores, one block per thread.
    let scores: UnsafeMutablePointer<Float>
    /// The pooled token of each sequence after the last layer [batch, width], followed by two
    /// more [batch, width] blocks the last layer uses for that token's LN1 output and queries.
    let pooled: UnsafeMutablePointer<Float>
    private let block: UnsafeMutablePointer<Float>

    /// Space for `rows` tokens of `width` of which `pooled` are read at the end, an MLP of
    /// `intermediate`, `scoresPerThread` attention scores for each of `threads` threads, and at
    /// least `extra` floats in `mlp`.
    init(rows: Int, pooled pooledRows: Int, width: Int, intermediate: Int, scoresPerThread: Int, threads: Int, extra: Int = 0) {
        self.rows = rows; self.width = width; self.threads = threads
        // The last layer's compact buffers for the pooled rows reuse h, attention and mlp, and
        // there can be more pooled rows than rows (identical prompts share every row).
        let spanRows = max(rows, pooledRows)
        let stream = spanRows * width
        let mlpCount = max(spanRows * intermediate, extra)
        let scoreCount = threads * scoresPerThread
        let total = 6 * stream + 3 * pooledRows * width + mlpCount + scoreCount
        block = .allocate(capacity: max(total, 1))
        x = block
        h = block + stream
        q = block + 2 * stream
        k = block + 3 * stream
        v = block + 4 * stream
        attention = block + 5 * stream
        pooled = block + 6 * stream
        mlp = pooled + 3 * pooledRows * width
        scores = mlp + mlpCount
    }

    func deallocate() { block.deallocate() }
}

/// Which rows a row attends to.
enum AttentionPattern {
    /// Consecutive sequences of `sequence` rows; a row attends to every row of its sequence, or
    /// with `causal` to those up to itself.
    case sequences(sequence: Int, causal: Bool)
    /// Token rows of prompts sharing their common prefixes: row r attends to itself and its
    /// ancestors (`parents[r] < r`, −1 at a prompt's first token) — the causal mask, with each
    /// distinct prefix computed once. `depth` is the longest path (the last position + 1).
    case prefixTree(parents: [Int32], depth: Int)

    /// Attention scores each thread needs.
    var scoresPerThread: Int {
        switch self {
        case .sequences(let s, _): return s * s
        case .prefixTree(_, let depth): return depth
        }
    }
}

/// A stack of pre-LN transformer encoder layers (CLIP's `CLIPEncoder`).
///
/// Only one token of each sequence is read after the encoder (the class token of an image, the
/// end-of-text token of a prompt), so the last layer runs its queries, attention output and MLP
/// for those rows alone; keys and values still come from every row. Up to rounding in the
/// products this is the same arithmetic as the full layer restricted to those rows.
///
/// Work is split over `ws.threads` threads: products and element-wise steps by rows (each
/// thread runs one row range from a layer's attention output through the next layer's Q, K, V,
/// so a layer needs two rendezvous), attention by (sequence, head) pairs or by rows.
struct TransformerEncoder {
    let layers: [EncoderLayer]
    let width: Int
    let heads: Int
    let intermediate: Int
    let eps: Float
    let activation: CLIPActivation

    /// Runs every layer over `ws.x` ([ws.rows, width], attending as `pattern` says) and leaves in
    /// `ws.pooled` [pooledRows.count, width] the final hidden state of rows `pooledRows` (before
    /// any final LayerNorm). `ws.x` is not the full final state afterwards.
    func callAsFunction(_ ws: TransformerWorkspace, pattern: AttentionPattern, pooledRows: [Int]) {
        precondition(!layers.isEmpty)
        let d = width, rows = ws.rows, m = intermediate
        let headDim = d / heads
        let scale = 1 / Float(headDim).squareRoot()
        // Row chunks, claimed dynamically (a thread slowed by another process takes fewer).
        let threads = ws.threads
        let rowChunks = Parallel.rowChunks(rows, threads: threads)
        let w = SendableWorkspace(ws)
        let last = layers.count - 1
        // Every row pooled (SigLIP's image tower: its head attends over all tokens): the last
        // layer is an ordinary layer, its attention one s × s product per sequence and head
        // rather than a 1 × s product per row and head.
        let everyRow = pooledRows.count == rows && pooledRows.elementsEqual(0..<rows)

        // Row range → LN1 of layer `l` (after adding the previous layer's pending fc2 bias), Q, K, V.
        // The last layer's queries are made later, for the pooled rows only.
        func attentionInputs(_ l: Int, _ r: Range<Int>) {
            let ws = w.value, layer = layers[l], o = r.lowerBound * d
            if l == 0 {
                NetworkKernels.layerNorm(
                    ws.x + o, rows: r.count, width: d, weight: layer.layerNorm1Weight,
                    bias: layer.layerNorm1Bias, eps: eps, output: ws.h + o)
            } else {
                NetworkKernels.addBiasLayerNorm(
                    ws.x + o, rows: r.count, width: d, residualBias: layers[l - 1].fc2.bias!,
                    weight: layer.layerNorm1Weight, bias: layer.layerNorm1Bias, eps: eps,
                    output: ws.h + o)
            }
            if l < last || everyRow {
                NetworkKernels.linear(ws.h + o, rows: r.count, layer.q, into: ws.q + o)
            }
            NetworkKernels.linear(ws.h + o, rows: r.count, layer.k, into: ws.k + o)
            NetworkKernels.linear(ws.h + o, rows: r.count, layer.v, into: ws.v + o)
        }

        // Row range → x += out_proj(attention) + bias; LN2; fc1; activation; x += fc2 (its bias
        // is added by the next layer's LN1 step).
        func attentionOutputAndMLP(_ l: Int, _ r: Range<Int>) {
            let ws = w.value, layer = layers[l], o = r.lowerBound * d
            NetworkKernels.linear(ws.attention + o, rows: r.count, layer.out, bias: false, into: ws.x + o, accumulate: true)
            NetworkKernels.addBiasLayerNorm(
                ws.x + o, rows: r.count, width: d, residualBias: layer.out.bias!,
                weight: layer.layerNorm2Weight, bias: layer.layerNorm2Bias, eps: eps,
                output: ws.h + o)
            let hidden = ws.mlp + r.lowerBound * m
            NetworkKernels.linear(ws.h + o, rows: r.count, layer.fc1, into: hidden)
            NetworkKernels.activate(hidden, count: r.count * m, activation)
            NetworkKernels.linear(hidden, rows: r.count, layer.fc2, bias: false, into: ws.x + o, accumulate: true)
        }

        // Attention of `queryCount` query rows (queries at `queries`, leading dimension d) into
        // `output`; `queryRows[i]` is query i's row (nil: the queries are all rows, in order).
        func attend(queries: UnsafeMutablePointer<Float>, queryRows: [Int]?, output: UnsafeMutablePointer<Float>) {
            let queryCount = queryRows?.count ?? rows
            let qs = SendablePointer(queries), outs = SendablePointer(output)
            switch pattern {
            case .sequences(let s, let causal):
                // (sequence or query, head) pairs, claimed in chunks; each worker has its own
                // s × s block of scores.
                func forEachPair(of count: Int, _ body: (_ item: Int, _ head: Int, _ scores: UnsafeMutablePointer<Float>) -> Void) {
                    let pairs = count * heads
                    let chunks = max(1, min(4 * threads, pairs))
                    Parallel.claim(chunks, workers: threads) { chunk, worker in
                        let scores = w.value.scores + worker * s * s
                        for pair in Parallel.part(chunk, of: chunks, total: pairs) { body(pair / heads, pair % heads, scores) }
                    }
                }
                if let queryRows {
                    // One query row per sequence.
                    forEachPair(of: queryCount) { b, head, scores in
                        let ws = w.value
                        let row = queryRows[b], position = row % s
                        let keys = (row - position) * d + head * headDim
                        let visible = causal ? position + 1 : s
                        NetworkKernels.gemm(
                            m: 1, n: visible, k: headDim, alpha: scale, a: qs.value + b * d + head * headDim,
                            lda: d, b: ws.k + keys, ldb: d, transB: true, beta: 0, c: scores, ldc: s)
                        NetworkKernels.softmaxRows(scores, rows: 1, width: visible, causal: false)
                        NetworkKernels.gemm(
                            m: 1, n: headDim, k: visible, a: scores, lda: s, b: ws.v + keys, ldb: d,
                            transB: false, beta: 0, c: outs.value + b * d + head * headDim, ldc: d)
                    }
                } else {
                    // Full self-attention of every sequence.
                    forEachPair(of: rows / s) { b, head, scores in
                        let ws = w.value
                        // Strided views: one sequence's rows, one head's columns, leading dimension d.
                        let offset = b * s * d + head * headDim
                        NetworkKernels.gemm(
                            m: s, n: s, k: headDim, alpha: scale, a: qs.value + offset, lda: d,
                            b: ws.k + offset, ldb: d, transB: true, beta: 0, c: scores, ldc: s)
                        NetworkKernels.softmaxRows(scores, rows: s, width: s, causal: causal)
                        NetworkKernels.gemm(
                            m: s, n: headDim, k: s, a: scores, lda: s, b: ws.v + offset, ldb: d,
                            transB: false, beta: 0, c: outs.value + offset, ldc: d)
                    }
                }
            case .prefixTree(let parents, let depth):
                let tasks = max(1, min(ws.threads, queryCount / 8))
                let path = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, tasks * depth))
                defer { path.deallocate() }
                let paths = SendablePointer(path)
                let rowIDs = queryRows.map { $0.map { Int32($0) } }
                parents.withUnsafeBufferPointer { parentBuffer in
                    let parent = SendablePointer(parentBuffer.baseAddress!)
                    Parallel.run(tasks) { i in
                        let ws = w.value, r = Parallel.part(i, of: tasks, total: queryCount)
                        let run = { (ids: UnsafePointer<Int32>?) in
                            clip_tree_attention(
                                qs.value + r.lowerBound * d, d, ids.map { $0 + r.lowerBound }, r.lowerBound,
                                r.count, ws.k, ws.v, d, parent.value, heads, headDim, scale,
                                outs.value + r.lowerBound * d, d, paths.value + i * depth,
                                ws.scores + i * depth, depth)
                        }
                        if let rowIDs { rowIDs.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
                    }
                }
            }
        }

        Parallel.claim(rowChunks, workers: threads) { chunk, _ in
            attentionInputs(0, Parallel.part(chunk, of: rowChunks, total: rows))
        }
        for l in 0..<last {
            attend(queries: ws.q, queryRows: nil, output: ws.attention)
            Parallel.claim(rowChunks, workers: threads) { chunk, _ in
                let r = Parallel.part(chunk, of: rowChunks, total: rows)
                attentionOutputAndMLP(l, r)
                attentionInputs(l + 1, r)
            }
        }

        if everyRow {
            attend(queries: ws.q, queryRows: nil, output: ws.attention)
            let fc2Bias = SendablePointer(layers[last].fc2.bias!.pointer)
            Parallel.claim(rowChunks, workers: threads) { chunk, _ in
                let r = Parallel.part(chunk, of: rowChunks, total: rows)
                attentionOutputAndMLP(last, r)
                // The fc2 bias the next layer's LN1 step would have added, then the rows out.
                let ws = w.value, o = r.lowerBound * d
                clip_add_bias(ws.x + o, r.count, d, d, fc2Bias.value)
                (ws.pooled + o).update(from: ws.x + o, count: r.count * d)
            }
            return
        }

        // The last layer, for the pooled rows, in compact [pooled, ·] buffers: the residual in
        // `pooled`, then its LN1 output and queries; attention output in `attention`, LN2 output
        // in h (free once K and V are made), MLP hidden in mlp. (x already holds the layer
        // before's fc2 bias: the LN1 step added it in place.)
        let layer = layers[last]
        let count = pooledRows.count
        let xp = ws.pooled, hq = ws.pooled + count * d, queries = ws.pooled + 2 * count * d
        for (b, row) in pooledRows.enumerated() {
            precondition(row >= 0 && row < rows)
            (hq + b * d).update(from: ws.h + row * d, count: d)
            (xp + b * d).update(from: ws.x + row * d, count: d)
        }
        NetworkKernels.parallelLinear(hq, rows: count, layer.q, into: queries, threads: ws.threads)
        attend(queries: queries, queryRows: pooledRows, output: ws.attention)
        NetworkKernels.parallelLinear(ws.attention, rows: count, layer.out, into: xp, accumulate: true, threads: ws.threads)
        NetworkKernels.layerNorm(
            xp, rows: count, width: d, weight: layer.layerNorm2Weight, bias: layer.layerNorm2Bias,
            eps: eps, output: ws.h)
        NetworkKernels.parallelLinear(ws.h, rows: count, layer.fc1, into: ws.mlp, threads: ws.threads)
        NetworkKernels.activate(ws.mlp, count: count * m, activation)
        NetworkKernels.parallelLinear(ws.mlp, rows: count, layer.fc2, into: xp, accumulate: true, threads: ws.threads)
    }
}

/// The workspace handed to the workers of `Parallel.run`; each writes a disjoint part.
struct SendableWorkspace: @unchecked Sendable {
    let value: TransformerWorkspace
    init(_ value: TransformerWorkspace) { self.value = value }
}
