import Foundation

/// Loads the network of a resolved checkpoint in its format: the one place that maps a
/// `CheckpointFormat` to a configuration, a weights reader and a tensor layout (used by the
/// pipeline, `bench` and `model info`).
public enum CheckpointLoader {
    /// A loaded network and what was learnt on the way.
    public struct Network: Sendable {
        public let model: CLIPModel
        /// The OpenCLIP or OpenAI settings (sizes, preprocessing); nil for transformers.
        public let foreign: ForeignCheckpointConfiguration?
        /// The file the sizes come from: `config.json`, `open_clip_config.json`, or for OpenAI
        /// the weights themselves.
        public let configurationURL: URL
        /// Every tensor in the weights file, with the model's or not.
        public let tensorCount: Int
        /// Their elements.
        public let parameterCount: Int
        /// Their element types (`F32`, `F16`, ...), sorted.
        public let dtypes: [String]

        init(model: CLIPModel, foreign: ForeignCheckpointConfiguration?, configurationURL: URL, source: any TensorSource) throws {
            self.model = model
            self.foreign = foreign
            self.configurationURL = configurationURL
            let names = source.tensorNames
            tensorCount = names.count
            parameterCount = try CheckpointLoader.parameterCount(source)
            dtypes = Set(names.compactMap { source.tensorDType($0)?.rawValue }).sorted()
        }
    }

    /// Reads the configuration and maps the weights of `resolved` (symlinks followed), checking
    /// every tensor the network needs. Errors are one line naming the file at fault.
    public static func network(_ resolved: ResolvedModel) throws -> Network {
        let weightsURL = resolved.weightsURL.resolvingSymlinksInPath()
        func file(_ name: String) -> URL { resolved.files[name] ?? resolved.directory.appendingPathComponent(name) }
        let source: any TensorSource
        let configuration: CLIPConfiguration
        var foreign: ForeignCheckpointConfiguration?
        let configurationURL: URL
        switch resolved.format {
        case .huggingFaceSafetensors, .huggingFacePyTorch:
            configurationURL = file("config.json")
            configuration = try CLIPConfiguration(contentsOf: configurationURL)
            source = resolved.format == .huggingFacePyTorch ? try PyTorchArchive(url: weightsURL) : try SafeTensorsFile(url: weightsURL)
        case .openCLIP:
            configurationURL = file("open_clip_config.json")
            foreign = try ForeignCheckpointConfiguration(openCLIPConfig: configurationURL)
            configuration = foreign!.configuration
            // By the name in the checkpoint: a cache snapshot's link resolves to an extensionless blob.
            source =
                resolved.weightsName.hasSuffix(".safetensors") ? try SafeTensorsFile(url: weightsURL) : try PyTorchArchive(url: weightsURL)
        case .siglip:
            configurationURL = file("config.json")
            let siglip = try SiglipConfiguration(contentsOf: configurationURL)
            // By the name in the checkpoint: a cache snapshot's link resolves to an extensionless blob.
            source =
                resolved.weightsName.hasSuffix(".safetensors") ? try SafeTensorsFile(url: weightsURL) : try PyTorchArchive(url: weightsURL)
            let model = try CLIPModel(siglip: siglip.clip, source: source)
            return try Network(model: model, foreign: nil, configurationURL: configurationURL, source: source)
        case .openAI:
            configurationURL = weightsURL
            let archive = try PyTorchArchive(url: weightsURL)
            foreign = try ForeignCheckpointConfiguration(openAIArchive: archive)
            configuration = foreign!.configuration
            source = archive
        }
        if foreign != nil {
            // The bundled tokenizer's ids run to 49,407: a smaller embedding table cannot take them.
            guard configuration.text.vocabSize == 49408 else {
                throw SafeTensorsError(
                    code: .shapeMismatch, file: weightsURL.path, tensor: nil,
                    message:
                        "the text tower has a vocabulary of \(configuration.text.vocabSize) tokens, but OpenAI's tokenizer (which this format uses) needs 49408"
                )
            }
        }
        let layout = foreign?.layout ?? .huggingFace
        // OpenAI's buffers are dropped by `clip`'s build_model, not by open_clip's strict load.
        let ignoring = resolved.format == .openAI ? ForeignCheckpointConfiguration.openAIArchiveBuffers : []
        let model = try CLIPModel(configuration: configuration, source: source, layout: layout, ignoring: ignoring)
        return try Network(model: model, foreign: foreign, configurationURL: configurationURL, source: source)
    }

    /// The elements of every tensor in `source`, counted with overflow checks: shapes come from
    /// the file, and a view of shape (2^62, 2^62, 0) or a few 2^61-element stride-0 views of
    /// one small storage are valid PyTorch tensors whose plain product or sum traps.
    static func parameterCount(_ source: any TensorSource) throws -> Int {
        var total = 0
        for name in source.tensorNames.sorted() {
            guard let shape = source.tensorShape(name), !shape.contains(0) else { continue }
            var count = 1
            var overflow = false
            for size in shape where !overflow { (count, overflow) = count.multipliedReportingOverflow(by: size) }
            if !overflow { (total, overflow) = total.addingReportingOverflow(count) }
            guard !overflow else {
                throw SafeTensorsError(
                    code: .badTensorEntry, file: source.url.path, tensor: name,
                    message: "shape \(shape) takes the checkpoint's element count past \(Int.max) (overflow)")
            }
        }
        return total
    }
}
