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

        @Option(
            name: .long,
            help: ArgumentHelp(
                "A file of image paths, one a line (after the --image ones; relative paths are relative to the current folder).",
                valueName: "FILE"))
        var imagesFile: String?

        @Option(
            name: .long,
            help: ArgumentHelp("A file of texts, one a line (after the --text ones; an empty line is an empty text).", valueName: "FILE"))
        var textsFile: String?

        @Option(name: .long, help: "The safetensors file to write.")
        var output: String

        @OptionGroup var performance: PerformanceOptions

        func validate() throws {
            if images.isEmpty && texts.isEmpty && imagesFile == nil && textsFile == nil {
                throw ValidationError("give at least one --image or --text (or --images-file, --texts-file)")
            }
        }

        /// The lines of a list file (UTF-8; `\r\n` or `\n`; the newline after the last line is
        /// optional). `what` names the entries in errors.
        static func lines(of path: String, what: String, allowEmpty: Bool) throws -> [String] {
            let data = try FileKind.contents(of: URL(fileURLWithPath: path))
            guard let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("\(path): not UTF-8 text (expected \(what), one a line)")
            }
            // Split on scalars: as Characters, "\r\n" is one grapheme that neither "\n" nor "\r" matches.
            var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                String(String.UnicodeScalarView(line.last == "\r" ? line.dropLast() : line[...]))
            }
            if lines.last == "" { lines.removeLast() }
            if lines.isEmpty { throw ValidationError("\(path): no \(what) in the file") }
            if !allowEmpty, let blank = lines.firstIndex(where: { $0.allSatisfy(\.isWhitespace) }) {
                throw ValidationError("\(path):\(blank + 1): empty line (expected \(what), one a line)")
            }
            return lines
        }

        func run() throws {
            try reportingErrors {
                var images = self.images, texts = self.texts
                if let imagesFile { images += try Self.lines(of: imagesFile, what: "image paths", allowEmpty: false) }
                if let textsFile { texts += try Self.lines(of: textsFile, what: "texts", allowEmpty: true) }
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
                // Which row is which: row i of image_embeds is images[i], of text_embeds texts[i]
                // (JSON lists, since safetensors metadata values are strings).
                var metadata = ["model": pipeline.resolved.id, "tool": "clip-audit \(CLIPEngineInfo.version)"]
                func json(_ list: [String]) throws -> String {
                    String(decoding: try JSONSerialization.data(withJSONObject: list, options: [.withoutEscapingSlashes]), as: UTF8.self)
                }
                if !images.isEmpty { metadata["images"] = try json(images) }
                if !texts.isEmpty { metadata["texts"] = try json(texts) }
                try SafeTensorsWriter.write(entries, metadata: metadata, to: URL(fileURLWithPath: output))
                printError("wrote \(entries.map(\.name).joined(separator: ", ")) to \(output)")
            }
        }
    }
}
