import Foundation

@testable import AuditEngine

extension ReportFolder {
    /// Every line of the folder's `predictions.csv`, design by design (for tests on small folders:
    /// `card` and `diff` never hold them all).
    func allPredictionLines() throws -> [PredictionLine] {
        var lines: [PredictionLine] = []
        for block in predictionBlocks.values.sorted(by: { $0.start.offset < $1.start.offset }) {
            var reader = try PredictionBlock.Reader(block)
            while let line = try reader.next() { lines.append(line) }
        }
        return lines
    }
}
