import Foundation

/// A value the pickle reader builds. Only what `torch.load(weights_only=True)` can make exists
/// here: plain data, ordered dicts, storages, tensors, and (for TorchScript archives) module
/// objects that hold them. Nothing is a callable: a global is only ever a name.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    /// An allowed global (`module`, `name`), before it is called.
    case global(module: String, name: String)
    /// A storage named by a persistent id.
    case storage(PickleStorage)
    case tensor(PickleTensor)
    /// A TorchScript module object (`__torch__.…`) and its attributes.
    case object(PickleObject)

    /// A short name of the kind of value, for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .bytes: return "bytes"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dict: return "a dict"
        case .global(let m, let n): return "the global \(m).\(n)"
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        case .object(let o): return "a \(o.className) object"
        }
    }
}

/// A container value (tuple, list, dict, module object). Containers are references, made only
/// by a `PickleArena`, which keeps every one alive until it empties them all (see there).
protocol PickleContainer: AnyObject {
    /// Drops the values this container holds (their references, not what they hold).
    func removeContents()
}

/// Owns every container one pickle read makes, and releases them without recursion.
///
/// A pickle can nest values millions deep in a byte each (TUPLE1 after TUPLE1). Released the
/// ordinary way, the outermost value frees the next, which frees the next: one stack frame per
/// level, and a stack overflow wherever such a value is dropped (POP, a memo slot written
/// again, a dict key set twice, the arguments of a refused call, the end of the read). Here no
/// drop can free a container: the arena holds a reference to each, so dropping a value only
/// lowers counts. When the arena goes, it first empties every container in one flat loop
/// (each then refers to nothing), then releases them, each freeing nothing further. A
/// container shared many ways (DUP, memo) costs its size once. Containers dropped early stay
/// until the end, so their number is bounded (`PickleReader.maxContainers`).
final class PickleArena {
    private var containers: [any PickleContainer] = []
    /// How many containers the read has made.
    var count: Int { containers.count }

    func tuple(_ items: [PickleValue]) -> PickleTuple { keep(PickleTuple(items)) }
    func list() -> PickleList { keep(PickleList()) }
    func dict() -> PickleDict { keep(PickleDict()) }
    func object(module: String, name: String) -> PickleObject { keep(PickleObject(module: module, name: name)) }

    private func keep<C: PickleContainer>(_ container: C) -> C {
        containers.append(container)
        return container
    }

    deinit {
        for container in containers { container.removeContents() }
    }
}

/// A pickled tuple.
final class PickleTuple: PickleContainer {
    fileprivate(set) var items: [PickleValue]
    fileprivate init(_ items: [PickleValue]) { self.items = items }
    func removeContents() { items = [] }
}

/// A pickled list (a reference: APPEND mutates the memoised object).
final class PickleList: PickleContainer {
    fileprivate(set) var items: [PickleValue] = []
    fileprivate init() {}
    func removeContents() { items = [] }
}

/// A pickled dict or `OrderedDict` (a reference), in insertion order. A key set twice is kept
/// once, as Python does, and remembered in `duplicateKey`: a state dict must not have one.
final class PickleDict: PickleContainer {
    fileprivate(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var index: [String: Int] = [:]
    /// The first string key set a second time, if any.
    private(set) var duplicateKey: String?
    /// The state a BUILD gave the dict (`OrderedDict`'s `_metadata`): kept, never used.
    fileprivate(set) var state: PickleValue?
    fileprivate init() {}
    func removeContents() {
        entries = []
        index = [:]
        state = nil
    }

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let name) = key {
            if let i = index[name] {
                if duplicateKey == nil { duplicateKey = name }
                entries[i].value = value
                return
            }
            index[name] = entries.count
        }
        entries.append((key, value))
    }

    /// The value of a string key.
    subscript(name: String) -> PickleValue? {
        index[name].map { entries[$0].value }
    }
}

/// A TorchScript module object: its class and the attributes its BUILD set.
final class PickleObject: PickleContainer {
    let module: String
    let name: String
    fileprivate(set) var state: PickleValue?
    fileprivate init(module: String, name: String) {
        self.module = module
        self.name = name
    }
    var className: String { "\(module).\(name)" }
    func removeContents() { state = nil }
}

/// The element types of PyTorch storages.
enum TorchDType: String, Sendable {
    case f32 = "FloatStorage", f16 = "HalfStorage", bf16 = "BFloat16Storage", f64 = "DoubleStorage"
    case i64 = "LongStorage", i32 = "IntStorage", i16 = "ShortStorage", i8 = "CharStorage"
    case u8 = "ByteStorage", bool = "BoolStorage"

    var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .f64, .i64: return 8
        case .i8, .u8, .bool: return 1
        }
    }

    /// The same type in the safetensors vocabulary.
    var tensorDType: TensorDType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .f64: return .f64
        case .i64: return .i64
        case .i32: return .i32
        case .i16: return .i16
        case .i8: return .i8
        case .u8: return .u8
        case .bool: return .bool
        }
    }
}

/// A storage named by a persistent id `('storage', torch.XStorage, key, location, numel)`.
final class PickleStorage {
    let key: String
    let dtype: TorchDType
    /// Elements of `dtype`.
    let count: Int
    init(key: String, dtype: TorchDType, count: Int) {
        self.key = key
        self.dtype = dtype
        self.count = count
    }
}

/// A tensor view of a storage (`_rebuild_tensor_v2`), checked to lie inside it.
final class PickleTensor {
    let storage: PickleStorage
    /// In elements.
    let offset: Int
    let shape: [Int]
    /// In elements.
    let strides: [Int]
    /// The number of elements (checked not to overflow when the tensor was built).
    let count: Int
    init(storage: PickleStorage, offset: Int, shape: [Int], strides: [Int], count: Int) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.strides = strides
        self.count = count
    }
    /// Whether the elements are in row-major order with no gaps. A view with no elements is;
    /// otherwise every running product is at most `count`, so none overflows (a size-0 view
    /// of shape (0, 2^62, 2^62) trapped here).
    var isContiguous: Bool {
        guard count > 0 else { return true }
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if stride != expected { return false }
            expected *= size
        }
        return true
    }
}

/// A pickle that could not be read: where (byte offset) and why.
struct PickleError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A reader for the pickles inside PyTorch archives that does what
/// `torch.load(weights_only=True)` allows and nothing more: it builds plain values, ordered
/// dicts, tensors over storages (`_rebuild_tensor_v2`, `_rebuild_parameter`, storages by
/// persistent id) and, for TorchScript archives, `__torch__.*` module objects. Any other global
/// is refused at the opcode that names it, before anything could call it; this reader never
/// calls anything in any case — a global is a name it compares against a list.
///
/// Every length, count and index the bytes give is checked before it is used, and the work is
/// linear in the input: no opcode copies more than it consumes, except that containers move
/// between the stack and their owner.
struct PickleReader {
    /// Looks up a storage by its persistent-id key and type, checking it in the archive.
    typealias StorageResolver = (_ key: String, _ dtype: TorchDType, _ count: Int) throws -> PickleStorage

    /// Whether `__torch__.*` module objects (TorchScript) may be built.
    var allowsModules: Bool
    var resolveStorage: StorageResolver

    /// The deepest nesting of MARKs accepted (real checkpoints use a handful).
    static let maxMarks = 10_000
    /// The most containers (tuples, lists, dicts, objects) one pickle may make by default. A
    /// state dict makes a few per tensor (thousands for a ViT-L); each costs about 100 bytes
    /// until the read ends, so this bounds that memory to some 200 MB whatever the pickle's size.
    static let defaultMaxContainers = 2_000_000
    /// The most containers this reader accepts (`defaultMaxContainers` but in tests).
    var maxContainers = PickleReader.defaultMaxContainers

    /// Reads `bytes` (one pickle, up to its STOP) and hands the value to `consume`; then every
    /// container is emptied (see `PickleArena`), whether reading succeeded or not, so `consume`
    /// must keep only what holds no containers (tensors, strings, numbers).
    func read<T>(_ bytes: UnsafeRawBufferPointer, consume: (PickleValue) throws -> T) throws -> T {
        let arena = PickleArena()
        // The arena must outlive every value of the read (the stack, the memo, `consume`'s
        // use of the root): released earlier, it would empty containers still being read.
        return try withExtendedLifetime(arena) {
            var stack: [PickleValue] = []
            var memo: [Int: PickleValue] = [:]
            return try consume(try parse(bytes, arena: arena, stack: &stack, memo: &memo))
        }
    }

    private func parse(
        _ bytes: UnsafeRawBufferPointer, arena: PickleArena, stack: inout [PickleValue], memo: inout [Int: PickleValue]
    ) throws -> PickleValue {
        var pos = 0
        var marks: [Int] = []
        let count = bytes.count

        func fail(_ message: String) -> PickleError { PickleError(message: "pickle byte \(pos): \(message)") }
        func take(_ n: Int) throws -> UnsafeRawBufferPointer {
            guard n >= 0, n <= count - pos else { throw fail("truncated (needs \(n) more bytes, \(count - pos) left)") }
            defer { pos += n }
            return UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + n)])
        }
        func byte() throws -> Int { Int(try take(1)[0]) }
        func le(_ n: Int) throws -> UInt64 {
            let b = try take(n)
            var v: UInt64 = 0
            for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
            return v
        }
        func length(_ n: Int) throws -> Int {
            let v = try le(n)
            guard v <= UInt64(count - pos) else { throw fail("length \(v) runs past the end of the pickle") }
            return Int(v)
        }
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            if let m = marks.last, stack.count < m { throw fail("stack underflow past a mark") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast() else { throw fail("no mark on the stack") }
            guard m <= stack.count else { throw fail("mark past the top of the stack") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func top() throws -> PickleValue {
            guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
            return v
        }
        func text(_ b: UnsafeRawBufferPointer) throws -> String {
            guard let s = String(bytes: b, encoding: .utf8) else { throw fail("a string is not UTF-8") }
            return s
        }
        func line() throws -> String {
            guard let end = bytes[pos...].firstIndex(of: 0x0A), end - pos <= 1024 else { throw fail("unterminated name in GLOBAL") }
            let s = try text(UnsafeRawBufferPointer(rebasing: bytes[pos..<end]))
            pos = end + 1
            return s
        }
        func global(_ module: String, _ name: String) throws -> PickleValue {
            guard Self.isAllowed(module: module, name: name, modules: allowsModules) else {
                throw fail(
                    "refuses global \(module).\(name): only tensors, storages and ordered dicts may be rebuilt (nothing in the file is run)"
                )
            }
            return .global(module: module, name: name)
        }
        func setItems(_ target: PickleValue, _ items: [PickleValue]) throws {
            guard case .dict(let dict) = target else { throw fail("SETITEMS on \(target.kind)") }
            guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
            for i in stride(from: 0, to: items.count, by: 2) {
                switch items[i] {
                case .string, .int, .bool, .none, .float: break
                default: throw fail("dict key is \(items[i].kind)")
                }
                dict.set(items[i], items[i + 1])
            }
        }

        while true {
            guard arena.count <= maxContainers else {
                throw fail("more than \(maxContainers) tuples, lists and dicts: not a weights file")
            }
            let opPos = pos
            let op = try byte()
            switch op {
            case 0x80: // PROTO
                let version = try byte()
                guard version <= 5 else { throw fail("pickle protocol \(version) is not supported") }
            case 0x95: // FRAME: a length hint only
                _ = try le(8)
            case 0x2E: // STOP
                guard stack.count == 1, marks.isEmpty else { throw fail("STOP with \(stack.count) values on the stack") }
                return stack[0]
            case 0x28: // MARK
                guard marks.count < Self.maxMarks else { throw fail("more than \(Self.maxMarks) nested marks") }
                marks.append(stack.count)
            case 0x29: stack.append(.tuple(arena.tuple([]))) // EMPTY_TUPLE
            case 0x5D: stack.append(.list(arena.list())) // EMPTY_LIST
            case 0x7D: stack.append(.dict(arena.dict())) // EMPTY_DICT
            case 0x74: stack.append(.tuple(arena.tuple(try popMark()))) // TUPLE
            case 0x85: stack.append(.tuple(arena.tuple([try pop()]))) // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple(arena.tuple([a, b]))) // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple(arena.tuple([a, b, c]))) // TUPLE3
            case 0x6C: // LIST
                let list = arena.list(); list.items = try popMark(); stack.append(.list(list))
            case 0x64: // DICT
                let dict = arena.dict(); try setItems(.dict(dict), try popMark()); stack.append(.dict(dict))
            case 0x4A: stack.append(.int(Int(Int32(bitPattern: UInt32(try le(4)))))) // BININT
            case 0x4B: stack.append(.int(try byte())) // BININT1
            case 0x4D: stack.append(.int(Int(try le(2)))) // BININT2
            case 0x8A, 0x8B: // LONG1, LONG4: little-endian two's complement
                let n = try length(op == 0x8A ? 1 : 4)
                guard n <= 8 else { throw fail("integer of \(n) bytes is too large") }
                if n == 0 { stack.append(.int(0)); break }
                var v = try le(n)
                if n < 8, v & (1 << (UInt64(n) * 8 - 1)) != 0 { v |= ~0 << (UInt64(n) * 8) }
                stack.append(.int(Int(Int64(bitPattern: v))))
            case 0x47: // BINFLOAT, big-endian
                let b = try take(8)
                var v: UInt64 = 0
                for x in b { v = v << 8 | UInt64(x) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x58, 0x8C, 0x8D: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let n = try length(op == 0x58 ? 4 : op == 0x8C ? 1 : 8)
                stack.append(.string(try text(try take(n))))
            case 0x54, 0x55: // BINSTRING, SHORT_BINSTRING (Python 2 str): kept as text
                let n = try length(op == 0x54 ? 4 : 1)
                let b = try take(n)
                stack.append(.string(String(decoding: b, as: UTF8.self)))
            case 0x42, 0x43, 0x8E: // BINBYTES, SHORT_BINBYTES, BINBYTES8
                let n = try length(op == 0x42 ? 4 : op == 0x43 ? 1 : 8)
                stack.append(.bytes(Array(try take(n))))
            case 0x4E: stack.append(.none) // NONE
            case 0x88: stack.append(.bool(true)) // NEWTRUE
            case 0x89: stack.append(.bool(false)) // NEWFALSE
            case 0x71, 0x72: // BINPUT, LONG_BINPUT
                let key = op == 0x71 ? try byte() : Int(try le(4))
                memo[key] = try top()
            case 0x94: // MEMOIZE
                memo[memo.count] = try top()
            case 0x68, 0x6A: // BINGET, LONG_BINGET
                let key = op == 0x68 ? try byte() : Int(try le(4))
                guard let value = memo[key] else { throw fail("memo key \(key) was never set") }
                stack.append(value)
            case 0x63: // GLOBAL module\nname\n
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93: // STACK_GLOBAL
                let nameValue = try pop(), moduleValue = try pop()
                guard case .string(let module) = moduleValue, case .string(let name) = nameValue else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                stack.append(try global(module, name))
            case 0x51: // BINPERSID
                stack.append(try persistent(try pop(), fail: fail))
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                guard case .tuple(let values) = args else { throw fail("REDUCE arguments are \(args.kind), not a tuple") }
                stack.append(try reduce(callable, values.items, arena: arena, fail: fail))
            case 0x81: // NEWOBJ
                let args = try pop(), cls = try pop()
                guard case .global(let module, let name) = cls, module.hasPrefix("__torch__") else {
                    throw fail("NEWOBJ of \(cls.kind): only TorchScript module objects are built")
                }
                guard case .tuple = args else { throw fail("NEWOBJ arguments are \(args.kind), not a tuple") }
                stack.append(.object(arena.object(module: module, name: name)))
            case 0x62: // BUILD
                let state = try pop(), target = try top()
                switch target {
                case .object(let object): object.state = state
                case .dict(let dict): dict.state = state
                default: throw fail("BUILD on \(target.kind)")
                }
            case 0x73: // SETITEM
                let value = try pop(), key = try pop()
                try setItems(try top(), [key, value])
            case 0x75: // SETITEMS
                let items = try popMark()
                try setItems(try top(), items)
            case 0x61: // APPEND
                let value = try pop()
                guard case .list(let list) = try top() else { throw fail("APPEND to \(try top().kind)") }
                list.items.append(value)
            case 0x65: // APPENDS
                let items = try popMark()
                guard case .list(let list) = try top() else { throw fail("APPENDS to \(try top().kind)") }
                list.items.append(contentsOf: items)
            case 0x30: _ = try pop() // POP
            case 0x31: _ = try popMark() // POP_MARK
            case 0x32: stack.append(try top()) // DUP
            default:
                throw PickleError(message: "pickle byte \(opPos): opcode \(Self.opcodeName(op)) is not allowed in a weights file")
            }
        }
    }

    /// `('storage', torch.XStorage, key, location, numel)`.
    private func persistent(_ pid: PickleValue, fail: (String) -> PickleError) throws -> PickleValue {
        guard case .tuple(let tuple) = pid, case let parts = tuple.items, parts.count == 5, case .string("storage") = parts[0],
            case .global(let module, let name) = parts[1], module == "torch", let dtype = TorchDType(rawValue: name),
            case .string(let key) = parts[2], case .int(let numel) = parts[4]
        else {
            throw fail("persistent id is not ('storage', torch.<type>Storage, key, location, numel)")
        }
        guard numel >= 0 else { throw fail("storage \(key) has \(numel) elements") }
        return .storage(try resolveStorage(key, dtype, numel))
    }

    /// Calls one of the allowed globals — in this reader, builds the value it would return.
    private func reduce(
        _ callable: PickleValue, _ args: [PickleValue], arena: PickleArena, fail: (String) -> PickleError
    ) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { throw fail("REDUCE calls \(callable.kind)") }
        switch (module, name) {
        case ("collections", "OrderedDict"):
            let dict = arena.dict()
            if let first = args.first {
                guard case .list(let pairs) = first else { throw fail("OrderedDict(\(first.kind))") }
                for pair in pairs.items {
                    guard case .tuple(let kv) = pair, kv.items.count == 2, case .string = kv.items[0] else {
                        throw fail("OrderedDict item is not a (name, value) pair")
                    }
                    dict.set(kv.items[0], kv.items[1])
                }
            }
            return .dict(dict)
        case ("torch._utils", "_rebuild_tensor_v2"):
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count >= 4, case .storage(let storage) = args[0], case .int(let offset) = args[1],
                case .tuple(let sizeTuple) = args[2], case .tuple(let strideTuple) = args[3]
            else {
                throw fail("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)")
            }
            func ints(_ values: [PickleValue]) -> [Int]? {
                var out: [Int] = []
                for value in values {
                    guard case .int(let i) = value else { return nil }
                    out.append(i)
                }
                return out
            }
            guard let shape = ints(sizeTuple.items), let strides = ints(strideTuple.items), shape.count == strides.count, shape.count <= 16
            else {
                throw fail("tensor size and stride are not matching lists of integers (at most 16)")
            }
            guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
                throw fail(
                    "tensor of storage \(storage.key) has a negative offset, size or stride (offset \(offset), size \(shape), stride \(strides))"
                )
            }
            var elements = 1
            for size in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: size)
                guard !o || shape.contains(0) else { throw fail("tensor of storage \(storage.key): size \(shape) overflows") }
                elements = o ? 0 : p
            }
            // The last element the view reads must be inside the storage.
            if !shape.contains(0) {
                var last = offset
                for (size, stride) in zip(shape, strides) {
                    let (step, o1) = (size - 1).multipliedReportingOverflow(by: stride)
                    let (sum, o2) = last.addingReportingOverflow(step)
                    guard !o1, !o2 else { throw fail("tensor of storage \(storage.key): size \(shape) and stride \(strides) overflow") }
                    last = sum
                }
                guard last < storage.count else {
                    throw fail(
                        "tensor of size \(shape), stride \(strides) at offset \(offset) reads past the end of storage \(storage.key) (\(storage.count) elements)"
                    )
                }
            }
            return .tensor(
                PickleTensor(
                    storage: storage, offset: offset, shape: shape, strides: strides,
                    count: shape.contains(0) ? 0 : elements))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let first = args.first, case .tensor = first else { throw fail("\(name) of something other than a tensor") }
            return first
        default:
            throw fail("calling \(module).\(name) is not allowed")
        }
    }

    /// The globals a weights file may name: the tensor rebuilders, storage types and
    /// `OrderedDict` (what `weights_only=True` needs for these checkpoints), plus TorchScript's
    /// `__torch__.*` module classes when reading a TorchScript archive.
    static func isAllowed(module: String, name: String, modules: Bool) -> Bool {
        switch module {
        case "collections": return name == "OrderedDict"
        case "torch._utils": return ["_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state"].contains(name)
        case "torch": return TorchDType(rawValue: name) != nil
        default:
            return modules && (module == "__torch__" || module.hasPrefix("__torch__."))
                && !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
    }

    static func opcodeName(_ op: Int) -> String {
        let names: [Int: String] = [
            0x69: "INST", 0x6F: "OBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x50: "PERSID",
            0x92: "NEWOBJ_EX", 0x49: "INT", 0x4C: "LONG", 0x46: "FLOAT", 0x53: "STRING",
            0x56: "UNICODE", 0x70: "PUT", 0x67: "GET", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS",
            0x91: "FROZENSET", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER"
        ]
        return names[op].map { "\($0) (0x\(String(op, radix: 16)))" } ?? "0x\(String(op, radix: 16))"
    }
}
