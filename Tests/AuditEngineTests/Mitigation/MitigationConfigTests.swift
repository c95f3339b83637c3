import Foundation
import Testing

@testable import AuditEngine

/// `mitigations:` in the audit file: what it becomes, and a one-line error at the key for each
/// way it can be wrong.
@Suite struct MitigationConfigTests {
    static let head = """
        name: m
        manifest: {path: data.csv}
        attributes: [gender]
        designs:
          - name: gender
            target: gender
            classes: {Male: [man], Female: [woman]}
          - name: crime
            classes: {person: [person], thief: [thief, criminal]}
        retrieval: {concepts: [good], k: [1]}
        mitigations:

        """

    func parse(_ mitigations: String) throws -> AuditConfig {
        try AuditConfig.parse(yaml: Self.head + mitigations, sourceFile: URL(fileURLWithPath: "/audits/m.yaml"))
    }

    func parseError(_ mitigations: String) -> AuditFileError? {
        #expect(throws: AuditFileError.self) { try parse(mitigations) }
    }

    @Test func theThreeMethodsParseWithTheirDefaults() throws {
        let config = try parse(
            """
              - name: proj
                method: projection
                attribute_prompts: "a photo of a man."
              - name: cal
                method: calibrated_projection
                designs: [crime]
                attribute_prompts: ["a photo of a man.", "a photo of a woman."]
                pair_template: "a photo of a {attribute} {class}."
                attribute_words: [male, female]
                lambda: 1000
              - name: clip.v1
                method: clip_clip
                attribute: gender
                dimensions: 100
                fit_manifest: {path: fit/fit.csv}
            """)
        #expect(config.mitigations.map(\.name) == ["proj", "cal", "clip.v1"])
        #expect(config.mitigations[0].designs == ["gender", "crime"])
        #expect(config.mitigations[0].method == .projection(attributePrompts: ["a photo of a man."]))
        #expect(
            config.mitigations[1].method
                == .calibratedProjection(
                    attributePrompts: ["a photo of a man.", "a photo of a woman."], pairTemplate: "a photo of a {attribute} {class}.",
                    attributeWords: ["male", "female"], lambda: 1000))
        guard case .clipClip(let attribute, let dimensions, let fit) = config.mitigations[2].method else {
            Issue.record("not clip_clip")
            return
        }
        #expect(attribute == "gender" && dimensions == 100)
        #expect(fit.path.path == "/audits/fit/fit.csv" && fit.imageRoot.path == "/audits/fit" && fit.fileColumn == "file")
        // The prompts it adds: the attribute prompts, the pairs of crime's phrases and of the concept.
        let prompts = config.mitigationPrompts
        for expected in ["a photo of a male thief.", "a photo of a female criminal.", "a photo of a male good.", "a photo of a woman."] {
            #expect(prompts.contains(expected), "\(expected)")
        }
        #expect(!prompts.contains("a photo of a male man."))
        #expect(EmbeddingMeasurements.prompts(for: config).contains("a photo of a female person."))
    }

    @Test(arguments: [
        ("  - {name: a b, method: projection, attribute_prompts: [x]}", "mitigations[0].name", "may hold only letters"),
        ("  - {name: a, method: projecton, attribute_prompts: [x]}", "mitigations[0].method", "did you mean `projection`?"),
        ("  - {name: a, method: projection}", "mitigations[0].attribute_prompts", "missing `attribute_prompts:`"),
        (
            "  - {name: a, method: projection, attribute_prompts: [x], lambda: 3}", "mitigations[0].lambda",
            "belongs to calibrated_projection, not projection"
        ),
        ("  - {name: a, method: projection, attribute_prompts: [x, x]}", "mitigations[0].attribute_prompts", "lists \"x\" twice"),
        (
            "  - {name: a, method: projection, attribute_prompts: [x], designs: [nope]}", "mitigations[0].designs[0]",
            "unknown design \"nope\""
        ),
        ("  - {name: a, method: projection, attribute_prompts: [x], colour: red}", "mitigations[0].colour", "unknown key `colour`"),
        (
            "  - {name: a, method: calibrated_projection, attribute_prompts: [x], pair_template: \"{class}\", attribute_words: [m, f], lambda: 1}",
            "mitigations[0].pair_template", "must contain {attribute} exactly once"
        ),
        (
            "  - {name: a, method: calibrated_projection, attribute_prompts: [x], pair_template: \"{attribute} {class}\", attribute_words: [m], lambda: 1}",
            "mitigations[0].attribute_words", "at least two words"
        ),
        (
            "  - {name: a, method: calibrated_projection, attribute_prompts: [x], pair_template: \"{attribute} {class}\", attribute_words: [m, f], lambda: -1}",
            "mitigations[0].lambda", "at least 0"
        ),
        (
            "  - {name: a, method: calibrated_projection, attribute_prompts: [x], pair_template: \"{attribute} {class}\", attribute_words: [m, f]}",
            "mitigations[0].lambda", "missing `lambda:`"
        ),
        (
            "  - {name: a, method: clip_clip, attribute: gender, dimensions: 0, fit_manifest: {path: f.csv}}", "mitigations[0].dimensions",
            "at least 1"
        ),
        ("  - {name: a, method: clip_clip, attribute: gender, dimensions: 2}", "mitigations[0].fit_manifest", "missing `fit_manifest:`"),
        (
            "  - {name: a, method: clip_clip, attribute: gender, dimensions: 2, fit_manifest: {root: x}}",
            "mitigations[0].fit_manifest.root", "unknown key `root`"
        ),
        (
            "  - {name: a, method: projection, attribute_prompts: [x]}\n  - {name: a, method: projection, attribute_prompts: [y]}",
            "mitigations[1].name", "names mitigations[0] too"
        )
    ])
    func eachMistakeIsOneLineAtItsKey(yaml: String, keyPath: String, message: String) throws {
        let error = try #require(parseError(yaml))
        #expect(error.keyPath == keyPath, "\(error)")
        #expect(error.line != nil, "\(error)")
        #expect(error.description.hasPrefix("m.yaml:"), "\(error)")
        #expect(error.description.contains(message), "\(error)")
        #expect(!error.description.contains("\n"))
    }

    @Test func aVariantNameThatIsADesignsNameIsRefused() throws {
        let yaml = """
            name: m
            manifest: {path: data.csv}
            attributes: [gender]
            designs:
              - {name: gender, classes: {Male: [man], Female: [woman]}}
              - {name: gender~fix, classes: {a: [a], b: [b]}}
            mitigations:
              - {name: fix, method: projection, attribute_prompts: [x]}
            """
        let error = #expect(throws: AuditFileError.self) {
            try AuditConfig.parse(yaml: yaml, sourceFile: URL(fileURLWithPath: "/audits/m.yaml"))
        }
        #expect(error?.keyPath == "mitigations[0].name")
        #expect(error?.description.contains("the variant \"gender~fix\" it makes is the name of a design") == true)
    }
}
