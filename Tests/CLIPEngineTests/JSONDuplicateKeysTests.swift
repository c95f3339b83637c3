import Foundation
import Testing

@testable import CLIPEngine

/// The scanner that finds a key written twice in one JSON object.
@Suite struct JSONDuplicateKeysTests {
    func first(_ json: String) -> [String]? {
        // Only JSON that Foundation parses is given to the scanner.
        #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])) != nil, "\(json)")
        return JSONDuplicateKeys.first(in: Data(json.utf8))
    }

    @Test func findsRepeatedKeysAtAnyDepth() {
        #expect(first(#"{"a": 1, "a": 2}"#) == ["a"])
        // Arrays add nothing to the path.
        #expect(first(#"{"x": {"b": 1, "c": [1, {"d": 1, "d": 2}]}}"#) == ["x", "c", "d"])
        #expect(first(#"{"x": {"y": 1}, "z": {"y": 2, "y": 3}}"#) == ["z", "y"])
        #expect(first(#"[{"k": 1}, {"k": 2, "k": 3}]"#) == ["k"])
    }

    @Test func sameKeyInDifferentObjectsIsFine() {
        #expect(first(#"{"a": {"k": 1}, "b": {"k": 1}, "c": [{"k": 1}, {"k": 2}]}"#) == nil)
        #expect(first(#"{}"#) == nil)
        #expect(first(#"[]"#) == nil)
        #expect(first(#""a""#) == nil)
    }

    /// Strings holding quotes, backslashes, braces and commas are not mistaken for structure, and
    /// an escaped spelling of a key is the same key.
    @Test func stringsAndEscapes() {
        #expect(first(#"{"a": "}, \"a\": {", "b": "\\", "c": ","}"#) == nil)
        #expect(first(#"{"a\"b": 1, "a\"b": 2}"#) == ["a\"b"])
        #expect(first(#"{"\\": 1, "\u005c": 2}"#) == ["\\"])
        #expect(first(#"{"ab": 1, "\u0061b": 2}"#) == ["ab"])
        #expect(first(#"{"a": ["a", "a"], "b": {"a": "a"}}"#) == nil)
    }
}
