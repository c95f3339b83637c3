import Foundation

/// Stage "score and measure", for one model: the metrics of its prediction table, and retrieval
/// skew, association tests and robustness on its kept embeddings when the audit file asks for
/// them.
struct ModelMeasurement {
    var metrics: AuditMetrics
    /// Empty when not asked for, and in a shard (which writes no report).
    var measurements: EmbeddingMeasurements
    /// The seconds of the metrics ("score and measure").
    var scoringSeconds: Double
    /// The seconds of retrieval and associations; nil when they did not run.
    var measureSeconds: Double?
    /// The seconds of the robustness analysis; nil without `robustness:`.
    var robustnessSeconds: Double?

    static func measure(
        table: PredictionTable, images: EmbeddingMeasurements.ImageSet, textEmbeddings: [String: [Float]],
        input: RunInput, settings: MetricSettings, model: LoadedModels.Model, cache: EmbeddingCache?, options: RunOptions
    ) throws -> ModelMeasurement {
        let started = Date()
        let metrics = computeAuditMetrics(table, settings: settings)
        let scoring = Date().timeIntervalSince(started)
        let config = input.config
        var result = ModelMeasurement(metrics: metrics, measurements: EmbeddingMeasurements(), scoringSeconds: scoring)
        if config.retrieval != nil || !config.associations.isEmpty, options.shard == nil {
            result.measurements = try EmbeddingMeasurements.measure(
                config: config, rows: input.rows, images: images, textEmbeddings: textEmbeddings)
            result.measureSeconds = Date().timeIntervalSince(started) - scoring
        }
        // Every disparity again under other wordings of the prompts, on the kept images (a
        // shard only encodes the prompts, for the final run).
        if let robustness = try RobustnessAnalysis.measure(
            config: config, table: table, images: images, own: metrics.disparities, settings: settings,
            pipeline: model.pipeline, modelKey: model.key, cache: cache, options: options)
        {
            result.measurements.robustness = robustness.outcome.rows
            result.robustnessSeconds = robustness.seconds
        }
        return result
    }

    /// The metric settings of `config`, the same for every model.
    static func settings(_ config: AuditConfig) -> MetricSettings {
        MetricSettings(
            attributes: config.attributes, intersections: config.intersections,
            referenceGroups: config.referenceGroups, alpha: config.alpha,
            minGroupSize: config.minGroupSize, minDifference: config.minDifference)
    }
}
