/// Python's `html.unescape`, over Unicode scalars.
///
/// Mirrors CPython 3.11 `html/__init__.py`: the pattern
/// `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)`, numeric references with the
/// `_invalid_charrefs` / `_invalid_codepoints` rules (surrogates and values above U+10FFFF
/// become U+FFFD), and named references looked up in the full HTML5 table, falling back to the
/// longest known prefix of at least two characters (so `&ampx` → `&x`, `&copy2024` → `©2024`).
enum HTMLUnescape {
    /// name → replacement scalars, parsed once from the generated table.
    static let named: [String: [Unicode.Scalar]] = {
        var table: [String: [Unicode.Scalar]] = [:]
        table.reserveCapacity(2300)
        for line in HTMLEntities.namedTable.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let name = String(line[..<space])
            let scalars = line[line.index(after: space)...].split(separator: ",").compactMap {
                UInt32($0, radix: 16).flatMap(Unicode.Scalar.init)
            }
            table[name] = scalars
        }
        return table
    }()

    /// Length of the longest name in the table (the pattern allows 32 characters plus `;`).
    private static let maxNameLength = 32

    /// Applies `html.unescape` once.
    static func unescape(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard input.contains("&") else { return input }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(input.count)
        let n = input.count
        var i = 0
        while i < n {
            let c = input[i]
            guard c == "&", i + 1 < n else {
                out.append(c)
                i += 1
                continue
            }
            if let (replacement, end) = matchReference(input, at: i + 1) {
                out.append(contentsOf: replacement)
                i = end
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// Tries the charref pattern right after an `&` at `start`; returns the replacement and the
    /// index after the match, or nil when the pattern does not match there.
    private static func matchReference(_ s: [Unicode.Scalar], at start: Int) -> ([Unicode.Scalar], Int)? {
        let n = s.count
        if s[start] == "#" {
            var j = start + 1
            guard j < n else { return nil }
            var radix: UInt32 = 10
            if s[j] == "x" || s[j] == "X" {
                radix = 16
                j += 1
            }
            let digitsStart = j
            var value: UInt32 = 0
            var overflow = false
            while j < n, let d = digitValue(s[j], radix: radix) {
                if !overflow {
                    let (m, o1) = value.multipliedReportingOverflow(by: radix)
                    let (a, o2) = m.addingReportingOverflow(d)
                    if o1 || o2 { overflow = true } else { value = a }
                }
                j += 1
            }
            guard j > digitsStart else { return nil }
            if j < n, s[j] == ";" { j += 1 }
            return (numericReplacement(overflow ? UInt32.max : value), j)
        }
        // Named: [^\t\n\f <&#;]{1,32};?
        var j = start
        while j < n, j - start < maxNameLength, !isNameStop(s[j]) { j += 1 }
        guard j > start else { return nil }
        if j < n, s[j] == ";" { j += 1 }
        let body = Array(s[start..<j])
        if let replacement = named[String(String.UnicodeScalarView(body))] {
            return (replacement, j)
        }
        // Longest prefix s[:x] for x in len-1 ... 2.
        var x = body.count - 1
        while x >= 2 {
            if let replacement = named[String(String.UnicodeScalarView(body[0..<x]))] {
                return (replacement + body[x...], j)
            }
            x -= 1
        }
        return (["&"] + body, j)
    }

    private static func isNameStop(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "\t", "\n", "\u{0C}", " ", "<", "&", "#", ";": return true
        default: return false
        }
    }

    private static func digitValue(_ c: Unicode.Scalar, radix: UInt32) -> UInt32? {
        let v = c.value
        if v >= 0x30 && v <= 0x39 { return v - 0x30 }
        guard radix == 16 else { return nil }
        if v >= 0x61 && v <= 0x66 { return v - 0x61 + 10 }
        if v >= 0x41 && v <= 0x46 { return v - 0x41 + 10 }
        return nil
    }

    private static func numericReplacement(_ num: UInt32) -> [Unicode.Scalar] {
        if let fixed = HTMLEntities.invalidCharrefs[num] {
            return [Unicode.Scalar(fixed)!]
        }
        if (0xD800...0xDFFF).contains(num) || num > 0x10FFFF {
            return ["\u{FFFD}"]
        }
        if HTMLEntities.invalidCodepoints.contains(num) { return [] }
        return [Unicode.Scalar(num)!]
    }
}
