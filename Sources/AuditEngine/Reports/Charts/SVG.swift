import Foundation

/// A tiny SVG document builder: elements with attributes and text, XML-escaped, numbers in one
/// fixed format, so the same chart always gives the same bytes (no timestamps, no random ids).
public struct SVGDocument: Sendable {
    public let width: Double
    public let height: Double
    private var body: String = ""
    private var depth = 1

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// A childless element: `<name a="v"/>`.
    public mutating func element(_ name: String, _ attributes: KeyValuePairs<String, SVGValue>) {
        body += indent + "<\(name)\(Self.render(attributes))/>\n"
    }

    /// An element holding text: `<name a="v">text</name>`.
    public mutating func text(
        _ name: String = "text", _ attributes: KeyValuePairs<String, SVGValue>, _ content: String,
        title: String? = nil
    ) {
        var inner = SVGDocument.escapeText(content)
        if let title { inner = "<title>\(SVGDocument.escapeText(title))</title>" + inner }
        body += indent + "<\(name)\(Self.render(attributes))>\(inner)</\(name)>\n"
    }

    /// A group: the children written by `children` go inside `<g ...>`.
    public mutating func group(_ attributes: KeyValuePairs<String, SVGValue> = [:], _ children: (inout SVGDocument) -> Void) {
        body += indent + "<g\(Self.render(attributes))>\n"
        depth += 1
        children(&self)
        depth -= 1
        body += indent + "</g>\n"
    }

    /// The finished document, with an accessible title and description.
    public func render(title: String, description: String) -> String {
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVGValue.number(width).text)\" height=\"\(SVGValue.number(height).text)\""
        out += " viewBox=\"0 0 \(SVGValue.number(width).text) \(SVGValue.number(height).text)\" role=\"img\""
        out += " font-family=\"DejaVu Sans, Verdana, Arial, Helvetica, sans-serif\" font-size=\"12\">\n"
        out += "  <title>\(SVGDocument.escapeText(title))</title>\n"
        out += "  <desc>\(SVGDocument.escapeText(description))</desc>\n"
        out += body
        out += "</svg>\n"
        return out
    }

    private var indent: String { String(repeating: "  ", count: depth) }

    private static func render(_ attributes: KeyValuePairs<String, SVGValue>) -> String {
        attributes.map { " \($0.key)=\"\(escapeAttribute($0.value.text))\"" }.joined()
    }

    /// Escapes character data: `&`, `<`, `>`; characters XML 1.0 forbids (NUL and the other C0
    /// controls but TAB, LF and CR) become U+FFFD, visibly, and so do DEL, the C1 controls and
    /// invisible formatting characters (a bidi override would make one label display as another).
    public static func escapeText(_ s: String) -> String { escape(s, inAttribute: false) }

    /// Escapes an attribute value written between double quotes (also tabs and line breaks, which
    /// attribute normalisation would otherwise turn into spaces).
    public static func escapeAttribute(_ s: String) -> String { escape(s, inAttribute: true) }

    private static func escape(_ s: String, inAttribute: Bool) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where inAttribute: out += "&quot;"
            case "'" where inAttribute: out += "&apos;"
            case "\n" where inAttribute: out += "&#10;"
            case "\r" where inAttribute: out += "&#13;"
            case "\t" where inAttribute: out += "&#9;"
            default:
                out.unicodeScalars.append(isAllowedInXML(scalar) && !TextSafety.isHidden(scalar) ? scalar : "\u{FFFD}")
            }
        }
        return out
    }

    /// XML 1.0 `Char`: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
    static func isAllowedInXML(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}
