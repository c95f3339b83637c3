import Foundation

/// Where the CLIP checkpoint comes from.
public enum ModelReference: Sendable, Hashable, CustomStringConvertible {
    /// A directory holding a Hugging Face CLIP checkpoint (absolute, already resolved).
    case directory(URL)
    /// A Hugging Face repo id such as `openai/clip-vit-base-patch16`, looked up in the local cache.
    case repoID(String)

    /// The path or the repo id.
    public var description: String {
        switch self {
        case .directory(let url): return url.path
        case .repoID(let id): return id
        }
    }
}

/// The `manifest:` section of an audit file, with paths resolved.
public struct ManifestSettings: Sendable, Hashable {
    /// The CSV manifest (relative paths are resolved against the audit file's folder).
    public var path: URL
    /// The folder the file column is relative to (default: the manifest's folder).
    public var imageRoot: URL
    /// The column holding each image's path (default `file`).
    public var fileColumn: String
    /// Read only the first N data rows; 0 reads all.
    public var limit: Int

    /// Creates the settings.
    public init(path: URL, imageRoot: URL, fileColumn: String = "file", limit: Int = 0) {
        self.path = path
        self.imageRoot = imageRoot
        self.fileColumn = fileColumn
        self.limit = limit
    }
}

/// One class of a design: its name and the phrases put into the templates, in written order.
public struct ClassSpec: Sendable, Hashable {
    /// The class name (with a target: a value of the target column).
    public var name: String
    /// The phrases substituted for `{}` in each template.
    public var phrases: [String]

    /// Creates a class.
    public init(name: String, phrases: [String]) {
        self.name = name
        self.phrases = phrases
    }
}

/// A harm category: predicting any of its classes counts as that harm.
public struct HarmCategory: Sendable, Hashable {
    /// The category name (e.g. `non-human`).
    public var name: String
    /// The classes whose prediction counts as this harm.
    public var classes: [String]

    /// Creates a category.
    public init(name: String, classes: [String]) {
        self.name = name
        self.classes = classes
    }
}

/// A class design after variants are resolved: everything needed to score it.
public struct DesignSpec: Sendable, Hashable {
    /// The design's name (unique in the audit file).
    public var name: String
    /// The manifest column holding the true class, if any.
    public var target: String?
    /// The prompt templates; each has exactly one `{}`.
    public var templates: [String]
    /// The classes in written order (ties in the arg-max go to the earlier one).
    public var classes: [ClassSpec]
    /// Harm categories in written order.
    public var harmCategories: [HarmCategory]
    /// For a variant (`extends:`), the design it extends; reports compare the two.
    public var base: String?
    /// Published figures to set beside the measured ones (context, not expected values).
    public var published: [PublishedFigure] = []

    /// Creates a design.
    public init(
        name: String, target: String? = nil, templates: [String], classes: [ClassSpec],
        harmCategories: [HarmCategory] = [], base: String? = nil
    ) {
        self.name = name
        self.target = target
        self.templates = templates
        self.classes = classes
        self.harmCategories = harmCategories
        self.base = base
    }

    /// The class names in order.
    public var classNames: [String] { classes.map(\.name) }

    /// The class with this name, if any.
    public func classSpec(named name: String) -> ClassSpec? {
        classes.first { $0.name == name }
    }

    /// Every template × phrase of the class with `{}` replaced (templates outer, phrases inner);
    /// empty when the design has no such class.
    public func prompts(forClass name: String) -> [String] {
        guard let spec = classSpec(named: name) else { return [] }
        return templates.flatMap { template in
            spec.phrases.map { template.replacingOccurrences(of: "{}", with: $0) }
        }
    }

    /// The first harm category that lists the class, or nil.
    public func harmCategory(ofClass name: String) -> String? {
        harmCategories.first { $0.classes.contains(name) }?.name
    }
}

/// A loaded and checked audit file (every key: docs/audit-file.md).
public struct AuditConfig: Sendable {
    /// The default prompt templates when the file gives none.
    public static let defaultTemplates = ["a photo of a {}."]
    /// The default significance level.
    public static let defaultAlpha = 0.05
    /// The default smallest group size that is not flagged in reports.
    public static let defaultMinGroupSize = 30
    /// The default smallest absolute difference a four-fifths flag needs: below it a ratio
    /// outside [0.8, 1.25] is one or two images on a low rate, not a disparity.
    public static let defaultMinDifference = 0.05

    /// Report title; the default output folder is `Reports/<name>` (default: the file's name without extension).
    public var name: String
    /// Optional free text shown in the report.
    public var description: String?
    /// The model named by the file; nil when the file names none (the caller then applies
    /// `--model`, `CLIP_AUDIT_MODEL` or the default checkpoint).
    public var model: ModelReference?
    /// The manifest and its image root.
    public var manifest: ManifestSettings
    /// Manifest columns to disaggregate by, in written order.
    public var attributes: [String]
    /// Attribute combinations, e.g. `[["race", "gender"]]`.
    public var intersections: [[String]]
    /// Reference group per attribute (`race: White`) or intersection (`"race|gender": "White|Male"`);
    /// attributes not listed use their largest group.
    public var referenceGroups: [String: String]
    /// Significance level, in (0, 1).
    public var alpha: Double
    /// Groups smaller than this are flagged in reports.
    public var minGroupSize: Int
    /// The top-level templates (designs without their own use these).
    public var templates: [String]
    /// The designs, variants resolved, in written order.
    public var designs: [DesignSpec]
    /// The audit file this came from.
    public var sourceFile: URL
    /// The line in `sourceFile` of each key path that was written (e.g. `attributes[1]`,
    /// `manifest.file_column`, `designs[0].target`), for errors that point into the file.
    public var sourceLines: [String: Int]
    /// SHA-256 of the bytes the configuration was parsed from (`load(contentsOf:)`; empty for
    /// one built in memory), for run.json's provenance.
    public var sourceSHA256 = ""
    /// `retrieval:`: retrieval skew over neutral queries (nil: not measured).
    public var retrieval: RetrievalSpec?
    /// `associations:`: WEAT-style association tests, in written order.
    public var associations: [AssociationSpec] = []
    /// `robustness:`: other wordings of the prompts to measure every disparity under (nil: none).
    public var robustness: RobustnessSpec?
    /// `min_difference`: the smallest |difference| a four-fifths flag needs.
    public var minDifference: Double = AuditConfig.defaultMinDifference
    /// `dataset:`: the Hugging Face Hub dataset behind the manifest (for `card`'s model-index).
    public var dataset: HubDataset?
    /// `models:`: the models compared on the same rows, in written order (the first is the
    /// base); empty for a one-model audit (`model:`).
    public var models: [AuditModel] = []
    /// `mitigations:`: fixes scored as variants `<design>~<name>`, in written order.
    public var mitigations: [MitigationSpec] = []

    /// Creates a configuration directly (for tests and programmatic use).
    public init(
        name: String, description: String? = nil, model: ModelReference? = nil, manifest: ManifestSettings,
        attributes: [String], intersections: [[String]] = [], referenceGroups: [String: String] = [:],
        alpha: Double = AuditConfig.defaultAlpha, minGroupSize: Int = AuditConfig.defaultMinGroupSize,
        templates: [String] = AuditConfig.defaultTemplates, designs: [DesignSpec], sourceFile: URL,
        sourceLines: [String: Int] = [:]
    ) {
        self.name = name
        self.description = description
        self.model = model
        self.manifest = manifest
        self.attributes = attributes
        self.intersections = intersections
        self.referenceGroups = referenceGroups
        self.alpha = alpha
        self.minGroupSize = minGroupSize
        self.templates = templates
        self.designs = designs
        self.sourceFile = sourceFile
        self.sourceLines = sourceLines
    }

    /// The design with this name, if any.
    public func design(named name: String) -> DesignSpec? {
        designs.first { $0.name == name }
    }

    /// The designs' target columns, each once, in design order.
    public var targetColumns: [String] {
        var columns: [String] = []
        for case let target? in designs.map(\.target) where !columns.contains(target) { columns.append(target) }
        return columns
    }

    /// Each attribute, then each intersection, in the audit file's order: the slices the reports
    /// list (those with the whole set put ``Slice/all`` first).
    public var slices: [Slice] {
        attributes.map(Slice.attribute) + intersections.map(Slice.init(attributes:))
    }

    /// An error pointing at the line of `keyPath` in the audit file (or of its nearest
    /// written parent, e.g. `designs[2]` for an inherited `designs[2].target`).
    public func error(at keyPath: String, _ message: String) -> AuditFileError {
        var path = keyPath
        var line = sourceLines[path]
        while line == nil, let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) {
            path = String(path[..<cut])
            line = sourceLines[path]
        }
        return AuditFileError(file: sourceFile, line: line, keyPath: keyPath, message: message)
    }
}

/// A problem with an audit file. `description` is one line:
/// `fairface.yaml:14: designs[1].harm_categories: unknown class "gorila" (classes: ...)`.
public struct AuditFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The audit file.
    public let file: URL
    /// 1-based line, when known.
    public let line: Int?
    /// The key path, e.g. `designs[2].classes`; nil for file-level problems.
    public let keyPath: String?
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(file: URL, line: Int?, keyPath: String?, message: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    /// `FILE:LINE: KEY: message` on one line (newlines in the message are flattened).
    public var description: String {
        var text = file.lastPathComponent
        if let line { text += ":\(line)" }
        text += ": "
        if let keyPath, !keyPath.isEmpty { text += "\(keyPath): " }
        text += message.split(whereSeparator: \.isNewline).joined(separator: " ")
        return text
    }
}

/// A published figure (from a paper or a model card) to show beside a measured metric.
public struct PublishedFigure: Sendable, Hashable {
    /// Where the number comes from, as it will be cited in the report.
    public var source: String
    /// The metric it corresponds to, e.g. `accuracy` or `harm_rate:crime-related`.
    public var metric: Metric
    /// The slice it is broken down by (the whole set, an attribute, an intersection).
    public var attribute: Slice
    /// Group → rate (a proportion), in the order written.
    public var values: [(group: String, value: Double)]

    public init(source: String, metric: Metric, attribute: Slice, values: [(String, Double)]) {
        self.source = source
        self.metric = metric
        self.attribute = attribute
        self.values = values.map { (group: $0.0, value: $0.1) }
    }

    /// The published value for `group`, if any.
    public func value(for group: String) -> Double? {
        values.first { $0.group == group }?.value
    }

    public static func == (a: PublishedFigure, b: PublishedFigure) -> Bool {
        a.source == b.source && a.metric == b.metric && a.attribute == b.attribute
            && a.values.map(\.group) == b.values.map(\.group) && a.values.map(\.value) == b.values.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(source); hasher.combine(metric); hasher.combine(attribute)
        for v in values { hasher.combine(v.group); hasher.combine(v.value) }
    }
}

extension ModelReference {
    /// What to hand the model locator: the directory's path, or the repo id.
    public var locatorString: String {
        switch self {
        case .directory(let url): return url.path
        case .repoID(let id): return id
        }
    }
}

/// One entry of `models:`: a label (the model's name in reports and its folder) and the model.
public struct AuditModel: Sendable, Equatable {
    public var label: String
    public var model: ModelReference

    public init(label: String, model: ModelReference) {
        self.label = label
        self.model = model
    }

    /// Names of the top report folder's own files and folders: a model's folder cannot take them
    /// (compared ignoring case, as some file systems do), and `card`, where `clip-audit card` writes by default.
    public static let reservedLabels = ["models.csv", "run.json", "report.md", "report.html", "charts", "card"]

    /// The longest label: its folder and `card`'s `model-card-<label>.json` stay far below any
    /// file system's name limit.
    public static let maxLabelLength = 64

    /// Letters, digits, `-`, `_` and `.` (not `.` or `..` alone): a folder name on any system.
    public static func isValidLabel(_ label: String) -> Bool {
        !label.isEmpty && label != "." && label != ".."
            && label.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0))
            }
    }

    /// Why `label` cannot be a model label, or nil when it can. The one rule for labels: the
    /// audit file's `models:` is checked with it at the label's line, and `card` checks the
    /// labels of a top folder's `run.json` with it, so a folder `run` wrote is one `card` reads.
    public static func labelProblem(_ label: String) -> String? {
        if label.count > maxLabelLength {
            return "is \(label.count) characters long; a label has at most \(maxLabelLength) (it names the model's report folder)"
        }
        // The label names a folder under the report: nothing that could climb out of it or
        // need quoting in a path.
        if !isValidLabel(label) { return "may hold only letters, digits, `-`, `_` and `.` (it names the model's report folder)" }
        if label.hasPrefix(".") { return "must not start with `.` (its report folder would be hidden, or a ledger's name)" }
        if let taken = reservedLabels.first(where: { $0.lowercased() == label.lowercased() }) {
            return "is the name of a file of the top report folder (\(taken)); choose another label"
        }
        return nil
    }
}

/// A Hugging Face Hub dataset and split (`dataset: {id: HuggingFaceM4/FairFace, split: validation}`),
/// what a model card's `model-index` names as the evaluation data.
public struct HubDataset: Sendable, Equatable {
    public var id: String
    public var split: String?

    public init(id: String, split: String? = nil) {
        self.id = id
        self.split = split
    }
}
