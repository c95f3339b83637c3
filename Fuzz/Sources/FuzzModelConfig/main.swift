import CLIPEngine
import Foundation
import FuzzSupport

/// `config.json`: whatever loads has sizes whose products (tensor shapes, workspaces) cannot
/// overflow, and heads and patches that divide their widths.
// SwiftPM links a debug executable with `main` = `FuzzModelConfig_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzModelConfig_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    let url = FuzzSupport.file("config.json", input)
    guard let config = try? CLIPConfiguration(contentsOf: url) else { return }
    let t = config.text, v = config.vision
    precondition(t.hiddenSize % t.numAttentionHeads == 0 && v.hiddenSize % v.numAttentionHeads == 0)
    precondition(v.imageSize % v.patchSize == 0)
    precondition(t.eosTokenID >= 0 && t.eosTokenID < t.vocabSize)
    // The largest products the loader and encoders form (with a batch of 64).
    for (a, b) in [
        (t.vocabSize, t.hiddenSize), (t.intermediateSize, t.hiddenSize), (v.intermediateSize, v.hiddenSize),
        (v.numPositions * 64, v.patchInputs), (v.numPositions * 64, v.intermediateSize),
        (t.maxPositionEmbeddings * 64, t.intermediateSize), (config.projectionDim, v.hiddenSize)
    ] {
        precondition(!a.multipliedReportingOverflow(by: b).overflow)
    }
}
