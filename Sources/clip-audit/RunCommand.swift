import ArgumentParser
import AuditEngine
import CLIPEngine
import Foundation

extension ClipAudit {
    /// `clip-audit run AUDIT.yaml`: the main job.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every design of an audit file and write the report folder.",
            discussion: """
                Encodes each distinct image and prompt once (through the embedding cache), scores every \
                design, and writes predictions.csv, metrics.csv, disparities.csv, comparison.csv, \
                report.md and run.json into the report folder (default Reports/<name>). Rows that cannot \
                be used are skipped with their reason and counted; --strict makes any skip fatal.
                """)

        @Argument(help: "The audit file (YAML).")
        var auditFile: String

        @Option(name: .long, help: "The report folder (default: Reports/<name>).")
        var output: String?

        @OptionGroup var model: ModelOption

        @Option(name: .long, help: "The embedding cache (SQLite) file (default: $XDG_CACHE_HOME/clip-audit/embeddings.sqlite).")
        var cache: String?

        @Flag(name: .long, help: "Encode everything anew and store nothing.")
        var noCache = false

        @Option(name: .long, help: "Only the first N manifest rows.")
        var limit: Int?

        @Option(name: .long, help: ArgumentHelp("Encode only share K of N of the images into the cache (1 ≤ K ≤ N) and write no report.", valueName: "K/N"))
        var shard: String?

        @OptionGroup var performance: PerformanceOptions

        @Flag(name: .long, help: "Fail instead of skipping a bad row.")
        var strict = false

        @Option(name: .long, help: "Refuse images whose header claims more pixels than this.")
        var maxPixels: Int = ImageDecoder.defaultMaxPixels

        func validate() throws {
            if cache != nil && noCache { throw ValidationError("--cache and --no-cache exclude each other") }
            if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
            if let shard, Shard(parsing: shard) == nil { throw ValidationError("--shard takes K/N with 1 ≤ K ≤ N, e.g. 2/8") }
            if maxPixels < 1 { throw ValidationError("--max-pixels must be positive") }
        }

        func run() throws {
            try reportingErrors {
                var options = RunOptions()
                options.model = model.model
                options.cacheURL = cache.map { URL(fileURLWithPath: $0) }
                options.useCache = !noCache
                options.limit = limit
                options.shard = shard.flatMap(Shard.init(parsing:))
                options.threads = performance.resolvedThreads
                options.batchSize = performance.batch
                options.strict = strict
                options.maxPixels = maxPixels

                let meter = ProgressMeter(enabled: stderrIsTerminal)
                let run = try AuditRunner.run(auditFile: URL(fileURLWithPath: auditFile), options: options) { done, total in
                    meter.update(done: done, total: total)
                }
                meter.finish()

                if let shard = options.shard {
                    printError("shard \(shard): \(run.imagesEncoded) image(s) encoded, \(run.imagesFromCache) already cached, into \(run.cachePath ?? "no cache"); run without --shard on the same cache to write the report")
                    return
                }
                let directory = output.map { URL(fileURLWithPath: $0) }
                    ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
                        .appendingPathComponent("Reports").appendingPathComponent(run.config.name)
                try ReportWriter.write(run, to: directory)
                var summary = "\(run.usableRows) row(s) scored with \(run.config.designs.count) design(s); "
                summary += "\(run.imagesEncoded) image(s) encoded, \(run.imagesFromCache) from the cache"
                if !run.skipped.isEmpty { summary += "; \(run.skipped.count) row(s) skipped (see report.md)" }
                printError(summary)
                print(directory.appendingPathComponent("report.md").path)
            }
        }
    }
}
