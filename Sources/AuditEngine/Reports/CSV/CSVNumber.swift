import Foundation

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
