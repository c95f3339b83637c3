/// One line of `robustness.csv` (docs/report-files.md): a disparity row of the audit's own
/// wording (specification 0) and how it fares under every specification.
public struct RobustnessRow: Sendable, Equatable {
    public var design: String
    public var metric: Metric
    public var attribute: Slice
    public var group: String
    public var reference: String
    /// Specification 0's difference (value − reference value), as in `disparities.csv`.
    public var difference: Double
    /// Specification 0's flag as the report raises it (``DisparityRow/isFlagged``).
    public var flagged: Bool
    /// The specifications the row was measured in, specification 0 included.
    public var specifications: Int
    /// Specifications (0 included) in which the row is flagged, each with its own Holm adjustment.
    public var flaggedIn: Int
    /// Specifications (0 included) in which the difference has specification 0's sign (−, 0 or +).
    public var sameDirectionIn: Int
    /// The least, median and greatest difference over the specifications (0 included); the
    /// median of an even count is the mean of the two middle values.
    public var differenceMin: Double
    public var differenceMedian: Double
    public var differenceMax: Double

    public init(
        design: String, metric: Metric, attribute: Slice, group: String, reference: String, difference: Double,
        flagged: Bool, specifications: Int, flaggedIn: Int, sameDirectionIn: Int,
        differenceMin: Double, differenceMedian: Double, differenceMax: Double
    ) {
        self.design = design
        self.metric = metric
        self.attribute = attribute
        self.group = group
        self.reference = reference
        self.difference = difference
        self.flagged = flagged
        self.specifications = specifications
        self.flaggedIn = flaggedIn
        self.sameDirectionIn = sameDirectionIn
        self.differenceMin = differenceMin
        self.differenceMedian = differenceMedian
        self.differenceMax = differenceMax
    }

    /// Which disparity row this is.
    public struct Key: Hashable, Sendable {
        public var design: String
        public var metric: Metric
        public var attribute: Slice
        public var group: String

        public init(design: String, metric: Metric, attribute: Slice, group: String) {
            self.design = design
            self.metric = metric
            self.attribute = attribute
            self.group = group
        }

        public init(_ row: DisparityRow) {
            self.init(design: row.design, metric: row.metric, attribute: row.attribute, group: row.group)
        }
    }

    public var key: Key { Key(design: design, metric: metric, attribute: attribute, group: group) }

    /// The report's threshold of a robust finding: flagged, with specification 0's direction, in
    /// at least this share of the specifications (docs/report-files.md, "robustness.csv").
    public static let robustShare = 0.9

    /// Flagged with specification 0's direction in at least ``robustShare`` of the
    /// specifications. Counted from `flaggedIn` and `sameDirectionIn` separately, the columns
    /// the file holds: both at least the share.
    public var isRobust: Bool {
        let needed = (Self.robustShare * Double(specifications)).rounded(.up)
        return flagged && Double(flaggedIn) >= needed && Double(sameDirectionIn) >= needed
    }
}
