/// Python's `str.lower()`, which SigLIP's `canonicalize_text` calls: each code point's full
/// lower-case mapping, except that a capital sigma (U+03A3) at the end of a word becomes the final
/// form ς (U+03C2). Swift's `lowercased()` maps Σ to σ everywhere, so "ΟΔΟΣ" would tokenize as
/// "οδοσ" where transformers sees "οδος".
///
/// The rule is CPython's (`handle_capital_sigma` in `unicodeobject.c`, Unicode's Final_Sigma
/// context): Σ is final when a cased character precedes it, skipping case-ignorable ones, and no
/// cased character follows it, again skipping case-ignorable ones.
func pythonLowercased(_ text: String) -> String {
    let scalars = Array(text.unicodeScalars)
    var out = String.UnicodeScalarView()
    out.reserveCapacity(scalars.count)
    for (i, scalar) in scalars.enumerated() {
        if scalar.value == 0x03A3 {
            out.append(isFinalSigma(scalars, at: i) ? "\u{03C2}" : "\u{03C3}")
        } else if scalar.properties.changesWhenLowercased {
            out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
        } else {
            out.append(scalar)
        }
    }
    return String(out)
}

private func isFinalSigma(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
    var j = index - 1
    while j >= 0 && scalars[j].properties.isCaseIgnorable { j -= 1 }
    guard j >= 0, scalars[j].properties.isCased else { return false }
    j = index + 1
    while j < scalars.count && scalars[j].properties.isCaseIgnorable { j += 1 }
    return j == scalars.count || !scalars[j].properties.isCased
}
