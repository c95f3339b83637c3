import CLIPEngine
import Foundation

/// A small JSON value with ordered keys, written deterministically (two-space indent).
enum JSONValue {
    case string(String)
    case number(Double)
    case array([JSONValue])
    case object([(String, JSONValue)])

    func render(indent: Int) -> String {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .string(let s):
            // Bidi overrides and other invisible formatting characters would reach whatever
            // displays the card (docs/robustness.md, "Hostile names and labels in reports").
            return JSONText.quoted(TextSafety.visibleFormatting(s))
        case .number(let x):
            return ModelCardExport.number(x)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{\n"
                + pairs.map { pad + JSONValue.string($0.0).render(indent: 0) + ": " + $0.1.render(indent: indent + 1) }.joined(
                    separator: ",\n") + "\n\(end)}"
        }
    }
}
