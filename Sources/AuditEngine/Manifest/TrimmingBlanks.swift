/// Trimming of manifest values, on every field of every row.
extension StringProtocol {
    /// The text without leading and trailing blanks — tab, the Unicode space separators (category
    /// Zs) and U+200B, the members of Foundation's `CharacterSet.whitespaces` — trimmed scalar by
    /// scalar as `trimmingCharacters(in: .whitespaces)` does, with the same result. That call goes
    /// through NSString and was a quarter of the time of validating a large manifest; most values
    /// have no blank at either end and are returned as they are.
    var trimmingBlanks: String {
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last,
            first.isBlank || last.isBlank
        else { return String(self) }
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end && scalars[start].isBlank { start = scalars.index(after: start) }
        while end > start && scalars[scalars.index(before: end)].isBlank { end = scalars.index(before: end) }
        var trimmed = String.UnicodeScalarView()
        trimmed.append(contentsOf: scalars[start..<end])
        return String(trimmed)
    }
}

extension Unicode.Scalar {
    /// Tab, a space separator (Zs), or U+200B ZERO WIDTH SPACE (Zs in old Unicode, and still in
    /// Foundation's table): a member of `CharacterSet.whitespaces`. A test checks every scalar.
    var isBlank: Bool {
        value == 0x20 || value == 0x09 || value == 0x200B
            || (value >= 0x80 && properties.generalCategory == .spaceSeparator)
    }
}
