import Foundation

/// An attribute value: text, or a number written with at most two decimals (trailing zeros
/// dropped, never `-0`), the same on every platform.
public enum SVGValue: Sendable, ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case number(Double)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }

    public var text: String {
        switch self {
        case .string(let s): return s
        case .number(let x):
            guard x.isFinite else { return "0" }
            var s = String(format: "%.2f", x)
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
            if s == "-0" { s = "0" }
            return s
        }
    }
}

extension SVGValue {
    static func n(_ x: Double) -> SVGValue { .number(x) }
    static func s(_ x: String) -> SVGValue { .string(x) }
}
