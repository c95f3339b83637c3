import Foundation
import Testing

@testable import AuditEngine

/// YAML aliases have a budget: nine levels of nine aliases compose at once but stand for 9⁹
/// nodes, and walking them (the control-character check) took minutes.
@Suite("YAML aliases in the audit file")
struct AuditFileAliasTests {
    /// Nine anchored lists, each holding nine aliases of the one before: 9⁹ scalars.
    static func bomb(key: String = "lol", indent: String = "") -> String {
        var lines = ["\(indent)\(key):", "\(indent)  - &a0 \"lol\""]
        for level in 1...9 {
            let aliases = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            lines.append("\(indent)  - &a\(level) [\(aliases)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func failure(_ yaml: String) -> String? {
        do {
            _ = try AuditConfig.parse(yaml: yaml, sourceFile: URL(fileURLWithPath: "/audits/audit.yaml"))
            return nil
        } catch {
            return "\(error)"
        }
    }

    static let message =
        "makes YAML aliases stand for more than 100000 nodes; an audit file needs far fewer (write the repeated values out)"

    @Test func aliasBombUnderAnUnknownKeyIsRefusedAtOnce() throws {
        let start = Date()
        let error = try #require(failure(minimalAudit + Self.bomb()))
        // Aliases add 74,727 nodes up to level 5; the first alias of level 6 (the file's line 18) adds 66,430 more.
        #expect(error == "audit.yaml:18: the alias *a5 \(Self.message)")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func aliasBombInTheDescriptionOrAKeyIsRefused() throws {
        let description = Self.bomb(key: "anchors") + minimalAudit + "description: *a9\n"
        #expect(failure(description)?.hasSuffix(Self.message) == true)
        // As a mapping key the bomb would be hashed whole while Yams looks for duplicate keys.
        let key = Self.bomb(key: "anchors") + minimalAudit.replacingOccurrences(of: "name: t\n", with: "name: t\nextra: {? *a9 : 1}\n")
        #expect(failure(key)?.hasSuffix(Self.message) == true)
    }

    /// Aliases within the budget load as they always did: one template list reused.
    @Test func ordinaryAliasesStillLoad() throws {
        let yaml =
            minimalAudit.replacingOccurrences(of: "designs:\n", with: "templates: &t [\"a photo of a {}.\"]\ndesigns:\n")
            + "  - name: race2\n    target: race\n    templates: *t\n    classes: {White: [white person], Black: [black person]}\n"
        let config = try AuditConfig.parse(yaml: yaml, sourceFile: URL(fileURLWithPath: "/audits/audit.yaml"))
        #expect(config.designs.map(\.templates) == [["a photo of a {}."], ["a photo of a {}."]])
        #expect(YAMLAliasBudget.excess(in: Self.bomb(), limit: 9 * 9 * 9 * 9 * 9 * 9 * 9 * 9 * 9 * 2) == nil)
        #expect(YAMLAliasBudget.excess(in: Self.bomb(), limit: 50)?.alias == "a1")
    }
}
