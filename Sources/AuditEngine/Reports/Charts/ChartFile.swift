import Foundation

/// One chart of a report: where it goes in the folder and what it shows.
public struct ChartFile: Sendable, Equatable {
    public enum Kind: String, Sendable { case overview, rate, ratio, delta }
    public var kind: Kind
    /// The design it shows; nil for a chart over every design (the overview, retrieval, associations).
    public var design: String?
    /// The metric's CSV name (or `retrieval`, `association`); nil for a chart over every metric.
    public var metric: String?
    /// The slice it shows.
    public var attribute: Slice
    /// Relative to the report folder: `charts/<design>-<kind>-<metric>-<attribute>.svg`.
    public var path: String
    /// The chart's title (also the Markdown image's alt text).
    public var title: String
    public var svg: String
}
