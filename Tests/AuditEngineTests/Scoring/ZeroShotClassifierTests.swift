import CLIPEngine
import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// The scoring rule of docs/audit-file.md, checked against transformers' `logits_per_image` (the golden
/// fixture) and against small cases worked by hand.
@Suite struct ZeroShotClassifierTests {
    @Test func oneTemplateOnePhraseGivesTransformersLogits() throws {
        let golden = try SafeTensorsFile(url: FixturePaths.packageRoot.appendingPathComponent("Fixtures/clip-reference/golden.safetensors"))
        let images = try golden.floats("image_embeds"), texts = try golden.floats("text_embeds")
        let logits = try golden.floats("logits_per_image")
        let d = 24, textCount = 30
        // "a photo of a cat", "a photo of a dog", "a photo of a man.", "a photo of a woman."
        let picks = [0, 1, 2, 3]
        let scale = try CLIPModel(directory: FixturePaths.packageRoot.appendingPathComponent("Fixtures/clip-reference/tiny-clip"))
            .logitScale
        let classifier = try ZeroShotClassifier(
            classes: ["cat", "dog", "man", "woman"],
            promptEmbeddings: picks.map { [Array(texts[($0 * d)..<(($0 + 1) * d)])] },
            logitScale: scale)
        var worst = 0.0
        for i in 0..<12 {
            let scores = classifier.score(imageEmbedding: Array(images[(i * d)..<((i + 1) * d)]))
            let reference = picks.map { Double(logits[i * textCount + $0]) }
            let top = reference.max()!
            let exps = reference.map { exp($0 - top) }
            let probabilities = exps.map { $0 / exps.reduce(0, +) }
            worst = max(worst, (0..<4).map { abs(scores.probabilities[$0] - probabilities[$0]) }.max()!)
            // On transformers' own embeddings only the logits' rounding differs: achieved 5.6e-7.
            for c in 0..<4 { #expect(abs(scores.probabilities[c] - probabilities[c]) < 5e-6) }
            #expect(scores.predicted == reference.firstIndex(of: top))
        }
        print("parity classifier: max |ours - softmax of transformers' logits| \(worst)")
    }

    @Test func ensembleIsTheNormalisedMeanOfNormalisedPrompts() throws {
        // Class A has prompts (3,4) and (0,2): normalised (0.6,0.8) and (0,1), mean (0.3,0.9),
        // normalised (0.316228, 0.948683). Class B: (1,0). Image (0,5) → unit (0,1).
        // Logits with scale 10: A 9.48683, B 0. p(A) = 1/(1+e^-9.48683) = 0.999924.
        let classifier = try ZeroShotClassifier(classes: ["A", "B"], promptEmbeddings: [[[3, 4], [0, 2]], [[1, 0]]], logitScale: 10)
        #expect(abs(classifier.classEmbeddings[0] - 0.316228) < 1e-6 && abs(classifier.classEmbeddings[1] - 0.948683) < 1e-6)
        let scores = classifier.score(imageEmbedding: [0, 5])
        #expect(scores.predicted == 0)
        #expect(abs(scores.confidence - 0.999924) < 1e-6)
    }

    @Test func tiesGoToTheClassListedFirst() throws {
        let classifier = try ZeroShotClassifier(
            classes: ["first", "second", "third"],
            promptEmbeddings: [[[1, 0]], [[1, 0]], [[0, 1]]], logitScale: 100)
        let scores = classifier.score(imageEmbedding: [2, 0])
        #expect(scores.predicted == 0)
        #expect(abs(scores.probabilities[0] - scores.probabilities[1]) < 1e-12)
    }

    /// `classify`'s scoring (the pipeline's scorer over one prompt per label) gives bit for bit the
    /// predictions and confidences of a whole `run` whose design has those prompts as its
    /// classes: same image embeddings, same class vectors, same logits and softmax.
    @Test func classifyScoresBitForBitAsRun() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let fixtures = FixturePaths.root
        let audit = try dir.write(
            "audit.yaml",
            """
            name: scorer
            model: \(FixturePaths.tinyCLIP.path)
            manifest:
              path: \(fixtures.appendingPathComponent("demo/manifest.csv").path)
              image_root: \(FixturePaths.clipReference.path)
            attributes: [race, gender]
            templates: ["a photo of a {}."]
            designs:
              - name: gender
                target: gender
                classes: {Male: [man], Female: [woman]}
              - name: three
                classes: {a: [white man], b: [black woman], c: [gorilla]}
            """)
        var options = RunOptions()
        options.useCache = false
        options.batchSize = 5
        let run = try AuditRunner.run(auditFile: audit, options: options)

        let pipeline = try CLIPPipeline(model: run.model)
        let designs: [(name: String, classes: [String], prompts: [String])] = [
            ("gender", ["Male", "Female"], ["a photo of a man.", "a photo of a woman."]),
            ("three", ["a", "b", "c"], ["a photo of a white man.", "a photo of a black woman.", "a photo of a gorilla."])
        ]
        for design in designs {
            let predictions = run.predictions.filter { $0.design == design.name }
            #expect(predictions.count == 13)
            let files = predictions.map { FixturePaths.clipReference.appendingPathComponent($0.file) }
            let images = pipeline.embedImages(pixelValues: try pipeline.pixelValues(imageFiles: files))
            let scorer = pipeline.scorer(textEmbeddings: pipeline.embedTexts(design.prompts))
            let d = scorer.dimension
            for (i, prediction) in predictions.enumerated() {
                let scores = scorer.score(imageEmbedding: Array(images[(i * d)..<((i + 1) * d)]))
                #expect(design.classes[scores.predicted] == prediction.predicted, "\(design.name) \(prediction.file)")
                #expect(scores.confidence == prediction.confidence, "\(design.name) \(prediction.file)")
            }
        }
    }
}
