import Foundation
import Testing

@testable import CLIPEngine

/// The network against transformers on checkpoints of other shapes (made by
/// `Fixtures/Generators/make_shape_fixtures.py`): every size is read from config.json, not assumed.
/// The references ran in float32 on the F16/BF16 weights up-cast, so conversion is exercised too.
@Suite struct NetworkShapeTests {
    @Test func patch32GeluF16MatchesTransformers() throws {
        let dir = NetworkFixtures.shape("p32-gelu-f16")
        let model = try CLIPModel(directory: dir)
        let c = model.configuration
        #expect(c.vision.patchSize == 32 && c.vision.imageSize == 64 && c.vision.numAttentionHeads == 5)
        #expect(c.vision.hiddenAct == .gelu && c.text.hiddenAct == .quickGELU)
        #expect(c.text.vocabSize == 4096 && c.text.eosTokenID == 2)
        // The top-level projection_dim wins over the towers' 512.
        #expect(model.projectionDim == 16)
        #expect(model.weights.convertedTensorCount > 0)
        try checkNetworkParity(
            checkpoint: dir, golden: dir.appendingPathComponent("golden.safetensors"), label: "p32-gelu-f16",
            tolerance: .p32GeluF16)
    }

    @Test func patch8ModernEosBF16MatchesTransformers() throws {
        let dir = NetworkFixtures.shape("p8-eos49407-bf16")
        let model = try CLIPModel(directory: dir)
        let c = model.configuration
        #expect(c.vision.patchSize == 8 && c.vision.numPositions == 37 && c.vision.layerNormEps == 1e-6)
        #expect(c.text.hiddenAct == .gelu && c.text.eosTokenID == 49407 && c.text.maxPositionEmbeddings == 40)
        #expect(model.projectionDim == 20)
        try checkNetworkParity(
            checkpoint: dir, golden: dir.appendingPathComponent("golden.safetensors"), label: "p8-eos49407-bf16",
            tolerance: .p8EosBF16)
    }
}
