import ArgumentParser
import CLIPEngine
import Foundation

extension ClipAudit {
    /// `clip-audit classify`: the model card's quick start — images and labels in, probabilities out.
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Zero-shot probabilities of each image over the labels, as a table.",
            discussion: "Each label is used as the prompt as written, e.g. --label \"a photo of a cat\" --label \"a photo of a dog\".")

        @OptionGroup var model: ModelOption

        @Argument(help: "Image files (JPEG or PNG).")
        var images: [String]

        @Option(name: .customLong("label"), help: "A label prompt; repeat for each label (at least two).")
        var labels: [String] = []

        @OptionGroup var performance: PerformanceOptions

        func validate() throws {
            if images.isEmpty { throw ValidationError("give at least one image") }
            if labels.count < 2 { throw ValidationError("give at least two --label prompts") }
        }

        func run() throws {
            try reportingErrors {
                CLIPModel.setThreads(performance.resolvedThreads)
                let pipeline = try CLIPPipeline(reference: model.model)
                let urls = images.map { URL(fileURLWithPath: $0) }
                let pixels: [Float]
                do {
                    pixels = try pipeline.pixelValues(imageFiles: urls)
                } catch let error as ImageError {
                    // The decoder's line names the base name only; here the image is named as
                    // given, folder included (two `a.png` from different folders).
                    let given = zip(images, urls).first { $0.1.path == error.file }?.0 ?? error.file
                    throw ValidationError("\(given): \(error.message)")
                }
                let imageEmbeddings = pipeline.embedImages(pixelValues: pixels, batchSize: performance.batch)
                try pipeline.model.checkEmbeddings(imageEmbeddings, of: "image") { images[$0] }
                let textEmbeddings = pipeline.embedTexts(labels)
                try pipeline.model.checkEmbeddings(textEmbeddings, of: "text") { "the label \"\(labels[$0])\"" }
                // The scorer an audit's designs use: a label here scores as a class with that one
                // prompt would in `run`, to the last bit.
                let scorer = pipeline.scorer(textEmbeddings: textEmbeddings)
                let d = scorer.dimension
                // Paths as given: base names alone cannot tell two `a.png` from different folders apart.
                let nameWidth = max(5, images.map(\.count).max() ?? 5)
                let columnWidth = labels.map { max(8, $0.count) }
                var header = "image".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                for (label, width) in zip(labels, columnWidth) {
                    header += "  " + String(repeating: " ", count: width - label.count) + label
                }
                print(header)
                for (i, path) in images.enumerated() {
                    let scores = scorer.score(imageEmbedding: Array(imageEmbeddings[(i * d)..<((i + 1) * d)]))
                    var line = path.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    for (p, width) in zip(scores.probabilities, columnWidth) {
                        let cell = String(format: "%.4f", p)
                        line += "  " + String(repeating: " ", count: max(0, width - cell.count)) + cell
                    }
                    print(line)
                }
                // SigLIP scores each label on its own: its numbers are not shares of one whole.
                if pipeline.model.logitBias != nil {
                    printError(
                        "probabilities are SigLIP's per-label sigmoids, sigmoid(exp(logit_scale) × cosine + logit_bias): each label on its own, not a softmax over the labels"
                    )
                }
            }
        }
    }
}
