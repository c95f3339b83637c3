import ArgumentParser
import AuditEngine
import CLIPEngine
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension ClipAudit {
    /// `clip-audit bench`: encoder throughput, as one JSON line.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure encoder throughput; prints one JSON line.",
            discussion: """
                images_per_s counts image-encoder passes on preprocessed batches of B; texts_per_s counts \
                text-encoder passes on batches of 64 prompts of 11 tokens (start, 9 tokens, end); \
                peak_rss_mb is the process's peak resident set (mapped weight pages included).
                """)

        @OptionGroup var model: ModelOption

        @Option(name: .long, parsing: .unconditional, help: "Images per batch.")
        var batch: Int = 32

        @Option(name: .long, parsing: .unconditional, help: "Threads (default: the number of cores).")
        var threads: Int?

        @Option(name: .long, parsing: .unconditional, help: "Seconds to measure the image encoder (the text encoder gets half).")
        var seconds: Double = 10

        @Flag(
            name: .long,
            help: "Time the retrieval and association sections instead, on random embeddings of FairFace validation's size (no model).")
        var measures = false

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Time the robustness section of this audit file instead, on random embeddings of FairFace validation's size (no model).",
                valueName: "audit-file"))
        var robustness: String?

        @Flag(
            name: .long,
            help:
                "Time the mitigation bench instead: three methods on five designs over random embeddings of FairFace validation's size (no model)."
        )
        var mitigations = false

        func validate() throws {
            try PerformanceOptions.check(threads: threads, batch: batch)
            if !(seconds > 0) { throw ValidationError("--seconds must be positive") }
            if !(seconds <= 3600) { throw ValidationError("--seconds must be at most 3600") }
        }

        func run() throws {
            if let robustness {
                try reportingErrors {
                    print(
                        try RobustnessBenchmark.run(
                            audit: URL(fileURLWithPath: robustness), threads: threads ?? ProcessInfo.processInfo.activeProcessorCount))
                }
                return
            }
            if mitigations {
                try reportingErrors {
                    print(try MitigationsBenchmarkLine.run(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount))
                }
                return
            }
            if measures {
                try reportingErrors { print(try MeasuresBenchmark.run(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)) }
                return
            }
            try reportingErrors {
                let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
                CLIPModel.setThreads(threadCount)
                let resolved = try ModelLocator().resolve(model.model)
                let model = try CheckpointLoader.network(resolved).model
                // Deterministic pseudo-random inputs: throughput does not depend on the values.
                var generator = SeededRandom(seed: 0)
                let pixelCount = batch * model.numChannels * model.imageSize * model.imageSize
                let pixels = (0..<pixelCount).map { _ in Float(generator.nextUnit() * 4 - 2) }
                // Start and end as the vocabulary's two last ids (49406, 49407 for CLIP's), words
                // below them: every id is a row of this model's token table, whatever its size.
                let vocabulary = model.configuration.text.vocabSize
                // SigLIP's text tower reads its rows padded to the text length, as its tokenizer gives them.
                let words = model.isSigLIP ? model.maxTextLength - 2 : 9
                let ids: [[Int32]] = (0..<64).map { _ in
                    [Int32(vocabulary - 2)] + (0..<words).map { _ in Int32(generator.below(max(1, vocabulary - 2))) } + [
                        Int32(vocabulary - 1)
                    ]
                }
                let imagesPerSecond = measure(perCall: batch, seconds: seconds) {
                    _ = pixels.withUnsafeBufferPointer { model.encodeImages(pixelValues: $0, count: batch) }
                }
                let textsPerSecond = measure(perCall: 64, seconds: seconds / 2) {
                    _ = model.encodeTexts(inputIDs: ids)
                }
                let line: [String: Any] = [
                    "model": resolved.id, "batch": batch, "threads": threadCount,
                    "images_per_s": (imagesPerSecond * 1000).rounded() / 1000,
                    "texts_per_s": (textsPerSecond * 100).rounded() / 100,
                    "peak_rss_mb": (peakResidentKiB() / 1024 * 10).rounded() / 10
                ]
                let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            }
        }

        /// Items per second: one warm-up call, then calls until `seconds` have passed (at least two).
        func measure(perCall: Int, seconds: Double, _ body: () -> Void) -> Double {
            body()
            var calls = 0
            let start = Date()
            while true {
                body()
                calls += 1
                let elapsed = Date().timeIntervalSince(start)
                if elapsed >= seconds && calls >= 2 { return Double(calls * perCall) / elapsed }
            }
        }
    }
}

/// This process's peak resident set in KiB: Linux's `VmHWM` (the high-water mark of its own
/// memory, reset by exec), else `ru_maxrss`.
///
/// Not `ru_maxrss` on Linux: a process started by fork and exec starts with the forking parent's
/// resident set as its `ru_maxrss` (the kernel keeps the larger across exec), so `bench` run
/// from a harness holding 1 GB (a Python driver with torch loaded, a test runner) would report
/// that harness's gigabyte as its own peak.
func peakResidentKiB() -> Double {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kib = Double(line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
    {
        return kib
    }
    var usage = rusage()
    #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss)
    #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1024 // bytes on Darwin
    #endif
}
