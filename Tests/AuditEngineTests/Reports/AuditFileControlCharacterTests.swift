import Foundation
import Testing

@testable import AuditEngine

@Suite("Control characters in the audit file")
struct AuditFileControlCharacterTests {
    func failure(_ yaml: String) -> String? {
        do {
            _ = try AuditConfig.parse(yaml: yaml, sourceFile: URL(fileURLWithPath: "/audits/audit.yaml"))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func controlCharactersAreRefusedWithFileAndLine() {
        #expect(
            failure(minimalAudit.replacingOccurrences(of: "name: t\n", with: "name: \"t\\0x\"\n"))
                == "audit.yaml:1: name: contains the control character U+0000; names, labels and text must be printable (TAB and line breaks are allowed)"
        )
        #expect(
            failure(minimalAudit.replacingOccurrences(of: "Black: black person", with: "\"Bl\\eck\": black person"))
                == "audit.yaml:10: designs[0].classes: contains the control character U+001B; names, labels and text must be printable (TAB and line breaks are allowed)"
        )
        #expect(
            failure(minimalAudit.replacingOccurrences(of: "white person,", with: "\"white\\x85person\","))?
                .hasPrefix("audit.yaml:9: designs[0].classes.White[0]: contains the control character U+0085") == true)
        // TAB and line breaks are text.
        #expect(failure(minimalAudit.replacingOccurrences(of: "Black: black person", with: "Black: \"black\\tperson\"")) == nil)
        #expect(failure(minimalAudit + "description: \"line one\\nline two\"\n") == nil)
    }

    /// Bidi overrides and isolates and zero-width characters (category Cf) make a name display as
    /// other text; the audit file refuses them like control characters, in values and in keys.
    @Test func invisibleFormattingCharactersAreRefusedWithFileLineAndKey() {
        #expect(
            failure(minimalAudit + "description: \"Black\u{202E}etihW\"\n")
                == "audit.yaml:11: description: contains the invisible formatting character U+202E (RIGHT-TO-LEFT OVERRIDE); names, labels and text must show every character they hold"
        )
        #expect(
            failure(minimalAudit.replacingOccurrences(of: "Black: black person", with: "\"Bl\u{200B}ack\": black person"))?
                .hasPrefix("audit.yaml:10: designs[0].classes: contains the invisible formatting character U+200B (ZERO WIDTH SPACE)")
                == true)
        #expect(
            failure(minimalAudit.replacingOccurrences(of: "name: race\n", with: "name: \"r\u{2067}ace\u{2069}\"\n"))?
                .hasPrefix("audit.yaml:6: designs[0].name: contains the invisible formatting character U+2067") == true)
        #expect(
            failure(minimalAudit.replacingOccurrences(of: "white person,", with: "\"white\u{00AD}person\","))?
                .hasPrefix("audit.yaml:9: designs[0].classes.White[0]: contains the invisible formatting character U+00AD") == true)
        // Visible non-ASCII text is text.
        #expect(failure(minimalAudit + "description: \"Ünïcode 名前 ← →\"\n") == nil)
    }
}
