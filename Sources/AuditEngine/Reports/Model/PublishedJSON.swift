import Foundation

/// A published figure as run.json keeps it: the groups and their values as two lists.
struct PublishedJSON: Codable {
    var design: String?
    var source: String
    var metric: String
    var attribute: String
    var groups: [String]
    var values: [Double]

    init(_ figure: PublishedFigure, design: String? = nil) {
        self.design = design
        source = figure.source
        metric = figure.metric.csvName
        attribute = figure.attribute
        groups = figure.values.map(\.group)
        values = figure.values.map(\.value)
    }

    /// The figure, or nil when it is not one (an unknown metric, lists of different lengths, a
    /// value outside [0, 1]).
    var figure: PublishedFigure? {
        guard let metric = Metric(csvName: metric), groups.count == values.count, values.allSatisfy({ (0...1).contains($0) }) else {
            return nil
        }
        return PublishedFigure(source: source, metric: metric, attribute: attribute, values: Array(zip(groups, values)))
    }
}
