import Foundation

/// What the visual reports, the model-card exports and `diff` need from a run: the measured rows
/// and the few settings that say how to read them. Built from an ``AuditRun`` as it is written,
/// or read back from a report folder (``ReportFolder``), so the same renderers serve both.
public struct ReportData: Sendable {
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

        public init(name: String, base: String? = nil, hasTarget: Bool, headlineMetrics: [Metric]) {
            self.name = name
            self.base = base
            self.hasTarget = hasTarget
            self.headlineMetrics = headlineMetrics
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

    public var name: String
    public var modelID: String
    public var weightsSHA256: String
    /// The manifest's file name (no folders: report folders move between machines).
    public var manifestName: String
    public var alpha: Double
    public var minGroupSize: Int
    /// Attributes, then intersections (`race|gender`), in the audit file's order.
    public var slices: [Slice]
    public var designs: [Design]
    public var metrics: [MetricRow]
    public var disparities: [DisparityRow]
    public var comparisons: [ComparisonRow]
    /// `min_difference`: the smallest |difference| a four-fifths flag needs.
    public var minDifference: Double = AuditConfig.defaultMinDifference
    /// The Hub dataset behind the manifest (`dataset:`), for `card`'s model-index.
    public var dataset: HubDataset?
    /// Published figures per design (context beside the measured ones).
    public var published: [String: [PublishedFigure]] = [:]
    /// Identifies the run's results (see ``ReportWriter/runID(_:)``): `card` records it, and a
    /// later `run` removes a card whose run id is not its own.
    public var runID: String = ""
    /// The retrieval-skew and association-test findings, as sentences (see
    /// ``MeasurementsReport/findings(_:)``); run.json keeps them for `card` on a folder.
    public var measurementFindings: [String] = []

    public init(
        name: String, modelID: String, weightsSHA256: String, manifestName: String, alpha: Double,
        minGroupSize: Int, slices: [Slice], designs: [Design], metrics: [MetricRow],
        disparities: [DisparityRow], comparisons: [ComparisonRow]
    ) {
        self.name = name
        self.modelID = modelID
        self.weightsSHA256 = weightsSHA256
        self.manifestName = manifestName
        self.alpha = alpha
        self.minGroupSize = minGroupSize
        self.slices = slices
        self.designs = designs
        self.metrics = metrics
        self.disparities = disparities
        self.comparisons = comparisons
    }

    /// The data of a finished run.
    public init(run: AuditRun) {
        let config = run.config
        let designs = config.designs.map { spec in
            var design = Design(
                name: spec.name, base: spec.base, hasTarget: spec.target != nil,
                headlineMetrics: ReportData.headlineMetrics(of: spec.name, in: run.metrics.metrics))
            if let base = spec.base.flatMap(config.design(named:)) {
                design.addedClasses = spec.classNames.filter { !base.classNames.contains($0) }
                design.removedClasses = base.classNames.filter { !spec.classNames.contains($0) }
            }
            return design
        }
        self.init(
            name: config.name, modelID: run.model.id,
            weightsSHA256: run.modelKey.weightsSHA256,
            manifestName: config.manifest.path.lastPathComponent, alpha: config.alpha,
            minGroupSize: config.minGroupSize,
            slices: config.slices,
            designs: designs, metrics: run.metrics.metrics, disparities: run.metrics.disparities,
            comparisons: run.metrics.comparisons)
        minDifference = config.minDifference
        dataset = config.dataset
        for spec in config.designs where !spec.published.isEmpty { published[spec.name] = spec.published }
        measurementFindings = MeasurementsReport.findings(run)
    }

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
        metrics.first { $0.design == design && $0.metric == metric && $0.attribute == "*" }
    }

    /// A metric's rows over one attribute or intersection, in group order.
    public func rows(design: String, metric: Metric, attribute: String) -> [MetricRow] {
        metrics.filter { $0.design == design && $0.metric == metric && $0.attribute == attribute }
    }

    public func disparities(design: String, metric: Metric, attribute: String) -> [DisparityRow] {
        disparities.filter { $0.design == design && $0.metric == metric && $0.attribute == attribute }
    }

    public func comparisons(design: String, metric: Metric, attribute: String) -> [ComparisonRow] {
        comparisons.filter { $0.design == design && $0.metric == metric && $0.attribute == attribute }
    }

    /// Disparities a reader should see first: on accuracy or a harm rate, significant after
    /// Holm, or outside the four-fifths band with enough images on both sides and a difference
    /// of at least `min_difference` (``DisparityRow/isFlagged``).
    public var headlineDisparities: [DisparityRow] {
        disparities.filter { $0.metric.isHeadline && $0.isFlagged }
    }
}
