import Foundation
import Yams

/// The audit file's `retrieval:` section: which neutral queries to rank the faces by, and where
/// to measure the skew of who comes first.
public struct RetrievalSpec: Sendable, Equatable {
    /// Each query's text, in order: every template × concept, then the `queries` as written.
    public var queries: [String]
    /// The ranks to measure at, ascending.
    public var ks: [Int]
    /// Attributes and intersection keys (`race|gender`) to measure over.
    public var attributes: [String]
    /// Label permutations for the null baseline (0: none).
    public var permutations: Int
    public var seed: UInt64
    /// The concepts as written (calibrated projection builds its retrieval pairs from them).
    public var concepts: [String] = []

    /// The queries of `templates` × `concepts` (template-major, as written), then `extra`.
    public static func queries(templates: [String], concepts: [String], extra: [String]) -> [String] {
        templates.flatMap { template in concepts.map { template.replacingOccurrences(of: "{}", with: $0) } } + extra
    }
}

/// One `associations:` test: image groups X and Y of an attribute against word sets A and B.
public struct AssociationSpec: Sendable, Equatable {
    public var name: String
    /// An attribute or intersection key.
    public var attribute: String
    public var groupX: String
    public var groupY: String
    public var targetA: (name: String, words: [String])
    public var targetB: (name: String, words: [String])
    /// Templates each word is put in (its embedding is the normalised mean); empty: the word as written.
    public var templates: [String]
    public var permutations: Int
    public var seed: UInt64
    /// The entry's index in `associations:` (for errors: `associations[2].groups`).
    public var index: Int

    /// The prompts that make up `word`'s embedding.
    public func prompts(for word: String) -> [String] {
        templates.isEmpty ? [word] : templates.map { $0.replacingOccurrences(of: "{}", with: word) }
    }

    public static func == (l: AssociationSpec, r: AssociationSpec) -> Bool {
        l.name == r.name && l.attribute == r.attribute && l.groupX == r.groupX && l.groupY == r.groupY
            && l.targetA.name == r.targetA.name && l.targetA.words == r.targetA.words
            && l.targetB.name == r.targetB.name && l.targetB.words == r.targetB.words
            && l.templates == r.templates && l.permutations == r.permutations && l.seed == r.seed && l.index == r.index
    }
}

extension AuditFileKeys {
    static let retrieval = ["templates", "concepts", "queries", "k", "attributes", "permutations", "seed"]
    static let association = ["name", "attribute", "groups", "targets", "templates", "permutations", "seed"]
}

extension AuditFileParser {
    /// The attributes and intersection keys a measure may name.
    static func measurable(attributes: [String], intersections: [[String]]) -> [String] {
        (attributes.map(Slice.attribute) + intersections.map(Slice.init(attributes:))).map(\.csvText)
    }

    func seed(_ node: Node, _ path: String) throws -> UInt64 {
        guard case .scalar(let scalar) = node, let value = UInt64(scalar.string.trimmingCharacters(in: .whitespaces)) else {
            throw fail(node, path, "expected a whole number of at least 0, found \(describe(node))")
        }
        return value
    }

    /// `retrieval:`.
    mutating func retrieval(
        _ node: Node, defaultTemplates: [String], attributes: [String],
        intersections: [[String]]
    ) throws -> RetrievalSpec {
        let path = "retrieval"
        note(node, path)
        let items = try entries(node, path, known: AuditFileKeys.retrieval)
        func value(_ key: String) -> Node? { present(items, key, path) }
        let templates = try value("templates").map { try self.templates($0, "\(path).templates") } ?? defaultTemplates
        let concepts = try value("concepts").map { try strings($0, "\(path).concepts").map(\.value) } ?? []
        let extra = try value("queries").map { try strings($0, "\(path).queries").map(\.value) } ?? []
        let queries = RetrievalSpec.queries(templates: templates, concepts: concepts, extra: extra)
        if queries.isEmpty {
            throw fail(node, path, "needs at least one query: `concepts:` (each put in every template) or `queries:`")
        }
        if let twice = firstRepeated(queries) {
            throw fail(node, path, "the query \"\(twice)\" comes out twice; list each concept and query once")
        }

        guard let kNode = value("k") else {
            throw fail(node, path, "missing `k:` (the ranks to measure at, e.g. [10, 100, 1000])")
        }
        guard let kItems = kNode.sequence, !kItems.isEmpty else {
            throw fail(kNode, "\(path).k", "expected a list of whole numbers, found \(Self.typeName(kNode))")
        }
        var ks: [Int] = []
        for (i, item) in kItems.enumerated() {
            note(item, "\(path).k[\(i)]")
            let k = try integer(item, "\(path).k[\(i)]", minimum: 1)
            if ks.contains(k) { throw fail(item, "\(path).k[\(i)]", "\(k) is listed twice") }
            ks.append(k)
        }

        let known = Self.measurable(attributes: attributes, intersections: intersections)
        var measured = known
        if let node = value("attributes") {
            measured = []
            for (i, item) in try strings(node, "\(path).attributes").enumerated() {
                guard known.contains(item.value) else {
                    throw fail(
                        item.node, "\(path).attributes[\(i)]",
                        "\"\(item.value)\" is neither an attribute nor an intersection (known: \(known.joined(separator: ", ")))")
                }
                if measured.contains(item.value) { throw fail(item.node, "\(path).attributes[\(i)]", "is listed twice") }
                measured.append(item.value)
            }
            if measured.isEmpty { throw fail(node, "\(path).attributes", "must list at least one attribute") }
        }
        let permutations = try value("permutations").map { try integer($0, "\(path).permutations", minimum: 0) } ?? 1000
        if permutations > 1_000_000 {
            throw fail(value("permutations"), "\(path).permutations", "at most 1000000, found \(permutations)")
        }
        let seed = try value("seed").map { try self.seed($0, "\(path).seed") } ?? 1
        var spec = RetrievalSpec(queries: queries, ks: ks.sorted(), attributes: measured, permutations: permutations, seed: seed)
        spec.concepts = concepts
        return spec
    }

    /// `associations:`.
    mutating func associations(_ node: Node, attributes: [String], intersections: [[String]]) throws -> [AssociationSpec] {
        guard let sequence = node.sequence else {
            throw fail(node, "associations", "expected a list of tests, found \(Self.typeName(node))")
        }
        let known = Self.measurable(attributes: attributes, intersections: intersections)
        var specs: [AssociationSpec] = []
        for (index, item) in sequence.enumerated() {
            let path = "associations[\(index)]"
            note(item, path)
            let items = try entries(item, path, known: AuditFileKeys.association)
            func value(_ key: String) -> Node? { present(items, key, path) }
            func required(_ key: String, _ what: String) throws -> Node {
                guard let node = value(key) else { throw fail(item, path, "missing `\(key):` (\(what))") }
                return node
            }
            let name = try string(try required("name", "the test's name"), "\(path).name")
            if specs.contains(where: { $0.name == name }) {
                throw fail(value("name"), "\(path).name", "\"\(name)\" names an earlier test too")
            }
            let attributeNode = try required("attribute", "the attribute whose groups are the image sets")
            let attribute = try string(attributeNode, "\(path).attribute")
            guard known.contains(attribute) else {
                throw fail(
                    attributeNode, "\(path).attribute",
                    "\"\(attribute)\" is neither an attribute nor an intersection (known: \(known.joined(separator: ", ")))")
            }
            let groupsNode = try required("groups", "the two groups X and Y")
            let groups = try strings(groupsNode, "\(path).groups").map(\.value)
            guard groups.count == 2, groups[0] != groups[1] else {
                throw fail(
                    groupsNode, "\(path).groups",
                    "needs exactly two different groups (X and Y), found \(groups.count == 2 ? "the same twice" : "\(groups.count)")")
            }
            let targetsNode = try required("targets", "two word sets, e.g. {career: [...], family: [...]}")
            let targets = try entries(targetsNode, "\(path).targets", known: nil)
            guard targets.count == 2 else {
                throw fail(targetsNode, "\(path).targets", "needs exactly two word sets (A and B), found \(targets.count)")
            }
            var sets: [(name: String, words: [String])] = []
            for target in targets {
                let targetPath = "\(path).targets.\(target.key)"
                note(target.value, targetPath)
                let words = try strings(target.value, targetPath).map(\.value)
                if words.isEmpty { throw fail(target.value, targetPath, "is an empty word set") }
                if let twice = firstRepeated(words) { throw fail(target.value, targetPath, "lists \"\(twice)\" twice") }
                sets.append((target.key, words))
            }
            let templates = try value("templates").map { try self.templates($0, "\(path).templates") } ?? []
            let permutations = try value("permutations").map { try integer($0, "\(path).permutations", minimum: 1) } ?? 10_000
            if permutations > 10_000_000 {
                throw fail(value("permutations"), "\(path).permutations", "at most 10000000, found \(permutations)")
            }
            let seed = try value("seed").map { try self.seed($0, "\(path).seed") } ?? 1
            specs.append(
                AssociationSpec(
                    name: name, attribute: attribute, groupX: groups[0], groupY: groups[1],
                    targetA: sets[0], targetB: sets[1], templates: templates,
                    permutations: permutations, seed: seed, index: index))
        }
        return specs
    }

    /// The value of `key` among a mapping's `items` when it is there and not null, its line noted
    /// under `path.key`.
    mutating func present(_ items: [(key: String, keyNode: Node, value: Node)], _ key: String, _ path: String) -> Node? {
        guard let node = items.first(where: { $0.key == key })?.value, !isNull(node) else { return nil }
        note(node, "\(path).\(key)")
        return node
    }

    func firstRepeated(_ values: [String]) -> String? {
        var seen = Set<String>()
        return values.first { !seen.insert($0).inserted }
    }
}
