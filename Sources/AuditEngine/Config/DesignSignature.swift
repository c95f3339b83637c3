import Foundation

/// What decides a design's predictions, besides the model: its classes in order with their
/// phrases, its templates, its target and its harm categories. `run.json` records each design's
/// parts (`designs`) so that `diff` can tell two designs that only share a name apart: comparing a
/// 7-class `denigration` with a 21-class one measured the change of design, not of the model.
public struct DesignSignature: Sendable, Equatable {
    public var target: String?
    public var templates: [String]
    /// Class names in order.
    public var classes: [String]
    /// Phrases per class.
    public var phrases: [String: [String]]
    /// Classes per harm category.
    public var harmCategories: [String: [String]]

    /// The signature of `design`.
    public init(_ design: DesignSpec) {
        target = design.target
        templates = design.templates
        classes = design.classNames
        phrases = Dictionary(design.classes.map { ($0.name, $0.phrases) }, uniquingKeysWith: { first, _ in first })
        harmCategories = Dictionary(design.harmCategories.map { ($0.name, $0.classes) }, uniquingKeysWith: { first, _ in first })
    }

    /// A signature from its parts (a design read back from a report folder).
    public init(target: String?, templates: [String], classes: [String], phrases: [String: [String]], harmCategories: [String: [String]]) {
        self.target = target
        self.templates = templates
        self.classes = classes
        self.phrases = phrases
        self.harmCategories = harmCategories
    }

    /// How `other` (run B's design) differs from this one (run A's), one phrase per part; empty
    /// when they are the same design.
    public func differences(to other: DesignSignature) -> [String] {
        var out: [String] = []
        if classes != other.classes {
            let removed = classes.filter { !other.classes.contains($0) }
            let added = other.classes.filter { !classes.contains($0) }
            var text = "classes differ (\(classes.count) in A, \(other.classes.count) in B"
            if !removed.isEmpty { text += "; only in A: " + Self.list(removed) }
            if !added.isEmpty { text += "; only in B: " + Self.list(added) }
            if removed.isEmpty && added.isEmpty { text += "; other order" }
            out.append(text + ")")
        }
        let changedPhrases = classes.filter { other.phrases[$0] != nil && phrases[$0] != other.phrases[$0] }
        if !changedPhrases.isEmpty { out.append("phrases differ for " + Self.list(changedPhrases)) }
        if templates != other.templates { out.append("templates differ (\(templates.count) in A, \(other.templates.count) in B)") }
        if target != other.target { out.append("target differs (\(target ?? "none") in A, \(other.target ?? "none") in B)") }
        if harmCategories != other.harmCategories { out.append("harm categories differ") }
        return out
    }

    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(5).map { "\"\($0)\"" }.joined(separator: ", ")
        return names.count > 5 ? shown + " and \(names.count - 5) more" : shown
    }
}
