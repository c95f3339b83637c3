/// CLIPEngine runs OpenAI's CLIP natively: safetensors weights, the BPE tokenizer,
/// Pillow-exact image preprocessing and the transformer forward passes.
public enum CLIPEngineInfo {
    /// The tool's version, recorded in reports and `run.json`.
    public static let version = "0.1.0"
}
