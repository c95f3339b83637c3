import Foundation
import Yams

extension AuditFileKeys {
    static let mitigation = [
        "name", "method", "designs", "attribute_prompts", "pair_template", "attribute_words", "lambda", "attribute",
        "dimensions", "fit_manifest"
    ]
    /// The keys each method takes besides `name`, `method` and `designs`.
    static let mitigationMethod: [String: [String]] = [
        "projection": ["attribute_prompts"],
        "calibrated_projection": ["attribute_prompts", "pair_template", "attribute_words", "lambda"],
        "clip_clip": ["attribute", "dimensions", "fit_manifest"]
    ]
    static let fitManifest = ["path", "image_root", "file_column"]
}

extension AuditFileParser {
    /// `mitigations:` (docs/audit-file.md, "Mitigations"), after the designs are resolved:
    /// `designs:` names must be designs, and a variant name `<design>~<name>` must not be a
    /// design's name already.
    mutating func mitigations(_ node: Node, designs: [DesignSpec]) throws -> [MitigationSpec] {
        guard let sequence = node.sequence else {
            throw fail(node, "mitigations", "expected a list of mitigations, found \(Self.typeName(node))")
        }
        var specs: [MitigationSpec] = []
        for (index, item) in sequence.enumerated() {
            let path = "mitigations[\(index)]"
            note(item, path)
            let items = try entries(item, path, known: AuditFileKeys.mitigation)
            func value(_ key: String) -> Node? { present(items, key, path) }
            func required(_ key: String, _ what: String) throws -> Node {
                guard let node = value(key) else { throw fail(item, "\(path).\(key)", "missing `\(key):` (\(what))") }
                return node
            }
            let nameNode = try required("name", "the mitigation's name")
            let name = try string(nameNode, "\(path).name")
            // The name ends up in variant names, folder-free but CSV- and Markdown-safe.
            if !AuditModel.isValidLabel(name) {
                throw fail(nameNode, "\(path).name", "\"\(name)\" may hold only letters, digits, `-`, `_` and `.`")
            }
            if let earlier = specs.first(where: { $0.name == name }) {
                throw fail(nameNode, "\(path).name", "\"\(name)\" names mitigations[\(earlier.index)] too")
            }
            let methodNode = try required("method", MitigationSpec.methodNames.joined(separator: ", "))
            let methodName = try string(methodNode, "\(path).method")
            guard let own = AuditFileKeys.mitigationMethod[methodName] else {
                let hint = closest(to: methodName, in: MitigationSpec.methodNames).map { "; did you mean `\($0)`?" } ?? ""
                throw fail(
                    methodNode, "\(path).method",
                    "unknown method \"\(methodName)\" (methods: \(MitigationSpec.methodNames.joined(separator: ", ")))\(hint)")
            }
            // A key of another method would be silently ignored: refuse it where it is written.
            for entry in items where !["name", "method", "designs"].contains(entry.key) && !own.contains(entry.key) {
                let owners = AuditFileKeys.mitigationMethod.filter { $0.value.contains(entry.key) }.keys.sorted()
                throw fail(
                    entry.keyNode, "\(path).\(entry.key)",
                    "`\(entry.key)` belongs to \(owners.joined(separator: " and ")), not \(methodName)")
            }

            var applies = designs.map(\.name)
            if let designsNode = value("designs") {
                applies = []
                for (i, design) in try strings(designsNode, "\(path).designs", single: true).enumerated() {
                    guard designs.contains(where: { $0.name == design.value }) else {
                        throw fail(
                            design.node, "\(path).designs[\(i)]",
                            "unknown design \"\(design.value)\" (designs: \(quoted(designs.map(\.name))))")
                    }
                    if applies.contains(design.value) { throw fail(design.node, "\(path).designs[\(i)]", "is listed twice") }
                    applies.append(design.value)
                }
                if applies.isEmpty {
                    throw fail(designsNode, "\(path).designs", "must name at least one design (or leave it out: every design)")
                }
            }
            let spec = MitigationSpec(name: name, method: .projection(attributePrompts: []), designs: applies, index: index)
            for design in applies where designs.contains(where: { $0.name == spec.variantName(of: design) }) {
                throw fail(
                    nameNode, "\(path).name",
                    "the variant \"\(spec.variantName(of: design))\" it makes is the name of a design; rename one of them")
            }

            let method: MitigationSpec.Method
            switch methodName {
            case "projection":
                method = .projection(
                    attributePrompts: try attributePrompts(try required("attribute_prompts", "the attribute's prompts"), path))
            case "calibrated_projection":
                let prompts = try attributePrompts(try required("attribute_prompts", "the attribute's prompts"), path)
                let templateNode = try required("pair_template", "e.g. \"a photo of a {attribute} {class}.\"")
                let template = try string(templateNode, "\(path).pair_template")
                for slot in ["{attribute}", "{class}"] {
                    let count = template.components(separatedBy: slot).count - 1
                    if count != 1 {
                        throw fail(
                            templateNode, "\(path).pair_template",
                            "\"\(template)\" must contain \(slot) exactly once (found \(count))")
                    }
                }
                let wordsNode = try required("attribute_words", "the words that make a pair, e.g. [male, female]")
                let words = try strings(wordsNode, "\(path).attribute_words").map(\.value)
                if words.count < 2 { throw fail(wordsNode, "\(path).attribute_words", "needs at least two words to make a pair") }
                if let twice = firstRepeated(words) { throw fail(wordsNode, "\(path).attribute_words", "lists \"\(twice)\" twice") }
                // No default: the strength of the calibration is the auditor's choice, stated in the file.
                let lambdaNode = try required("lambda", "the calibration's weight λ, e.g. 1000")
                let lambda = try number(lambdaNode, "\(path).lambda")
                if !(lambda >= 0 && lambda.isFinite) {
                    throw fail(lambdaNode, "\(path).lambda", "must be a finite number of at least 0, found \(lambda)")
                }
                method = .calibratedProjection(attributePrompts: prompts, pairTemplate: template, attributeWords: words, lambda: lambda)
            default:
                let attributeNode = try required("attribute", "the fit manifest's column whose dimensions are clipped")
                let attribute = try string(attributeNode, "\(path).attribute")
                let dimensions = try integer(try required("dimensions", "how many dimensions to drop"), "\(path).dimensions", minimum: 1)
                let fitNode = try required("fit_manifest", "{path: ..., image_root: ...}: labelled images to fit on, none of them audited")
                method = .clipClip(attribute: attribute, dimensions: dimensions, fit: try fitManifest(fitNode, "\(path).fit_manifest"))
            }
            specs.append(MitigationSpec(name: name, method: method, designs: applies, index: index))
        }
        return specs
    }

    private mutating func attributePrompts(_ node: Node, _ path: String) throws -> [String] {
        let items = try strings(node, "\(path).attribute_prompts", single: true).map(\.value)
        if items.isEmpty { throw fail(node, "\(path).attribute_prompts", "needs at least one prompt") }
        if let twice = firstRepeated(items) { throw fail(node, "\(path).attribute_prompts", "lists \"\(twice)\" twice") }
        return items
    }

    private mutating func fitManifest(_ node: Node, _ path: String) throws -> ManifestSettings {
        let items = try entries(node, path, known: AuditFileKeys.fitManifest)
        func value(_ key: String) -> Node? { present(items, key, path) }
        guard let pathNode = value("path") else { throw fail(node, "\(path).path", "missing `path:` (the fit images' CSV manifest)") }
        let manifest = resolvePath(try string(pathNode, "\(path).path"))
        let imageRoot =
            try value("image_root").map { resolvePath(try string($0, "\(path).image_root")) } ?? manifest.deletingLastPathComponent()
        let fileColumn = try value("file_column").map { try string($0, "\(path).file_column") } ?? "file"
        return ManifestSettings(path: manifest, imageRoot: imageRoot, fileColumn: fileColumn)
    }
}
