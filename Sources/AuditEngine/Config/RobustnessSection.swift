import Foundation
import Yams

/// The audit file's `robustness:` section (docs/audit-file.md, "`robustness` keys"): other
/// wordings of the prompts to measure every disparity again under, to tell a finding that
/// survives another wording from one that a template or a class name made.
public struct RobustnessSpec: Sendable, Equatable {
    /// Specifications drawn besides the audit's own (specification 0).
    public var specifications: Int
    /// The seed of the draws (``SeededRandom``).
    public var seed: UInt64
    /// Alternative template sets, each one or more templates with one `{}`; a specification
    /// takes one of them for every design. Empty: every design keeps its own templates.
    public var templateSets: [[String]]
    /// Alternative phrase lists per class name, in written order; a specification takes one
    /// list for each, in every design that has the class.
    public var synonyms: [ClassSynonyms]

    /// The alternative phrase lists of one class name.
    public struct ClassSynonyms: Sendable, Equatable {
        /// A class name of at least one design.
        public var className: String
        /// The phrase lists, each non-empty.
        public var phraseLists: [[String]]

        public init(className: String, phraseLists: [[String]]) {
            self.className = className
            self.phraseLists = phraseLists
        }
    }

    /// The default number of drawn specifications.
    public static let defaultSpecifications = 20
    /// The most specifications an audit may ask for: each one scores every image again under
    /// every design, and a thousand already pins a share to a few tenths of a percent.
    public static let maxSpecifications = 1000

    public init(specifications: Int, seed: UInt64, templateSets: [[String]], synonyms: [ClassSynonyms]) {
        self.specifications = specifications
        self.seed = seed
        self.templateSets = templateSets
        self.synonyms = synonyms
    }
}

extension AuditFileKeys {
    static let robustness = ["specifications", "seed", "templates", "synonyms"]
}

extension AuditFileParser {
    /// `robustness:`, checked against the resolved designs (a synonym must name a class of one).
    mutating func robustness(_ node: Node, designs: [DesignSpec]) throws -> RobustnessSpec {
        let path = "robustness"
        note(node, path)
        let items = try entries(node, path, known: AuditFileKeys.robustness)
        func value(_ key: String) -> Node? { present(items, key, path) }

        let specifications =
            try value("specifications").map { try integer($0, "\(path).specifications", minimum: 0) }
            ?? RobustnessSpec.defaultSpecifications
        if specifications > RobustnessSpec.maxSpecifications {
            throw fail(
                value("specifications"), "\(path).specifications",
                "at most \(RobustnessSpec.maxSpecifications), found \(specifications)")
        }
        let seed = try value("seed").map { try self.seed($0, "\(path).seed") } ?? 1

        var templateSets: [[String]] = []
        if let setsNode = value("templates") {
            guard let sequence = setsNode.sequence else {
                throw fail(
                    setsNode, "\(path).templates",
                    "expected a list of template sets (each a list of templates with one {}), found \(Self.typeName(setsNode))")
            }
            if sequence.isEmpty { throw fail(setsNode, "\(path).templates", "needs at least one template set") }
            for (index, item) in sequence.enumerated() {
                let itemPath = "\(path).templates[\(index)]"
                note(item, itemPath)
                // `templates()` takes one template written alone as a one-template set, and
                // checks each for exactly one `{}`.
                templateSets.append(try templates(item, itemPath))
            }
        }

        var synonyms: [RobustnessSpec.ClassSynonyms] = []
        if let synonymsNode = value("synonyms") {
            let classNames = designs.flatMap(\.classNames)
            let entries = try self.entries(synonymsNode, "\(path).synonyms", known: nil)
            if entries.isEmpty { throw fail(synonymsNode, "\(path).synonyms", "needs at least one class") }
            for entry in entries {
                let classPath = "\(path).synonyms.\(entry.key)"
                guard classNames.contains(entry.key) else {
                    let suggestion = closest(to: entry.key, in: classNames).map { "; did you mean \"\($0)\"?" } ?? ""
                    throw fail(entry.keyNode, classPath, "\"\(entry.key)\" is not a class of any design\(suggestion)")
                }
                guard let lists = entry.value.sequence else {
                    throw fail(
                        entry.value, classPath,
                        "expected a list of phrase lists (e.g. [[criminal], [offender]]), found \(Self.typeName(entry.value))")
                }
                if lists.isEmpty { throw fail(entry.value, classPath, "needs at least one phrase list") }
                var phraseLists: [[String]] = []
                for (index, list) in lists.enumerated() {
                    let listPath = "\(classPath)[\(index)]"
                    note(list, listPath)
                    // A phrase written alone is a list of that one phrase.
                    let phrases = try strings(list, listPath, single: true).map(\.value)
                    if phrases.isEmpty { throw fail(list, listPath, "is an empty phrase list") }
                    phraseLists.append(phrases)
                }
                synonyms.append(RobustnessSpec.ClassSynonyms(className: entry.key, phraseLists: phraseLists))
            }
        }
        if templateSets.isEmpty && synonyms.isEmpty {
            // Every specification would be the audit's own: a robustness.csv that says nothing.
            throw fail(node, path, "needs `templates:` (alternative template sets) or `synonyms:` (alternative class phrases), or both")
        }
        return RobustnessSpec(specifications: specifications, seed: seed, templateSets: templateSets, synonyms: synonyms)
    }
}
