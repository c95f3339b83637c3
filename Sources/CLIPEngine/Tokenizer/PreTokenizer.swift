/// Splits cleaned text into pieces exactly as OpenAI's pattern does with the `regex` module:
///
///     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
///
/// compiled with `IGNORECASE` and applied with `findall`. A hand-written scanner over Unicode
/// scalars: at each position the alternatives are tried in pattern order; a position where none
/// matches (whitespace) is skipped. Letters are general category L*, numbers N*, each number
/// scalar is its own piece.
///
/// Two quirks of the `regex` module are mirrored:
/// - with IGNORECASE, `s` also matches U+017F LATIN SMALL LETTER LONG S (its simple case fold),
///   so `'ſ` is a contraction piece (uppercase ASCII is already lowercased before splitting);
/// - U+0345 COMBINING GREEK YPOGEGRAMMENI (which case-folds to a letter) matches no alternative
///   and is dropped like whitespace.
enum PreTokenizer {
    /// A piece of the input: a half-open range of scalar offsets.
    typealias Piece = Range<Int>

    static func split(_ s: [Unicode.Scalar]) -> [Piece] {
        var pieces: [Piece] = []
        let n = s.count
        var i = 0
        while i < n {
            let c = s[i]
            // <|startoftext|> and <|endoftext|>
            if c == "<" {
                if let end = matchLiteral(s, at: i, startOfText) ?? matchLiteral(s, at: i, endOfText) {
                    pieces.append(i..<end)
                    i = end
                    continue
                }
            }
            // 's 't 're 've 'm 'll 'd
            if c == "'", let end = matchContraction(s, at: i) {
                pieces.append(i..<end)
                i = end
                continue
            }
            switch classify(c) {
            case .letter:
                var j = i + 1
                while j < n, classify(s[j]) == .letter { j += 1 }
                pieces.append(i..<j)
                i = j
            case .number:
                pieces.append(i..<(i + 1))
                i += 1
            case .other:
                var j = i + 1
                while j < n, classify(s[j]) == .other { j += 1 }
                pieces.append(i..<j)
                i = j
            case .space:
                i += 1
            }
        }
        return pieces
    }

    enum Class { case letter, number, other, space }

    @inline(__always)
    static func classify(_ c: Unicode.Scalar) -> Class {
        let v = c.value
        if v < 0x80 {
            switch v {
            case 0x61...0x7A, 0x41...0x5A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        if TextCleaner.isRegexSpace(c) || v == 0x345 { return .space }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    private static let startOfText: [Unicode.Scalar] = Array("<|startoftext|>".unicodeScalars)
    private static let endOfText: [Unicode.Scalar] = Array("<|endoftext|>".unicodeScalars)

    /// Case-insensitive (simple case folding) match of a lowercase ASCII literal.
    private static func matchLiteral(_ s: [Unicode.Scalar], at i: Int, _ literal: [Unicode.Scalar]) -> Int? {
        guard i + literal.count <= s.count else { return nil }
        for k in 0..<literal.count where !foldEquals(s[i + k], literal[k]) { return nil }
        return i + literal.count
    }

    private static func matchContraction(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        guard i + 1 < s.count else { return nil }
        let a = s[i + 1]
        for single: Unicode.Scalar in ["s", "t", "m", "d"] where foldEquals(a, single) { return i + 2 }
        guard i + 2 < s.count else { return nil }
        let b = s[i + 2]
        if foldEquals(a, "r") && foldEquals(b, "e") { return i + 3 }
        if foldEquals(a, "v") && foldEquals(b, "e") { return i + 3 }
        if foldEquals(a, "l") && foldEquals(b, "l") { return i + 3 }
        return nil
    }

    /// Whether `c` matches the lowercase ASCII `literal` under the `regex` module's IGNORECASE.
    @inline(__always)
    private static func foldEquals(_ c: Unicode.Scalar, _ literal: Unicode.Scalar) -> Bool {
        if c == literal { return true }
        let v = c.value, l = literal.value
        if l >= 0x61 && l <= 0x7A && v == l - 0x20 { return true }
        if l == 0x73 && v == 0x17F { return true } // ſ folds to s
        if l == 0x6B && v == 0x212A { return true } // KELVIN SIGN folds to k
        return false
    }
}
