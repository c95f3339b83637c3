import CLIPEngine
import Foundation

/// Everything a run measured: the inputs to every report file.
public struct AuditRun: Sendable {
    public var config: AuditConfig
    public var model: ResolvedModel
    public var modelKey: ModelKey
    public var auditFileSHA256: String
    public var manifestRows: Int
    public var usableRows: Int
    public var skipped: [SkippedEntry]
    public var uniqueImages: Int
    public var imagesEncoded: Int
    public var imagesFromCache: Int
    public var promptsEncoded: Int
    public var promptsTotal: Int
    /// Every design's prediction for every scored row.
    public var table: PredictionTable
    public var metrics: AuditMetrics
    /// Seconds per stage, the model's own where it shared a stage with other models.
    public var stageTimings: StageTimings
    public var cachePath: String?
    public var shard: Shard?
    /// Retrieval skew and association tests (empty when the audit file asks for neither).
    public var measurements = EmbeddingMeasurements()
    /// Retrieval with each mitigation applied, and what each fit chose (empty without `mitigations:`).
    public var mitigation = MitigationOutcome()
    /// What the report's Setup must say about how the run departed from the audit file
    /// (a reference group replaced under `--limit`).
    public var notes: [String] = []
    /// The report folder's locks, held while this value lives (``RunOptions/lockOutputFolder``).
    public var outputLocks: [OutputLock] = []

    /// ``stageTimings`` as the report files name the stages (`run.json`'s `timings_s`).
    public var timings: [(stage: String, seconds: Double)] { stageTimings.named }

    /// The lines of `predictions.csv`, made one at a time from the table.
    public var predictions: PredictionTable.Predictions { table.predictions }
}
