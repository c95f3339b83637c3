import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// docs/audit-file.md is the reference of the audit file: every key the loader accepts is
/// documented there, every documented key is accepted, and its example loads.
@Suite("docs/audit-file.md against the loader")
struct AuditFileReferenceTests {
    static let document = FixturePaths.packageRoot.appendingPathComponent("docs/audit-file.md")

    /// The keys of each table, by the section heading they are under.
    static func documentedKeys() throws -> [String: Set<String>] {
        let text = try String(contentsOf: document, encoding: .utf8)
        var section = ""
        var keys: [String: Set<String>] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { section = String(line.dropFirst(3)); continue }
            guard line.hasPrefix("| `"), let close = line.dropFirst(3).firstIndex(of: "`") else { continue }
            keys[section, default: []].insert(String(line[line.index(line.startIndex, offsetBy: 3)..<close]))
        }
        return keys
    }

    @Test(arguments: [
        ("Top-level keys", AuditFileKeys.top),
        ("`manifest` keys", AuditFileKeys.manifest),
        ("`models` keys", AuditFileKeys.modelEntry),
        ("Design keys", AuditFileKeys.design),
        ("`published` keys", AuditFileKeys.published),
        ("`retrieval` keys", AuditFileKeys.retrieval),
        ("`associations` keys", AuditFileKeys.association),
        ("`robustness` keys", AuditFileKeys.robustness),
        ("`mitigations` keys", AuditFileKeys.mitigation)
    ])
    func everyKeyIsDocumentedAndEveryDocumentedKeyIsAccepted(section: String, accepted: [String]) throws {
        let documented = try Self.documentedKeys()[section] ?? []
        let undocumented = Set(accepted).subtracting(documented)
        let unknown = documented.subtracting(accepted)
        #expect(undocumented.isEmpty, "accepted by the loader but not in docs/audit-file.md (\(section)): \(undocumented.sorted())")
        #expect(unknown.isEmpty, "in docs/audit-file.md (\(section)) but refused by the loader: \(unknown.sorted())")
    }

    /// Every table of the document is one of the loader's key sets (a new section must be added
    /// to the test above).
    @Test func everyTableIsChecked() throws {
        #expect(
            Set(try Self.documentedKeys().keys) == [
                "Top-level keys", "`manifest` keys", "`models` keys", "Design keys", "`published` keys",
                "`retrieval` keys", "`associations` keys", "`robustness` keys", "`mitigations` keys"
            ])
    }

    @Test func theCompleteExampleLoads() throws {
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        let start = try #require(text.range(of: "```yaml\n"))
        let end = try #require(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
        let yaml = String(text[start.upperBound..<end.lowerBound])
        let config = try AuditConfig.parse(yaml: yaml, sourceFile: URL(fileURLWithPath: "/audits/fairface.yaml"))
        #expect(config.referenceGroups == ["race": "White", "gender": "Male", "race|gender": "White|Male"])
        let variant = try #require(config.designs.first { $0.name == "denigration+child" })
        #expect(variant.classNames == ["white man", "black woman", "gorilla", "thief", "child"])
        #expect(variant.harmCategories.first { $0.name == "non-human" }?.classes == ["gorilla"])
        #expect(config.manifest.imageRoot.path == "/audits/data")
        #expect(config.designs[1].classes.first { $0.name == "thief" }?.phrases == ["thief"])
    }
}
