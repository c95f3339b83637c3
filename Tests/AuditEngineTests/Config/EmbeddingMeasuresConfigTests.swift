import Foundation
import Testing

@testable import AuditEngine

/// The audit file's `retrieval:` and `associations:` keys: read as docs/audit-file.md writes them, and
/// every mistake a line error.
@Suite("retrieval and associations in the audit file")
struct EmbeddingMeasuresConfigTests {
    static let base = """
        name: t
        manifest: {path: m.csv}
        attributes: [race, gender]
        intersections: [[race, gender]]
        templates: ["a photo of a {}."]
        designs:
          - name: g
            target: gender
            classes: {Male: [man], Female: [woman]}

        """
    static let file = URL(fileURLWithPath: "/tmp/audit.yaml")

    static func parse(_ extra: String) throws -> AuditConfig {
        try AuditConfig.parse(yaml: base + extra, sourceFile: file)
    }

    static func error(_ extra: String) -> AuditFileError? {
        do { _ = try parse(extra); return nil } catch { return error as? AuditFileError }
    }

    @Test("the contract's example sections are read with their defaults")
    func specExample() throws {
        let config = try Self.parse(
            """
            retrieval:
              templates: ["This is a photo of a {} person", "A {} person"]
              concepts: [good, evil]
              queries: ["a photo of a nurse"]
              k: [100, 10]
            associations:
              - name: gender-career
                attribute: gender
                groups: [Male, Female]
                targets:
                  career: [executive, salary]
                  family: [home, parents]
                templates: ["a photo of {}"]
            """)
        let retrieval = try #require(config.retrieval)
        #expect(
            retrieval.queries == [
                "This is a photo of a good person", "This is a photo of a evil person",
                "A good person", "A evil person", "a photo of a nurse"
            ])
        #expect(retrieval.ks == [10, 100] && retrieval.permutations == 1000 && retrieval.seed == 1)
        #expect(retrieval.attributes == ["race", "gender", "race|gender"])
        let test = try #require(config.associations.first)
        #expect(test.groupX == "Male" && test.groupY == "Female" && test.targetA.name == "career" && test.targetB.name == "family")
        #expect(test.prompts(for: "home") == ["a photo of home"] && test.permutations == 10_000)
        // Without templates a word is its own prompt; without `retrieval.templates`, the audit's.
        let plain = try Self.parse(
            """
            retrieval: {concepts: [kind], k: [5]}
            associations:
              - {name: t, attribute: race, groups: [a, b], targets: {x: [one], y: [two]}}
            """)
        #expect(plain.retrieval?.queries == ["a photo of a kind."])
        #expect(plain.associations.first?.prompts(for: "one") == ["one"])
    }

    @Test(
        "each mistake is an error at its line, naming the key",
        arguments: [
            ("retrieval: {concepts: [good], k: [10], attributes: [colour]}", 10, "retrieval.attributes[0]", "neither an attribute"),
            ("retrieval: {k: [10]}", 10, "retrieval", "at least one query"),
            ("retrieval:\n  concepts: [good]\n  k: [10, 0]", 12, "retrieval.k[1]", "at least 1"),
            ("retrieval:\n  concepts: [good]", 11, "retrieval", "missing `k:`"),
            ("retrieval:\n  concepts: [good]\n  k: [10]\n  desird: uniform", 13, "retrieval.desird", "unknown key"),
            (
                "associations:\n  - name: a\n    attribute: race\n    groups: [x, y]\n    targets: {p: [], q: [w]}", 14,
                "associations[0].targets.p", "empty word set"
            ),
            (
                "associations:\n  - name: a\n    attribute: age\n    groups: [x, y]\n    targets: {p: [v], q: [w]}", 12,
                "associations[0].attribute", "neither an attribute"
            ),
            (
                "associations:\n  - name: a\n    attribute: race\n    groups: [x]\n    targets: {p: [v], q: [w]}", 13,
                "associations[0].groups", "exactly two"
            ),
            (
                "associations:\n  - name: a\n    attribute: race\n    groups: [x, y]\n    targets: {p: [v]}", 14,
                "associations[0].targets", "exactly two word sets"
            )
        ])
    func lineErrors(extra: String, line: Int, keyPath: String, message: String) throws {
        let error = try #require(Self.error(extra), "accepted: \(extra)")
        #expect(error.line == line, "\(error)")
        #expect(error.keyPath == keyPath, "\(error)")
        #expect(error.message.contains(message), "\(error)")
    }
}
