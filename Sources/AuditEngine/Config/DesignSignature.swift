import Foundation

/// What decides a design's predictions, besides the model: its classes in order with their
/// phrases, its templates, its target and its harm categories. `run.json` records one per design
/// (`designs`) so that `diff` can tell two designs that only share a name apart: comparing a
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

    /// `run.json`'s `designs` object: design name → signature.
    public static func runJSON(_ designs: [DesignSpec]) -> [String: Any] {
        Dictionary(designs.map { ($0.name, DesignSignature($0).json) }, uniquingKeysWith: { first, _ in first })
    }

    var json: [String: Any] {
        var out: [String: Any] = [
            "templates": templates,
            "classes": classes.map { ["name": $0, "phrases": phrases[$0] ?? []] as [String: Any] },
            "harm_categories": harmCategories
        ]
        if let target { out["target"] = target }
        return out
    }

    /// Parses one entry of `run.json`'s `designs`; nil when it is not one.
    init?(json: Any) {
        guard let object = json as? [String: Any],
            let templates = object["templates"] as? [String],
            let classes = object["classes"] as? [[String: Any]],
            let harms = object["harm_categories"] as? [String: [String]]
        else { return nil }
        var names: [String] = []
        var phrases: [String: [String]] = [:]
        for entry in classes {
            guard let name = entry["name"] as? String, let list = entry["phrases"] as? [String] else { return nil }
            names.append(name)
            phrases[name] = list
        }
        target = object["target"] as? String
        self.templates = templates
        self.classes = names
        self.phrases = phrases
        harmCategories = harms
    }

    /// The signatures a report folder's `run.json` records, or nil when it records none (a
    /// folder written before `run.json` had them) or cannot be read.
    public static func read(folder: URL) -> [String: DesignSignature]? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("run.json")),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let designs = object["designs"] as? [String: Any]
        else { return nil }
        var out: [String: DesignSignature] = [:]
        for (name, value) in designs {
            guard let signature = DesignSignature(json: value) else { return nil }
            out[name] = signature
        }
        return out
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
