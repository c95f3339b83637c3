import AuditEngine
import CLIPEngine
import Foundation

/// `bench --mitigations`: ``MitigationBenchmark`` as one JSON line.
enum MitigationsBenchmarkLine {
    static func run(threads: Int) throws -> String {
        CLIPModel.setThreads(threads)
        let timing = try MitigationBenchmark.run()
        let line: [String: Any] = [
            "images": MitigationBenchmark.images, "dimension": MitigationBenchmark.dimension,
            "fit_images": MitigationBenchmark.fitImages, "designs": 5, "methods": 3, "variants": timing.variants,
            "threads": threads,
            "mitigations_s": (timing.mitigationSeconds * 1000).rounded() / 1000,
            "metrics_s": (timing.metricsSeconds * 1000).rounded() / 1000,
            "peak_rss_mb": (peakResidentKiB() / 1024 * 10).rounded() / 10
        ]
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
