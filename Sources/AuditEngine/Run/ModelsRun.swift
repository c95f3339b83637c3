import Foundation

/// Everything a several-model audit (`models:`) measured: one complete ``AuditRun`` per model,
/// each over the same rows, and every model after the first compared with the first.
public struct ModelsRun: Sendable {
    /// The audit file's configuration, `models:` included.
    public var config: AuditConfig
    /// The models' labels, in the audit file's order (the first is the base).
    public var labels: [String]
    /// Each model's run, in the order of `labels`: what its `<label>/` report folder is made from.
    public var runs: [AuditRun]
    /// Every model after the first against the first (`models.csv`).
    public var comparisons: [ModelComparisonRow]
    /// Per model, the seconds its encoders took (images and prompts): what grows with the
    /// number of models, unlike reading and decoding the images.
    public var encodeSeconds: [Double]
    public var auditFileSHA256: String
    public var manifestRows: Int
    /// Rows every model scored.
    public var usableRows: Int
    /// Rows left out for every model, with the reason (naming the model when only some failed).
    public var skipped: [SkippedEntry]
    /// The shared stages of the run, in order (reading the manifest, loading the models, the
    /// pass over the images…).
    public var stageTimings: StageTimings
    public var cachePath: String?
    public var shard: Shard?
    /// ``stageTimings`` as the report files name the stages (`run.json`'s `timings_s`).
    public var timings: [(stage: String, seconds: Double)] { stageTimings.named }
    /// What the report's Setup must say about how the run departed from the audit file.
    public var notes: [String]
    /// The report folders' locks, held while this value lives (``RunOptions/lockOutputFolder``).
    public var outputLocks: [OutputLock] = []

    public init(
        config: AuditConfig, labels: [String], runs: [AuditRun], comparisons: [ModelComparisonRow],
        encodeSeconds: [Double], auditFileSHA256: String, manifestRows: Int, usableRows: Int,
        skipped: [SkippedEntry], stageTimings: StageTimings, cachePath: String?,
        shard: Shard?, notes: [String]
    ) {
        self.config = config
        self.labels = labels
        self.runs = runs
        self.comparisons = comparisons
        self.encodeSeconds = encodeSeconds
        self.auditFileSHA256 = auditFileSHA256
        self.manifestRows = manifestRows
        self.usableRows = usableRows
        self.skipped = skipped
        self.stageTimings = stageTimings
        self.cachePath = cachePath
        self.shard = shard
        self.notes = notes
    }
}
