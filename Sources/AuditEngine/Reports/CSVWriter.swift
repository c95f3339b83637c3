import Foundation

/// Builds RFC 4180 CSV text.
///
/// A field is quoted when it contains a comma, a double quote, CR or LF; quotes inside a
/// quoted field are doubled. Every record, the last included, ends with `\n`.
public struct CSVWriter: Sendable {
    /// The text written so far.
    public private(set) var text: String = ""

    public init() {}

    /// Appends one record.
    public mutating func writeRow(_ fields: [String]) {
        text += Self.line(fields)
    }

    /// One record as it appears in the file, with its line end.
    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\n"
    }

    /// A field as it appears in the file.
    public static func escape(_ field: String) -> String {
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
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
