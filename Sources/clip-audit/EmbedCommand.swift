import ArgumentParser
import CLIPEngine
import Foundation

extension ClipAudit {
    /// `clip-audit embed`: writes pixel values, embeddings and logits to safetensors, for checks
    /// against other CLIP implementations.
    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write pixel_values, image_embeds, input_ids, text_embeds and logits_per_image to a safetensors file.")

        @OptionGroup var model: ModelOption

        @Option(name: .customLong("image"), help: "An image file; repeat for more.")
        var images: [String] = []

        @Option(name: .customLong("text"), help: "A text; repeat for more.")
        var texts: [String] = []

        @Option(name: .long, help: "The safetensors file to write.")
        var output: String

        @OptionGroup var performance: PerformanceOptions

        func validate() throws {
            if images.isEmpty && texts.isEmpty { throw ValidationError("give at least one --image or --text") }
        }

        func run() throws {
            try reportingErrors {
                CLIPModel.setThreads(performance.resolvedThreads)
                let pipeline = try CLIPPipeline(reference: model.model)
                let size = pipeline.model.imageSize, channels = pipeline.model.numChannels, d = pipeline.model.projectionDim
                var entries: [SafeTensorsWriter.Entry] = []
                var imageEmbeddings: [Float] = []
                if !images.isEmpty {
                    let pixels = try pipeline.pixelValues(imageFiles: images.map { URL(fileURLWithPath: $0) })
                    imageEmbeddings = pipeline.embedImages(pixelValues: pixels, batchSize: performance.batch)
                    entries.append(.float32("pixel_values", shape: [images.count, channels, size, size], pixels))
                    entries.append(.float32("image_embeds", shape: [images.count, d], imageEmbeddings))
                }
                if !texts.isEmpty {
                    let length = pipeline.tokenizer.contextLength
                    let ids = texts.map { pipeline.tokenizer.encode($0).map(Int64.init) }
                    let textEmbeddings = pipeline.embedTexts(texts)
                    entries.append(.int64("input_ids", shape: [texts.count, length], ids.flatMap { $0 }))
                    entries.append(.float32("text_embeds", shape: [texts.count, d], textEmbeddings))
                    if !images.isEmpty {
                        let logits = pipeline.logitsPerImage(imageEmbeddings: imageEmbeddings, textEmbeddings: textEmbeddings)
                        entries.append(.float32("logits_per_image", shape: [images.count, texts.count], logits))
                    }
                }
                try SafeTensorsWriter.write(entries, metadata: ["model": pipeline.resolved.id, "tool": "clip-audit \(CLIPEngineInfo.version)"],
                                            to: URL(fileURLWithPath: output))
                printError("wrote \(entries.map(\.name).joined(separator: ", ")) to \(output)")
            }
        }
    }
}
