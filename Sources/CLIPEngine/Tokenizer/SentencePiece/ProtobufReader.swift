import Foundation

/// Reads the protocol-buffer wire format, field by field, as much of it as a SentencePiece
/// `ModelProto` uses: varints, 32- and 64-bit fixed values and length-delimited fields (strings,
/// bytes, nested messages). Unknown fields are skipped by their wire type, as protobuf does, so
/// a model written by a newer SentencePiece still reads.
struct ProtobufReader {
    /// One field: its number and its raw value.
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(ArraySlice<UInt8>)
    }

    /// What is wrong with the bytes, for the caller's one-line error.
    struct Malformed: Error {
        let message: String
    }

    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var isAtEnd: Bool { position >= bytes.endIndex }

    private mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else { throw Malformed(message: "a varint runs past the end of its message") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Malformed(message: "a varint is longer than 10 bytes") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.endIndex - position >= count else {
            throw Malformed(message: "a field of \(count) bytes runs past the end of its message")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws -> (field: Int, value: Value)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw Malformed(message: "a field has number 0") }
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1:
            let raw = try take(8)
            return (field, .fixed64(raw.reversed().reduce(0) { $0 << 8 | UInt64($1) }))
        case 2:
            let length = try varint()
            guard length <= UInt64(Int.max) else { throw Malformed(message: "a field has an impossible length") }
            return (field, .bytes(try take(Int(length))))
        case 5:
            let raw = try take(4)
            return (field, .fixed32(raw.reversed().reduce(0) { $0 << 8 | UInt32($1) }))
        default:
            throw Malformed(message: "field \(field) has the unsupported wire type \(key & 7)")
        }
    }
}

extension ProtobufReader.Value {
    /// The value as a bool, integer or enum (wire type 0).
    func integer(_ field: String) throws -> Int64 {
        guard case .varint(let v) = self else { throw ProtobufReader.Malformed(message: "\(field) is not a varint") }
        return Int64(bitPattern: v)
    }

    /// The value as a `float` (wire type 5).
    func float(_ field: String) throws -> Float {
        guard case .fixed32(let v) = self else { throw ProtobufReader.Malformed(message: "\(field) is not a 32-bit float") }
        return Float(bitPattern: v)
    }

    /// The raw bytes of a string, bytes or nested message (wire type 2).
    func data(_ field: String) throws -> ArraySlice<UInt8> {
        guard case .bytes(let v) = self else { throw ProtobufReader.Malformed(message: "\(field) is not length-delimited") }
        return v
    }

    /// A UTF-8 string (wire type 2).
    func string(_ field: String) throws -> String {
        let raw = try data(field)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw ProtobufReader.Malformed(message: "\(field) is not valid UTF-8")
        }
        return s
    }
}
