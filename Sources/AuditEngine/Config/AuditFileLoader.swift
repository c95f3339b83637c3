import CLIPEngine
import Foundation
import Yams

extension AuditConfig {
    /// Loads and checks an audit file (YAML). Paths in it are resolved against its folder.
    ///
    /// Variants (`extends:`) are resolved in any order: a variant inherits the base's target,
    /// templates, classes and harm categories; then its `remove_classes` are removed (from the
    /// classes and from every harm category; each must be a class of the base), its
    /// `add_classes` are appended, and its own `templates`/`target` replace the base's. Its
    /// `harm_categories` are merged by category: a category with the base's name replaces
    /// the base's, a new one is appended.
    ///
    /// - Throws: `AuditFileError` (one line, with the file, line and key path).
    public static func load(contentsOf url: URL) throws -> AuditConfig {
        let data: Data
        do {
            data = try FileKind.contents(of: url, limit: maxFileSize)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw AuditFileError(
                file: url, line: nil, keyPath: nil,
                message: exists ? "cannot read the audit file: \(error.reason)" : notFoundMessage(url))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AuditFileError(file: url, line: invalidUTF8Line(data), keyPath: nil, message: "the audit file is not valid UTF-8")
        }
        var config = try parse(yaml: text, sourceFile: url)
        config.sourceSHA256 = data.withUnsafeBytes { SHA256Digest.hex(of: $0) }
        return config
    }

    /// "audit file not found" with the folder as the user typed it (the error's prefix is the
    /// file name alone, and a mistyped folder is as likely as a mistyped name) and, when a file
    /// of that folder is a likely typo of the name (`demo.ymal`), that file.
    static func notFoundMessage(_ url: URL) -> String {
        let typed = url.relativePath as NSString
        let folder = typed.deletingLastPathComponent.isEmpty ? "." : typed.deletingLastPathComponent
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "audit file not found: there is no folder \(folder)"
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isFolder)
                && !isFolder.boolValue
        }
        // Sorted, so that of two equally near names the same one is suggested on every system.
        let near = closest(to: url.lastPathComponent, in: names.sorted())
        return "audit file not found in \(folder.hasSuffix("/") ? folder : folder + "/")"
            + (near.map {
                "; did you mean \(typed.deletingLastPathComponent.isEmpty ? $0 : (folder as NSString).appendingPathComponent($0))?"
            } ?? "")
    }

    /// The largest audit file read (16 MiB): real ones are a few KiB, and a bound keeps a
    /// mistaken path (a data dump, a device) from growing memory.
    public static let maxFileSize = 16 << 20

    /// Parses audit-file text; `sourceFile` names it in errors and anchors relative paths.
    public static func parse(yaml: String, sourceFile: URL) throws -> AuditConfig {
        // Before Yams composes the document: an alias bomb composes at once but every walk over
        // the tree it stands for takes minutes (see YAMLAliasBudget).
        if let excess = YAMLAliasBudget.excess(in: yaml) {
            throw AuditFileError(
                file: sourceFile, line: excess.line, keyPath: nil,
                message: "the alias *\(excess.alias) makes YAML aliases stand for more than \(YAMLAliasBudget.limit) nodes; "
                    + "an audit file needs far fewer (write the repeated values out)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw csvManifestError(yaml, file: sourceFile) ?? AuditFileParser.convert(error, file: sourceFile)
        } catch {
            throw AuditFileError(file: sourceFile, line: nil, keyPath: nil, message: "invalid YAML: \(error)")
        }
        guard let root else {
            throw AuditFileError(file: sourceFile, line: 1, keyPath: nil, message: "the audit file is empty")
        }
        if root.mapping == nil, let error = csvManifestError(yaml, file: sourceFile) { throw error }
        var parser = AuditFileParser(file: sourceFile)
        try parser.refuseControlCharacters(root, "")
        return try parser.parseRoot(root)
    }

    /// When a file that is no audit file looks like a CSV manifest (a `.csv`/`.tsv` name, or a
    /// first line of comma-separated fields that is no YAML key), the error says so: YAML reads
    /// such a file as one long scalar, and "expected a mapping, found a scalar" does not tell a
    /// new user that `validate data.csv` wants the audit file instead.
    static func csvManifestError(_ text: String, file: URL) -> AuditFileError? {
        let first = text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) }.map(String.init) ?? ""
        let named = ["csv", "tsv"].contains(file.pathExtension.lowercased())
        let looks = first.contains(",") && !first.contains(": ") && !first.hasSuffix(":") && !first.hasPrefix("#")
        guard named || looks else { return nil }
        let header = first.count > 60 ? String(first.prefix(60)) + "…" : first
        return AuditFileError(
            file: file, line: 1, keyPath: nil,
            message: "this looks like a CSV manifest (first line: \(header)), not an audit file; "
                + "give the audit file (YAML) whose manifest.path names it")
    }

    private static func invalidUTF8Line(_ data: Data) -> Int? {
        var line = 1
        var start = data.startIndex
        for index in data.indices where data[index] == 0x0A {
            if String(data: data[start...index], encoding: .utf8) == nil { return line }
            line += 1
            start = index + 1
        }
        return line
    }
}

/// The known keys at each level (kept in one place for the "did you mean" suggestions, and
/// checked against docs/audit-file.md by AuditFileReferenceTests).
enum AuditFileKeys {
    static let top = [
        "name", "description", "model", "models", "manifest", "attributes", "intersections",
        "reference_groups", "alpha", "min_group_size", "min_difference", "dataset", "templates", "designs", "retrieval", "associations",
        "robustness",
        "mitigations"
    ]
    static let manifest = ["path", "image_root", "file_column", "limit"]
    static let design = [
        "name", "target", "templates", "classes", "harm_categories", "extends",
        "add_classes", "remove_classes", "published"
    ]
    static let published = ["source", "metric", "attribute", "values"]
    static let modelEntry = ["label", "model"]
}

/// Walks the composed YAML tree, checking types and keys, and builds an `AuditConfig`.
struct AuditFileParser {
    let file: URL
    var lines: [String: Int] = [:]

    init(file: URL) {
        self.file = file
    }

    var folder: URL { file.deletingLastPathComponent() }

    // MARK: Errors

    static func convert(_ error: YamlError, file: URL) -> AuditFileError {
        func clean(_ text: String) -> String { text.split(whereSeparator: \.isNewline).joined(separator: " ") }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(clean(context.text)) at line \(context.mark.line))" }
            return AuditFileError(file: file, line: mark.line, keyPath: nil, message: message)
        case let .reader(problem, offset, _, yaml):
            let line = offset.map { offset in
                1 + yaml.prefix(offset).reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
            }
            return AuditFileError(file: file, line: line, keyPath: nil, message: "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let names = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return AuditFileError(
                file: file, line: context.mark.line, keyPath: nil,
                message: "duplicate key \(names) in the same mapping")
        default:
            return AuditFileError(file: file, line: nil, keyPath: nil, message: "invalid YAML: \(error)")
        }
    }

    func fail(_ node: Node?, _ path: String, _ message: String) -> AuditFileError {
        AuditFileError(file: file, line: node?.mark?.line, keyPath: path.isEmpty ? nil : path, message: message)
    }

    static func typeName(_ node: Node) -> String {
        switch node {
        case .scalar: return node.null != nil ? "nothing" : "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    // MARK: Typed access

    mutating func note(_ node: Node, _ path: String) {
        if let line = node.mark?.line, lines[path] == nil { lines[path] = line }
    }

    /// The entries of a mapping, rejecting unknown keys (with a suggestion).
    mutating func entries(_ node: Node, _ path: String, known: [String]?) throws -> [(key: String, keyNode: Node, value: Node)] {
        guard let mapping = node.mapping else {
            throw fail(node, path, "expected a mapping, found \(Self.typeName(node))")
        }
        var result: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                throw fail(keyNode, path, "keys must be plain text, found \(Self.typeName(keyNode))")
            }
            if let known, !known.contains(key) {
                let here = path.isEmpty ? "" : " in \(path)"
                if let suggestion = closest(to: key, in: known) {
                    throw fail(
                        keyNode, path.isEmpty ? key : "\(path).\(key)",
                        "unknown key `\(key)`\(here); did you mean `\(suggestion)`?")
                }
                throw fail(
                    keyNode, path.isEmpty ? key : "\(path).\(key)",
                    "unknown key `\(key)`\(here) (known keys: \(known.joined(separator: ", ")))")
            }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            note(keyNode, childPath)
            result.append((key, keyNode, value))
        }
        return result
    }

    func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return node.null != nil }
        return false
    }

    func string(_ node: Node, _ path: String, allowEmpty: Bool = false) throws -> String {
        guard case .scalar(let scalar) = node, node.null == nil else {
            throw fail(node, path, "expected text, found \(Self.typeName(node))")
        }
        let value = scalar.string
        if !allowEmpty && value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw fail(node, path, "must not be empty")
        }
        return value
    }

    func integer(_ node: Node, _ path: String, minimum: Int) throws -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string.trimmingCharacters(in: .whitespaces)) else {
            throw fail(node, path, "expected a whole number, found \(describe(node))")
        }
        guard value >= minimum else { throw fail(node, path, "must be at least \(minimum), found \(value)") }
        return value
    }

    func number(_ node: Node, _ path: String) throws -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string.trimmingCharacters(in: .whitespaces)) else {
            throw fail(node, path, "expected a number, found \(describe(node))")
        }
        return value
    }

    func describe(_ node: Node) -> String {
        if case .scalar(let scalar) = node, node.null == nil { return "\"\(scalar.string)\"" }
        return Self.typeName(node)
    }

    /// A list of non-empty strings; a single string is accepted as a one-item list when `single`.
    mutating func strings(_ node: Node, _ path: String, single: Bool = false) throws -> [(value: String, node: Node)] {
        if single, case .scalar = node, node.null == nil {
            return [(try string(node, path), node)]
        }
        guard let sequence = node.sequence else {
            throw fail(node, path, "expected a list\(single ? " or text" : ""), found \(Self.typeName(node))")
        }
        var result: [(value: String, node: Node)] = []
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            note(item, itemPath)
            result.append((try string(item, itemPath), item))
        }
        return result
    }

    mutating func templates(_ node: Node, _ path: String) throws -> [String] {
        let items = try strings(node, path, single: true)
        if items.isEmpty { throw fail(node, path, "needs at least one template") }
        for (index, item) in items.enumerated() {
            let count = item.value.components(separatedBy: "{}").count - 1
            if count != 1 {
                throw fail(
                    item.node, "\(path)[\(index)]",
                    "template \"\(item.value)\" must contain exactly one {} (found \(count))")
            }
        }
        return items.map(\.value)
    }

    // MARK: Root

    mutating func parseRoot(_ root: Node) throws -> AuditConfig {
        let top = try entries(root, "", known: AuditFileKeys.top)
        func value(_ key: String) -> Node? {
            guard let node = top.first(where: { $0.key == key })?.value, !isNull(node) else { return nil }
            return node
        }
        func keyNode(_ key: String) -> Node? { top.first(where: { $0.key == key })?.keyNode }

        var name = file.deletingPathExtension().lastPathComponent
        if let node = value("name") {
            name = try string(node, "name")
            if name.contains("/") || name == "." || name == ".." {
                throw fail(node, "name", "\"\(name)\" cannot be a folder name (no `/`, `.` or `..`)")
            }
        }
        let description = try value("description").map { try string($0, "description", allowEmpty: true) }
        let model = try value("model").map { try modelReference(try string($0, "model")) }
        var models: [AuditModel] = []
        if let node = value("models") {
            // Two places naming the model would leave it unclear which one a report measured.
            if model != nil { throw fail(keyNode("models"), "models", "give either `model:` or `models:`, not both") }
            models = try self.models(node)
        }

        guard let manifestNode = value("manifest") else {
            throw fail(keyNode("manifest") ?? root, "manifest", "missing `manifest:` (with at least `path:`)")
        }
        let manifest = try manifestSettings(manifestNode)

        guard let attributesNode = value("attributes") else {
            throw fail(keyNode("attributes") ?? root, "attributes", "missing `attributes:` (the manifest columns to disaggregate by)")
        }
        let attributeItems = try strings(attributesNode, "attributes")
        if attributeItems.isEmpty { throw fail(attributesNode, "attributes", "must list at least one column") }
        var attributes: [String] = []
        for (index, item) in attributeItems.enumerated() {
            let name = item.value.trimmingCharacters(in: .whitespaces)
            if attributes.contains(name) {
                throw fail(item.node, "attributes[\(index)]", "\"\(name)\" is listed twice")
            }
            // Result rows name the whole set `*`: a column so named would be read back as it.
            if name == Slice.allText {
                throw fail(item.node, "attributes[\(index)]", "\"\(name)\" is the reports' name for all images; rename the column")
            }
            if name.contains(Slice.separator) {
                throw fail(item.node, "attributes[\(index)]", "\"\(name)\" must not contain `\(Slice.separator)` (it joins intersections)")
            }
            attributes.append(name)
        }

        var intersections: [[String]] = []
        if let node = value("intersections") {
            guard let sequence = node.sequence else {
                throw fail(node, "intersections", "expected a list of attribute lists, found \(Self.typeName(node))")
            }
            for (index, item) in sequence.enumerated() {
                let path = "intersections[\(index)]"
                note(item, path)
                let names = try strings(item, path).map(\.value)
                if names.count < 2 { throw fail(item, path, "an intersection needs at least two attributes") }
                for name in names where !attributes.contains(name) {
                    throw fail(item, path, "\"\(name)\" is not an attribute (attributes: \(attributes.joined(separator: ", ")))")
                }
                if Set(names).count != names.count { throw fail(item, path, "names an attribute twice") }
                if intersections.contains(names) { throw fail(item, path, "is listed twice") }
                intersections.append(names)
            }
        }

        var referenceGroups: [String: String] = [:]
        if let node = value("reference_groups") {
            for entry in try entries(node, "reference_groups", known: nil) {
                let path = "reference_groups.\(entry.key)"
                let group = try string(entry.value, path)
                if attributes.contains(entry.key) {
                    referenceGroups[entry.key] = group
                } else if let slice = intersections.map(Slice.init(attributes:)).first(where: { $0.csvText == entry.key }) {
                    if slice.groupValues(group) == nil {
                        throw fail(
                            entry.value, path,
                            "\"\(group)\" needs \(slice.attributes.count) groups joined by `\(Slice.separator)`, like the key")
                    }
                    referenceGroups[entry.key] = group
                } else {
                    let known = Self.measurable(attributes: attributes, intersections: intersections)
                    throw fail(
                        entry.keyNode, path,
                        "\"\(entry.key)\" is neither an attribute nor an intersection (known: \(known.joined(separator: ", ")))")
                }
            }
        }

        var alpha = AuditConfig.defaultAlpha
        if let node = value("alpha") {
            alpha = try number(node, "alpha")
            if !(alpha > 0 && alpha < 1) { throw fail(node, "alpha", "must be between 0 and 1 (exclusive), found \(alpha)") }
        }
        let minGroupSize =
            try value("min_group_size").map { try integer($0, "min_group_size", minimum: 0) }
            ?? AuditConfig.defaultMinGroupSize
        var minDifference = AuditConfig.defaultMinDifference
        if let node = value("min_difference") {
            minDifference = try number(node, "min_difference")
            if !(minDifference >= 0 && minDifference < 1) {
                throw fail(node, "min_difference", "must be at least 0 and below 1 (a difference of proportions), found \(minDifference)")
            }
        }
        var dataset: HubDataset?
        if let node = value("dataset") {
            var id: String?
            var split: String?
            for entry in try entries(node, "dataset", known: ["id", "split"]) {
                let path = "dataset.\(entry.key)"
                let text = try string(entry.value, path)
                if entry.key == "id" {
                    // A Hub id is `name` or `owner/name`; a path or URL here would end up in a model card.
                    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
                    let valid =
                        parts.count <= 2
                        && parts.allSatisfy { part in
                            !part.isEmpty && part.first != "."
                                && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
                        }
                    if !valid {
                        throw fail(entry.value, path, "\"\(text)\" is not a Hugging Face Hub dataset id (like HuggingFaceM4/FairFace)")
                    }
                    id = text
                } else {
                    split = text
                }
            }
            guard let id else { throw fail(node, "dataset", "needs `id:` (a Hub dataset id, like HuggingFaceM4/FairFace)") }
            dataset = HubDataset(id: id, split: split)
        }
        let templates = try value("templates").map { try self.templates($0, "templates") } ?? AuditConfig.defaultTemplates

        guard let designsNode = value("designs") else {
            throw fail(keyNode("designs") ?? root, "designs", "missing `designs:` (at least one class design)")
        }
        let designs = try self.designs(designsNode, defaultTemplates: templates)

        let retrieval = try value("retrieval").map {
            try self.retrieval($0, defaultTemplates: templates, attributes: attributes, intersections: intersections)
        }
        let associations =
            try value("associations").map {
                try self.associations($0, attributes: attributes, intersections: intersections)
            } ?? []
        let robustness = try value("robustness").map { try self.robustness($0, designs: designs) }

        let mitigations = try value("mitigations").map { try self.mitigations($0, designs: designs) } ?? []

        var config = AuditConfig(
            name: name, description: description, model: model, manifest: manifest,
            attributes: attributes, intersections: intersections, referenceGroups: referenceGroups,
            alpha: alpha, minGroupSize: minGroupSize, templates: templates, designs: designs,
            sourceFile: file, sourceLines: lines)
        config.retrieval = retrieval
        config.associations = associations
        config.robustness = robustness
        config.minDifference = minDifference
        config.dataset = dataset
        config.models = models
        config.mitigations = mitigations
        return config
    }

    /// `models:`: two or more `{label, model}` entries, labels unique and usable as folder names.
    mutating func models(_ node: Node) throws -> [AuditModel] {
        guard let sequence = node.sequence else {
            throw fail(node, "models", "expected a list of {label, model} entries, found \(Self.typeName(node))")
        }
        var result: [AuditModel] = []
        for (index, item) in sequence.enumerated() {
            let path = "models[\(index)]"
            note(item, path)
            let items = try entries(item, path, known: AuditFileKeys.modelEntry)
            guard let labelNode = items.first(where: { $0.key == "label" })?.value else {
                throw fail(item, path, "missing `label:` (the model's name in reports and its folder's name)")
            }
            guard let modelNode = items.first(where: { $0.key == "model" })?.value else {
                throw fail(item, path, "missing `model:` (a repo id or a checkpoint directory)")
            }
            let label = try string(labelNode, "\(path).label")
            if let problem = AuditModel.labelProblem(label) {
                throw fail(labelNode, "\(path).label", "\"\(label)\" \(problem)")
            }
            if result.contains(where: { $0.label.lowercased() == label.lowercased() }) {
                throw fail(labelNode, "\(path).label", "\"\(label)\" is used by an earlier model; labels must be unique")
            }
            result.append(AuditModel(label: label, model: try modelReference(try string(modelNode, "\(path).model"))))
        }
        if result.count < 2 {
            throw fail(node, "models", "lists \(result.count) model(s); `models:` needs two or more (use `model:` for one)")
        }
        return result
    }

    // MARK: Paths

    func resolvePath(_ path: String) -> URL {
        if path.hasPrefix("~") {
            return URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL
        }
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL }
        return folder.appendingPathComponent(path).standardizedFileURL
    }

    func modelReference(_ text: String) throws -> ModelReference {
        if text.hasPrefix(".") || text.hasPrefix("/") || text.hasPrefix("~") {
            return .directory(resolvePath(text))
        }
        var isDirectory: ObjCBool = false
        let candidate = resolvePath(text)
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return .directory(candidate)
        }
        return .repoID(text)
    }

    mutating func manifestSettings(_ node: Node) throws -> ManifestSettings {
        let items = try entries(node, "manifest", known: AuditFileKeys.manifest)
        func value(_ key: String) -> Node? {
            guard let node = items.first(where: { $0.key == key })?.value, !isNull(node) else { return nil }
            return node
        }
        guard let pathNode = value("path") else {
            throw fail(node, "manifest.path", "missing `path:` (the CSV manifest)")
        }
        let path = resolvePath(try string(pathNode, "manifest.path"))
        let imageRoot =
            try value("image_root").map { resolvePath(try string($0, "manifest.image_root")) }
            ?? path.deletingLastPathComponent()
        let fileColumn = try value("file_column").map { try string($0, "manifest.file_column") } ?? "file"
        let limit = try value("limit").map { try integer($0, "manifest.limit", minimum: 0) } ?? 0
        return ManifestSettings(path: path, imageRoot: imageRoot, fileColumn: fileColumn, limit: limit)
    }

    // MARK: Designs

    /// A design as written, before `extends` is resolved.
    struct RawDesign {
        var index: Int
        var node: Node
        var name: String
        var target: String?
        var templates: [String]?
        var classes: [ClassSpec]?
        var classesNode: Node?
        var harm: [(category: HarmCategory, node: Node, classNodes: [Node])]
        var extends: (name: String, node: Node)?
        var add: [ClassSpec]
        var addNode: Node?
        var remove: [(name: String, node: Node)]
        var published: [PublishedFigure] = []
        /// Each published figure's `metric:` node, to point at when the design has no such metric.
        var publishedMetricNodes: [Node] = []

        var path: String { "designs[\(index)]" }
    }

    mutating func classes(_ node: Node, _ path: String) throws -> [ClassSpec] {
        var result: [ClassSpec] = []
        for entry in try entries(node, path, known: nil) {
            let classPath = "\(path).\(entry.key)"
            let name = entry.key.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { throw fail(entry.keyNode, path, "a class name must not be empty") }
            if result.contains(where: { $0.name == name }) {
                throw fail(entry.keyNode, path, "duplicate class \"\(name)\"")
            }
            let phrases = try strings(entry.value, classPath, single: true).map(\.value)
            if phrases.isEmpty { throw fail(entry.value, classPath, "class \"\(name)\" needs at least one phrase") }
            result.append(ClassSpec(name: name, phrases: phrases))
        }
        return result
    }

    mutating func rawDesign(_ node: Node, index: Int) throws -> RawDesign {
        let path = "designs[\(index)]"
        note(node, path)
        let items = try entries(node, path, known: AuditFileKeys.design)
        func value(_ key: String) -> Node? {
            guard let node = items.first(where: { $0.key == key })?.value, !isNull(node) else { return nil }
            return node
        }
        guard let nameNode = value("name") else { throw fail(node, "\(path).name", "missing `name:`") }
        var raw = RawDesign(
            index: index, node: node, name: try string(nameNode, "\(path).name"),
            harm: [], add: [], remove: [])
        raw.target = try value("target").map { try string($0, "\(path).target") }
        raw.templates = try value("templates").map { try templates($0, "\(path).templates") }
        if let classesNode = value("classes") {
            raw.classesNode = classesNode
            raw.classes = try classes(classesNode, "\(path).classes")
        }
        if let harmNode = value("harm_categories") {
            let harmPath = "\(path).harm_categories"
            for entry in try entries(harmNode, harmPath, known: nil) {
                let items = try strings(entry.value, "\(harmPath).\(entry.key)", single: true)
                var seen: [String] = []
                for item in items {
                    if seen.contains(item.value) {
                        throw fail(item.node, harmPath, "class \"\(item.value)\" is listed twice in category \"\(entry.key)\"")
                    }
                    seen.append(item.value)
                }
                if entry.key == anyHarmCategory {
                    throw fail(
                        entry.keyNode, harmPath,
                        "the category name \"\(anyHarmCategory)\" is reserved for the combined rate `harm_rate:any`")
                }
                raw.harm.append((HarmCategory(name: entry.key, classes: seen), entry.keyNode, items.map(\.node)))
            }
        }
        if let publishedNode = value("published") {
            (raw.published, raw.publishedMetricNodes) = try published(publishedNode, "\(path).published")
        }
        if let extendsNode = value("extends") {
            raw.extends = (try string(extendsNode, "\(path).extends"), extendsNode)
        }
        if let addNode = value("add_classes") {
            raw.addNode = addNode
            raw.add = try classes(addNode, "\(path).add_classes")
        }
        if let removeNode = value("remove_classes") {
            raw.remove = try strings(removeNode, "\(path).remove_classes", single: true).map { ($0.value, $0.node) }
        }
        if raw.extends == nil {
            if let addKey = items.first(where: { $0.key == "add_classes" || $0.key == "remove_classes" }) {
                throw fail(
                    addKey.keyNode, "\(path).\(addKey.key)",
                    "`\(addKey.key)` needs `extends:` (only a variant changes a base design's classes)")
            }
            guard let classes = raw.classes else {
                throw fail(node, "\(path).classes", "missing `classes:` in design \"\(raw.name)\"")
            }
            if classes.isEmpty { throw fail(raw.classesNode, "\(path).classes", "design \"\(raw.name)\" has no classes") }
        } else if let classesNode = raw.classesNode {
            throw fail(
                classesNode, "\(path).classes",
                "a variant (`extends:`) changes its classes with `add_classes`/`remove_classes`, not `classes`")
        }
        return raw
    }

    /// `published:` — a list of {source, metric, attribute, values: {group: rate}} set beside the
    /// measured values in report.md.
    /// The metric names are parsed here; whether the design has the metric is checked once the
    /// design is resolved (``checkPublishedMetrics(_:of:)``), with the metric nodes returned.
    mutating func published(_ node: Node, _ path: String) throws -> ([PublishedFigure], [Node]) {
        guard let sequence = node.sequence else {
            throw fail(node, path, "expected a list of published figures, found \(Self.typeName(node))")
        }
        var figures: [PublishedFigure] = []
        var metricNodes: [Node] = []
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            let items = try entries(item, itemPath, known: AuditFileKeys.published)
            func required(_ key: String) throws -> Node {
                guard let node = items.first(where: { $0.key == key })?.value, !isNull(node) else {
                    throw fail(item, "\(itemPath).\(key)", "missing `\(key):`")
                }
                return node
            }
            let source = try string(required("source"), "\(itemPath).source")
            let metricNode = try required("metric")
            let metricName = try string(metricNode, "\(itemPath).metric")
            guard let metric = Metric(csvName: metricName) else {
                throw fail(
                    metricNode, "\(itemPath).metric",
                    "\"\(metricName)\" is not a metric; metrics are \(Metric.csvNameForms)")
            }
            let attribute = try string(required("attribute"), "\(itemPath).attribute")
            var values: [(String, Double)] = []
            for entry in try entries(required("values"), "\(itemPath).values", known: nil) {
                let value = try number(entry.value, "\(itemPath).values.\(entry.key)")
                guard (0...1).contains(value) else {
                    throw fail(
                        entry.value, "\(itemPath).values.\(entry.key)", "a published rate must be a proportion in [0, 1], found \(value)")
                }
                values.append((entry.key, value))
            }
            figures.append(PublishedFigure(source: source, metric: metric, attribute: Slice(csvText: attribute), values: values))
            metricNodes.append(metricNode)
        }
        return (figures, metricNodes)
    }

    /// A published figure must name a metric the design reports, or it would silently never be
    /// shown (`harm_rate:crime_related` for a category `crime-related`).
    func checkPublishedMetrics(_ raw: RawDesign, of design: DesignSpec) throws {
        let reported = metricDefinitions(
            hasTarget: design.target != nil, harmCategories: design.harmCategories.map(\.name),
            classes: design.classNames)
        for (index, (figure, node)) in zip(raw.published, raw.publishedMetricNodes).enumerated()
        where !reported.contains(figure.metric) {
            let names = reported.map(\.csvName)
            let suggestion =
                closest(to: figure.metric.csvName, in: names).map { "; did you mean \"\($0)\"?" }
                ?? "; it reports \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", …" : "")"
            throw fail(
                node, "\(raw.path).published[\(index)].metric",
                "design \"\(design.name)\" has no metric \"\(figure.metric.csvName)\"\(suggestion)")
        }
    }

    mutating func designs(_ node: Node, defaultTemplates: [String]) throws -> [DesignSpec] {
        guard let sequence = node.sequence else {
            throw fail(node, "designs", "expected a list of designs, found \(Self.typeName(node))")
        }
        if sequence.isEmpty { throw fail(node, "designs", "needs at least one design") }
        var raws: [RawDesign] = []
        for (index, item) in sequence.enumerated() {
            let raw = try rawDesign(item, index: index)
            if let earlier = raws.first(where: { $0.name == raw.name }) {
                throw fail(item, "\(raw.path).name", "duplicate design name \"\(raw.name)\" (also \(earlier.path))")
            }
            raws.append(raw)
        }
        var resolved: [String: DesignSpec] = [:]
        for raw in raws {
            _ = try resolve(raw, raws: raws, resolved: &resolved, chain: [], defaultTemplates: defaultTemplates)
        }
        return raws.map { resolved[$0.name]! }
    }

    func quoted(_ names: [String]) -> String {
        names.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    func resolve(
        _ raw: RawDesign, raws: [RawDesign], resolved: inout [String: DesignSpec],
        chain: [String], defaultTemplates: [String]
    ) throws -> DesignSpec {
        if let done = resolved[raw.name] { return done }
        var design: DesignSpec
        if let (baseName, extendsNode) = raw.extends {
            guard let baseRaw = raws.first(where: { $0.name == baseName }) else {
                throw fail(
                    extendsNode, "\(raw.path).extends",
                    "unknown design \"\(baseName)\" (designs: \(quoted(raws.map(\.name))))")
            }
            if baseName == raw.name || chain.contains(baseName) {
                let cycle = (chain + [raw.name, baseName]).drop(while: { $0 != baseName })
                throw fail(extendsNode, "\(raw.path).extends", "`extends` forms a cycle: \(cycle.joined(separator: " -> "))")
            }
            let base = try resolve(
                baseRaw, raws: raws, resolved: &resolved, chain: chain + [raw.name],
                defaultTemplates: defaultTemplates)
            var classes = base.classes
            var removed: [String] = []
            for (index, item) in raw.remove.enumerated() {
                guard classes.contains(where: { $0.name == item.name }) else {
                    throw fail(
                        item.node, "\(raw.path).remove_classes[\(index)]",
                        "unknown class \"\(item.name)\" (classes of \"\(base.name)\": \(quoted(classes.map(\.name))))")
                }
                classes.removeAll { $0.name == item.name }
                removed.append(item.name)
            }
            for added in raw.add {
                if classes.contains(where: { $0.name == added.name }) {
                    throw fail(
                        raw.addNode, "\(raw.path).add_classes",
                        "duplicate class \"\(added.name)\": \"\(base.name)\" already has it (remove it first to redefine it)")
                }
                classes.append(added)
            }
            if classes.isEmpty {
                throw fail(raw.node, "\(raw.path).classes", "variant \"\(raw.name)\" has no classes left")
            }
            var harm = base.harmCategories.map { category in
                HarmCategory(name: category.name, classes: category.classes.filter { !removed.contains($0) })
            }
            for own in raw.harm {
                if let at = harm.firstIndex(where: { $0.name == own.category.name }) {
                    harm[at] = own.category
                } else {
                    harm.append(own.category)
                }
            }
            design = DesignSpec(
                name: raw.name, target: raw.target ?? base.target,
                templates: raw.templates ?? base.templates, classes: classes,
                harmCategories: harm, base: base.name)
        } else {
            design = DesignSpec(
                name: raw.name, target: raw.target, templates: raw.templates ?? defaultTemplates,
                classes: raw.classes ?? [], harmCategories: raw.harm.map(\.category), base: nil)
        }
        design.published = raw.published // Published figures belong to the design that states them.
        try checkPublishedMetrics(raw, of: design)
        // The design's own harm categories must name its (final) classes.
        let names = design.classNames
        for own in raw.harm {
            for (className, node) in zip(own.category.classes, own.classNodes) where !names.contains(className) {
                throw fail(
                    node, "\(raw.path).harm_categories",
                    "unknown class \"\(className)\" in category \"\(own.category.name)\" (classes: \(quoted(names)))")
            }
        }
        // A prediction counts for one harm category (predictions.csv has one `harm_category`
        // column, and the rates count a class under its category): a class listed in two would
        // silently count for the first one only.
        var categoryOf: [String: String] = [:]
        for category in design.harmCategories {
            for className in category.classes {
                guard let first = categoryOf[className] else { categoryOf[className] = category.name; continue }
                // Point at the design's own listing where it has one (a variant's may meet its base's).
                let own = raw.harm.first { $0.category.name == category.name } ?? raw.harm.first { $0.category.name == first }
                let node = own.flatMap { zip($0.category.classes, $0.classNodes).first { $0.0 == className }?.1 } ?? raw.node
                throw fail(
                    node, "\(raw.path).harm_categories",
                    "class \"\(className)\" is in two harm categories, \"\(first)\" and \"\(category.name)\"; a prediction counts for one category"
                )
            }
        }
        resolved[raw.name] = design
        return design
    }
}

/// The closest candidate by edit distance, if close enough to be a likely typo.
func closest(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    let allowed = max(2, min(word.count, best.0.count) / 3)
    return best.1 <= allowed ? best.0 : nil
}

/// Levenshtein distance over characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

extension AuditFileParser {
    /// Refuses a control character (C0 but TAB and LF, DEL, C1) in any key or text of the audit
    /// file. YAML lets double-quoted text spell them (`"\0"`, `"\e"`); in a name or label they
    /// would reach the reports (a NUL in report.md, an escape sequence in a terminal), and no
    /// audit needs one. Checked on the whole tree before anything else is read, so the error
    /// names the first one in file order.
    func refuseControlCharacters(_ node: Node, _ path: String) throws {
        switch node {
        case .scalar(let scalar):
            try refuseControlCharacter(in: scalar.string, node, path)
        case .mapping(let mapping):
            for (key, value) in mapping {
                let name = key.scalar?.string ?? ""
                try refuseControlCharacter(in: name, key, path)
                try refuseControlCharacters(value, path.isEmpty ? name : "\(path).\(name)")
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() { try refuseControlCharacters(item, "\(path)[\(index)]") }
        case .alias:
            break
        }
    }

    private func refuseControlCharacter(in text: String, _ node: Node, _ path: String) throws {
        let control = text.unicodeScalars.first { scalar in
            (scalar.value < 0x20 && scalar != "\t" && scalar != "\n") || (0x7F...0x9F).contains(scalar.value)
        }
        if control == nil, let format = text.unicodeScalars.first(where: TextSafety.isInvisibleFormat) {
            // A bidi override or zero-width character in a name makes it display as other text
            // in every report (docs/robustness.md).
            throw fail(
                node, path,
                "contains the invisible formatting character U+\(String(format: "%04X", format.value))"
                    + "\(format.properties.name.map { " (\($0))" } ?? ""); names, labels and text must show every character they hold")
        }
        guard let control else { return }
        throw fail(
            node, path,
            "contains the control character U+\(String(format: "%04X", control.value)); "
                + "names, labels and text must be printable (TAB and line breaks are allowed)")
    }
}
