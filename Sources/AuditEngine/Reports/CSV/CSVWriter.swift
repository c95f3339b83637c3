import Foundation

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
