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

            @Argument(
                help: "A repo id such as openai/clip-vit-base-patch16 (transformers) or laion/CLIP-ViT-B-32-laion2B-s34B-b79K (OpenCLIP).")
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
                    printError(
                        "\(result.downloaded.count) file(s) downloaded (\(ProgressBar.formatBytes(result.bytesReceived))), \(result.reused.count) already present; revision \(result.commit)"
                    )
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
                abstract: "Print what a model reference resolves to: its format, directory, files and sizes.")

            @Argument(
                help:
                    "A checkpoint directory, an OpenAI .pt file or a repo id (default: $CLIP_AUDIT_MODEL, else openai/clip-vit-base-patch16)."
            )
            var model: String?

            func run() throws {
                try reportingErrors {
                    let resolved = try ModelLocator().resolve(model)
                    // Load the network (weights mapped, not read: cheap) so that a truncated,
                    // corrupt or mis-shaped weights file fails here rather than in a run.
                    let network = try CheckpointLoader.network(resolved)
                    let config = network.model.configuration
                    print("model:      \(resolved.id)")
                    print("directory:  \(resolved.directory.path)")
                    if let revision = resolved.revision { print("revision:   \(revision)") }
                    print("format:     \(resolved.format.rawValue)")
                    print("numerics:   \(resolved.format.reference)")
                    for name in resolved.files.keys.sorted() {
                        let url = resolved.files[name]!
                        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
                        print("file:       \(name) (\(size.map { ProgressBar.formatBytes(Int64($0)) } ?? "?"))")
                    }
                    if network.foreign != nil { print("tokenizer:  OpenAI CLIP BPE (bundled with clip-audit)") }
                    if resolved.format == .siglip {
                        let spiece = resolved.files["spiece.model"] != nil
                        print(
                            "tokenizer:  \(spiece ? "SigLIP: SentencePiece unigram (spiece.model), lower-cased, ASCII punctuation removed" : "SigLIP 2: Gemma's SentencePiece BPE with byte fallback (tokenizer.model)"), padded to \(config.text.maxPositionEmbeddings)"
                        )
                        print("pooling:    image: attention-pooling head; text: last position through the head")
                        print("scores:     sigmoid(exp(logit_scale) × cosine + logit_bias); confidence is the sigmoid probability")
                    }
                    let v = config.vision, t = config.text
                    print(
                        "vision:     \(v.imageSize) px, patch \(v.patchSize), \(v.numHiddenLayers) layers × \(v.hiddenSize) wide, \(v.numAttentionHeads) heads, MLP \(v.intermediateSize), \(v.hiddenAct.rawValue)"
                    )
                    print(
                        "text:       vocab \(t.vocabSize), \(t.maxPositionEmbeddings) positions, \(t.numHiddenLayers) layers × \(t.hiddenSize) wide, \(t.numAttentionHeads) heads, MLP \(t.intermediateSize), \(resolved.format == .siglip ? "pooled at the last position" : t.eosTokenID == 2 ? "pooled at argmax(input_ids)" : "eos id \(t.eosTokenID)")"
                    )
                    print("projection: \(config.projectionDim)")
                    let configName = network.configurationURL.lastPathComponent
                    print(
                        "weights:    \(network.tensorCount) tensors, \(network.parameterCount) parameters (\(network.dtypes.joined(separator: ", "))); every tensor \(resolved.format == .openAI ? "the model" : configName) needs is present with its shape"
                    )
                }
            }
        }
    }
}
