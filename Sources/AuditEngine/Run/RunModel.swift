import CLIPEngine
import Foundation

/// One model a run measures. A one-model audit (`model:`, or `--model`) is a run with one entry
/// and no label; `models:` gives one labelled entry per model. Every stage works on the list.
struct RunModel: Sendable {
    /// Its `models:` entry; nil in a one-model audit, whose report folder is the model's own.
    var entry: AuditModel?
    /// What ``ModelLocator`` resolves (nil: the audit file names no model).
    var reference: String?

    /// Its `models:` label (its folder, and its name in errors).
    var label: String? { entry?.label }

    /// The models of `config` (whose `models:` `--model` has already emptied).
    static func list(_ config: AuditConfig, options: RunOptions) -> [RunModel] {
        guard !config.models.isEmpty else {
            return [RunModel(entry: nil, reference: options.model ?? config.model.map(\.locatorString))]
        }
        return config.models.map { RunModel(entry: $0, reference: $0.model.locatorString) }
    }

    /// The configuration of this model's own report: a `models:` entry's folder reads as a
    /// one-model audit of that model.
    func config(in audit: AuditConfig) -> AuditConfig {
        guard let entry else { return audit }
        var config = audit
        config.models = []
        config.model = entry.model
        return config
    }
}
