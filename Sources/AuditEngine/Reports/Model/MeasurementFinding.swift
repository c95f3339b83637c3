import Foundation

/// A finding of the retrieval-skew or association-test sections, as data: the numbers a sentence
/// at the top of the report states. The writers word it (``MeasurementsReport/sentence(_:alpha:)``);
/// run.json keeps the values, so `card` on a folder words them the same way.
public enum MeasurementFinding: Sendable, Equatable {
    /// Retrieval over the neutral queries.
    case retrieval(Retrieval)
    /// Every association test with its effect size.
    case associations([Association])
    /// A finding kept as a sentence (escaped Markdown) by a folder written before findings were
    /// data (run.json without `schema_version`).
    case sentence(String)

    /// How many queries' top k is skewed beyond the permutation null, per attribute, and the one
    /// query that stands furthest above it.
    public struct Retrieval: Sendable, Equatable {
        /// Distinct queries (the mean row `*` left out).
        public var queries: Int
        /// The largest k, at which the counts are taken.
        public var k: Int
        /// Per attribute in order: queries beyond the null after Holm (0 without permutations).
        public var beyondNull: [AttributeCount]
        public var mostSkewed: MostSkewed?
    }

    /// Queries beyond the null over one attribute.
    public struct AttributeCount: Sendable, Equatable {
        public var attribute: String
        public var count: Int
    }

    /// The query whose MaxSkew stands furthest above the null's, with its over-represented group.
    public struct MostSkewed: Sendable, Equatable {
        public var query: String
        public var attribute: String
        public var k: Int
        public var group: String
        public var share: Double
        public var desiredShare: Double
        public var maxSkew: Double
        public var nullMaxSkew: Double?
        public var pValue: Double?
    }

    /// One association test's effect size, interval and p.
    public struct Association: Sendable, Equatable {
        public var name: String
        public var effectSize: Double
        public var ciLow: Double
        public var ciHigh: Double
        public var pValue: Double
    }
}
