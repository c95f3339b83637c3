import Foundation

/// One entry of the audit file's `mitigations:` (docs/audit-file.md, "Mitigations"): a
/// training-free fix applied to the frozen embeddings, scored as a variant `<design>~<name>` of
/// every design it applies to, and applied to retrieval's queries.
public struct MitigationSpec: Sendable, Equatable {
    /// How the embeddings are changed.
    public enum Method: Sendable, Equatable {
        /// Chuang et al. 2023: project the attribute prompts' span out of each class embedding,
        /// `P0 = I − A(AᵀA)⁻¹Aᵀ`.
        case projection(attributePrompts: [String])
        /// Chuang et al. 2023, calibrated: `P = P0·(I + λM)⁻¹`, with `M` the mean outer product of
        /// the differences of `pairTemplate` prompts that differ only in the attribute word.
        case calibratedProjection(attributePrompts: [String], pairTemplate: String, attributeWords: [String], lambda: Double)
        /// Wang et al. 2021 (CLIP-clip): zero the `dimensions` embedding dimensions with the most
        /// mutual information with `attribute` over the fit images, in images and texts alike.
        case clipClip(attribute: String, dimensions: Int, fit: ManifestSettings)

        /// The name written in the audit file.
        public var name: String {
            switch self {
            case .projection: return "projection"
            case .calibratedProjection: return "calibrated_projection"
            case .clipClip: return "clip_clip"
            }
        }
    }

    /// Letters, digits, `-`, `_`, `.`; the variant of design `d` is `d~name`.
    public var name: String
    public var method: Method
    /// The designs it applies to (written order of `designs:`), `designs:` resolved: every design
    /// of the audit, variants included, when the file names none.
    public var designs: [String]
    /// The entry's index in `mitigations:` (for errors: `mitigations[1].fit_manifest`).
    public var index: Int

    public init(name: String, method: Method, designs: [String], index: Int) {
        self.name = name
        self.method = method
        self.designs = designs
        self.index = index
    }

    /// What joins a design's name and a mitigation's name in a variant's name.
    public static let separator = "~"

    /// The variant name of this mitigation applied to `design`.
    public func variantName(of design: String) -> String { design + Self.separator + name }

    /// The method names the audit file accepts.
    public static let methodNames = ["projection", "calibrated_projection", "clip_clip"]

    /// The attribute prompts of the projection methods (empty for CLIP-clip).
    public var attributePrompts: [String] {
        switch method {
        case .projection(let prompts), .calibratedProjection(let prompts, _, _, _): return prompts
        case .clipClip: return []
        }
    }

    /// The pair prompts of calibrated projection for `phrase`: the template with `{class}` taking
    /// the phrase and `{attribute}` each attribute word, in the words' order (empty otherwise).
    public func pairPrompts(phrase: String) -> [String] {
        guard case .calibratedProjection(_, let template, let words, _) = method else { return [] }
        return words.map {
            template.replacingOccurrences(of: "{class}", with: phrase).replacingOccurrences(of: "{attribute}", with: $0)
        }
    }
}

extension AuditConfig {
    /// Every text the mitigations need encoded: the attribute prompts, and calibrated projection's
    /// pair prompts for every phrase of every design it applies to and every retrieval concept.
    public var mitigationPrompts: [String] {
        var prompts: [String] = []
        for mitigation in mitigations {
            prompts += mitigation.attributePrompts
            guard case .calibratedProjection = mitigation.method else { continue }
            for name in mitigation.designs {
                guard let design = design(named: name) else { continue }
                for phrase in design.classes.flatMap(\.phrases) { prompts += mitigation.pairPrompts(phrase: phrase) }
            }
            for concept in retrieval?.concepts ?? [] { prompts += mitigation.pairPrompts(phrase: concept) }
        }
        return prompts
    }
}
