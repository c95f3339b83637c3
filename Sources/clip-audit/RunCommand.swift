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
                design, and writes into the report folder (default Reports/<name>): predictions.csv, \
                metrics.csv, disparities.csv, summary.csv (each metric's spread between groups), comparison.csv, \
                report.md, details.md (the evidence behind report.md), \
                report.html (self-contained), \
                charts/ (one SVG per design, metric and attribute), with `retrieval:` retrieval.csv and \
                retrieval_groups.csv, with `associations:` association.csv, and, last, run.json; \
                .clip-audit-report.files lists them, and no other file in the folder is replaced or removed. \
                With `models:` (several models on the same images), each model's report folder as above goes to \
                <output>/<label>/, and the top folder holds models.csv (each model against the first, group by \
                group), report.md, report.html, charts/ and run.json (.clip-audit-models.files lists them). \
                Rows that cannot be used are skipped with their reason and counted; --strict makes any skip \
                fatal. The audit file's keys: docs/audit-file.md.
                """)

        @Argument(help: "The audit file (YAML).")
        var auditFile: String

        @Option(name: .long, help: "The report folder (default: Reports/<name>).")
        var output: String?

        @OptionGroup var model: ModelOption

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The embedding cache (SQLite) file (default: $XDG_CACHE_HOME/clip-audit/embeddings.sqlite). Repeat to read shard caches: the first is written, the others only read.",
                valueName: "PATH"))
        var cache: [String] = []

        @Flag(name: .long, help: "Encode nothing: every image and prompt must be in the cache(s) (the final run over shard caches).")
        var cachedOnly = false

        @Flag(name: .long, help: "Encode everything anew and store nothing.")
        var noCache = false

        @Option(
            name: .long, parsing: .unconditional,
            help:
                "Only the first N manifest rows (a smoke test: a reference group absent from them is replaced by its attribute's largest group, with a warning and a note in report.md's Setup)."
        )
        var limit: Int?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Encode only share K of N of the images into the cache (1 ≤ K ≤ N) and write no report. `auto` takes the share from a Slurm job array (SLURM_ARRAY_TASK_ID/COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX with --shard-count).",
                valueName: "K/N|auto"))
        var shard: String?

        @Option(
            name: .long, parsing: .unconditional,
            help: ArgumentHelp(
                "With --shard auto: the number of shards (a Kubernetes Indexed Job's completions; default: SLURM_ARRAY_TASK_COUNT, else CLIP_AUDIT_SHARD_COUNT).",
                valueName: "N"))
        var shardCount: Int?

        @OptionGroup var performance: PerformanceOptions

        @Flag(name: .long, help: "Fail instead of skipping a bad row.")
        var strict = false

        @Option(name: .long, parsing: .unconditional, help: "Refuse images whose header claims more pixels than this.")
        var maxPixels: Int = ImageDecoder.defaultMaxPixels

        func validate() throws {
            if !cache.isEmpty && noCache { throw ValidationError("--cache and --no-cache exclude each other") }
            if cachedOnly && noCache { throw ValidationError("--cached-only needs a cache") }
            if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
            if let shard, shard != "auto", Shard(parsing: shard) == nil {
                throw ValidationError("--shard takes K/N with 1 ≤ K ≤ N, e.g. 2/8, or auto")
            }
            if shardCount != nil && shard != "auto" { throw ValidationError("--shard-count goes with --shard auto") }
            if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be at least 1") }
            if maxPixels < 1 { throw ValidationError("--max-pixels must be positive") }
        }

        func run() throws {
            try reportingErrors {
                var options = RunOptions()
                options.model = model.model
                options.outputDirectory = output.map { URL(fileURLWithPath: $0) }
                options.cacheURL = cache.first.map { URL(fileURLWithPath: $0) }
                options.extraCacheURLs = cache.dropFirst().map { URL(fileURLWithPath: $0) }
                options.cachedOnly = cachedOnly
                options.useCache = !noCache
                options.limit = limit
                if shard == "auto" {
                    options.shard = try Shard.fromEnvironment(options.environment, count: shardCount)
                } else {
                    options.shard = shard.flatMap(Shard.init(parsing:))
                }
                options.threads = performance.resolvedThreads
                options.batchSize = performance.batch
                options.strict = strict
                options.maxPixels = maxPixels
                options.lockOutputFolder = true

                let meter = ProgressMeter(enabled: stderrIsTerminal)
                let result = try AuditRunner.perform(auditFile: URL(fileURLWithPath: auditFile), options: options) { done, total in
                    meter.update(done: done, total: total)
                }
                meter.finish()
                let run: AuditRun
                switch result {
                case .single(let single):
                    run = single
                case .models(let models):
                    try finish(models, options: options)
                    return
                }
                for note in run.notes { printError("warning: \(note)") }

                if let shard = options.shard {
                    printError(
                        "shard \(shard): \(run.imagesEncoded) image(s) encoded, \(run.imagesFromCache) already cached, into \(run.cachePath ?? "no cache"); the report: clip-audit run AUDIT --cached-only --cache MERGED --cache SHARD-1 ... (one --cache per shard)"
                    )
                    return
                }
                let directory = options.outputDirectory ?? AuditRunner.defaultReportFolder(name: run.config.name)
                try ReportWriter.write(run, to: directory)
                var summary = "\(run.usableRows) row(s) scored with \(run.config.designs.count) design(s); "
                summary += "\(run.imagesEncoded) image(s) encoded, \(run.imagesFromCache) from the cache"
                summary += Self.skipSummary(run.skipped)
                printError(summary)
                print(directory.appendingPathComponent("report.md").path)
            }
        }

        /// How many rows were skipped and why, by kind (every row is listed in report.md and run.json).
        static func skipSummary(_ skipped: [SkippedEntry]) -> String {
            guard !skipped.isEmpty else { return "" }
            let kinds = SkipKind.counts(skipped.lazy.map(\.kind)).terminalText
            return "; \(skipped.count) row(s) skipped (" + kinds + "; listed in report.md)"
        }

        /// Writes a several-model run (or, for a shard, says what it cached) and where it went.
        func finish(_ run: ModelsRun, options: RunOptions) throws {
            for note in run.notes { printError("warning: \(note)") }
            let counts = zip(run.labels, run.runs).map { "\($0): \($1.imagesEncoded) encoded, \($1.imagesFromCache) from the cache" }
            if let shard = options.shard {
                printError(
                    "shard \(shard): image(s) per model: \(counts.joined(separator: "; ")), into \(run.cachePath ?? "no cache"); the report: clip-audit run AUDIT --cached-only --cache MERGED --cache SHARD-1 ... (one --cache per shard)"
                )
                return
            }
            let directory = options.outputDirectory ?? AuditRunner.defaultReportFolder(name: run.config.name)
            try ModelsWriter.write(run, to: directory)
            printError(
                "\(run.usableRows) row(s) scored by \(run.labels.count) models with \(run.config.designs.count) design(s); image(s) per model: "
                    + counts.joined(separator: "; ") + Self.skipSummary(run.skipped))
            for label in run.labels {
                printError("\(label): \(directory.appendingPathComponent(label).path)/")
            }
            printError("models compared (models.csv) and the top report: \(directory.path)/")
            print(directory.appendingPathComponent("report.md").path)
        }
    }
}
