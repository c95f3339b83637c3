import Foundation

/// One chart of a report: where it goes in the folder and what it shows.
public struct ChartFile: Sendable, Equatable {
    public enum Kind: String, Sendable { case overview, rate, ratio, delta }
    public var kind: Kind
    public var design: String
    public var metric: String
    public var attribute: String
    /// Relative to the report folder: `charts/<design>-<kind>-<metric>-<attribute>.svg`.
    public var path: String
    /// The chart's title (also the Markdown image's alt text).
    public var title: String
    public var svg: String
}
