import CClipKernels
import Foundation

/// A Linear layer (`y = x·Wᵀ + b`, W stored [out, in]) with its weight packed once for
/// `clip_gemm_packed`: 16-output panels, [⌈out/16⌉][in][16].
///
/// Packing at load instead of in every product saves OpenBLAS's per-call packing, and the packed
/// product computes each output the same way whatever the call's rows, so a row's result does
/// not depend on the batch it is in (see `clip_kernels.h`).
final class PackedLinear: @unchecked Sendable {
    let outFeatures: Int
    let inFeatures: Int
    /// The packed weight, `clip_packed_weight_count(outFeatures, inFeatures)` floats.
    let packed: UnsafeMutablePointer<Float>
    let bias: WeightTensor?

    /// Packs `weight` ([out, in…]: trailing dimensions are flattened, as for the patch
    /// embedding's conv weight) and keeps `bias`.
    init(weight: WeightTensor, bias: WeightTensor?) {
        outFeatures = weight.shape[0]
        inFeatures = weight.shape.dropFirst().reduce(1, *)
        precondition(weight.data.count == outFeatures * inFeatures)
        // Cache-line aligned: every panel then starts on a line (panels are 64-byte multiples).
        let count = max(1, clip_packed_weight_count(outFeatures, inFeatures))
        packed = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        clip_pack_weight(weight.pointer, outFeatures, inFeatures, packed)
        self.bias = bias
    }

    deinit { packed.deallocate() }
}

/// One pre-LN encoder layer ready to run: LayerNorm parameters in place, Linear layers packed.
struct EncoderLayer: Sendable {
    let layerNorm1Weight, layerNorm1Bias: WeightTensor
    let q, k, v, out: PackedLinear
    let layerNorm2Weight, layerNorm2Bias: WeightTensor
    let fc1, fc2: PackedLinear

    init(_ w: TransformerLayerWeights) {
        layerNorm1Weight = w.layerNorm1Weight; layerNorm1Bias = w.layerNorm1Bias
        q = PackedLinear(weight: w.qWeight, bias: w.qBias)
        k = PackedLinear(weight: w.kWeight, bias: w.kBias)
        v = PackedLinear(weight: w.vWeight, bias: w.vBias)
        out = PackedLinear(weight: w.outWeight, bias: w.outBias)
        layerNorm2Weight = w.layerNorm2Weight; layerNorm2Bias = w.layerNorm2Bias
        fc1 = PackedLinear(weight: w.fc1Weight, bias: w.fc1Bias)
        fc2 = PackedLinear(weight: w.fc2Weight, bias: w.fc2Bias)
    }

    /// The Linear weights this layer packed (their file pages can be released).
    static func packedWeights(of w: TransformerLayerWeights) -> [WeightTensor] {
        [w.qWeight, w.kWeight, w.vWeight, w.outWeight, w.fc1Weight, w.fc2Weight]
    }
}

/// The packed Linear layers of one tower, made on its first use: the vision tower's patch
/// embedding, layers and projection, or the text tower's layers and projection.
struct PackedTower: Sendable {
    /// The vision tower's patch embedding as a Linear [D, C·P·P]; nil for the text tower.
    let patchEmbedding: PackedLinear?
    let layers: [EncoderLayer]
    let projection: PackedLinear

    /// Packs the tower, then releases the memory of the weights it copied (file pages, or the
    /// converted copies of F16/BF16 weights: `CLIPWeights.releaseCopied`): the packed copy is
    /// what every product reads, so the originals would only double the resident memory.
    init(
        layers: [TransformerLayerWeights], projection: WeightTensor, patchEmbedding: WeightTensor? = nil,
        weights: CLIPWeights
    ) {
        var packedSources: [WeightTensor] = [projection]
        self.patchEmbedding = patchEmbedding.map { PackedLinear(weight: $0, bias: nil) }
        if let patchEmbedding { packedSources.append(patchEmbedding) }
        self.layers = layers.map { layer in
            let packed = EncoderLayer(layer)
            for source in EncoderLayer.packedWeights(of: layer) {
                weights.releaseCopied(source.data)
            }
            return packed
        }
        self.projection = PackedLinear(weight: projection, bias: nil)
        for source in packedSources { weights.releaseCopied(source.data) }
    }
}
