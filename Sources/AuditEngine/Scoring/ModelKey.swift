import CLIPEngine

/// What identifies a model's embeddings: the SHA-256 of its weights file, the SHA-256 of its
/// configuration and the revision of the forward pass's arithmetic.
///
/// The embedding cache keys its rows by ``text`` and run.json records it as the model's
/// fingerprint; everything else asks the fields. Embeddings from another numerics revision
/// differ in their last bits, so they get another key and are never mixed with this build's.
public struct ModelKey: Hashable, Sendable, CustomStringConvertible {
    /// The SHA-256 (hex) of the weights file.
    public var weightsSHA256: String
    /// The SHA-256 (hex) of the model's configuration.
    public var configurationSHA256: String
    /// ``CLIPModel/numericsRevision`` of the build that computed the embeddings.
    public var numericsRevision: Int

    public init(
        weightsSHA256: String, configurationSHA256: String,
        numericsRevision: Int = CLIPModel.numericsRevision
    ) {
        self.weightsSHA256 = weightsSHA256
        self.configurationSHA256 = configurationSHA256
        self.numericsRevision = numericsRevision
    }

    /// `<weights>:<configuration>:numerics-<revision>`: the cache's `model` column and run.json's
    /// `model.fingerprint`. Caches written before this type existed hold these exact bytes, so
    /// the format must not change (a changed format would re-encode every cached image).
    public var text: String {
        "\(weightsSHA256):\(configurationSHA256):numerics-\(numericsRevision)"
    }

    public var description: String { text }
}
