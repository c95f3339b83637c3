import Foundation

/// SentencePiece's precompiled character map (`NormalizerSpec.precompiled_charsmap`): a
/// little-endian `uint32` size, a darts-clone double-array trie of that many bytes over UTF-8
/// source strings, then a blob of NUL-terminated replacement strings that the trie's values
/// index. This is how a model carries its normalisation rules (nmt_nfkc's NFKC and more) so that
/// the library needs no Unicode tables: looking up the longest source prefix is the whole rule.
struct PrecompiledCharsMap: Sendable {
    /// The double array's units.
    private let units: [UInt32]
    /// The replacement strings, NUL-terminated.
    private let replacements: [UInt8]

    /// Splits `blob` into the trie and the strings; nil for an empty map (no rules).
    init?(_ blob: [UInt8], file: URL) throws {
        guard !blob.isEmpty else { return nil }
        func fail(_ message: String) -> TokenizerError {
            TokenizerError(code: .malformedModel, file: file, message: "the precompiled character map is broken: \(message)")
        }
        guard blob.count > 4 else { throw fail("\(blob.count) bytes") }
        let size = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
        guard size < blob.count - 4 + 1, size % 4 == 0, size >= 4, 4 + size <= blob.count else {
            throw fail("its trie of \(size) bytes does not fit its \(blob.count)")
        }
        var units = [UInt32](repeating: 0, count: size / 4)
        for i in 0..<units.count {
            let o = 4 + 4 * i
            units[i] = UInt32(blob[o]) | UInt32(blob[o + 1]) << 8 | UInt32(blob[o + 2]) << 16 | UInt32(blob[o + 3]) << 24
        }
        self.units = units
        replacements = Array(blob[(4 + size)...])
    }

    // darts-clone's unit layout.
    @inline(__always) private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ u: UInt32) -> Int { Int(u & 0x7fff_ffff) }
    @inline(__always) private static func label(_ u: UInt32) -> UInt32 { u & (0x8000_0000 | 0xff) }
    @inline(__always) private static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }

    /// The longest rule matching a prefix of `input`: its length in bytes and its replacement,
    /// or nil when no rule matches (darts-clone's `commonPrefixSearch`, keeping the longest).
    func longestMatch(_ input: UnsafeBufferPointer<UInt8>) -> (length: Int, replacement: ArraySlice<UInt8>)? {
        var best: (length: Int, value: Int)?
        units.withUnsafeBufferPointer { array in
            var node = Self.offset(array[0])
            for i in 0..<input.count {
                let byte = input[i]
                node ^= Int(byte)
                guard node >= 0, node < array.count else { return }
                let unit = array[node]
                guard Self.label(unit) == UInt32(byte) else { return }
                node ^= Self.offset(unit)
                if Self.hasLeaf(unit) {
                    guard node >= 0, node < array.count else { return }
                    best = (i + 1, Self.value(array[node]))
                }
            }
        }
        guard let best else { return nil }
        // A value past the strings would be a broken map; treat it as no rule rather than trap.
        guard best.value < replacements.count else { return nil }
        let end = replacements[best.value...].firstIndex(of: 0) ?? replacements.endIndex
        return (best.length, replacements[best.value..<end])
    }
}
