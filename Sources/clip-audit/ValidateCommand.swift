import ArgumentParser
import AuditEngine
import CLIPEngine
import Foundation

extension ClipAudit {
    /// `clip-audit validate AUDIT.yaml`: checks the audit file, its manifest, its images and
    /// where its model is, without loading the model.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check an audit file, its manifest (columns, label values, missing images), its images and its model's location without loading the model.",
            discussion: """
                Resolves the model (as run does, without reading its weights) and decodes the image of \
                every usable row as run would, listing the ones run would skip. --headers-only reads only \
                the images' headers (format, size, pixel limit): faster, but a file truncated after its \
                header passes.
                """)

        @Argument(help: "The audit file (YAML).")
        var auditFile: String

        @OptionGroup var model: ModelOption

        @Flag(name: .long, help: "Read only each image's header instead of decoding it.")
        var headersOnly = false

        @Option(name: .long, parsing: .unconditional, help: "Threads reading images (default: the number of cores).")
        var threads: Int?

        @Option(name: .long, parsing: .unconditional, help: "Refuse images whose header claims more pixels than this (as run does).")
        var maxPixels: Int = ImageDecoder.defaultMaxPixels

        func validate() throws {
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
            if maxPixels < 1 { throw ValidationError("--max-pixels must be positive") }
        }

        func run() throws {
            try reportingErrors {
                let config = try AuditConfig.load(contentsOf: URL(fileURLWithPath: auditFile))
                // The model first: a mistyped path is the cheapest thing to find, and run would
                // stop on it before reading a single image.
                var modelError: String?
                // Every model of `models:` (unless --model replaces them), each as run would find it.
                let models: [(label: String?, reference: String?)] =
                    model.model != nil || config.models.isEmpty
                    ? [(nil, model.model ?? config.model.map(\.locatorString))]
                    : config.models.map { ($0.label, $0.model.locatorString) }
                for (label, reference) in models where modelError == nil {
                    do {
                        let resolved = try ModelLocator().resolve(reference)
                        // The configuration decides the encoders' shapes; reading it costs nothing.
                        // (OpenAI's archive has none: its sizes come from the weights, read by run.)
                        switch resolved.format {
                        case .huggingFaceSafetensors, .huggingFacePyTorch:
                            _ = try CLIPConfiguration(
                                contentsOf: resolved.files["config.json"] ?? resolved.directory.appendingPathComponent("config.json"))
                        case .openCLIP:
                            _ = try ForeignCheckpointConfiguration(
                                openCLIPConfig: resolved.files["open_clip_config.json"]
                                    ?? resolved.directory.appendingPathComponent("open_clip_config.json"))
                        case .siglip:
                            _ = try SiglipConfiguration(
                                contentsOf: resolved.files["config.json"] ?? resolved.directory.appendingPathComponent("config.json"))
                        case .openAI:
                            break
                        }
                        // A local checkpoint's id is its path: the folder only once.
                        let location = resolved.id == resolved.directory.path ? "" : " (\(resolved.directory.path))"
                        print("model\(label.map { " \($0)" } ?? ""): \(resolved.id)\(location)")
                    } catch {
                        modelError = (label.map { "model \($0): " } ?? "") + "\(error)"
                    }
                }
                var report = try AuditValidator.validate(config)
                if report.errors.isEmpty {
                    AuditValidator.checkImages(
                        &report, depth: headersOnly ? .headers : .decode,
                        threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
                        maxPixels: maxPixels)
                }
                for line in report.lines { print(line) }
                // Each error once, on stderr (the report above is stdout).
                guard report.isValid, modelError == nil else {
                    for error in report.errors { printError("clip-audit: \(error)") }
                    if let modelError { printError("clip-audit: \(modelError)") }
                    throw ExitCode(1)
                }
                // The last line answers the question validate is run for, after the details.
                let warnings = report.warnings.count + (report.undecodableImages.isEmpty ? 0 : 1)
                print(
                    "audit ready: \(report.usableRows.count) usable rows"
                        + (warnings == 0 ? "" : ", \(warnings) warning\(warnings == 1 ? "" : "s") above")
                        + "; run it with: clip-audit run \(Self.shellQuoted(auditFile))")
            }
        }

        /// `path` as a shell word: as is when it needs no quoting, else in single quotes.
        static func shellQuoted(_ path: String) -> String {
            let plain =
                !path.isEmpty
                && path.unicodeScalars.allSatisfy {
                    $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "/._-+,:@%".unicodeScalars.contains($0))
                }
            return plain ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
    }
}
