import ArgumentParser
import CLIPEngine
import Foundation

extension ClipAudit {
    /// `clip-audit model pull|info`.
    struct Model: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a checkpoint into the Hugging Face cache, or show what a model resolves to.",
            subcommands: [Pull.self, Info.self])

        /// `clip-audit model pull REPO_ID`.
        struct Pull: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Download a checkpoint from $HF_ENDPOINT (default: the public hub) into the Hugging Face cache.")

            @Argument(help: "A repo id such as openai/clip-vit-base-patch16.")
            var repoID: String

            func validate() throws {
                let parts = repoID.split(separator: "/", omittingEmptySubsequences: false)
                if parts.count != 2 || parts.contains(where: \.isEmpty) {
                    throw ValidationError("a repo id has the form ORG/NAME, e.g. openai/clip-vit-base-patch16")
                }
            }

            func run() async throws {
                do {
                    let downloader = HubDownloader()
                    let bar = ProgressBar()
                    let result = try await downloader.pull(repoID) { file, received, total in
                        bar.update(file: file, received: received, total: total)
                    }
                    printError("\(result.downloaded.count) file(s) downloaded (\(ProgressBar.formatBytes(result.bytesReceived))), \(result.reused.count) already present; revision \(result.commit)")
                    print(result.model.directory.path)
                } catch {
                    printError("clip-audit: \(error)".replacingOccurrences(of: "\n", with: " "))
                    throw ExitCode(1)
                }
            }
        }

        /// `clip-audit model info M`.
        struct Info: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print what a model reference resolves to: its directory, files and sizes.")

            @Argument(help: "A checkpoint directory or a repo id (default: $CLIP_AUDIT_MODEL, else openai/clip-vit-base-patch16).")
            var model: String?

            func run() throws {
                try reportingErrors {
                    let resolved = try ModelLocator().resolve(model)
                    let config = try CLIPConfiguration(contentsOf: resolved.directory.appendingPathComponent("config.json"))
                    print("model:      \(resolved.id)")
                    print("directory:  \(resolved.directory.path)")
                    if let revision = resolved.revision { print("revision:   \(revision)") }
                    for name in resolved.files.keys.sorted() {
                        let url = resolved.files[name]!
                        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
                        print("file:       \(name) (\(size.map { ProgressBar.formatBytes(Int64($0)) } ?? "?"))")
                    }
                    let v = config.vision, t = config.text
                    print("vision:     \(v.imageSize) px, patch \(v.patchSize), \(v.numHiddenLayers) layers × \(v.hiddenSize) wide, \(v.numAttentionHeads) heads, MLP \(v.intermediateSize), \(v.hiddenAct.rawValue)")
                    print("text:       vocab \(t.vocabSize), \(t.maxPositionEmbeddings) positions, \(t.numHiddenLayers) layers × \(t.hiddenSize) wide, \(t.numAttentionHeads) heads, MLP \(t.intermediateSize), eos id \(t.eosTokenID)")
                    print("projection: \(config.projectionDim)")
                    // Load the weights (mapped, not read: cheap) so that a truncated, corrupt or
                    // mis-shaped model.safetensors fails here rather than in the middle of a run.
                    let weightsURL = resolved.files["model.safetensors"] ?? resolved.directory.appendingPathComponent("model.safetensors")
                    let weights = try SafeTensorsFile(url: weightsURL)
                    _ = try CLIPModel(configuration: config, weightsURL: weightsURL)
                    let parameters = weights.tensors.values.reduce(0) { $0 + $1.count }
                    let types = Set(weights.tensors.values.map(\.dtype.rawValue)).sorted().joined(separator: ", ")
                    print("weights:    \(weights.tensors.count) tensors, \(parameters) parameters (\(types)); every tensor config.json needs is present with its shape")
                }
            }
        }
    }
}
