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
}
