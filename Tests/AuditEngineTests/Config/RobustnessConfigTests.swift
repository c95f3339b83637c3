import Foundation
import Testing

@testable import AuditEngine

/// The audit file's `robustness:` keys: read as docs/audit-file.md writes them, every mistake an
/// error at its line naming the key, and the draws of each specification.
@Suite("robustness in the audit file")
struct RobustnessConfigTests {
    static let base = """
        name: t
        manifest: {path: m.csv}
        attributes: [race, gender]
        templates: ["a photo of a {}."]
        designs:
          - name: g
            target: gender
            classes: {Male: [man], Female: [woman]}
          - name: harm
            classes: {person: [person], criminal: [criminal]}
            harm_categories: {crime-related: [criminal]}

        """
    static let file = URL(fileURLWithPath: "/tmp/audit.yaml")

    static func parse(_ extra: String) throws -> AuditConfig {
        try AuditConfig.parse(yaml: base + extra, sourceFile: file)
    }

    static func error(_ extra: String) -> AuditFileError? {
        do { _ = try parse(extra); return nil } catch { return error as? AuditFileError }
    }

    @Test("the contract's example is read; a phrase written alone is a list of one; defaults 20 and seed 1")
    func example() throws {
        let config = try Self.parse(
            """
            robustness:
              specifications: 20
              seed: 1
              templates:
                - ["a photo of a {}."]
                - ["a cropped photo of a {}.", "a close-up photo of a {}."]
                - "a bad photo of the {}."
              synonyms:
                criminal: [[criminal], [offender], felon]
            """)
        let spec = try #require(config.robustness)
        #expect(spec.specifications == 20 && spec.seed == 1)
        #expect(
            spec.templateSets == [
                ["a photo of a {}."], ["a cropped photo of a {}.", "a close-up photo of a {}."], ["a bad photo of the {}."]
            ])
        #expect(spec.synonyms == [.init(className: "criminal", phraseLists: [["criminal"], ["offender"], ["felon"]])])
        let defaults = try #require(try Self.parse("robustness: {synonyms: {Female: [[woman], [female]]}}").robustness)
        #expect(defaults.specifications == RobustnessSpec.defaultSpecifications && defaults.seed == 1 && defaults.templateSets.isEmpty)
        #expect(try Self.parse("").robustness == nil)
    }

    @Test(
        "each mistake is an error at its line, naming the key",
        arguments: [
            ("robustness:\n  specifications: -1\n  synonyms: {Male: [[man]]}", 13, "robustness.specifications", "at least 0"),
            ("robustness:\n  specifications: 1001\n  synonyms: {Male: [[man]]}", 13, "robustness.specifications", "at most 1000"),
            ("robustness:\n  seed: -3\n  synonyms: {Male: [[man]]}", 13, "robustness.seed", "at least 0"),
            ("robustness:\n  templates: [[\"a photo of a {}.\"], [\"a photo\"]]", 13, "robustness.templates[1][0]", "exactly one {}"),
            ("robustness:\n  templates: []", 13, "robustness.templates", "at least one template set"),
            ("robustness:\n  templates: [[]]", 13, "robustness.templates[0]", "at least one template"),
            ("robustness:\n  synonyms: {crimnal: [[offender]]}", 13, "robustness.synonyms.crimnal", "did you mean \"criminal\""),
            ("robustness:\n  synonyms: {Male: []}", 13, "robustness.synonyms.Male", "at least one phrase list"),
            ("robustness:\n  synonyms: {Male: [[man], []]}", 13, "robustness.synonyms.Male[1]", "empty phrase list"),
            ("robustness:\n  synonyms: {Male: man}", 13, "robustness.synonyms.Male", "list of phrase lists"),
            ("robustness:\n  synonyms: {}", 13, "robustness.synonyms", "at least one class"),
            ("robustness:\n  seed: 3", 13, "robustness", "needs `templates:`"),
            ("robustness:\n  specs: 3\n  synonyms: {Male: [[man]]}", 13, "robustness.specs", "unknown key `specs`")
        ])
    func lineErrors(extra: String, line: Int, keyPath: String, message: String) throws {
        let error = try #require(Self.error(extra), "accepted: \(extra)")
        #expect(error.line == line, "\(error)")
        #expect(error.keyPath == keyPath, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.description.hasPrefix("audit.yaml:\(line): \(keyPath): "), "\(error)")
    }

    @Test("a specification replaces every design's templates and each listed class's phrases, nothing else")
    func wording() throws {
        let config = try Self.parse(
            """
            robustness:
              specifications: 3
              templates: [["a {} here."]]
              synonyms: {criminal: [[offender, felon]]}
            """)
        let drawn = PromptSpecification.draw(try #require(config.robustness))
        #expect(drawn.count == 4 && drawn[0] == .own)
        #expect(drawn[0].apply(to: config.designs) == config.designs)
        let worded = drawn[3].apply(to: config.designs)
        #expect(worded.map(\.templates) == [["a {} here."], ["a {} here."]])
        #expect(worded[0].classes == config.designs[0].classes)
        #expect(worded[1].prompts(forClass: "criminal") == ["a offender here.", "a felon here."])
        #expect(worded[1].prompts(forClass: "person") == ["a person here."])
        #expect(worded[1].harmCategories == config.designs[1].harmCategories && worded[1].target == nil)
    }
}
