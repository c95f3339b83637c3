import Foundation

/// The first look at run.json: an object with `settings`, and which layout it is.
struct RunJSONEnvelope: Decodable {
    var schemaVersion: Int?

    enum CodingKeys: String, CodingKey { case schemaVersion = "schema_version", settings }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.settings) else { throw RunJSONProblem("\(SettingsJSON.expected), found no \"settings\"") }
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        guard (try? c.nestedContainer(keyedBy: AnyKey.self, forKey: .settings)) != nil else {
            throw RunJSONProblem("\(SettingsJSON.expected), found \"settings\" that is not an object")
        }
        guard c.contains(.schemaVersion) else { return }
        guard let version = try? c.decode(Int.self, forKey: .schemaVersion) else {
            throw RunJSONProblem("schema_version: not a whole number")
        }
        schemaVersion = version
    }

    /// A decoding error as one line: invalid JSON with the parser's reason, a top level that is
    /// no object, or the key path and what is wrong there.
    static func describe(_ error: DecodingError, _ data: Data) -> String {
        func path(_ context: DecodingError.Context) -> String {
            var text = ""
            for key in context.codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text
        }
        func oneLine(_ s: String) -> String {
            s.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            let underlying = context.underlyingError.map { ($0 as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\($0)" }
            return "not valid JSON (\(oneLine(underlying ?? context.debugDescription)))"
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            let first = data.first { !(" \t\r\n".utf8.contains($0)) }
            return "\(SettingsJSON.expected), found \(first == UInt8(ascii: "[") ? "an array" : "a bare value")"
        case .typeMismatch(let type, let context):
            return "\(path(context)): not \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)): null, expected \(typeName(type))"
        case .keyNotFound(let key, let context):
            let at = path(context)
            return "\(at.isEmpty ? "" : at + ".")\(key.stringValue): missing"
        case .dataCorrupted(let context):
            return "\(path(context)): \(oneLine(context.debugDescription))"
        @unknown default:
            return "cannot read (\(error))"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "a whole number"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return String(describing: type).hasPrefix("Array") ? "a list" : "an object"
        }
    }
}
