import Foundation

@testable import CLIPEngine

/// Writes zip archives laid out as `torch.save` writes them (entries stored, data 64-byte
/// aligned), so that tests can build valid and hostile PyTorch checkpoints byte by byte.
struct TorchArchiveWriter {
    struct Entry {
        var name: String
        var data: [UInt8]
        /// Overrides for hostile archives.
        var method: UInt16 = 0
        var declaredSize: UInt32? = nil
        var crc: UInt32? = nil
    }

    var entries: [Entry] = []
    /// Write zip64 records (saturated classic fields, the 64-bit values in the zip64 extra
    /// field, end record and locator), as writers do past 4 GB.
    var zip64 = false

    mutating func add(_ name: String, _ data: [UInt8]) { entries.append(Entry(name: name, data: data)) }

    /// The archive's bytes: local headers (padded with an extra field so data starts 64-byte
    /// aligned), the central directory, the end record.
    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func u16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: UInt32, _ a: inout [UInt8]) { for i in 0..<4 { a.append(UInt8(v >> (8 * UInt32(i)) & 0xFF)) } }
        func u64(_ v: Int, _ a: inout [UInt8]) { for i in 0..<8 { a.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        for entry in entries {
            let name = Array(entry.name.utf8)
            let offset = out.count
            let crc = entry.crc ?? entry.data.withUnsafeBytes { CRC32.checksum($0) }
            let size = entry.declaredSize ?? UInt32(entry.data.count)
            var pad = (64 - (offset + 30 + name.count + 4) % 64) % 64
            if pad < 0 { pad += 64 }
            var local: [UInt8] = []
            u32(0x0403_4B50, &local); u16(20, &local); u16(0, &local); u16(Int(entry.method), &local)
            u16(0, &local); u16(0, &local); u32(crc, &local)
            u32(entry.method == 0 ? size : UInt32(entry.data.count), &local); u32(size, &local)
            u16(name.count, &local); u16(4 + pad, &local)
            local += name
            u16(0x4246, &local); u16(pad, &local); local += [UInt8](repeating: 0, count: pad)
            out += local
            out += entry.data
            u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(0, &central)
            u16(Int(entry.method), &central); u16(0, &central); u16(0, &central); u32(crc, &central)
            if zip64 {
                u32(0xFFFF_FFFF, &central); u32(0xFFFF_FFFF, &central)
                u16(name.count, &central); u16(28, &central); u16(0, &central); u16(0, &central); u16(0, &central)
                u32(0, &central); u32(0xFFFF_FFFF, &central)
                central += name
                u16(0x0001, &central); u16(24, &central)
                u64(Int(size), &central); u64(entry.method == 0 ? Int(size) : entry.data.count, &central); u64(offset, &central)
                continue
            }
            u32(entry.method == 0 ? size : UInt32(entry.data.count), &central); u32(size, &central)
            u16(name.count, &central); u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u32(0, &central); u32(UInt32(offset), &central)
            central += name
        }
        let directoryOffset = out.count
        out += central
        var end: [UInt8] = []
        if zip64 {
            let record = out.count
            u32(0x0606_4B50, &end); u64(44, &end); u16(45, &end); u16(45, &end); u32(0, &end); u32(0, &end)
            u64(entries.count, &end); u64(entries.count, &end); u64(central.count, &end); u64(directoryOffset, &end)
            u32(0x0706_4B50, &end); u32(0, &end); u64(record, &end); u32(1, &end)
            u32(0x0605_4B50, &end); u16(0, &end); u16(0, &end); u16(0xFFFF, &end); u16(0xFFFF, &end)
            u32(0xFFFF_FFFF, &end); u32(0xFFFF_FFFF, &end); u16(0, &end)
            return out + end
        }
        u32(0x0605_4B50, &end); u16(0, &end); u16(0, &end); u16(entries.count, &end); u16(entries.count, &end)
        u32(UInt32(central.count), &end); u32(UInt32(directoryOffset), &end); u16(0, &end)
        return out + end
    }

    /// Writes the archive to a new temporary file and returns its URL.
    func write(name: String = "pytorch_model.bin", in directory: URL? = nil) throws -> URL {
        let dir = try directory ?? TorchArchiveWriter.temporaryDirectory()
        let url = dir.appendingPathComponent(name)
        try Data(bytes()).write(to: url)
        return url
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-archive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Builds protocol-2 pickles the way `torch.save` writes a state dict.
struct PickleBuilder {
    var bytes: [UInt8] = [0x80, 0x02]

    mutating func op(_ b: UInt8) { bytes.append(b) }
    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        bytes.append(0x58)
        for i in 0..<4 { bytes.append(UInt8(u.count >> (8 * i) & 0xFF)) }
        bytes += u
    }
    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 { bytes += [0x4B, UInt8(v)]; return }
        bytes.append(0x8A); bytes.append(8)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63); bytes += Array("\(module)\n\(name)\n".utf8)
    }
    mutating func tuple(_ values: [Int]) {
        op(0x28); for v in values { int(v) }; op(0x74)
    }

    /// One tensor: `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`.
    mutating func tensor(storage key: String, type: String = "FloatStorage", count: Int, offset: Int, shape: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        op(0x28) // MARK (argument tuple)
        op(0x28); string("storage"); global("torch", type); string(key); string("cpu"); int(count); op(0x74)
        op(0x51) // BINPERSID
        int(offset); tuple(shape); tuple(stride); op(0x89)
        global("collections", "OrderedDict"); op(0x29); op(0x52)
        op(0x74); op(0x52) // TUPLE, REDUCE
    }

    /// A state dict `OrderedDict` of the given tensors; STOP.
    static func stateDict(
        _ tensors: [(name: String, storage: String, count: Int, offset: Int, shape: [Int], stride: [Int])],
        type: String = "FloatStorage"
    ) -> [UInt8] {
        var p = PickleBuilder()
        p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52)
        p.op(0x28)
        for t in tensors {
            p.string(t.name)
            p.tensor(storage: t.storage, type: type, count: t.count, offset: t.offset, shape: t.shape, stride: t.stride)
        }
        p.op(0x75) // SETITEMS
        p.op(0x2E)
        return p.bytes
    }
}

/// Little-endian F32 bytes.
func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

/// Writes the tensors of a safetensors file as a `torch.save` state dict (one F32 storage per
/// tensor, contiguous), the layout of a transformers `pytorch_model.bin`.
func convertToPyTorchArchive(_ source: SafeTensorsFile, to url: URL) throws {
    var writer = TorchArchiveWriter()
    var tensors: [(name: String, storage: String, count: Int, offset: Int, shape: [Int], stride: [Int])] = []
    for (index, name) in source.tensors.keys.sorted().enumerated() {
        let info = source.tensors[name]!
        guard info.dtype != .i64 else { continue }
        let values = try source.floats(info)
        var strides = [Int](repeating: 1, count: info.shape.count)
        for i in stride(from: info.shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * info.shape[i + 1] }
        tensors.append((name, "\(index)", values.count, 0, info.shape, strides))
        writer.add("archive/data/\(index)", float32Bytes(values))
    }
    writer.entries.insert(.init(name: "archive/data.pkl", data: PickleBuilder.stateDict(tensors)), at: 0)
    writer.add("archive/version", Array("3\n".utf8))
    try Data(writer.bytes()).write(to: url)
}
