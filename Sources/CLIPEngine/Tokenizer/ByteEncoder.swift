/// GPT-2's `bytes_to_unicode`: a reversible map from the 256 byte values to printable
/// characters, so BPE symbols never contain whitespace or control characters.
enum ByteEncoder {
    /// `byteToScalar[b]` is the character byte `b` is written as in `vocab.json` / `merges.txt`.
    static let byteToScalar: [Unicode.Scalar] = {
        var printable: [UInt32] = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var table = [UInt32](repeating: 0, count: 256)
        for b in printable { table[Int(b)] = b }
        var next: UInt32 = 256
        for b in 0..<256 where !printable.contains(UInt32(b)) {
            printable.append(UInt32(b))
            table[b] = next
            next += 1
        }
        return table.map { Unicode.Scalar($0)! }
    }()
}
