import Foundation

/// One design's rows of a report folder's `predictions.csv`: where they start and how many there
/// are. ``ReportFolder/read(_:)`` finds them while it checks the file; they are read again, a line
/// at a time, by ``PredictionJoin``.
struct PredictionBlock: Sendable {
    /// The `predictions.csv` file.
    var url: URL
    /// The folder's attributes, in the file's column order.
    var attributes: [String]
    var start: CSVStream.Position
    var count: Int

    /// The block's lines, one at a time.
    struct Reader {
        let stream: CSVStream
        let attributes: [String]
        var remaining: Int

        init(_ block: PredictionBlock) throws {
            stream = try CSVStream(block.url)
            stream.seek(to: block.start)
            attributes = block.attributes
            remaining = block.count
        }

        mutating func next() throws -> ReportFolder.PredictionLine? {
            guard remaining > 0, let record = try stream.next() else { return nil }
            remaining -= 1
            return ReportFolder.PredictionLine(fields: record.fields, attributes: attributes)
        }
    }
}
