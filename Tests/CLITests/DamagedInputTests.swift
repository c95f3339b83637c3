import CLIPEngine
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Inputs a reviewer used to crash, hang or fool the commands (each once did one of those): a
/// damaged checkpoint, an output path that is not a regular file, absurd option values. Each
/// must give one line on stderr naming the file or option and a failing status, and touch
/// nothing else.
@Suite("damaged models, special outputs, absurd options", .serialized)
struct DamagedInputTests {
    /// A copy of the tiny checkpoint in a fresh folder, for damaging.
    static func modelCopy(_ directory: URL) throws -> URL {
        let model = directory.appendingPathComponent("model")
        try FileManager.default.copyItem(at: CLI.tinyCLIP, to: model)
        return model
    }

    /// Overwrites every `step`-th float of tensor `name` in the copy's model.safetensors.
    static func overwrite(_ name: String, in model: URL, every step: Int = 7, with value: Float) throws {
        let url = model.appendingPathComponent("model.safetensors")
        let info = try SafeTensorsFile(url: url).info(name)
        #expect(info.dtype == .f32)
        var bytes = [UInt8](try Data(contentsOf: url))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let start = 8 + headerLength + info.dataRange.lowerBound
        for element in stride(from: 0, to: info.count, by: step) {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { raw in
                for (i, byte) in raw.enumerated() { bytes[start + 4 * element + i] = byte }
            }
        }
        try Data(bytes).write(to: url)
    }

    static func classify(_ model: URL) throws -> CLI.Result {
        try CLI.run([
            "classify", "--model", model.path, CLI.fixtures.appendingPathComponent("images/gradient_rgb.jpg").path,
            "--label", "a cat", "--label", "a dog", "--threads", "1"
        ])
    }

    /// One line on stderr, a failing status, nothing on stdout.
    static func expectOneLineFailure(
        _ result: CLI.Result, containing parts: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status != 0, "status 0; stdout: \(result.stdout)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(result.stderr.contains(part), "\"\(part)\" not in: \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test("NaN weights: an error naming the weights file, not every image as the first label")
    func nanWeights() throws {
        let directory = try CLI.temporaryDirectory("nan")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Self.modelCopy(directory)
        try Self.overwrite("vision_model.embeddings.patch_embedding.weight", in: model, with: .nan)
        Self.expectOneLineFailure(
            try Self.classify(model),
            containing: ["model.safetensors", "non-finite (NaN or infinite) image embedding", "gradient_rgb.jpg"])
    }

    @Test("an infinite logit scale is refused when the model loads")
    func infiniteLogitScale() throws {
        let directory = try CLI.temporaryDirectory("scale")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Self.modelCopy(directory)
        try Self.overwrite("logit_scale", in: model, every: 1, with: 1000)
        Self.expectOneLineFailure(try Self.classify(model), containing: ["model.safetensors", "logit_scale", "must be finite"])
    }

    @Test("config.json: an end-of-text id outside the vocabulary, an absurd image size")
    func configRanges() throws {
        let directory = try CLI.temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Self.modelCopy(directory)
        let configURL = model.appendingPathComponent("config.json")
        let original = try Data(contentsOf: configURL)
        for (section, key, value, message) in [
            ("text_config", "eos_token_id", 1_000_000, "outside the vocabulary"),
            ("vision_config", "image_size", 1 << 40, "expected at most 8192")
        ] {
            var config = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            var sub = try #require(config[section] as? [String: Any])
            sub[key] = value
            config[section] = sub
            try JSONSerialization.data(withJSONObject: config).write(to: configURL)
            Self.expectOneLineFailure(try Self.classify(model), containing: ["config.json", "\(section).\(key)", message])
        }
    }

    /// A token id past the embedding table crashed classify and embed (or, just past it, built
    /// prompts from other memory); rescale_factor 1e308 gave NaN embeddings blamed on the weights.
    @Test("vocab.json ids past the embedding table, absurd preprocessing numbers")
    func tokenizerAndPreprocessingRanges() throws {
        let directory = try CLI.temporaryDirectory("tables")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Self.modelCopy(directory)
        func edit(_ name: String, _ change: (inout [String: Any]) -> Void) throws -> Data {
            let url = model.appendingPathComponent(name)
            let original = try Data(contentsOf: url)
            var object = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            change(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: url)
            return original
        }
        for id in [49409, 60000, 1_000_000_000] {
            let original = try edit("vocab.json") { $0["cat</w>"] = id }
            Self.expectOneLineFailure(try Self.classify(model), containing: ["vocab.json", "\"cat</w>\" has id \(id)", "49408"])
            try original.write(to: model.appendingPathComponent("vocab.json"))
        }
        _ = try edit("preprocessor_config.json") { $0["rescale_factor"] = 1e308 }
        Self.expectOneLineFailure(try Self.classify(model), containing: ["preprocessor_config.json", "rescale_factor"])
    }

    /// model info printed its summary and exit 0 for a truncated model.safetensors.
    @Test("model info checks the weights: a truncated file fails in one line")
    func modelInfoChecksWeights() throws {
        let directory = try CLI.temporaryDirectory("info")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Self.modelCopy(directory)
        let good = try CLI.run(["model", "info", model.path])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("weights:    "), "\(good.stdout)")
        let weights = model.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count / 2).write(to: weights)
        let bad = try CLI.run(["model", "info", model.path])
        #expect(bad.status != 0)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("model.safetensors"), "\(bad.stderr)")
    }

    @Test("a FIFO as any checkpoint file is refused, not waited on", .timeLimit(.minutes(1)))
    func fifoCheckpointFiles() throws {
        for name in ["model.safetensors", "config.json", "vocab.json", "merges.txt", "preprocessor_config.json"] {
            let directory = try CLI.temporaryDirectory("fifo")
            defer { try? FileManager.default.removeItem(at: directory) }
            let model = try Self.modelCopy(directory)
            let file = model.appendingPathComponent(name)
            try FileManager.default.removeItem(at: file)
            #expect(mkfifo(file.path, 0o644) == 0)
            Self.expectOneLineFailure(try Self.classify(model), containing: [name, "a FIFO", "not a regular file"])
        }
    }

    @Test("classify: a directory or a FIFO given as an image is named for what it is, at once", .timeLimit(.minutes(1)))
    func specialImagePaths() throws {
        let directory = try CLI.temporaryDirectory("special-images")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("pipe.jpg")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        for (path, kind) in [(directory.path, "a directory"), (fifo.path, "a FIFO")] {
            let result = try CLI.run(["classify", "--model", CLI.tinyCLIP.path, path, "--label", "a", "--label", "b"])
            Self.expectOneLineFailure(result, containing: ["cannot read: is \(kind), not an image file"])
        }
    }

    @Test("run --output under a file: one line naming the file in the way (it was NSCocoaErrorDomain error 512)")
    func outputUnderAFile() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(2)))
        try ws.writeAudit()
        try Data("x".utf8).write(to: URL(fileURLWithPath: ws.path("ofile")))
        let result = try CLI.run(["run", ws.audit.path, "--output", ws.path("ofile/report"), "--no-cache", "--threads", "1"])
        Self.expectOneLineFailure(result, containing: ["cannot create the report folder: \(ws.path("ofile")) is a file, not a folder"])
    }

    @Test("embed --output: a FIFO or a directory is refused and left as it was; a symlink is written through")
    func embedOutputs() throws {
        let directory = try CLI.temporaryDirectory("embed-out")
        defer { try? FileManager.default.removeItem(at: directory) }
        func embed(_ output: URL) throws -> CLI.Result {
            try CLI.run(["embed", "--model", CLI.tinyCLIP.path, "--text", "a photo of a cat", "--output", output.path])
        }
        let fifo = directory.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        Self.expectOneLineFailure(try embed(fifo), containing: [fifo.path, "is a FIFO"])
        var info = stat()
        #expect(lstat(fifo.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO was replaced")

        let folder = directory.appendingPathComponent("folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        Self.expectOneLineFailure(try embed(folder), containing: [folder.path, "is a directory"])

        let target = directory.appendingPathComponent("target.safetensors"), link = directory.appendingPathComponent("link")
        try Data("old".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        let result = try embed(link)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path, "the link was replaced")
        #expect(try SafeTensorsFile(url: target).tensors["text_embeds"] != nil)

        let missingFolder = directory.appendingPathComponent("no/such/out.safetensors")
        Self.expectOneLineFailure(try embed(missingFolder), containing: [missingFolder.path, "cannot create a file in"])
    }

    @Test("absurd --threads, --batch and --seconds are refused before anything is allocated")
    func absurdOptions() throws {
        for (arguments, message) in [
            (
                [
                    "classify", "--model", CLI.tinyCLIP.path, "x.jpg", "--label", "a", "--label", "b",
                    "--threads", "1000000"
                ], "--threads must be at most 256"
            ),
            (["bench", "--model", CLI.tinyCLIP.path, "--batch", "100000"], "--batch must be at most 1024"),
            (["bench", "--model", CLI.tinyCLIP.path, "--seconds", "inf"], "--seconds must be at most 3600")
        ] {
            let result = try CLI.run(arguments)
            #expect(result.status != 0 && result.status != 134, "\(arguments): status \(result.status)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }

    /// Usage errors were three or four lines (the error, the option's help, the usage), and a
    /// negative number was "Missing value for '--limit <limit>'".
    @Test("usage errors are one line naming the subcommand's help; negative numbers reach the range check")
    func usageErrorsAreOneLine() throws {
        for (arguments, line) in [
            (["run", "x.yaml", "--limit", "-1"], "clip-audit: --limit must be 0 or more (see clip-audit run --help)"),
            (["run", "x.yaml", "--batch", "0"], "clip-audit: --batch must be at least 1 (see clip-audit run --help)"),
            (["run"], "clip-audit: Missing expected argument '<audit-file>' (see clip-audit run --help)"),
            (["bench", "--seconds", "-1"], "clip-audit: --seconds must be positive (see clip-audit bench --help)"),
            (["run", "x.yaml", "--bogus"], "clip-audit: Unknown option '--bogus' (see clip-audit run --help)")
        ] {
            let result = try CLI.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.status)")
            #expect(result.stderr == line + "\n", "\(arguments)")
        }
        let help = try CLI.run(["run", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: clip-audit run"), "\(help.stdout)")
    }
}
