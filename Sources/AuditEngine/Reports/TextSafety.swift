import Foundation

/// Control characters in user text, for every output format.
///
/// The audit-file loader refuses control characters in the text it reads, but labels also come
/// from the manifest and from report folders read back, so each writer makes the ones left
/// visible instead of passing them on: a NUL or an ESC in a label becomes U+FFFD (�) in
/// report.md, report.html, the charts and the CSVs, where it cannot truncate a C string, start
/// a terminal escape sequence or make an XML parser reject the SVG.
enum TextSafety {
    /// C0 controls (U+0000–U+001F), DEL and the C1 controls (U+0080–U+009F).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// `text` with every control character not in `keeping` replaced by U+FFFD.
    static func visibleControls(_ text: String, keeping: Set<Unicode.Scalar> = []) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && !keeping.contains($0) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(isControl(scalar) && !keeping.contains(scalar) ? "\u{FFFD}" : scalar)
        }
        return String(out)
    }
}
