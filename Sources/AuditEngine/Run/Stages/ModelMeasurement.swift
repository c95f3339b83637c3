import Foundation

/// Stage "score and measure", for one model: the metrics of its prediction table, and retrieval
/// skew and association tests on its kept embeddings when the audit file asks for them.
struct ModelMeasurement {
    var metrics: AuditMetrics
    /// Empty when not asked for, and in a shard (which writes no report).
    var measurements: EmbeddingMeasurements
    /// The seconds of the metrics ("score and measure").
    var scoringSeconds: Double
    /// The seconds of retrieval and associations; nil when they did not run.
    var measureSeconds: Double?

    static func measure(
        table: PredictionTable, images: EmbeddingMeasurements.ImageSet, textEmbeddings: [String: [Float]],
        input: RunInput, settings: MetricSettings, options: RunOptions
    ) throws -> ModelMeasurement {
        let started = Date()
        let metrics = computeAuditMetrics(table, settings: settings)
        let scoring = Date().timeIntervalSince(started)
        let config = input.config
        guard config.retrieval != nil || !config.associations.isEmpty, options.shard == nil else {
            return ModelMeasurement(metrics: metrics, measurements: EmbeddingMeasurements(), scoringSeconds: scoring)
        }
        let measurements = try EmbeddingMeasurements.measure(
            config: config, rows: input.rows, images: images, textEmbeddings: textEmbeddings)
        return ModelMeasurement(
            metrics: metrics, measurements: measurements, scoringSeconds: scoring,
            measureSeconds: Date().timeIntervalSince(started) - scoring)
    }

    /// The metric settings of `config`, the same for every model.
    static func settings(_ config: AuditConfig) -> MetricSettings {
        MetricSettings(
            attributes: config.attributes, intersections: config.intersections,
            referenceGroups: config.referenceGroups, alpha: config.alpha,
            minGroupSize: config.minGroupSize, minDifference: config.minDifference)
    }
}
