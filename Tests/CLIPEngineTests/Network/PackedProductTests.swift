import CClipKernels
import Foundation
import Testing

@testable import CLIPEngine

/// `clip_gemm_packed`, the product of every Linear layer: against a double-precision reference
/// on awkward shapes, on both code paths, and the property the audits rely on — a row's bits do
/// not depend on the call it is computed in.
@Suite struct PackedProductTests {
    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Float(Double(state >> 11) / Double(1 << 53) * 2 - 1)
        }
    }

    static func pack(_ w: [Float], n: Int, k: Int) -> [Float] {
        var packed = [Float](repeating: .nan, count: clip_packed_weight_count(n, k))
        clip_pack_weight(w, n, k, &packed)
        return packed
    }

    /// c (n columns, starting from `initial`) += a · wᵀ over rows 0..<m, columns `columns`.
    static func product(
        vectorised: Int32 = 1, m: Int, n: Int, k: Int, a: [Float], packed: [Float],
        columns: Range<Int>? = nil, initial: [Float]? = nil
    ) -> [Float] {
        var c = initial ?? [Float](repeating: 0, count: m * n)
        let cols = columns ?? 0..<n
        clip_gemm_packed_path(vectorised, m, n, k, a, k, packed, cols.lowerBound, cols.upperBound, &c, n)
        return c
    }

    @Test(arguments: [(1, 1, 1), (5, 15, 7), (6, 16, 256), (7, 17, 257), (13, 40, 600), (97, 33, 300), (200, 48, 96)])
    func matchesDoublePrecision(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = Self.values(m * k, seed: 1), w = Self.values(n * k, seed: 2)
        let bias = Self.values(m * n, seed: 3)
        let packed = Self.pack(w, n: n, k: k)
        for path: Int32 in [0, 1] {
            let c = Self.product(vectorised: path, m: m, n: n, k: k, a: a, packed: packed, initial: bias)
            for r in 0..<m {
                for j in 0..<n {
                    var exact = Double(bias[r * n + j]), magnitude = abs(exact)
                    for i in 0..<k {
                        exact += Double(a[r * k + i]) * Double(w[j * k + i])
                        magnitude += abs(Double(a[r * k + i]) * Double(w[j * k + i]))
                    }
                    // Float32 summation error bound: k·ε·Σ|terms| (a loose, shape-aware bound).
                    let bound = Double(k + 1) * Double(Float.ulpOfOne) * magnitude + 1e-30
                    #expect(
                        abs(Double(c[r * n + j]) - exact) <= bound,
                        "path \(path) \(m)×\(n)×\(k) at [\(r), \(j)]: \(c[r * n + j]) vs \(exact)")
                }
            }
        }
    }

    /// Rows computed alone, in other row ranges, or by column panels give the same bits as in one
    /// call over all rows. (OpenBLAS's sgemm does not: its edge kernels change with the call's
    /// size, which made an image's embedding depend on its batch.)
    @Test func rowBitsDoNotDependOnTheCall() {
        let m = 41, n = 72, k = 700
        let a = Self.values(m * k, seed: 4), w = Self.values(n * k, seed: 5)
        let packed = Self.pack(w, n: n, k: k)
        let whole = Self.product(m: m, n: n, k: k, a: a, packed: packed)
        for r in [0, 5, 6, 17, 40] {
            let alone = Self.product(m: 1, n: n, k: k, a: Array(a[(r * k)..<((r + 1) * k)]), packed: packed)
            #expect(alone == Array(whole[(r * n)..<((r + 1) * n)]), "row \(r) alone")
        }
        let slice = 3..<20
        let part = Self.product(
            m: slice.count, n: n, k: k, a: Array(a[(slice.lowerBound * k)..<(slice.upperBound * k)]),
            packed: packed)
        #expect(part == Array(whole[(slice.lowerBound * n)..<(slice.upperBound * n)]))
        var byPanels = [Float](repeating: 0, count: m * n)
        for columns in [0..<16, 16..<48, 48..<72] {
            clip_gemm_packed(m, n, k, a, k, packed, columns.lowerBound, columns.upperBound, &byPanels, n)
        }
        #expect(byPanels == whole)
    }

    /// The weights are packed once per tower, and a model's image embedding is the same bits
    /// alone, anywhere in a batch, in any batch order, and on any number of threads.
    @Test func imageEmbeddingsDoNotDependOnTheBatch() throws {
        let model = try CLIPModel(directory: NetworkFixtures.tinyClip)
        let set = try NetworkGoldenSet(url: NetworkFixtures.golden)
        let p = model.projectionDim, count = set.imageCount
        let perImage = set.pixelValues.count / count
        func encode(_ order: [Int]) -> [[Float]] {
            let pixels = order.flatMap { set.pixelValues[($0 * perImage)..<(($0 + 1) * perImage)] }
            let out = pixels.withUnsafeBufferPointer { model.encodeImages(pixelValues: $0, count: order.count) }
            return (0..<order.count).map { Array(out[($0 * p)..<(($0 + 1) * p)]) }
        }
        let all = encode(Array(0..<count))
        let reversed = encode(Array((0..<count).reversed()))
        for i in 0..<count {
            #expect(encode([i])[0] == all[i], "image \(i) alone")
            #expect(reversed[count - 1 - i] == all[i], "image \(i) in reverse order")
        }
        let pair = encode([7, 2])
        #expect(pair[0] == all[7] && pair[1] == all[2])
        // One thread instead of the default: other row chunks, same bits. (Process-wide; tests
        // running meanwhile only get slower.)
        let threads = CLIPModel.threads
        CLIPModel.setThreads(threads == 1 ? 2 : 1)
        defer { CLIPModel.setThreads(threads) }
        #expect(encode(Array(0..<count)) == all)
    }

    @Test func textEmbeddingsDoNotDependOnTheBatch() throws {
        let model = try CLIPModel(directory: NetworkFixtures.tinyClip)
        let set = try NetworkGoldenSet(url: NetworkFixtures.golden)
        let p = model.projectionDim
        let all = model.encodeTexts(inputIDs: set.inputIDs)
        for (i, row) in set.inputIDs.enumerated() {
            #expect(model.encodeTexts(inputIDs: [row]) == Array(all[(i * p)..<((i + 1) * p)]), "prompt \(i) alone")
        }
    }
}
