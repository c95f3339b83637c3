import Foundation

/// The text clean-up OpenAI's `simple_tokenizer` does before splitting:
/// `whitespace_clean(basic_clean(text)).lower()`.
///
/// 1. `ftfy.fix_text` with its defaults but mojibake repair (see `FTFY`): HTML entities, C1
///    controls, ligatures, character width, curly quotes, line breaks, terminal escapes,
///    control characters, NFC. Mojibake repair is the one fix the contract exempts.
/// 2. Python `html.unescape` twice.
/// 3. `str.strip()` (Python `str.isspace`, which includes U+001C…U+001F).
/// 4. `regex.sub(r'\s+', ' ', text)` (the `regex` module's `\s`: the White_Space property) and
///    `strip()` again.
/// 5. `str.lower()`: full lowercase mappings plus the Final_Sigma rule for U+03A3.
enum TextCleaner {
    /// Changes whenever a prompt may clean to other text: 1 applied NFC only, 2 applies ftfy's
    /// default fixes but mojibake repair. Part of the text-embedding cache key.
    static let revision = 2

    /// Cleans `text` and returns its Unicode scalars.
    static func clean(_ text: String) -> [Unicode.Scalar] {
        var scalars = FTFY.fixText(Array(text.unicodeScalars))
        scalars = HTMLUnescape.unescape(HTMLUnescape.unescape(scalars))
        scalars = collapseWhitespace(strip(scalars[...]))
        return lowercase(strip(scalars[...]))
    }

    /// Python `str.isspace()` for one scalar (Unicode 14, as CPython 3.11 has it).
    @inline(__always)
    static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029,
            0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// The `regex` module's `\s` on str: the White_Space property (no U+001C…U+001F).
    @inline(__always)
    static func isRegexSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029,
            0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func strip(_ s: ArraySlice<Unicode.Scalar>) -> ArraySlice<Unicode.Scalar> {
        var lo = s.startIndex
        var hi = s.endIndex
        while lo < hi, isPythonSpace(s[lo]) { lo += 1 }
        while hi > lo, isPythonSpace(s[hi - 1]) { hi -= 1 }
        return s[lo..<hi]
    }

    static func collapseWhitespace(_ s: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var inSpace = false
        for c in s {
            if isRegexSpace(c) {
                if !inSpace { out.append(" ") }
                inSpace = true
            } else {
                out.append(c)
                inSpace = false
            }
        }
        return out
    }

    /// Python `str.lower()`.
    static func lowercase(_ s: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for i in s.indices {
            let c = s[i]
            if c.value < 0x80 {
                if c.value >= 0x41 && c.value <= 0x5A {
                    out.append(Unicode.Scalar(c.value + 0x20)!)
                } else {
                    out.append(c)
                }
            } else if c == "\u{03A3}" {
                out.append(isFinalSigma(s, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else if c.properties.changesWhenLowercased {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// CPython's `handle_capital_sigma`: `\p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased})`.
    private static func isFinalSigma(_ s: ArraySlice<Unicode.Scalar>, at i: Int) -> Bool {
        var j = i - 1
        while j >= s.startIndex, s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= s.startIndex, s[j].properties.isCased else { return false }
        j = i + 1
        while j < s.endIndex, s[j].properties.isCaseIgnorable { j += 1 }
        return j == s.endIndex || !s[j].properties.isCased
    }
}
