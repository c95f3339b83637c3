import Foundation

/// ftfy 6.3.1's `fix_text` with its default configuration, less `fix_encoding` (mojibake repair).
///
/// OpenAI's `simple_tokenizer` runs `ftfy.fix_text` on every prompt, and its default fixes change
/// ordinary text: a curly apostrophe pasted from a document (`don’t`), full-width punctuation
/// (`：（？`), Latin ligatures (`ﬁ`), C1 controls from Windows-1252 text, terminal colour escapes.
/// Without them a prompt gets other token ids than the reference model was trained with.
///
/// Followed from ftfy's own code (`fix_text`, `fix_and_explain`, `fixes.py`, `chardata.py`):
/// - the text is fixed in segments that end after each `\n` (at most 1,000,000 scalars each);
/// - `unescape_html="auto"`: once a segment contains `<`, HTML unescaping is off for it and for
///   every later segment (ftfy replaces its configuration inside the loop);
/// - each segment runs, until nothing changes: `unescape_html`, [`fix_encoding` — left out],
///   `fix_c1_controls`, `fix_latin_ligatures`, `fix_character_width`, `uncurl_quotes`,
///   `fix_line_breaks`, `fix_surrogates`, `remove_terminal_escapes`, `remove_control_chars`,
///   then NFC normalisation.
///
/// `restore_byte_a0`, `replace_lossy_sequences` and `decode_inconsistent_utf8` only act inside
/// `fix_encoding`, so they are left out with it. `fix_surrogates` has nothing to do: a Swift
/// string cannot hold an unpaired surrogate (a decoder already turned it into U+FFFD).
enum FTFY {
    /// ftfy's `max_decode_length` default.
    static let maxSegmentLength = 1_000_000

    /// `ftfy.fix_text(text, fix_encoding=False)`.
    static func fixText(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if text.allSatisfy(isInert) { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var unescapeHTML = true
        var pos = 0
        while pos < text.count {
            var end = text[pos...].firstIndex(of: "\n").map { $0 + 1 } ?? text.count
            if end - pos > maxSegmentLength { end = pos + maxSegmentLength }
            let segment = Array(text[pos..<end])
            if unescapeHTML, segment.contains("<") { unescapeHTML = false }
            out.append(contentsOf: fixSegment(segment, unescapeHTML: unescapeHTML))
            pos = end
        }
        return out
    }

    /// A scalar no fix can touch on its own (printable ASCII other than `&`, tab, newline);
    /// text made only of these is returned as it is, which is the common case for prompts.
    @inline(__always)
    private static func isInert(_ c: Unicode.Scalar) -> Bool {
        (c.value >= 0x20 && c.value < 0x7F && c != "&") || c == "\n" || c == "\t"
    }

    /// `fix_and_explain` on one segment: the fixes in ftfy's order, repeated to a fixed point.
    static func fixSegment(_ segment: [Unicode.Scalar], unescapeHTML: Bool) -> [Unicode.Scalar] {
        var text = segment
        while true {
            let original = text
            if unescapeHTML { text = unescapeEntities(text) }
            text = text.map(fixC1Control)
            text = translate(text, ligatures)
            text = translate(text, widthMap)
            text = text.map(uncurlQuote)
            text = fixLineBreaks(text)
            text = removeTerminalEscapes(text)
            text = text.filter { !isRemovedControl($0) }
            text = Array(String(String.UnicodeScalarView(text)).precomposedStringWithCanonicalMapping.unicodeScalars)
            if text == original { return text }
        }
    }

    // MARK: unescape_html

    /// `chardata.HTML_ENTITIES`: `&name;` for every HTML5 name ending in `;`, plus, for names
    /// that are all lower case, the upper-cased name (`&NTILDE;` → `Ñ`) when Python's
    /// `html.unescape` leaves that upper-cased form alone; its value is the character upper-cased.
    static let entities: [String: [Unicode.Scalar]] = {
        var table: [String: [Unicode.Scalar]] = [:]
        for (name, value) in HTMLUnescape.named where name.hasSuffix(";") {
            table["&" + name] = value
            guard name == name.lowercased() else { continue }
            let upper = "&" + name.uppercased()
            let upperScalars = Array(upper.unicodeScalars)
            guard HTMLUnescape.unescape(upperScalars) == upperScalars else { continue }
            table[upper] = value.flatMap { Array($0.properties.uppercaseMapping.unicodeScalars) }
        }
        return table
    }()

    /// `fixes.unescape_html`: replaces each match of `&#?[0-9A-Za-z]{1,24};` that is a known
    /// entity, or a numeric reference `html.unescape` turns into text without a `;`.
    static func unescapeEntities(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard s.contains("&") else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            guard s[i] == "&", let end = entityMatchEnd(s, at: i) else {
                out.append(s[i])
                i += 1
                continue
            }
            let match = Array(s[i..<end])
            if let value = entities[String(String.UnicodeScalarView(match))] {
                out.append(contentsOf: value)
            } else if match[1] == "#" {
                let unescaped = HTMLUnescape.unescape(match)
                out.append(contentsOf: unescaped.contains(";") ? match : unescaped)
            } else {
                out.append(contentsOf: match)
            }
            i = end
        }
        return out
    }

    /// End of a match of `&#?[0-9A-Za-z]{1,24};` starting at the `&` at `start`, or nil.
    private static func entityMatchEnd(_ s: [Unicode.Scalar], at start: Int) -> Int? {
        var j = start + 1
        if j < s.count, s[j] == "#" { j += 1 }
        let runStart = j
        while j < s.count, isASCIIAlphanumeric(s[j]) { j += 1 }
        let run = j - runStart
        guard run >= 1, run <= 24, j < s.count, s[j] == ";" else { return nil }
        return j + 1
    }

    @inline(__always)
    private static func isASCIIAlphanumeric(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return false
        }
    }

    // MARK: fix_c1_controls

    /// `sloppy-windows-1252` for bytes 0x80…0x9F: the Windows-1252 character, or the byte's own
    /// Latin-1 code point where Windows-1252 leaves it undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
    private static let windows1252C1: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x2C6, 0x2030, 0x160, 0x2039, 0x152, 0x8D, 0x17D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x2DC, 0x2122, 0x161, 0x203A, 0x153, 0x9D, 0x17E, 0x178
    ]

    @inline(__always)
    static func fixC1Control(_ c: Unicode.Scalar) -> Unicode.Scalar {
        guard (0x80...0x9F).contains(c.value) else { return c }
        return Unicode.Scalar(windows1252C1[Int(c.value - 0x80)])!
    }

    // MARK: fix_latin_ligatures, fix_character_width

    /// `chardata.LIGATURES`.
    static let ligatures: [Unicode.Scalar: [Unicode.Scalar]] = [
        "\u{0132}": ["I", "J"], "\u{0133}": ["i", "j"], "\u{0149}": ["\u{02BC}", "n"],
        "\u{01F1}": ["D", "Z"], "\u{01F2}": ["D", "z"], "\u{01F3}": ["d", "z"],
        "\u{01C4}": ["D", "\u{017D}"], "\u{01C5}": ["D", "\u{017E}"], "\u{01C6}": ["d", "\u{017E}"],
        "\u{01C7}": ["L", "J"], "\u{01C8}": ["L", "j"], "\u{01C9}": ["l", "j"],
        "\u{01CA}": ["N", "J"], "\u{01CB}": ["N", "j"], "\u{01CC}": ["n", "j"],
        "\u{FB00}": ["f", "f"], "\u{FB01}": ["f", "i"], "\u{FB02}": ["f", "l"],
        "\u{FB03}": ["f", "f", "i"], "\u{FB04}": ["f", "f", "l"], "\u{FB05}": ["\u{017F}", "t"],
        "\u{FB06}": ["s", "t"]
    ]

    /// `chardata.WIDTH_MAP`: U+3000 → space, and every U+FF01…U+FFEF whose NFKC form differs.
    static let widthMap: [Unicode.Scalar: [Unicode.Scalar]] = {
        var map: [Unicode.Scalar: [Unicode.Scalar]] = ["\u{3000}": [" "]]
        for value in UInt32(0xFF01)..<0xFFF0 {
            guard let c = Unicode.Scalar(value) else { continue }
            let nfkc = Array(String(Character(c)).precomposedStringWithCompatibilityMapping.unicodeScalars)
            if nfkc != [c] { map[c] = nfkc }
        }
        return map
    }()

    /// `str.translate` with a mapping of scalars to replacement sequences.
    private static func translate(_ s: [Unicode.Scalar], _ table: [Unicode.Scalar: [Unicode.Scalar]]) -> [Unicode.Scalar] {
        guard s.contains(where: { table[$0] != nil }) else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for c in s {
            if let replacement = table[c] { out.append(contentsOf: replacement) } else { out.append(c) }
        }
        return out
    }

    // MARK: uncurl_quotes, fix_line_breaks

    /// `SINGLE_QUOTE_RE` `[\u02bc\u2018-\u201b]` → `'`, `DOUBLE_QUOTE_RE` `[\u201c-\u201f]` → `"`.
    @inline(__always)
    static func uncurlQuote(_ c: Unicode.Scalar) -> Unicode.Scalar {
        switch c.value {
        case 0x02BC, 0x2018...0x201B: return "'"
        case 0x201C...0x201F: return "\""
        default: return c
        }
    }

    /// `\r\n`, then `\r`, U+2028, U+2029 and U+0085 each become `\n`.
    static func fixLineBreaks(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            switch s[i] {
            case "\r":
                out.append("\n")
                if i + 1 < s.count, s[i + 1] == "\n" { i += 1 }
            case "\u{2028}", "\u{2029}", "\u{85}":
                out.append("\n")
            default:
                out.append(s[i])
            }
            i += 1
        }
        return out
    }

    // MARK: remove_terminal_escapes, remove_control_chars

    /// Removes each match of `\033\[((?:\d|;)*)([a-zA-Z])`; Python's `\d` on str is any
    /// decimal digit (Nd), not only ASCII.
    static func removeTerminalEscapes(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard s.contains("\u{1B}") else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if s[i] == "\u{1B}", i + 1 < s.count, s[i + 1] == "[" {
                var j = i + 2
                while j < s.count, s[j] == ";" || s[j].properties.numericType == .decimal { j += 1 }
                if j < s.count, isASCIILetter(s[j]) {
                    i = j + 1
                    continue
                }
            }
            out.append(s[i])
            i += 1
        }
        return out
    }

    @inline(__always)
    private static func isASCIILetter(_ c: Unicode.Scalar) -> Bool {
        (0x41...0x5A).contains(c.value) || (0x61...0x7A).contains(c.value)
    }

    /// `chardata.CONTROL_CHARS`: C0 controls but tab, newline, form feed and carriage return;
    /// DEL; the deprecated format characters U+206A…U+206F; U+FEFF; U+FFF9…U+FFFC.
    @inline(__always)
    static func isRemovedControl(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC:
            return true
        default:
            return false
        }
    }
}
