import Foundation

/// Finds a key written twice in one JSON object. Foundation's parsers keep one of the two
/// entries without a word (the later one, as Python's `json` does), so a safetensors header
/// naming a tensor twice or a `vocab.json` giving a token two ids would load as a different
/// checkpoint than the one its other readers see; the loaders refuse such files instead.
enum JSONDuplicateKeys {
    /// The path (the keys of the enclosing objects, outermost first, then the repeated key) of
    /// the first key that appears twice in one object of `data`; nil when there is none.
    ///
    /// `data` must already have parsed as JSON: this scanner only tracks strings and brackets,
    /// so on other bytes its answer means nothing (it still never reads outside `data`). Keys
    /// compare as Swift strings compare (canonically equivalent spellings are equal), which is
    /// how Foundation's dictionaries merged them. Arrays add nothing to the path.
    static func first(in data: Data) -> [String]? {
        data.withUnsafeBytes { first(in: $0) }
    }

    private struct Frame {
        /// The keys seen so far; nil for an array.
        var keys: Set<String>?
        /// The key whose value is being read (objects only).
        var key: String?
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    static func first(in bytes: UnsafeRawBufferPointer) -> [String]? {
        let n = bytes.count
        var stack: [Frame] = []
        var expectKey = false
        var i = 0
        while i < n {
            switch bytes[i] {
            case UInt8(ascii: "{"):
                stack.append(Frame(keys: [], key: nil))
                expectKey = true
            case UInt8(ascii: "["):
                stack.append(Frame(keys: nil, key: nil))
                expectKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
                expectKey = false
            case UInt8(ascii: ","):
                expectKey = stack.last?.keys != nil
            case quote:
                // The closing quote: the first one not escaped by a backslash.
                var end = i + 1
                var escaped = false
                while end < n {
                    if bytes[end] == backslash && !escaped {
                        escaped = true
                        end += 1
                        continue
                    }
                    if bytes[end] == quote && !escaped { break }
                    escaped = false
                    end += 1
                }
                if expectKey, !stack.isEmpty, stack[stack.count - 1].keys != nil {
                    let key = decodeString(UnsafeRawBufferPointer(rebasing: bytes[i..<min(end + 1, n)]))
                    if stack[stack.count - 1].keys!.insert(key).inserted == false {
                        return stack.dropLast().compactMap { $0.keys != nil ? $0.key : nil } + [key]
                    }
                    stack[stack.count - 1].key = key
                    expectKey = false
                }
                i = end
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// A JSON string literal (with its quotes) as a Swift string; escapes are decoded by
    /// Foundation, which already accepted them.
    private static func decodeString(_ literal: UnsafeRawBufferPointer) -> String {
        let body = literal.count >= 2 ? UnsafeRawBufferPointer(rebasing: literal[1..<(literal.count - 1)]) : literal
        guard body.contains(backslash) else { return String(decoding: body, as: UTF8.self) }
        if let s = try? JSONSerialization.jsonObject(with: Data(literal), options: [.fragmentsAllowed]) as? String {
            return s
        }
        return String(decoding: body, as: UTF8.self)
    }
}
