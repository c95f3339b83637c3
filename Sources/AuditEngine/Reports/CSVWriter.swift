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

/// Builds RFC 4180 CSV text.
///
/// A field is quoted when it contains a comma, a double quote, CR or LF; quotes inside a
/// quoted field are doubled. Every record, the last included, ends with `\n`. Rows given as
/// plain strings are all text cells (neutralised, see ``neutralise(_:)``): text is the safe
/// default, and number columns say so (``CSVCell/verbatim(_:)``, `CSVCell.number`).
public struct CSVWriter: Sendable {
    /// The text written so far.
    public private(set) var text: String = ""

    public init() {}

    /// Appends one record of text cells.
    public mutating func writeRow(_ fields: [String]) {
        text += Self.line(fields)
    }

    /// Appends one record of typed cells.
    public mutating func writeRow(_ cells: [CSVCell]) {
        text += Self.line(cells)
    }

    /// One record of text cells as it appears in the file, with its line end.
    public static func line(_ fields: [String]) -> String {
        line(fields.map(CSVCell.text))
    }

    /// One record as it appears in the file, with its line end.
    public static func line(_ cells: [CSVCell]) -> String {
        cells.map { cell in
            switch cell {
            case .text(let s): return escape(neutralise(s))
            case .verbatim(let s): return escape(s)
            }
        }.joined(separator: ",") + "\n"
    }

    /// A field as it appears in the file.
    public static func escape(_ field: String) -> String {
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as
    /// a formula when they start it (OWASP "CSV injection": `=`, `+`, `-`, `@`, TAB, CR; LF as
    /// well, which some import paths strip), and the quote the neutraliser itself adds.
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "\n", "'"]

    /// A text cell made safe to open in a spreadsheet: a cell starting with one of
    /// ``formulaStarts`` gets a leading `'` (which spreadsheets take as "this is text" and do not
    /// show), and control characters other than TAB, LF and CR become U+FFFD, visibly, as do
    /// invisible formatting characters (a U+202E would make a spreadsheet show one group's label
    /// as another's). Like the control characters, they are not restored when a folder is read
    /// back: `card` and `diff` see the U+FFFD.
    ///
    /// The rule inverts exactly (``restore(_:)`` removes one leading `'`): a label that already
    /// starts with `'` gets a second one, so reading a report folder back gives the label the
    /// manifest had, whatever it starts with.
    public static func neutralise(_ text: String) -> String {
        let visible = TextSafety.visibleControls(text, keeping: ["\t", "\n", "\r"])
        guard let first = visible.unicodeScalars.first, formulaStarts.contains(first) else { return visible }
        return "'" + visible
    }

    /// A text cell as ``neutralise(_:)`` wrote it, back to the text: one leading `'` removed.
    public static func restore(_ field: String) -> String {
        var scalars = field.unicodeScalars
        if scalars.first == "'" { scalars.removeFirst() }
        return String(scalars)
    }
}

/// The one number format of every CSV the tool writes.
///
/// Integers are written as integers. Doubles are written with `%.6g` (six significant digits,
/// C locale, trailing zeros dropped: `0.333333`, `1`, `1.5e-07`); −0 is written `0`.
/// `nil`, NaN and ±∞ are written as an empty field.
public enum CSVNumber {
    public static func format(_ value: Int) -> String { String(value) }

    public static func format(_ value: Int?) -> String { value.map(String.init) ?? "" }

    public static func format(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        if value == 0 { return "0" }
        return String(format: "%.6g", value)
    }

    /// Booleans as `true` / `false`.
    public static func format(_ value: Bool) -> String { value ? "true" : "false" }
}
