import Foundation

/// Everything a report folder says about one model's run, as one typed value: the setup, the
/// designs, the measured rows, the findings as data, what was skipped, the timings and the files.
/// It is built once from an ``AuditRun`` (``init(run:)``) or read back from a report folder
/// (``read(folder:)``), and it is the only input of every renderer: report.md, details.md,
/// report.html, the charts, the card exports, the several-model report and `diff`.
///
/// On disk its rows are the CSVs (the canonical files) and the rest is `run.json`
/// (``AuditReport/runJSON()``, layout and version in docs/report-files.md). Sections added later
/// are optional: a folder written before them decodes them as absent.
public struct AuditReport: Sendable {
    /// The layout of `run.json` this build writes. Folders with no `schema_version` are of the
    /// layout before it (1) and are converted when read (``LegacyRunJSON``).
    public static let schemaVersion = 2

    /// The run.json layout the report was read from (``schemaVersion`` when built from a run).
    public var schemaVersion = AuditReport.schemaVersion

    /// One design as the reports see it.
    public struct Design: Sendable, Equatable {
        public var name: String
        /// The design a variant extends.
        public var base: String?
        public var hasTarget: Bool
        /// `accuracy` and `harm_rate:*` metrics, in `metrics.csv` order.
        public var headlineMetrics: [Metric]
        /// For a variant, the classes it adds to and removes from its base.
        public var addedClasses: [String] = []
        public var removedClasses: [String] = []
        /// The manifest column the design predicts (nil: no target, harm rates only).
        public var target: String?
        /// The prompt templates, in order.
        public var templates: [String] = []
        /// The classes in order, each with its phrases (empty when read from a folder whose
        /// run.json did not record the design).
        public var classes: [DesignClass] = []
        /// The harm categories in order.
        public var harmCategories: [HarmCategory] = []
        /// Published figures (context beside the measured ones).
        public var published: [PublishedFigure] = []

        public init(name: String, base: String? = nil, hasTarget: Bool, headlineMetrics: [Metric]) {
            self.name = name
            self.base = base
            self.hasTarget = hasTarget
            self.headlineMetrics = headlineMetrics
        }

        /// The class names in order.
        public var classNames: [String] { classes.map(\.name) }

        /// What decides the design's predictions besides the model, for `diff`; nil when the
        /// folder did not record the design's classes.
        public var signature: DesignSignature? {
            guard !classes.isEmpty else { return nil }
            return DesignSignature(
                target: target, templates: templates, classes: classNames,
                phrases: Dictionary(classes.map { ($0.name, $0.phrases) }, uniquingKeysWith: { first, _ in first }),
                harmCategories: Dictionary(harmCategories.map { ($0.name, $0.classes) }, uniquingKeysWith: { first, _ in first }))
        }

        /// What a variant changes, in words: "Adding `child`", "Removing `thief`"; nil when it
        /// changes no class (templates or phrases only) or is not a variant.
        public var change: String? {
            var parts: [String] = []
            if !addedClasses.isEmpty { parts.append("adding " + addedClasses.map { MarkdownEscape.code($0) }.joined(separator: ", ")) }
            if !removedClasses.isEmpty {
                parts.append("removing " + removedClasses.map { MarkdownEscape.code($0) }.joined(separator: ", "))
            }
            guard base != nil, !parts.isEmpty else { return nil }
            let text = parts.joined(separator: ", ")
            return text.prefix(1).uppercased() + text.dropFirst()
        }
    }

    /// A class of a design and the phrases its prompts are made from.
    public struct DesignClass: Sendable, Equatable {
        public var name: String
        public var phrases: [String]

        public init(name: String, phrases: [String]) {
            self.name = name
            self.phrases = phrases
        }
    }

    /// The model as the run loaded it.
    public struct Model: Sendable, Equatable {
        public var id: String
        public var revision: String?
        /// Where its files were (provenance: the path on the machine that ran the audit).
        public var directory: String = ""
        /// The cache key of the weights and configuration (``ModelKey/text``).
        public var fingerprint: String = ""
        public var weightsSHA256: String

        public init(id: String, revision: String? = nil, directory: String = "", fingerprint: String = "", weightsSHA256: String) {
            self.id = id
            self.revision = revision
            self.directory = directory
            self.fingerprint = fingerprint
            self.weightsSHA256 = weightsSHA256
        }
    }

    /// The manifest as the audit file named it.
    public struct Manifest: Sendable, Equatable {
        /// The manifest's path as the run saw it.
        public var path: String
        public var imageRoot: String = ""
        public var fileColumn: String = ""
        public var limit = 0
    }

    /// How many rows, images and prompts the run read, scored and encoded (run.json's `counts`).
    public struct Counts: Sendable, Equatable {
        public var manifestRows = 0
        public var rowsScored = 0
        public var rowsSkipped = 0
        public var uniqueImages = 0
        public var imagesEncoded = 0
        public var imagesFromCache = 0
        public var prompts = 0
        public var promptsEncoded = 0
        public var designs = 0
        public var predictions = 0

        public init() {}
    }

    /// A manifest row left out, with why.
    public struct Skip: Sendable, Equatable {
        public var reason: String
        public var line: Int?
        public var file: String?

        public init(reason: String, line: Int? = nil, file: String? = nil) {
            self.reason = reason
            self.line = line
            self.file = file
        }
    }

    /// How many rows were skipped for one kind of cause (``SkipKind/description``).
    public struct SkipCount: Sendable, Equatable {
        public var kind: String
        public var count: Int
    }

    /// One association test as `association.csv` holds it: the test's names and its result.
    public struct Association: Sendable, Equatable {
        public var name: String
        public var attribute: Slice
        public var groupX: String
        public var groupY: String
        /// The word sets' names.
        public var targetA: String
        public var targetB: String
        public var result: AssociationResult
    }

    public var name: String
    /// The audit file's `description`.
    public var description: String?
    public var model: Model
    /// The audit file's path and SHA-256 (provenance).
    public var auditFile = ""
    public var auditFileSHA256 = ""
    public var manifest: Manifest
    public var alpha: Double
    public var minGroupSize: Int
    /// `min_difference`: the smallest |difference| a four-fifths flag needs.
    public var minDifference: Double = AuditConfig.defaultMinDifference
    /// Attributes, then intersections (`race|gender`), in the audit file's order.
    public var slices: [Slice]
    /// The audit file's reference groups (slice → group); the disparities say which was used.
    public var referenceGroups: [String: String] = [:]
    /// The Hub dataset behind the manifest (`dataset:`), for `card`'s model-index.
    public var dataset: HubDataset?
    /// How the run departed from the audit file (Setup notes of report.md).
    public var notes: [String] = []
    public var counts = Counts()
    public var designs: [Design]
    public var metrics: [MetricRow]
    public var disparities: [DisparityRow]
    public var comparisons: [ComparisonRow]
    /// Confusion matrices of the designs with a target (not in any CSV: kept in run.json).
    public var confusions: [ConfusionTable] = []
    /// `retrieval.csv`, `retrieval_groups.csv` and `association.csv`.
    public var retrieval: [RetrievalRow] = []
    public var retrievalGroups: [RetrievalGroupRow] = []
    public var associations: [Association] = []
    /// `robustness.csv`: every disparity row under the other wordings of the prompts (nil: the
    /// audit has no `robustness:`).
    public var robustness: [RobustnessRow]?
    /// `mitigations:` (run.json), and retrieval measured again with each (retrieval.csv's
    /// `mitigation` column).
    public var mitigations: [Mitigation] = []
    public var mitigatedRetrieval: [MitigatedRetrieval] = []
    /// The retrieval-skew and association-test findings, as data; the writers word them
    /// (``MeasurementsReport/sentence(_:alpha:)``).
    public var findings: [MeasurementFinding] = []
    public var skipped: [Skip] = []
    /// Skipped rows per kind of cause, most first (ties by name).
    public var skippedByReason: [SkipCount] = []
    /// Seconds per stage, to the millisecond.
    public var timings: [String: Double] = [:]
    /// The embedding cache the run used.
    public var cache: String?
    /// The report's files, relative to its folder (the ones a later run may replace), sorted.
    public var files: [String] = []
    /// Identifies the run's results (see ``ReportWriter/runID(_:csvs:)``): `card` records it, and
    /// a later `run` removes a card whose run id is not its own.
    public var runID: String = ""
    /// The tool version that wrote the folder.
    public var toolVersion = ""

    public init(
        name: String, modelID: String, weightsSHA256: String, manifestName: String, alpha: Double,
        minGroupSize: Int, slices: [Slice], designs: [Design], metrics: [MetricRow],
        disparities: [DisparityRow], comparisons: [ComparisonRow]
    ) {
        self.name = name
        self.model = Model(id: modelID, weightsSHA256: weightsSHA256)
        self.manifest = Manifest(path: manifestName)
        self.alpha = alpha
        self.minGroupSize = minGroupSize
        self.slices = slices
        self.designs = designs
        self.metrics = metrics
        self.disparities = disparities
        self.comparisons = comparisons
    }

    public var modelID: String { model.id }
    public var weightsSHA256: String { model.weightsSHA256 }
    /// The manifest's file name (no folders: report folders move between machines).
    public var manifestName: String { URL(fileURLWithPath: manifest.path).lastPathComponent }
    /// The attributes (slices that are no intersection), in order.
    public var attributes: [String] { slices.filter { !$0.isIntersection }.map(\.csvText) }
    /// `summary.csv`'s rows: every headline metric's spread over the groups.
    public var summaries: [SummaryRow] { groupSpreads(metrics) }

    /// Published figures per design (each design keeps its own; setting this sets theirs).
    public var published: [String: [PublishedFigure]] {
        get {
            var out: [String: [PublishedFigure]] = [:]
            for design in designs where !design.published.isEmpty { out[design.name] = design.published }
            return out
        }
        set {
            for index in designs.indices { designs[index].published = newValue[designs[index].name] ?? [] }
        }
    }

    /// The design named `name`.
    public func design(named name: String) -> Design? { designs.first { $0.name == name } }

    /// `accuracy` and `harm_rate:*` metrics of a design in first-appearance order.
    static func headlineMetrics(of design: String, in rows: [MetricRow]) -> [Metric] {
        var out: [Metric] = []
        for row in rows where row.design == design && row.metric.isHeadline && !out.contains(row.metric) {
            out.append(row.metric)
        }
        return out
    }

    /// The whole-set row of a metric.
    public func overall(design: String, metric: Metric) -> MetricRow? {
        metrics.first { $0.design == design && $0.metric == metric && $0.attribute == .all }
    }

    /// A metric's rows over one attribute or intersection, in group order.
    public func rows(design: String, metric: Metric, attribute: Slice) -> [MetricRow] {
        metrics.filter { $0.design == design && $0.metric == metric && $0.attribute == attribute }
    }

    public func disparities(design: String, metric: Metric, attribute: Slice) -> [DisparityRow] {
        disparities.filter { $0.design == design && $0.metric == metric && $0.attribute == attribute }
    }

    public func comparisons(design: String, metric: Metric, attribute: Slice) -> [ComparisonRow] {
        comparisons.filter { $0.design == design && $0.metric == metric && $0.attribute == attribute }
    }

    /// Disparities a reader should see first: on accuracy or a harm rate, significant after
    /// Holm, or outside the four-fifths band with enough images on both sides and a difference
    /// of at least `min_difference` (``DisparityRow/isFlagged``).
    public var headlineDisparities: [DisparityRow] {
        disparities.filter { $0.metric.isHeadline && $0.isFlagged }
    }
}
