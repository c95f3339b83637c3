import Foundation

/// A timed stage of a run, named as `run.json`'s `timings_s` names it (see "A run, stage by
/// stage" in `docs/architecture.md`). A new stage is one case here, one file in `Run/Stages/`
/// and one line in ``AuditRunner/perform(auditFile:options:progress:)``.
public enum RunStage: String, Sendable, CaseIterable {
    case readManifest = "read manifest"
    case loadModel = "load model"
    case encodePrompts = "encode prompts"
    /// The pass over the images, which also scores them as each batch arrives.
    case encodeImages = "encode images"
    /// The mitigations' fits and variants (only for an audit with `mitigations:`).
    case mitigations = "mitigations"
    /// The metrics of each prediction table (in a several-model run's top `run.json`: every
    /// model's metrics and measurements together).
    case scoreAndMeasure = "score and measure"
    /// Retrieval skew and association tests on the kept embeddings (only when asked for).
    case retrievalAndAssociations = "retrieval and associations"
    /// Every disparity again under the drawn wordings of `robustness:` (only when asked for).
    case robustness = "robustness"
    /// Within ``encodeImages``: the reading and decoding every model shared (a several-model
    /// run's top `run.json`).
    case readAndDecodeImages = "read and decode images"
    case compareModels = "compare models"
}

/// Seconds per stage, in the order they were recorded.
public struct StageTimings: Sendable {
    public private(set) var entries: [(stage: RunStage, seconds: Double)]

    public init(_ entries: [(stage: RunStage, seconds: Double)] = []) { self.entries = entries }

    /// The seconds recorded for `stage` (nil when it did not run).
    public subscript(stage: RunStage) -> Double? {
        entries.first { $0.stage == stage }?.seconds
    }

    /// Records `seconds` for `stage`, after the stages already recorded.
    public mutating func record(_ stage: RunStage, _ seconds: Double) {
        entries.append((stage, seconds))
    }

    /// The entries as the report files name them (`run.json`'s `timings_s` keys).
    public var named: [(stage: String, seconds: Double)] {
        entries.map { ($0.stage.rawValue, $0.seconds) }
    }
}

/// Times the stages of a run one after the other: each ``time(_:_:)`` records the wall time of
/// its body under its stage.
struct StageClock {
    private(set) var timings = StageTimings()

    /// Runs `body` and records its wall time under `stage`.
    mutating func time<T>(_ stage: RunStage, _ body: () throws -> T) rethrows -> T {
        let started = Date()
        let result = try body()
        timings.record(stage, Date().timeIntervalSince(started))
        return result
    }

    /// Records `seconds` measured elsewhere (a part of a stage timed inside it).
    mutating func record(_ stage: RunStage, _ seconds: Double) {
        timings.record(stage, seconds)
    }
}
