import CLIPEngine
import Foundation

/// One row of `diff.csv`: a metric on one slice, run B against run A.
public struct DiffRow: Sendable, Equatable {
    public enum Test: String, Sendable { case paired, unpaired }
    public var design: String
    public var metric: Metric
    public var attribute: String
    public var group: String
    public var nA: Int
    public var valueA: Double
    public var nB: Int
    public var valueB: Double
    /// valueB − valueA.
    public var delta: Double
    public var ciLow: Double
    public var ciHigh: Double
    public var pValue: Double
    /// Holm-adjusted within design × metric × attribute.
    public var pAdjusted: Double
    public var significant: Bool
    /// `paired` when both runs scored the same images in the slice (Newcombe paired interval,
    /// exact McNemar), `unpaired` otherwise (Newcombe hybrid score interval, pooled z-test).
    public var test: Test
    /// Below its run's minimum group size in run A or in run B (each run's own threshold).
    public var belowMinimumN: Bool
    /// The design's classes, phrases, templates, target or harm categories differ between the
    /// runs (compared only on request): the row measures the change of design too.
    public var designChanged: Bool = false
}
