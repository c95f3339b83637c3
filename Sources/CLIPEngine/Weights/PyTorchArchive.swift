import Foundation

/// A file of named weight tensors: what the network's loader reads from, whatever the format.
protocol TensorSource: AnyObject, Sendable {
    /// The file the tensors come from (errors name it).
    var url: URL { get }
    /// The names of every tensor.
    var tensorNames: [String] { get }
    /// The shape of a tensor, or nil when there is none of that name.
    func tensorShape(_ name: String) -> [Int]?
    /// The element type of a tensor, or nil when there is none of that name.
    func tensorDType(_ name: String) -> TensorDType?
    /// A tensor's F32 values in place in the file's mapping, when it is F32, contiguous and
    /// 4-byte aligned; else nil (its values are then converted by `floatValues`).
    func float32InPlace(_ name: String) -> UnsafeBufferPointer<Float>?
    /// A tensor's values as Float, row-major (from F32, F16, BF16 or F64).
    func floatValues(_ name: String) throws -> [Float]
    /// Gives back the resident pages wholly inside `bytes` once they are copied elsewhere.
    func releasePages(_ bytes: UnsafeRawBufferPointer)
}

extension SafeTensorsFile: TensorSource {
    var tensorNames: [String] { Array(tensors.keys) }
    func tensorShape(_ name: String) -> [Int]? { tensors[name]?.shape }
    func tensorDType(_ name: String) -> TensorDType? { tensors[name]?.dtype }
    func float32InPlace(_ name: String) -> UnsafeBufferPointer<Float>? { tensors[name].flatMap(float32InPlace) }
    func floatValues(_ name: String) throws -> [Float] { try floats(name) }
}

/// A PyTorch checkpoint archive, read like `torch.load(weights_only=True)` without running
/// anything from it: a `torch.save` zip (`pytorch_model.bin`, `open_clip_pytorch_model.bin`)
/// holding a state dict, or a TorchScript archive (OpenAI's `ViT-B-16.pt`) whose module
/// objects hold the tensors, walked into state-dict names (`visual.conv1.weight`, ...).
///
/// The zip is memory-mapped and its entries are stored, so an F32 tensor that is contiguous
/// and aligned (all of them, in files PyTorch wrote) is used in place, as a safetensors file's
/// would be. Tensors are views of storages (`data/N` entries) with any offset and strides; each
/// view is checked to lie inside its storage, and each storage inside its entry, when the
/// pickle is read.
public final class PyTorchArchive: @unchecked Sendable, TensorSource {
    /// What the archive holds.
    public enum Kind: String, Sendable {
        /// `torch.save` of a state dict (or of a dict with a `state_dict` entry).
        case stateDict = "torch.save state dict"
        /// `torch.jit.save` of a module (TorchScript).
        case torchScript = "TorchScript archive"
    }

    public let url: URL
    public let kind: Kind
    /// For TorchScript: the root module's class (`__torch__.clip.model.CLIP`...), else nil.
    public let rootClass: String?
    private let zip: ZipArchive
    private let tensors: [String: PickleTensor]
    private let storageEntries: [String: ZipArchive.Entry]

    /// The largest pickle read (OpenAI's ViT-L/14 `data.pkl` is well under 1 MB).
    static let maxPickleBytes = 64 << 20
    /// The deepest module nesting walked in a TorchScript archive.
    static let maxModuleDepth = 64

    /// Opens and reads `url`; every problem is one line naming the file.
    public init(url: URL) throws {
        self.url = url
        let path = url.path
        func fail(_ message: String) -> PyTorchArchiveError { PyTorchArchiveError(file: path, message: message) }
        let zip = try ZipArchive(url: url)
        self.zip = zip

        // The pickle is `<prefix>/data.pkl` under one top-level folder whose name is arbitrary.
        let pickles = zip.names.filter { name in
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl" && !parts[0].isEmpty
        }
        guard pickles.count == 1 else {
            throw fail(
                pickles.isEmpty
                    ? "no */data.pkl entry: not a PyTorch archive" : "\(pickles.count) */data.pkl entries: not one PyTorch archive")
        }
        let prefix = String(pickles[0].dropLast("data.pkl".count))
        let isTorchScript = zip.entries[prefix + "constants.pkl"] != nil || zip.names.contains { $0.hasPrefix(prefix + "code/") }
        kind = isTorchScript ? .torchScript : .stateDict

        // Tensor data is in the writer's byte order; this reader reads little-endian only.
        if let order = zip.entries[prefix + "byteorder"] {
            let text = String(decoding: try zip.bytes(order).prefix(16), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text == "little" else { throw fail("\(prefix)byteorder is \"\(text)\": only little-endian tensor data is supported") }
        }
        let pickleEntry = zip.entries[pickles[0]]!
        guard pickleEntry.size <= Self.maxPickleBytes else {
            throw fail("\(pickles[0]) is \(pickleEntry.size) bytes (at most \(Self.maxPickleBytes) accepted)")
        }
        let pickleBytes = try zip.verifiedBytes(pickleEntry)

        // Storages by key: `<prefix>/data/<key>`, one type each, large enough for their elements.
        var storages: [String: PickleStorage] = [:]
        var storageEntries: [String: ZipArchive.Entry] = [:]
        let reader = PickleReader(allowsModules: isTorchScript) { key, dtype, count in
            if let known = storages[key] {
                guard known.dtype == dtype, known.count == count else {
                    throw PickleError(
                        message: "storage \(key) is named as \(known.count) \(known.dtype.rawValue) and as \(count) \(dtype.rawValue)")
                }
                return known
            }
            guard let entry = zip.entries[prefix + "data/" + key] else {
                throw PickleError(message: "storage \(key) has no entry \(prefix)data/\(key) in the archive")
            }
            guard entry.method == 0 else {
                throw PickleError(
                    message:
                        "storage \(key) is a compressed entry (method \(entry.method)); tensor data must be stored, and is never inflated")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, bytes <= entry.size else {
                throw PickleError(
                    message: "storage \(key) claims \(count) elements of \(dtype.size) bytes but its entry holds \(entry.size) bytes")
            }
            let storage = PickleStorage(key: key, dtype: dtype, count: count)
            storages[key] = storage
            storageEntries[key] = entry
            return storage
        }
        var tensors: [String: PickleTensor] = [:]
        var rootClass: String?
        do {
            try reader.read(pickleBytes) { root in
                switch root {
                case .dict(var dict):
                    // A training checkpoint wraps the weights: {"state_dict": {...}, "epoch": ...}.
                    if case .dict(let inner)? = dict["state_dict"] { dict = inner }
                    if let duplicate = dict.duplicateKey { throw fail("duplicate tensor name \"\(duplicate)\" in \(pickles[0])") }
                    for (key, value) in dict.entries {
                        guard case .string(let name) = key, case .tensor(let tensor) = value else { continue }
                        tensors[name] = tensor
                    }
                    // DataParallel's `module.` prefix on every name, as open_clip strips it.
                    if !tensors.isEmpty, tensors.keys.allSatisfy({ $0.hasPrefix("module.") }) {
                        tensors = Dictionary(uniqueKeysWithValues: tensors.map { (String($0.key.dropFirst("module.".count)), $0.value) })
                    }
                    rootClass = nil
                case .object(let object) where isTorchScript:
                    rootClass = object.className
                    var visited = Set<ObjectIdentifier>()
                    func walk(_ object: PickleObject, _ prefix: String, depth: Int) throws {
                        guard depth <= Self.maxModuleDepth else {
                            throw fail("modules nested deeper than \(Self.maxModuleDepth) in \(pickles[0])")
                        }
                        guard visited.insert(ObjectIdentifier(object)).inserted else { return }
                        guard case .dict(let attributes)? = object.state else { return }
                        if let duplicate = attributes.duplicateKey {
                            throw fail("duplicate attribute \"\(prefix + duplicate)\" in \(pickles[0])")
                        }
                        for (key, value) in attributes.entries {
                            guard case .string(let name) = key else { continue }
                            switch value {
                            case .tensor(let tensor):
                                guard tensors[prefix + name] == nil else {
                                    throw fail("duplicate tensor name \"\(prefix + name)\" in \(pickles[0])")
                                }
                                tensors[prefix + name] = tensor
                            case .object(let child):
                                try walk(child, prefix + name + ".", depth: depth + 1)
                            default:
                                continue
                            }
                        }
                    }
                    try walk(object, "", depth: 0)
                default:
                    throw fail("\(pickles[0]) holds \(root.kind), not a state dict\(isTorchScript ? " or a module" : "")")
                }
            }
        } catch let error as PickleError {
            throw fail("\(pickles[0]): \(error.message)")
        }
        self.rootClass = rootClass
        self.tensors = tensors
        self.storageEntries = storageEntries
    }

    public var tensorNames: [String] { Array(tensors.keys) }

    func tensorShape(_ name: String) -> [Int]? { tensors[name]?.shape }

    func tensorDType(_ name: String) -> TensorDType? { tensors[name]?.storage.dtype.tensorDType }

    func float32InPlace(_ name: String) -> UnsafeBufferPointer<Float>? {
        guard let tensor = tensors[name], tensor.storage.dtype == .f32, tensor.isContiguous,
            let entry = storageEntries[tensor.storage.key], let bytes = try? zip.bytes(entry)
        else { return nil }
        guard let base = bytes.baseAddress else { return nil }
        let start = base + tensor.offset * 4
        guard Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 else { return nil }
        return UnsafeBufferPointer(start: start.assumingMemoryBound(to: Float.self), count: tensor.count)
    }

    /// The shape of the tensor `name`, or nil when there is none.
    public func shape(of name: String) -> [Int]? { tensorShape(name) }

    /// The values of the tensor `name` as Float, row-major (from F32, F16, BF16 or F64).
    public func floats(_ name: String) throws -> [Float] { try floatValues(name) }

    func floatValues(_ name: String) throws -> [Float] {
        guard let tensor = tensors[name], let entry = storageEntries[tensor.storage.key] else {
            throw SafeTensorsError(code: .missingTensor, file: url.path, tensor: name, message: "not found in the file")
        }
        let bytes = try zip.bytes(entry)
        let dtype = tensor.storage.dtype
        let read: (Int) -> Float
        switch dtype {
        case .f32: read = { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .f16: read = { halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .bf16:
            read = { Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16) }
        case .f64: read = { Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
        default:
            throw SafeTensorsError(
                code: .unsupportedDType, file: url.path, tensor: name,
                message: "dtype \(dtype.tensorDType.rawValue) is not a floating-point type")
        }
        let n = tensor.count
        guard n > 0 else { return [] }
        // Element indices walk the view's strides (checked inside the storage when it was read).
        // The walk steps past the last element, and along size-1 axes whose stride can be
        // anything up to Int.max: it wraps rather than traps. Every index it reads is the view's
        // own, inside the storage, and wrapping arithmetic gives those exactly.
        let shape = tensor.shape, strides = tensor.strides
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            if tensor.isContiguous {
                for i in 0..<n { out[i] = read(tensor.offset + i) }
            } else {
                var index = [Int](repeating: 0, count: shape.count)
                var element = tensor.offset
                for i in 0..<n {
                    out[i] = read(element)
                    var axis = shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        element &+= strides[axis]
                        if index[axis] < shape[axis] { break }
                        element &-= strides[axis] &* shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
            initialized = n
        }
    }

    func releasePages(_ bytes: UnsafeRawBufferPointer) { zip.releasePages(bytes) }
}
