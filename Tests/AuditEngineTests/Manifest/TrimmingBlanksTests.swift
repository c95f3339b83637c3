import Foundation
import Testing

@testable import AuditEngine

/// `trimmingBlanks` against Foundation's `trimmingCharacters(in: .whitespaces)`, which it replaces
/// on every manifest field: the same result for every scalar of the Basic Multilingual Plane and
/// beyond, at either end and inside.
@Suite struct TrimmingBlanksTests {
    @Test func agreesWithFoundationForEveryScalar() {
        var disagreements: [String] = []
        let planes = Array(0...0xFFFF) + Array(0x10000...0x10FFFF).filter { $0 % 97 == 0 } + [0xE0020, 0x1F600]
        for value in planes {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
            let c = String(Character(scalar))
            for text in [c, c + "a" + c, "a" + c, c + "a", "a" + c + "b", c + c + "x y" + c + c] {
                let expected = text.trimmingCharacters(in: .whitespaces)
                if text.trimmingBlanks != expected {
                    disagreements.append(String(format: "U+%04X in %@", value, text.debugDescription))
                }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    }

    @Test func examples() {
        #expect("  White \t".trimmingBlanks == "White")
        #expect("\u{00A0}East Asian\u{3000}".trimmingBlanks == "East Asian")
        #expect("line\n".trimmingBlanks == "line\n") // a newline is not a blank
        #expect("".trimmingBlanks == "" && "   ".trimmingBlanks == "")
        #expect(" e\u{0301} ".trimmingBlanks == "e\u{0301}")
        #expect("a b".trimmingBlanks == "a b")
        #expect(Substring("  x  ").trimmingBlanks == "x")
    }
}
