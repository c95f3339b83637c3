import Foundation

/// A value decoded when it has the expected shape, else nil (for lists whose bad entries are
/// skipped rather than fatal).
struct Lenient<Value: Decodable>: Decodable {
    var value: Value?
    init(from decoder: Decoder) throws {
        value = try? Value(from: decoder)
    }
}
