/// One image's outcome under one class design, as built in memory (tests, tools): a list of them
/// per design becomes a ``PredictionTable`` (``PredictionTable/init(attributes:outcomes:)``),
/// the compact form that runs, metrics and reports use.
public struct OutcomeRecord: Sendable, Equatable {
    /// Identifies the image across designs (e.g. the manifest's file column); variants are
    /// paired with their base on it.
    public var imageKey: String
    /// One group value per attribute, in the order of ``MetricSettings/attributes``.
    public var groups: [String]
    /// The true class, for designs with a target; `nil` otherwise.
    public var truth: String?
    /// The predicted class.
    public var predicted: String
    /// The harm category the predicted class belongs to, if any.
    public var harmCategory: String?
    /// The predicted class's probability.
    public var confidence: Double

    public init(
        imageKey: String, groups: [String], truth: String? = nil, predicted: String, harmCategory: String? = nil,
        confidence: Double = 0
    ) {
        self.imageKey = imageKey
        self.groups = groups
        self.truth = truth
        self.predicted = predicted
        self.harmCategory = harmCategory
        self.confidence = confidence
    }
}

/// All outcomes of one class design (built in memory; see ``OutcomeRecord``).
public struct DesignOutcomes: Sendable, Equatable {
    /// The design's name.
    public var design: String
    /// For a variant (`extends:`), the name of its base design; `nil` otherwise.
    public var base: String?
    /// The design's classes, in listed order.
    public var classes: [String]
    /// The design's harm categories, in listed order.
    public var harmCategories: [String]
    /// Whether the design has a target column (and so an accuracy).
    public var hasTarget: Bool
    /// One record per image.
    public var records: [OutcomeRecord]

    public init(
        design: String, base: String? = nil, classes: [String], harmCategories: [String] = [],
        hasTarget: Bool, records: [OutcomeRecord]
    ) {
        self.design = design
        self.base = base
        self.classes = classes
        self.harmCategories = harmCategories
        self.hasTarget = hasTarget
        self.records = records
    }
}

/// What to disaggregate by and how to judge differences.
public struct MetricSettings: Sendable, Equatable {
    /// Attribute names, in the order of ``OutcomeRecord/groups``.
    public var attributes: [String]
    /// Intersections, each a list of attribute names (reported as `race|gender`).
    public var intersections: [[String]]
    /// Reference group per attribute (`race: White`) or intersection (`race|gender: White|Male`).
    /// An attribute missing here (or naming a group absent from the data) takes its largest
    /// group, ties broken by the first in group order (see ``compareGroupValues(_:_:)``); an
    /// intersection missing here takes its attributes' references joined (`White|Male`), and
    /// the largest group only when that cell has no images.
    public var referenceGroups: [String: String]
    /// Significance level for `significant` (on Holm-adjusted p-values).
    public var alpha: Double = 0.05
    /// Groups with fewer images are flagged (``MetricRow/belowMinimumN``), never dropped.
    public var minGroupSize: Int = 30
    /// The smallest |difference| a four-fifths flag needs (``DisparityRow/fourFifthsViolation``).
    public var minDifference: Double = 0.05

    public init(
        attributes: [String], intersections: [[String]] = [], referenceGroups: [String: String] = [:],
        alpha: Double = 0.05, minGroupSize: Int = 30, minDifference: Double = 0.05
    ) {
        self.attributes = attributes
        self.intersections = intersections
        self.referenceGroups = referenceGroups
        self.alpha = alpha
        self.minGroupSize = minGroupSize
        self.minDifference = minDifference
    }
}

/// One row of `metrics.csv`: a metric over one slice of one design's images.
public struct MetricRow: Sendable, Equatable {
    public var design: String
    /// `accuracy`, `harm_rate:<category>` or `prediction_rate:<class>`.
    public var metric: Metric
    /// The whole set, an attribute, or an intersection such as `race|gender` (the `attribute`
    /// column: ``Slice/csvText``).
    public var attribute: Slice
    /// `*`, a group value, or an intersection group such as `White|Male`.
    public var group: String
    public var n: Int
    public var count: Int
    /// count / n.
    public var value: Double
    /// 95% Wilson score interval.
    public var ciLow: Double
    public var ciHigh: Double
    /// n < ``MetricSettings/minGroupSize``: shown in report.md, not a CSV column.
    public var belowMinimumN: Bool
}

extension MetricRow {
    /// What identifies a metric row within a run: design, metric, slice and group.
    public struct Key: Hashable, Sendable {
        public var design: String
        public var metric: Metric
        public var attribute: Slice
        public var group: String
    }

    public var key: Key { Key(design: design, metric: metric, attribute: attribute, group: group) }
}

/// One row of `disparities.csv`: a group against its attribute's reference group.
public struct DisparityRow: Sendable, Equatable {
    public var design: String
    public var metric: Metric
    public var attribute: Slice
    public var group: String
    public var reference: String
    public var n: Int
    public var count: Int
    public var referenceN: Int
    public var referenceCount: Int
    public var value: Double
    public var referenceValue: Double
    /// value − referenceValue.
    public var difference: Double
    /// value / referenceValue; `nil` when the reference value is 0.
    public var ratio: Double?
    /// Two-sided pooled two-proportion z-test (p = 1 when undefined).
    public var pValue: Double
    /// Holm-adjusted within design × metric × attribute.
    public var pAdjusted: Double
    /// pAdjusted < alpha.
    public var significant: Bool
    /// Newcombe hybrid score 95% interval for `difference` (not a CSV column).
    public var differenceCILow: Double
    public var differenceCIHigh: Double
    /// The four-fifths rule applied in both directions (ratio < 0.8 or ratio > 1.25), counted
    /// only where it means something: both sides have at least ``MetricSettings/minGroupSize``
    /// images and |difference| ≥ ``MetricSettings/minDifference``. Both directions count
    /// because a metric can be bad when high (harm rates) or when low (accuracy). With a
    /// reference value of 0 a non-zero value counts as outside the band (there is no ratio).
    public var fourFifthsViolation: Bool
    /// The group or the reference has fewer than ``MetricSettings/minGroupSize`` images.
    public var belowMinimumN: Bool
}

extension DisparityRow {
    /// Whether the group fares worse than its reference: a higher harm rate, a lower accuracy
    /// (recall); a lower false-positive rate is better. `nil` for metrics with no better side
    /// (prediction rates) and for no difference.
    public var fairesWorse: Bool? {
        guard difference != 0 else { return nil }
        return metric.higherIsWorse.map { $0 ? difference > 0 : difference < 0 }
    }

    /// Flagged for a reader: Holm-significant, or outside the four-fifths band with enough
    /// images on both sides and a difference of at least `min_difference`.
    public var isFlagged: Bool { significant || (fourFifthsViolation && !belowMinimumN) }

    /// The four-fifths flag of `disparities.csv` (docs/report-files.md): outside [0.8, 1.25] (a non-zero value
    /// against a zero reference counts as outside), both sides at least `minGroupSize`, and
    /// |difference| ≥ `minDifference`.
    public static func fourFifths(
        value: Double, referenceValue: Double, n: Int, referenceN: Int,
        minGroupSize: Int, minDifference: Double
    ) -> Bool {
        let outside = referenceValue == 0 ? value > 0 : (value / referenceValue < 0.8 || value / referenceValue > 1.25)
        // The tolerance keeps a difference written with six digits (read back from the CSV) on the same side.
        return outside && n >= minGroupSize && referenceN >= minGroupSize && abs(value - referenceValue) >= minDifference - 1e-9
    }
}

/// One row of `comparison.csv`: a variant design against its base on the images both scored.
public struct ComparisonRow: Sendable, Equatable {
    public var design: String
    public var base: String
    public var metric: Metric
    public var attribute: Slice
    public var group: String
    /// Paired images.
    public var n: Int
    public var baseValue: Double
    public var value: Double
    /// value − baseValue.
    public var delta: Double
    /// Newcombe square-and-add interval for the paired difference (see
    /// ``newcombePairedDifferenceInterval(bothPositive:firstOnly:secondOnly:neither:z:)``).
    public var ciLow: Double
    public var ciHigh: Double
    /// Exact McNemar p on the images whose indicator changed.
    public var pValue: Double
    /// Images positive under the base only / under the variant only (the discordant pairs).
    public var baseOnly: Int
    public var variantOnly: Int
    public var belowMinimumN: Bool
    /// `pValue` Holm-adjusted within design × metric × attribute, as disparities are: what the
    /// report flags. Not a column of comparison.csv (docs/report-files.md fixes its `p_value` as the raw p);
    /// a report folder read back recomputes it (``ComparisonRow/adjustingHolm(_:)``).
    public var pAdjusted: Double = 1

    /// `rows` with `pAdjusted` set: Holm within each design × metric × attribute.
    public static func adjustingHolm(_ rows: [ComparisonRow]) -> [ComparisonRow] {
        let adjusted = holmAdjusted(rows.map(\.pValue), families: rows.map { [$0.design, $0.metric.csvName, $0.attribute.csvText] })
        var result = rows
        for index in result.indices { result[index].pAdjusted = adjusted[index] }
        return result
    }
}

/// A confusion matrix (truth × predicted) of a design with a target, over one slice.
public struct ConfusionTable: Sendable, Equatable {
    public var design: String
    public var attribute: Slice
    public var group: String
    /// Row and column labels: the design's classes in listed order, then any other truth or
    /// predicted value seen, sorted.
    public var labels: [String]
    /// counts[t][p]: images with truth labels[t] predicted as labels[p].
    public var counts: [[Int]]
    /// Per label: correct / images with that truth; `nil` when no image has that truth.
    public var recall: [Double?]
    /// Images in the slice with a truth.
    public var n: Int
}

/// Everything ``computeAuditMetrics(_:settings:)`` produces.
public struct AuditMetrics: Sendable, Equatable {
    public var metrics: [MetricRow]
    public var disparities: [DisparityRow]
    public var comparisons: [ComparisonRow]
    public var confusions: [ConfusionTable]
}

/// One model against the base model (the first of the audit file's `models:`) on the same
/// images, for one design × metric × group: a line of the top folder's `models.csv`.
/// The arithmetic is a variant comparison's (``ComparisonRow``) with two models in place of two
/// designs: Newcombe's paired interval, the exact McNemar test, Holm within
/// design × metric × attribute.
public struct ModelComparisonRow: Sendable, Equatable {
    public var design: String
    public var metric: Metric
    public var attribute: Slice
    public var group: String
    /// The compared model's label.
    public var model: String
    /// The base model's label.
    public var baseModel: String
    /// Images scored by both models in this group.
    public var n: Int
    public var baseValue: Double
    public var value: Double
    /// value − baseValue.
    public var delta: Double
    public var ciLow: Double
    public var ciHigh: Double
    /// Exact McNemar p on the images whose indicator differs between the models.
    public var pValue: Double
    /// `pValue` Holm-adjusted within design × metric × attribute (per compared model).
    public var pAdjusted: Double
    /// Images positive under the base model only / under the compared model only.
    public var baseOnly: Int
    public var modelOnly: Int
    public var belowMinimumN: Bool

    public init(
        design: String, metric: Metric, attribute: Slice, group: String, model: String, baseModel: String,
        n: Int, baseValue: Double, value: Double, delta: Double, ciLow: Double, ciHigh: Double,
        pValue: Double, pAdjusted: Double, baseOnly: Int, modelOnly: Int, belowMinimumN: Bool
    ) {
        self.design = design
        self.metric = metric
        self.attribute = attribute
        self.group = group
        self.model = model
        self.baseModel = baseModel
        self.n = n
        self.baseValue = baseValue
        self.value = value
        self.delta = delta
        self.ciLow = ciLow
        self.ciHigh = ciHigh
        self.pValue = pValue
        self.pAdjusted = pAdjusted
        self.baseOnly = baseOnly
        self.modelOnly = modelOnly
        self.belowMinimumN = belowMinimumN
    }
}
