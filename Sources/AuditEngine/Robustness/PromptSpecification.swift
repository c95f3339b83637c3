/// One wording of an audit's prompts (docs/audit-file.md, "`robustness` keys"): specification 0
/// is the audit's own; each other one replaces every design's templates by one drawn template
/// set and the phrases of each class named in `synonyms:` by one drawn phrase list.
public struct PromptSpecification: Sendable, Equatable {
    /// 0 for the audit's own, 1… for the drawn ones.
    public var index: Int
    /// The template set every design takes; nil: each design keeps its own.
    public var templates: [String]?
    /// Class name → the phrases it takes in every design that has it; a class not listed keeps
    /// its own.
    public var phrases: [String: [String]]

    public init(index: Int, templates: [String]?, phrases: [String: [String]]) {
        self.index = index
        self.templates = templates
        self.phrases = phrases
    }

    /// The audit's own wording.
    public static let own = PromptSpecification(index: 0, templates: nil, phrases: [:])

    /// Specification 0, then `spec.specifications` drawn ones. Each draw is uniform, from
    /// ``SeededRandom`` seeded with `spec.seed`, in this order: the template set (when there are
    /// template sets), then one phrase list per class of `synonyms:` in written order; so a
    /// script can repeat the draws (Fixtures/Generators/make_robustness_cases.py does).
    public static func draw(_ spec: RobustnessSpec) -> [PromptSpecification] {
        var random = SeededRandom(seed: spec.seed)
        var result = [own]
        for index in stride(from: 1, through: spec.specifications, by: 1) {
            let templates = spec.templateSets.isEmpty ? nil : spec.templateSets[random.below(spec.templateSets.count)]
            var phrases: [String: [String]] = [:]
            for synonyms in spec.synonyms {
                phrases[synonyms.className] = synonyms.phraseLists[random.below(synonyms.phraseLists.count)]
            }
            result.append(PromptSpecification(index: index, templates: templates, phrases: phrases))
        }
        return result
    }

    /// `designs` worded this way: the same designs, classes and harm categories (so every
    /// metric and disparity row of the audit exists under it), other prompts.
    public func apply(to designs: [DesignSpec]) -> [DesignSpec] {
        designs.map { design in
            var design = design
            if let templates { design.templates = templates }
            for c in design.classes.indices {
                if let own = phrases[design.classes[c].name] { design.classes[c].phrases = own }
            }
            return design
        }
    }
}
