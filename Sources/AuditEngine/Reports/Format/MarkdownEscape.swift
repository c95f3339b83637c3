import Foundation

/// The one way user text enters the Markdown the tool writes (report.md, diff.md, the card's
/// fairness.md): audit and design names, class, harm-category and attribute names, group labels
/// from the manifest, published sources, file names and skip reasons.
///
/// report.md is rendered as HTML by GitHub, GitLab and most viewers, so text must not be able
/// to open a tag or comment (`<script>`, `<img onerror=…>`, `<!--`), end a table cell (`|`),
/// start emphasis, code, a link or an image, or break a line. ``MarkdownHTML`` (report.html)
/// reads these escapes back, so both renderings show the original text.
///
/// The escape set is chosen so that ordinary names are written as they are, keeping reports
/// byte-identical for them: `<`, `>` and `&` become entities (an HTML-passing renderer that
/// ignored backslash escapes would still show text, not a tag); `\`, `|`, `` ` ``, `*`, `[`,
/// `]` and `~` get a backslash; `_` gets one only where it could open or close emphasis, i.e.
/// not between two letters or digits (CommonMark never reads an intraword `_` as emphasis, so
/// `Latino_Hispanic` stays as it is); line breaks and tabs become spaces; control characters
/// and invisible formatting characters (bidi overrides, zero-width spaces) become U+FFFD; the `:` of
/// `://` and the `.` of `www.` get a backslash, so a URL in a label is not turned into a link (GFM's
/// autolinks). Bare e-mail addresses are still linked (`mailto:`, showing the address itself):
/// GitHub finds them after escapes are read, so no escape that renders the same text stops it.
enum MarkdownEscape {
    /// Text within a line: a table cell, a heading, part of a sentence.
    static func text(_ text: String) -> String {
        let visible = TextSafety.visibleControls(text, keeping: ["\t", "\n", "\r"])
        let scalars = Array(visible.unicodeScalars)
        guard scalars.contains(where: needsWork) else { return visible }
        var out = String.UnicodeScalarView()
        for (i, scalar) in scalars.enumerated() {
            switch scalar {
            case "\r" where i + 1 < scalars.count && scalars[i + 1] == "\n": continue
            case "\n", "\r", "\t": out.append(" ")
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\\", "|", "`", "*", "[", "]", "~":
                out.append("\\"); out.append(scalar)
            case ":" where i + 2 < scalars.count && scalars[i + 1] == "/" && scalars[i + 2] == "/",
                "." where i >= 3 && String(String.UnicodeScalarView(scalars[(i - 3)..<i])).lowercased() == "www":
                // GitHub's autolinks start at `http://`, `https://`, `ftp://` and `www.`, found in
                // the source before escapes are read; an escaped `:` or `.` shows as itself, so a
                // label `www.evil.example` stays text instead of becoming a link.
                out.append("\\"); out.append(scalar)
            case "_":
                let intraword = i > 0 && i + 1 < scalars.count && isWordCharacter(scalars[i - 1]) && isWordCharacter(scalars[i + 1])
                if !intraword { out.append("\\") }
                out.append(scalar)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Free text that forms its own lines (the audit's description): each line escaped as
    /// ``text(_:)``, with its leading spaces dropped (four would start a code block) and a
    /// backslash before a first character that would make the line a heading, list item, quote,
    /// rule or setext underline. Blank lines still separate paragraphs.
    static func paragraph(_ text: String) -> String {
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return normalised.components(separatedBy: "\n").map { line -> String in
            var escaped = Self.text(String(line.drop { $0 == " " || $0 == "\t" }))
            if let first = escaped.unicodeScalars.first, ["#", "-", "+", "=", "!"].contains(first) {
                escaped = "\\" + escaped
            } else if let marker = escaped.unicodeScalars.firstIndex(where: { !("0"..."9").contains($0) }),
                marker != escaped.unicodeScalars.startIndex, [".", ")"].contains(escaped.unicodeScalars[marker])
            {
                // `1. ` or `1) ` would start an ordered list.
                escaped.unicodeScalars.insert("\\", at: marker)
            }
            return escaped
        }.joined(separator: "\n")
    }

    /// A name shown as code (`` `gender` ``). Text a code span cannot hold safely (a backtick,
    /// `<`, `>`, `&`, a control character or line break, spaces at either end) is written as
    /// escaped plain text instead. In a table cell a `|` is escaped (`\|`, which GFM reads as a
    /// literal bar even inside code), elsewhere it is literal.
    static func code(_ text: String, inTable: Bool = false) -> String {
        let unsafe =
            text.isEmpty || text.first == " " || text.last == " "
            || text.unicodeScalars.contains { $0 == "`" || $0 == "<" || $0 == ">" || $0 == "&" || TextSafety.isHidden($0) }
        if unsafe { return Self.text(text) }
        return "`" + (inTable ? text.replacingOccurrences(of: "|", with: "\\|") : text) + "`"
    }

    /// An image's alt text: brackets become parentheses (a `]` would end it early), then escaped.
    static func alt(_ text: String) -> String {
        Self.text(text.replacingOccurrences(of: "[", with: "(").replacingOccurrences(of: "]", with: ")"))
    }

    private static func needsWork(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\n", "\r", "\t", "&", "<", ">", "\\", "|", "`", "*", "[", "]", "~", "_", ":", ".": return true
        default: return false
        }
    }

    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }
}
