import Foundation

/// One cell of a report CSV, typed by its column: the column decides how the cell is written,
/// never the cell's content (a delta of `-0.0512` is a number; a group label `-1+2` is text).
public enum CSVCell: Sendable, Equatable {
    /// User text (design, class and attribute names, group labels, file names): written through
    /// ``CSVWriter/neutralise(_:)`` so a spreadsheet never reads it as a formula.
    case text(String)
    /// Written exactly as given: numbers from ``CSVNumber``, `true`/`false`, the tool's own
    /// keywords. Also how a test writes a deliberately damaged field.
    case verbatim(String)

    /// A number cell in the one CSV number format.
    public static func number(_ value: Double?) -> CSVCell { .verbatim(CSVNumber.format(value)) }
    public static func number(_ value: Int) -> CSVCell { .verbatim(CSVNumber.format(value)) }
    public static func number(_ value: Int?) -> CSVCell { .verbatim(CSVNumber.format(value)) }
    public static func number(_ value: Bool) -> CSVCell { .verbatim(CSVNumber.format(value)) }
}
