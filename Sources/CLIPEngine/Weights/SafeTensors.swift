import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error reading or writing a safetensors file: a code, the file, the tensor (when one is
/// concerned) and a message. Its description is one line that names all of them.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        public static let unreadable = Code(name: "unreadable")
        public static let malformedHeader = Code(name: "malformed header")
        public static let badTensorEntry = Code(name: "bad tensor entry")
        public static let unsupportedDType = Code(name: "unsupported dtype")
        public static let missingTensor = Code(name: "missing tensor")
        public static let shapeMismatch = Code(name: "shape mismatch")
        /// A tensor the model does not use (strict loading refuses it).
        public static let unexpectedTensor = Code(name: "unexpected tensor")
        public static let unwritable = Code(name: "unwritable")
    }

    public var code: Code
    public var file: String
    public var tensor: String?
    public var message: String

    public var description: String {
        // Reading names the file (its folder is the model's); writing names the path given.
        let name = code == .unwritable ? file : (file as NSString).lastPathComponent
        if let tensor { return "\(name): tensor \"\(tensor)\": \(message)" }
        return "\(name): \(message)"
    }
}

/// The element types of the safetensors format.
public enum TensorDType: String, Sendable, CaseIterable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", u16 = "U16", i16 = "I16", f16 = "F16", bf16 = "BF16"
    case u32 = "U32", i32 = "I32", f32 = "F32", u64 = "U64", i64 = "I64", f64 = "F64"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .u16, .i16, .f16, .bf16: return 2
        case .u32, .i32, .f32: return 4
        case .u64, .i64, .f64: return 8
        }
    }
}

/// Where one tensor lives in a safetensors file.
public struct TensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: TensorDType
    public var shape: [Int]
    /// Byte range within the data section (after the header).
    public var dataRange: Range<Int>
    /// The number of elements (the product of the shape; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
}

/// A safetensors file, memory-mapped read-only: tensors are read in place, never copied whole.
///
/// Layout: 8-byte little-endian header length N, N bytes of JSON
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data,
/// with offsets relative to the end of the header. Everything in the header is validated at open
/// time (offsets within the file, no overlaps, sizes matching shapes), so that a malformed file
/// gives an error that names it rather than a crash later.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file this was read from.
    public let url: URL
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// The `__metadata__` entries (string to string), if any.
    public let metadata: [String: String]

    private let base: UnsafeRawPointer
    private let mappedLength: Int
    private let dataOffset: Int

    /// The largest header this reader accepts: the format's own limit is 100 MB.
    static let maxHeaderLength = 100_000_000

    /// Opens and validates `url`.
    public init(url: URL) throws {
        self.url = url
        let path = url.path
        func fail(_ code: SafeTensorsError.Code, _ message: String, tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(code: code, file: path, tensor: tensor, message: message)
        }
        // A FIFO is refused without waiting for a writer (see FileKind.openRegular).
        let fd: Int32, fileSize: Int
        do { (fd, fileSize) = try FileKind.openRegular(url) } catch {
            throw fail(.unreadable, error.kind.map { "not a regular file (\($0))" } ?? "cannot open: \(error.reason)")
        }
        defer { close(fd) }
        guard fileSize >= 8 else { throw fail(.malformedHeader, "file is \(fileSize) bytes, too short for a safetensors header") }
        guard let mapped = mmap(nil, fileSize, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw fail(.unreadable, "cannot map: \(String(cString: strerror(errno)))")
        }
        let raw = UnsafeRawPointer(mapped)
        var ok = false
        defer { if !ok { munmap(mapped, fileSize) } }

        let headerLength64 = raw.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength64 <= UInt64(fileSize - 8) else {
            throw fail(.malformedHeader, "header length \(headerLength64) runs past the end of the file (\(fileSize) bytes)")
        }
        guard headerLength64 <= UInt64(Self.maxHeaderLength) else {
            throw fail(.malformedHeader, "header length \(headerLength64) exceeds the 100 MB limit")
        }
        let headerLength = Int(headerLength64)
        let headerData = Data(bytes: raw + 8, count: headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData, options: [])
        } catch {
            throw fail(.malformedHeader, "header is not valid JSON")
        }
        guard let object = json as? [String: Any] else { throw fail(.malformedHeader, "header is not a JSON object") }
        // JSONSerialization keeps one entry of a name written twice (the later), so a header
        // naming a tensor twice would load other bytes than a reader keeping the first.
        if let path = JSONDuplicateKeys.first(in: headerData) {
            if path.count == 1 {
                throw fail(.malformedHeader, "the header names this \(path[0] == "__metadata__" ? "key" : "tensor") twice", tensor: path[0])
            }
            throw fail(.badTensorEntry, "key \"\(path.dropFirst().joined(separator: "."))\" appears twice in its entry", tensor: path[0])
        }

        let dataSize = fileSize - 8 - headerLength
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let entries = value as? [String: Any] else { throw fail(.malformedHeader, "__metadata__ is not an object") }
                for (k, v) in entries {
                    guard let s = v as? String else { throw fail(.malformedHeader, "__metadata__ value for \"\(k)\" is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw fail(.badTensorEntry, "entry is not an object", tensor: name) }
            guard let dtypeName = entry["dtype"] as? String else { throw fail(.badTensorEntry, "missing dtype", tensor: name) }
            guard let dtype = TensorDType(rawValue: dtypeName) else {
                throw fail(.unsupportedDType, "unknown dtype \"\(dtypeName)\"", tensor: name)
            }
            guard let shapeValues = entry["shape"] as? [Any] else { throw fail(.badTensorEntry, "missing shape", tensor: name) }
            var shape: [Int] = []
            var count = 1
            for dim in shapeValues {
                guard let d = Self.integer(dim), d >= 0 else {
                    throw fail(.badTensorEntry, "shape \(shapeValues) has a dimension that is not a non-negative integer", tensor: name)
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataSize else {
                    throw fail(.badTensorEntry, "shape \(shapeValues.map { "\($0)" }) is larger than the file's data", tensor: name)
                }
                count = product
                shape.append(d)
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                let begin = Self.integer(offsets[0]), let end = Self.integer(offsets[1])
            else {
                throw fail(.badTensorEntry, "data_offsets is not a pair of integers", tensor: name)
            }
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw fail(
                    .badTensorEntry, "data_offsets [\(begin), \(end)] out of range (data section is \(dataSize) bytes)", tensor: name)
            }
            // count is at most the data's size (checked above); the product is checked anyway,
            // as every size read from a checkpoint is.
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, end - begin == bytes else {
                throw fail(
                    .badTensorEntry,
                    "data_offsets span \(end - begin) bytes but shape \(shape) of \(dtypeName) needs \(overflow ? "more than \(Int.max)" : "\(bytes)")",
                    tensor: name)
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
        }
        // Tensors must not share bytes: overlapping ranges mean a corrupt or hostile header.
        let sorted = tensors.values.filter { !$0.dataRange.isEmpty }.sorted { $0.dataRange.lowerBound < $1.dataRange.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.dataRange.lowerBound < a.dataRange.upperBound {
            throw fail(.badTensorEntry, "data_offsets overlap those of \"\(a.name)\"", tensor: b.name)
        }

        self.tensors = tensors
        self.metadata = metadata
        self.base = raw
        self.mappedLength = fileSize
        self.dataOffset = 8 + headerLength
        ok = true
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
    }

    private static func integer(_ value: Any) -> Int? {
        if let n = value as? NSNumber {
            // Reject booleans and fractions that JSONSerialization also reports as NSNumber.
            if String(cString: n.objCType) == "c" { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
            return n.intValue
        }
        return nil
    }

    /// The entry for `name`, or an error naming the file and tensor.
    public func info(_ name: String) throws -> TensorInfo {
        guard let info = tensors[name] else {
            throw SafeTensorsError(code: .missingTensor, file: url.path, tensor: name, message: "not found in the file")
        }
        return info
    }

    /// The entry for `name`, checked to have `shape`.
    public func info(_ name: String, shape: [Int]) throws -> TensorInfo {
        let info = try info(name)
        guard info.shape == shape else {
            throw SafeTensorsError(
                code: .shapeMismatch, file: url.path, tensor: name,
                message: "has shape \(info.shape), expected \(shape)")
        }
        return info
    }

    /// The raw bytes of a tensor, in place in the mapping (valid while `self` lives).
    public func rawBytes(_ info: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + dataOffset + info.dataRange.lowerBound, count: info.dataRange.count)
    }

    /// Gives back the resident pages wholly inside `bytes` (a part of this file's mapping) once
    /// they have been copied elsewhere (see ``FileKind/releaseMappedPages(_:mapping:length:)``).
    public func releasePages(_ bytes: UnsafeRawBufferPointer) {
        FileKind.releaseMappedPages(bytes, mapping: base, length: mappedLength)
    }

    /// The F32 data of a tensor in place, without a copy, when it is F32 and 4-byte aligned; else nil.
    public func float32InPlace(_ info: TensorInfo) -> UnsafeBufferPointer<Float>? {
        guard info.dtype == .f32 else { return nil }
        let bytes = rawBytes(info)
        guard let start = bytes.baseAddress, Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 else { return nil }
        return UnsafeBufferPointer(start: start.assumingMemoryBound(to: Float.self), count: info.count)
    }

    /// A tensor's values converted to Float (from F32, F16, BF16 or F64).
    public func floats(_ name: String) throws -> [Float] {
        try floats(info(name))
    }

    /// A tensor's values converted to Float (from F32, F16, BF16 or F64).
    public func floats(_ info: TensorInfo) throws -> [Float] {
        let bytes = rawBytes(info)
        let n = info.count
        switch info.dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: n) { out, count in
                for i in 0..<n {
                    out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                }
                count = n
            }
        case .f16:
            return [Float](unsafeUninitializedCapacity: n) { out, count in
                for i in 0..<n { out[i] = halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
                count = n
            }
        case .bf16:
            return [Float](unsafeUninitializedCapacity: n) { out, count in
                for i in 0..<n {
                    let h = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(h) << 16)
                }
                count = n
            }
        case .f64:
            return [Float](unsafeUninitializedCapacity: n) { out, count in
                for i in 0..<n {
                    out[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
                }
                count = n
            }
        default:
            throw SafeTensorsError(
                code: .unsupportedDType, file: url.path, tensor: info.name,
                message: "dtype \(info.dtype.rawValue) is not a floating-point type")
        }
    }

    /// A tensor's values as Int64 (from I64, I32, U8, I8, I16, U16, U32).
    public func integers(_ name: String) throws -> [Int64] {
        let info = try info(name)
        let bytes = rawBytes(info)
        let n = info.count
        switch info.dtype {
        case .i64: return (0..<n).map { Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        case .i32: return (0..<n).map { Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
        case .u32: return (0..<n).map { Int64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .i16: return (0..<n).map { Int64(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
        case .u16: return (0..<n).map { Int64(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .i8: return (0..<n).map { Int64(bytes.load(fromByteOffset: $0, as: Int8.self)) }
        case .u8: return (0..<n).map { Int64(bytes.load(fromByteOffset: $0, as: UInt8.self)) }
        default:
            throw SafeTensorsError(
                code: .unsupportedDType, file: url.path, tensor: name,
                message: "dtype \(info.dtype.rawValue) is not an integer type")
        }
    }
}

/// IEEE 754 half precision to single precision, exact (including subnormals, infinities, NaN).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: value = mantissa · 2^-24.
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
}

/// Writes tensors to a safetensors file (used by `clip-audit embed`). The file is written to a
/// temporary name and renamed, so it is whole or absent.
public struct SafeTensorsWriter {
    public struct Entry {
        public var name: String
        public var dtype: TensorDType
        public var shape: [Int]
        public var data: Data
        public init(name: String, dtype: TensorDType, shape: [Int], data: Data) {
            self.name = name; self.dtype = dtype; self.shape = shape; self.data = data
        }
        /// An F32 tensor from Float values.
        public static func float32(_ name: String, shape: [Int], _ values: [Float]) -> Entry {
            Entry(name: name, dtype: .f32, shape: shape, data: values.withUnsafeBufferPointer { Data(buffer: $0) })
        }
        /// An I64 tensor from integer values.
        public static func int64(_ name: String, shape: [Int], _ values: [Int64]) -> Entry {
            Entry(name: name, dtype: .i64, shape: shape, data: values.map { $0.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) })
        }
    }

    /// Serialises `entries` (in order) with optional `metadata`.
    public static func serialize(_ entries: [Entry], metadata: [String: String] = [:]) throws -> Data {
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let meta = metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(metadata[$0]!))" }.joined(separator: ",")
            parts.append("\"__metadata__\":{\(meta)}")
        }
        var offset = 0
        for e in entries {
            let count = e.shape.reduce(1, *)
            guard count * e.dtype.size == e.data.count else {
                throw SafeTensorsError(
                    code: .shapeMismatch, file: "<output>", tensor: e.name,
                    message: "\(e.data.count) bytes for shape \(e.shape) of \(e.dtype.rawValue)")
            }
            parts.append(
                "\(JSONText.quoted(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + e.data.count)]}"
            )
            offset += e.data.count
        }
        header += parts.joined(separator: ",") + "}"
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var out = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        for e in entries { out.append(e.data) }
        return out
    }

    /// Writes `entries` to `url` with `AtomicFile` (whole or not at all; an existing target
    /// must be a regular file). A symlink is written through, as a shell's `>` would: its target
    /// is replaced, not the link.
    public static func write(_ entries: [Entry], metadata: [String: String] = [:], to url: URL) throws {
        let data = try serialize(entries, metadata: metadata)
        do {
            try AtomicFile.write(data, to: try resolvingLinks(url))
        } catch let failure as AtomicFile.Failure {
            throw SafeTensorsError(code: .unwritable, file: url.path, tensor: nil, message: failure.message)
        }
    }

    /// `url` with symlinks followed to the file they name (which need not exist yet).
    private static func resolvingLinks(_ url: URL) throws -> URL {
        var current = url
        for _ in 0..<40 {
            guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: current.path) else { return current }
            current =
                destination.hasPrefix("/")
                ? URL(fileURLWithPath: destination)
                : current.deletingLastPathComponent().appendingPathComponent(destination)
        }
        throw SafeTensorsError(code: .unwritable, file: url.path, tensor: nil, message: "too many levels of symbolic links")
    }
}
