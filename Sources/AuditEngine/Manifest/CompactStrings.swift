/// Distinct strings, each stored once and named by a dense id in order of first appearance: a
/// column of a million labels drawn from a few values costs four bytes a row, not a `String` each.
public struct StringPool: Sendable, Equatable {
    /// The values, indexed by id.
    public private(set) var values: [String] = []
    private var ids: [String: UInt32] = [:]

    public init() {}

    /// The id of `value`, adding it when it is new.
    public mutating func intern(_ value: String) -> UInt32 {
        if let id = ids[value] { return id }
        let id = UInt32(values.count)
        values.append(value)
        ids[value] = id
        return id
    }

    /// The id of `value`, or nil when it was never interned.
    public func id(of value: String) -> UInt32? { ids[value] }

    public subscript(id: UInt32) -> String { values[Int(id)] }
}

/// Strings stored back to back in one UTF-8 buffer (a column of file paths): each costs its
/// bytes and four more, with no `String` object until one is read.
public struct PackedStrings: RandomAccessCollection, Sendable, Equatable {
    private var bytes: [UInt8] = []
    /// Where each string ends in `bytes` (the next one starts there).
    private var ends: [UInt32] = []

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    public subscript(index: Int) -> String {
        let start = index == 0 ? 0 : Int(ends[index - 1])
        return String(decoding: bytes[start..<Int(ends[index])], as: UTF8.self)
    }

    public mutating func append(_ value: String) {
        bytes.append(contentsOf: value.utf8)
        guard let end = UInt32(exactly: bytes.count) else {
            preconditionFailure("PackedStrings holds at most 4 GiB of text")
        }
        ends.append(end)
    }
}
