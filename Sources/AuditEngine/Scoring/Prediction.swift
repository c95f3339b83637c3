import Foundation

/// One scored row of one design (a line of `predictions.csv`), as ``PredictionTable`` gives it
/// when read.
public struct Prediction: Sendable {
    public var design: String
    public var line: Int
    public var file: String
    /// The attribute values, in the audit file's attribute order.
    public var attributes: [String]
    public var truth: String?
    public var predicted: String
    public var confidence: Double
    public var harmCategory: String?
}
