import ArgumentParser
import AuditEngine
import Foundation

extension ClipAudit {
    /// `clip-audit cache merge OUT IN...`: consolidates shard caches into one file.
    struct Cache: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Work with embedding cache files.",
            subcommands: [Merge.self])

        struct Merge: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Copy the embeddings of cache files (e.g. one per shard) into one cache file.",
                discussion: """
                    OUT is created if needed; embeddings it already has are kept. Each IN is only read; \
                    its unusable embeddings (zero, NaN or infinite values) are skipped and counted. \
                    The merged file then serves `clip-audit run AUDIT --cache OUT --cached-only`. \
                    (`run` can also read the shard caches directly: `--cache OUT --cache IN1 --cache IN2 ...`.)
                    """)

            @Argument(help: "The cache file to merge into.")
            var output: String

            @Argument(help: "The cache files to merge from.")
            var inputs: [String]

            func validate() throws {
                if inputs.isEmpty { throw ValidationError("give at least one cache file to merge from") }
            }

            func run() throws {
                try reportingErrors {
                    let target = try EmbeddingCache(url: URL(fileURLWithPath: output))
                    for input in inputs {
                        let url = URL(fileURLWithPath: input)
                        guard FileManager.default.fileExists(atPath: url.path) else {
                            throw AuditError(file: url.path, "cache file not found")
                        }
                        let added = try target.merge(from: url)
                        var line = "\(input): \(added.images) image and \(added.texts) text embedding(s) added"
                        if added.skipped > 0 {
                            line +=
                                "; \(added.skipped) unusable embedding(s) skipped (zero, NaN or infinite values, or a wrong length; a run re-encodes them)"
                        }
                        printError(line)
                    }
                    let counts = try target.counts()
                    print("\(output): \(counts.images) image and \(counts.texts) text embedding(s)")
                }
            }
        }
    }
}
