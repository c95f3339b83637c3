import Foundation

/// Control characters and invisible formatting characters in user text, for every output format.
///
/// The audit-file loader refuses both in the text it reads, but labels also come from the
/// manifest, from checkpoint folder names and from report folders read back, so each writer
/// makes the ones left visible instead of passing them on: a NUL, an ESC or a U+202E in a label
/// becomes U+FFFD (�) in report.md, report.html, the charts, the CSVs and the card files, where
/// it cannot truncate a C string, start a terminal escape sequence, make an XML parser reject
/// the SVG, or reorder the text around it so that one group's label displays as another's.
enum TextSafety {
    /// C0 controls (U+0000–U+001F), DEL and the C1 controls (U+0080–U+009F).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Invisible formatting characters: Unicode general category Cf (bidi embeddings, overrides,
    /// isolates and marks, zero-width spaces and joiners, the soft hyphen, the byte-order mark,
    /// tag characters). They draw nothing themselves but change how the text around them is
    /// shown: `Black\u{202E}etihW` displays as "BlackWhite".
    static func isInvisibleFormat(_ scalar: Unicode.Scalar) -> Bool {
        // U+00AD (soft hyphen) is the first Cf character; below it, none.
        scalar.value >= 0xAD && scalar.properties.generalCategory == .format
    }

    /// What the writers never pass on raw: ``isControl(_:)`` or ``isInvisibleFormat(_:)``.
    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        isControl(scalar) || isInvisibleFormat(scalar)
    }

    /// `text` with every control character not in `keeping`, and every invisible formatting
    /// character, replaced by U+FFFD.
    static func visibleControls(_ text: String, keeping: Set<Unicode.Scalar> = []) -> String {
        guard text.unicodeScalars.contains(where: { isHidden($0) && !keeping.contains($0) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(isHidden(scalar) && !keeping.contains(scalar) ? "\u{FFFD}" : scalar)
        }
        return String(out)
    }

    /// `text` with every invisible formatting character replaced by U+FFFD, control characters
    /// left to the format's own escapes (JSON's and YAML's `\u0000`).
    static func visibleFormatting(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isInvisibleFormat) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { out.append(isInvisibleFormat(scalar) ? "\u{FFFD}" : scalar) }
        return String(out)
    }
}
