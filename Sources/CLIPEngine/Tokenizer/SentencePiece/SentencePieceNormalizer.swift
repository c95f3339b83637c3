import Foundation

/// SentencePiece's normaliser (`normalizer.cc`), byte for byte: each step takes the longest
/// prefix that is a user-defined piece (kept as it is) or a rule of the precompiled character map
/// (replaced), else one UTF-8 character as it is; with `remove_extra_whitespaces` leading,
/// trailing and repeated spaces go; `add_dummy_prefix` puts one space in front; with
/// `escape_whitespaces` every space becomes U+2581 (▁).
struct SentencePieceNormalizer: Sendable {
    let charsMap: PrecompiledCharsMap?
    let addDummyPrefix: Bool
    let removeExtraWhitespaces: Bool
    let escapeWhitespaces: Bool
    let treatWhitespaceAsSuffix: Bool
    /// User-defined pieces, matched before the character map (longest first).
    let userDefined: PieceMatcher

    static let spaceSymbol: [UInt8] = Array("\u{2581}".utf8)

    /// The length of one UTF-8 character from its lead byte, as SentencePiece's `OneCharLen`
    /// (a stray continuation byte counts as one).
    @inline(__always)
    static func oneCharLength(_ lead: UInt8) -> Int {
        let table: [Int] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4]
        return table[Int(lead >> 4)]
    }

    /// `NormalizePrefix`: the normalised text of the longest prefix rule and the bytes it consumes.
    private func prefix(_ input: UnsafeBufferPointer<UInt8>) -> (replacement: ArraySlice<UInt8>, consumed: Int) {
        if let length = userDefined.longestMatch(input) {
            return (ArraySlice(input[0..<length]), length)
        }
        if let charsMap, let match = charsMap.longestMatch(input) {
            return (match.replacement, match.length)
        }
        // Swift strings are valid UTF-8, so the library's malformed-byte branch cannot arise.
        let length = min(input.count, Self.oneCharLength(input[0]))
        return (ArraySlice(input[0..<length]), length)
    }

    /// The normalised UTF-8 bytes of `text`.
    func normalize(_ text: [UInt8]) -> [UInt8] {
        text.withUnsafeBufferPointer { all -> [UInt8] in
            var start = 0
            func rest() -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: all[start...]) }
            if removeExtraWhitespaces {
                while start < all.count {
                    let p = prefix(rest())
                    guard p.replacement.elementsEqual([0x20]) else { break }
                    start += p.consumed
                }
            }
            guard start < all.count else { return [] }
            var out: [UInt8] = []
            out.reserveCapacity(3 * (all.count - start) + 3)
            let space: [UInt8] = escapeWhitespaces ? Self.spaceSymbol : [0x20]
            if !treatWhitespaceAsSuffix && addDummyPrefix { out += space }
            var previousIsSpace = removeExtraWhitespaces
            while start < all.count {
                let p = prefix(rest())
                var piece = p.replacement
                while previousIsSpace, piece.first == 0x20 { piece = piece.dropFirst() }
                if !piece.isEmpty {
                    for byte in piece {
                        if escapeWhitespaces && byte == 0x20 { out += Self.spaceSymbol } else { out.append(byte) }
                    }
                    previousIsSpace = piece.last == 0x20
                }
                start += p.consumed
                if !removeExtraWhitespaces { previousIsSpace = false }
            }
            if removeExtraWhitespaces {
                while out.count >= space.count, out[(out.count - space.count)...].elementsEqual(space) {
                    out.removeLast(space.count)
                }
            }
            if treatWhitespaceAsSuffix && addDummyPrefix { out += space }
            return out
        }
    }
}

/// The longest prefix of a byte string that is one of a set of strings (SentencePiece's
/// `PrefixMatcher`, over the user-defined pieces).
struct PieceMatcher: Sendable {
    private let pieces: Set<[UInt8]>
    private let longest: Int

    init(_ pieces: [String]) {
        self.pieces = Set(pieces.map { Array($0.utf8) })
        longest = self.pieces.map(\.count).max() ?? 0
    }

    var isEmpty: Bool { pieces.isEmpty }

    /// The length of the longest match at the start of `input`, or nil.
    func longestMatch(_ input: UnsafeBufferPointer<UInt8>) -> Int? {
        guard longest > 0 else { return nil }
        var length = min(longest, input.count)
        while length > 0 {
            if pieces.contains(Array(input[0..<length])) { return length }
            length -= 1
        }
        return nil
    }
}
