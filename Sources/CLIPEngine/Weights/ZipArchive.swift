import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error reading a PyTorch checkpoint (its zip container or its pickle): the file and what is
/// wrong. Its description is one line naming both.
public struct PyTorchArchiveError: Error, CustomStringConvertible, Sendable {
    /// The file read (its path; the description shows the last component).
    public var file: String
    /// What is wrong.
    public var message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\((file as NSString).lastPathComponent): \(message)" }
}

/// A zip archive memory-mapped read-only, as `torch.save` and `torch.jit.save` write them: every
/// entry stored (uncompressed), so an entry's bytes are read in place in the mapping.
///
/// Everything the directory says is checked when the archive is opened, against the file's
/// size and against the other entries, before any entry is read: offsets and sizes inside the
/// file, local headers that agree with the central directory, no two entries with one name, no
/// two entries sharing bytes (the trick of "non-overlapping" zip bombs), no encryption.
/// Compressed entries are listed but never inflated: TorchScript deflates its `code/` and debug
/// files, which a weights reader has no use for, while the pickle and the tensor data are
/// always stored. Asking for a compressed entry's bytes is an error, so a small file can never
/// expand into gigabytes (a zip bomb).
final class ZipArchive: @unchecked Sendable {
    /// One stored entry: its name and where its bytes are in the file.
    struct Entry: Sendable, Equatable {
        var name: String
        /// Byte offset of the entry's data in the file.
        var dataOffset: Int
        /// The entry's size in bytes.
        var size: Int
        /// The CRC-32 the directory records for it.
        var crc32: UInt32
        /// The compression method (0: stored). A compressed entry is listed but never read.
        var method: Int = 0
    }

    /// The file this was read from.
    let url: URL
    /// Entries by name.
    let entries: [String: Entry]
    /// Entry names in directory order.
    let names: [String]

    private let base: UnsafeRawPointer
    private let mappedLength: Int

    /// The most entries accepted: a ViT-L checkpoint has a few hundred; a directory claiming
    /// millions is not a checkpoint.
    static let maxEntries = 1_000_000
    /// The most bytes an entry name may have.
    static let maxNameLength = 4096

    /// Opens `url` and validates its directory.
    init(url: URL) throws {
        self.url = url
        let path = url.path
        func fail(_ message: String) -> PyTorchArchiveError { PyTorchArchiveError(file: path, message: message) }

        // A FIFO is refused without waiting for a writer (see FileKind.openRegular).
        let fd: Int32, size: Int
        do { (fd, size) = try FileKind.openRegular(url) } catch {
            throw fail(error.kind.map { "not a regular file (\($0))" } ?? "cannot open: \(error.reason)")
        }
        defer { close(fd) }
        guard size >= 22 else { throw fail("file is \(size) bytes, too short for a zip archive (truncated?)") }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw fail("cannot map: \(String(cString: strerror(errno)))")
        }
        let raw = UnsafeRawPointer(mapped)
        var ok = false
        defer { if !ok { munmap(mapped, size) } }

        // Every read goes through these: `offset` and `offset + width` are checked against the file.
        func u16(_ offset: Int) -> Int { Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) }
        func u32(_ offset: Int) -> Int { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        func inside(_ offset: Int, _ count: Int) -> Bool { offset >= 0 && count >= 0 && offset <= size && count <= size - offset }
        /// A 64-bit size or offset as an Int within the file, or nil.
        func fileOffset(_ value: UInt64) -> Int? { value <= UInt64(size) ? Int(value) : nil }

        // The end-of-central-directory record: the last signature within the final 64 KiB + 22
        // bytes whose comment length reaches exactly to the end of the file.
        var eocd = -1
        var scan = size - 22
        let lowest = max(0, size - 22 - 0xFFFF)
        while scan >= lowest {
            if u32(scan) == 0x0605_4B50, scan + 22 + u16(scan + 20) == size { eocd = scan; break }
            scan -= 1
        }
        guard eocd >= 0 else {
            // torch.save before PyTorch 1.6 wrote a bare pickle (protocol 2: 0x80 0x02), not a zip.
            if raw.load(as: UInt8.self) == 0x80 {
                throw fail(
                    "a legacy torch.save file (a bare pickle, PyTorch before 1.6), not a zip archive: re-save it with a current PyTorch, or use safetensors"
                )
            }
            throw fail("no zip end-of-directory record (not a zip archive, or truncated)")
        }
        guard u16(eocd + 4) == 0, u16(eocd + 6) == 0 else { throw fail("multi-disk zip archives are not supported") }
        var entryCount = u16(eocd + 10)
        var directorySize = u32(eocd + 12)
        var directoryOffset = u32(eocd + 16)
        // Zip64: the classic fields are saturated and the real values are in the zip64 record,
        // found through the locator just before the end record.
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            let locator = eocd - 20
            guard locator >= 0, u32(locator) == 0x0706_4B50 else {
                throw fail("zip64 end-of-directory locator missing (truncated or damaged archive)")
            }
            guard let record = fileOffset(u64(locator + 8)), inside(record, 56), u32(record) == 0x0606_4B50 else {
                throw fail("zip64 end-of-directory record out of range or damaged")
            }
            guard let count = fileOffset(u64(record + 32)), let dirSize = fileOffset(u64(record + 40)),
                let dirOffset = fileOffset(u64(record + 48))
            else {
                throw fail("zip64 directory size or offset runs past the end of the file (\(size) bytes)")
            }
            entryCount = count
            directorySize = dirSize
            directoryOffset = dirOffset
        }
        guard entryCount <= Self.maxEntries else {
            throw fail("the zip directory claims \(entryCount) entries (at most \(Self.maxEntries))")
        }
        guard inside(directoryOffset, directorySize), directoryOffset + directorySize <= eocd else {
            throw fail(
                "the zip directory (offset \(directoryOffset), \(directorySize) bytes) runs past the end of the file (\(size) bytes; truncated?)"
            )
        }

        var entries: [String: Entry] = [:]
        var names: [String] = []
        var cursor = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for index in 0..<entryCount {
            guard cursor + 46 <= directoryEnd, u32(cursor) == 0x0201_4B50 else {
                throw fail("zip directory entry \(index) is damaged or outside the directory")
            }
            let flags = u16(cursor + 8)
            let method = u16(cursor + 10)
            let crc = UInt32(u32(cursor + 16))
            var compressed = UInt64(u32(cursor + 20))
            var uncompressed = UInt64(u32(cursor + 24))
            let nameLength = u16(cursor + 28), extraLength = u16(cursor + 30), commentLength = u16(cursor + 32)
            var localOffset = UInt64(u32(cursor + 42))
            let variable = cursor + 46
            guard variable + nameLength + extraLength + commentLength <= directoryEnd else {
                throw fail("zip directory entry \(index) runs past the end of the directory")
            }
            guard nameLength <= Self.maxNameLength,
                let name = String(bytes: UnsafeRawBufferPointer(start: raw + variable, count: nameLength), encoding: .utf8)
            else {
                throw fail("zip directory entry \(index) has a name that is not UTF-8")
            }
            guard !name.isEmpty else { throw fail("zip directory entry \(index) has an empty name") }
            // Zip64 extra field (0x0001): the 64-bit values of the saturated fields, in order.
            var extra = variable + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra), length = u16(extra + 2)
                guard extra + 4 + length <= extraEnd else { throw fail("entry \"\(name)\": damaged extra field in the zip directory") }
                if id == 0x0001 {
                    var field = extra + 4
                    func next() throws -> UInt64 {
                        guard field + 8 <= extra + 4 + length else { throw fail("entry \"\(name)\": zip64 extra field is too short") }
                        defer { field += 8 }
                        return u64(field)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                }
                extra += 4 + length
            }
            guard flags & 0x41 == 0 else { throw fail("entry \"\(name)\" is encrypted") }
            guard method == 0 || method == 8 else {
                throw fail("entry \"\(name)\" uses compression method \(method) (only stored and deflated entries are listed)")
            }
            guard method != 0 || compressed == uncompressed else {
                throw fail("entry \"\(name)\" is stored but records \(compressed) bytes stored and \(uncompressed) unpacked")
            }
            guard let local = fileOffset(localOffset), inside(local, 30), u32(local) == 0x0403_4B50 else {
                throw fail("entry \"\(name)\": its local header is outside the file or damaged (truncated?)")
            }
            let dataOffset = local + 30 + u16(local + 26) + u16(local + 28)
            // The bytes in the file: for a compressed entry, its compressed size (never inflated).
            guard let entrySize = fileOffset(compressed), inside(dataOffset, entrySize), dataOffset + entrySize <= directoryOffset else {
                throw fail("entry \"\(name)\" (\(compressed) bytes) runs past the end of the file's data (\(size) bytes; truncated?)")
            }
            guard entries[name] == nil else { throw fail("duplicate entry \"\(name)\" in the zip directory") }
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: entrySize, crc32: crc, method: method)
            names.append(name)
            cursor = variable + nameLength + extraLength + commentLength
        }
        // No two entries may share bytes.
        let sorted = entries.values.filter { $0.size > 0 }.sorted { $0.dataOffset < $1.dataOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.dataOffset < a.dataOffset + a.size {
            throw fail("entries \"\(a.name)\" and \"\(b.name)\" overlap in the file")
        }

        self.entries = entries
        self.names = names
        self.base = raw
        self.mappedLength = size
        ok = true
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
    }

    /// The bytes of a stored `entry`, in place in the mapping (valid while `self` lives). A
    /// compressed entry is refused, never inflated.
    func bytes(_ entry: Entry) throws -> UnsafeRawBufferPointer {
        guard entry.method == 0 else {
            throw PyTorchArchiveError(
                file: url.path,
                message:
                    "entry \"\(entry.name)\" is compressed (method \(entry.method)); PyTorch stores the pickle and the tensor data uncompressed, and compressed entries are never inflated"
            )
        }
        return UnsafeRawBufferPointer(start: base + entry.dataOffset, count: entry.size)
    }

    /// The bytes of `entry`, after checking them against the CRC-32 the directory records (for
    /// the small entries read whole, such as the pickle; a mismatch means a damaged file).
    func verifiedBytes(_ entry: Entry) throws -> UnsafeRawBufferPointer {
        let data = try bytes(entry)
        guard CRC32.checksum(data) == entry.crc32 else {
            throw PyTorchArchiveError(file: url.path, message: "entry \"\(entry.name)\" fails its CRC-32 check (damaged file)")
        }
        return data
    }

    /// Gives back the resident pages wholly inside `bytes` (a part of this mapping) once they
    /// have been copied elsewhere (see `SafeTensorsFile.releasePages`).
    func releasePages(_ bytes: UnsafeRawBufferPointer) {
        FileKind.releaseMappedPages(bytes, mapping: base, length: mappedLength)
    }
}

/// CRC-32 (IEEE 802.3, as zip uses).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for byte in bytes { crc = t[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
