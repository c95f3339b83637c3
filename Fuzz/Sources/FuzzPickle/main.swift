import CLIPEngine
import Foundation
import FuzzSupport

/// The PyTorch archive reader: the pickle VM (opcodes, lengths, memo, marks, the allowed
/// globals, tensor views over storages) and the zip directory under it. The first input byte
/// chooses: bit 0 clear wraps the rest as `archive/data.pkl` in a well-formed stored zip with
/// four 64-byte storages `archive/data/0…3` (bit 1 adds `constants.pkl`, making it a
/// TorchScript archive), so the fuzzer works on the pickle; bit 0 set takes the rest as the
/// whole file, so it works on the zip. Every tensor an accepted archive yields is then read,
/// which must stay inside the mapping.
// SwiftPM links a debug executable with `main` = `FuzzPickle_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzPickle_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    guard let mode = input.first else { return }
    let rest = UnsafeRawBufferPointer(rebasing: input[1...])
    let url: URL
    if mode & 1 == 1 {
        url = FuzzSupport.file("fuzz.bin", rest)
    } else {
        var entries: [(String, [UInt8])] = [("archive/data.pkl", Array(rest))]
        for key in 0..<4 { entries.append(("archive/data/\(key)", [UInt8](repeating: UInt8(key), count: 64))) }
        if mode & 2 == 2 { entries.append(("archive/constants.pkl", [0x80, 0x02, 0x29, 0x2E])) }
        let bytes = storedZip(entries)
        url = bytes.withUnsafeBytes { FuzzSupport.file("fuzz.bin", $0) }
    }
    guard let archive = try? PyTorchArchive(url: url) else { return }
    for name in archive.tensorNames {
        // Every tensor an accepted archive lists has a shape, and reading it gives that many values.
        guard let shape = archive.shape(of: name) else { preconditionFailure("\(name) is listed without a shape") }
        precondition(shape.allSatisfy { $0 >= 0 }, "\(name): negative dimension in \(shape)")
        if let values = try? archive.floats(name) {
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            precondition(!overflow && values.count == count, "\(name): \(values.count) values for shape \(shape)")
        }
    }
}

/// A zip of stored entries with correct CRCs (what torch.save writes, without the alignment).
func storedZip(_ entries: [(String, [UInt8])]) -> [UInt8] {
    func u16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    func u32(_ v: UInt32, _ a: inout [UInt8]) { for i in 0..<4 { a.append(UInt8(v >> (8 * UInt32(i)) & 0xFF)) } }
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }
    var out: [UInt8] = [], central: [UInt8] = []
    for (name, data) in entries {
        let n = Array(name.utf8), offset = out.count, crc = crc32(data)
        u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(0, &out); u16(0, &out); u16(0, &out)
        u32(crc, &out); u32(UInt32(data.count), &out); u32(UInt32(data.count), &out); u16(n.count, &out); u16(0, &out)
        out += n + data
        u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(0, &central); u16(0, &central)
        u16(0, &central); u16(0, &central); u32(crc, &central); u32(UInt32(data.count), &central)
        u32(UInt32(data.count), &central); u16(n.count, &central); u16(0, &central); u16(0, &central)
        u16(0, &central); u16(0, &central); u32(0, &central); u32(UInt32(offset), &central)
        central += n
    }
    let directory = out.count
    out += central
    u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(entries.count, &out); u16(entries.count, &out)
    u32(UInt32(central.count), &out); u32(UInt32(directory), &out); u16(0, &out)
    return out
}
