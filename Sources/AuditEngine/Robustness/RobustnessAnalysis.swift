import CLIPEngine
import Foundation

/// Measures every disparity of an audit again under other wordings of its prompts
/// (docs/audit-file.md, "`robustness` keys"; docs/report-files.md, "robustness.csv"). The
/// images are not encoded again: the run's kept image embeddings are scored against each
/// specification's class embeddings, and only the prompts are encoded, each distinct one once
/// across all specifications, through the text cache.
public enum RobustnessAnalysis {
    /// What the analysis did: the rows of `robustness.csv` (nil when the images were not
    /// scored: a shard run, whose product is the cache) and how many prompts it encoded.
    public struct Outcome: Sendable {
        public var rows: [RobustnessRow]?
        public var promptsEncoded: Int
        public var promptsTotal: Int
    }

    /// Runs the analysis of `spec` for one model.
    ///
    /// - Parameters:
    ///   - designs: the audit's designs (specification 0's wording).
    ///   - table: the run's prediction table (its rows, and which of them were scored).
    ///   - images: the scored images' L2-normalised embeddings (``EmbeddingMeasurements/ImageSet``).
    ///   - own: the run's disparity rows: specification 0, as `disparities.csv` holds them.
    ///   - embedTexts: the embeddings (projected, not normalised) of the distinct prompts given,
    ///     and how many were encoded now: the model's ``TextEmbedder/embed(_:)`` in a run.
    ///   - score: false for a shard: the prompts are encoded into the cache for the final run,
    ///     and nothing is scored.
    ///   - threads: specifications scored at once (each on its own thread).
    public static func measure(
        _ spec: RobustnessSpec, designs: [DesignSpec], table: PredictionTable, images: EmbeddingMeasurements.ImageSet,
        own: [DisparityRow], settings: MetricSettings,
        embedTexts: ([String]) throws -> (embeddings: [String: [Float]], encoded: Int),
        logitScale: Float, logitBias: Float?, score: Bool, threads: Int = 1
    ) throws -> Outcome {
        let drawn = PromptSpecification.draw(spec).dropFirst() // specification 0 is the run itself
        let worded = drawn.map { $0.apply(to: designs) }
        var prompts: [String] = []
        for designs in worded {
            for design in designs {
                for c in design.classes { prompts += design.prompts(forClass: c.name) }
            }
        }
        let (embeddings, encoded) = try embedTexts(prompts)
        let outcome = Outcome(rows: nil, promptsEncoded: encoded, promptsTotal: embeddings.count)
        guard score else { return outcome }

        // The specifications are independent: each is scored and measured on its own thread,
        // into its own slot, so the result does not depend on the threads.
        var measured = [[RobustnessRow.Key: DisparityRow]](repeating: [:], count: worded.count)
        var failures = [Error?](repeating: nil, count: worded.count)
        let workers = max(1, min(threads, worded.count))
        measured.withUnsafeMutableBufferPointer { measuredBuffer in
            failures.withUnsafeMutableBufferPointer { failureBuffer in
                let shared = UnsafeSendable((measuredBuffer, failureBuffer, worded, embeddings))
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let (measuredBuffer, failureBuffer, worded, embeddings) = shared.value
                    for index in stride(from: worker, to: worded.count, by: workers) {
                        do {
                            let designs = worded[index]
                            let classifiers = try designs.map { design in
                                try ZeroShotClassifier(
                                    classes: design.classNames,
                                    promptEmbeddings: design.classes.map { c in
                                        design.prompts(forClass: c.name).map { embeddings[$0]! }
                                    },
                                    logitScale: logitScale, logitBias: logitBias)
                            }
                            let scored = try scoreTable(table, designs: designs, classifiers: classifiers, images: images)
                            let rows = computeAuditMetrics(scored, settings: settings).disparities
                            measuredBuffer[index] = Dictionary(
                                rows.map { (RobustnessRow.Key($0), $0) }, uniquingKeysWith: { first, _ in first })
                        } catch {
                            failureBuffer[index] = error
                        }
                    }
                }
            }
        }
        if let failure = failures.first(where: { $0 != nil }) { throw failure! }
        return Outcome(rows: summarize(own: own, measured: measured), promptsEncoded: encoded, promptsTotal: embeddings.count)
    }

    /// A prediction table over the run's rows with `designs` scored on the kept images. The
    /// image vectors are already the unit vectors the scorer makes, so the logits are bit for
    /// bit those a run worded this way computes, and so are the predictions. The confidences are
    /// not computed (0): the metrics count predictions only, and this table is never written.
    public static func scoreTable(
        _ table: PredictionTable, designs: [DesignSpec], classifiers: [ZeroShotClassifier],
        images: EmbeddingMeasurements.ImageSet
    ) throws -> PredictionTable {
        var scored = try PredictionTable(rows: table.rows, designs: designs)
        let dimension = images.dimension
        for (d, classifier) in classifiers.enumerated() {
            let scorer = classifier.scorer
            guard !images.rows.isEmpty else { break }
            precondition(scorer.dimension == dimension, "text and image embeddings differ in width")
            var logits = [Double](repeating: 0, count: scorer.classCount)
            images.embeddings.withUnsafeBufferPointer { all in
                logits.withUnsafeMutableBufferPointer { out in
                    for (i, row) in images.rows.enumerated() {
                        scorer.logits(unitImage: UnsafeBufferPointer(rebasing: all[(i * dimension)..<((i + 1) * dimension)]), into: out)
                        scored.record(design: d, row: row, classIndex: ZeroShotScorer.argMax(UnsafeBufferPointer(out)), confidence: 0)
                    }
                }
            }
        }
        return scored
    }

    /// The rows of `robustness.csv`: one per row of `own` (specification 0), in its order, with
    /// the same row of each other specification (`measured`, keyed by design, metric, attribute
    /// and group).
    static func summarize(own: [DisparityRow], measured: [[RobustnessRow.Key: DisparityRow]]) -> [RobustnessRow] {
        own.map { row in
            let key = RobustnessRow.Key(row)
            // The groups' sizes do not depend on the predictions, so every specification has
            // every row; one that did not would be counted as not measured there.
            let all = [row] + measured.compactMap { $0[key] }
            let differences = all.map(\.difference).sorted()
            let middle = differences.count / 2
            let median =
                differences.count % 2 == 1 ? differences[middle] : (differences[middle - 1] + differences[middle]) / 2
            let direction = sign(row.difference)
            return RobustnessRow(
                design: row.design, metric: row.metric, attribute: row.attribute, group: row.group,
                reference: row.reference, difference: row.difference, flagged: row.isFlagged,
                specifications: all.count, flaggedIn: all.count { $0.isFlagged },
                sameDirectionIn: all.count { sign($0.difference) == direction },
                differenceMin: differences.first!, differenceMedian: median, differenceMax: differences.last!)
        }
    }

    private static func sign(_ value: Double) -> Int { value > 0 ? 1 : value < 0 ? -1 : 0 }
}

extension RobustnessAnalysis {
    /// The analysis of `config.robustness` for one model of a run (nil without the section):
    /// its prompts through the run's cache (`--cached-only` applies), its images scored unless
    /// the run is a shard.
    static func measure(
        config: AuditConfig, table: PredictionTable, images: EmbeddingMeasurements.ImageSet, own: [DisparityRow],
        settings: MetricSettings, pipeline: CLIPPipeline, modelKey: ModelKey, cache: EmbeddingCache?, options: RunOptions
    ) throws -> (outcome: Outcome, seconds: Double)? {
        guard let spec = config.robustness else { return nil }
        let started = Date()
        let texts = TextEmbedder(
            model: pipeline.model, tokenizer: pipeline.tokenizer, cache: cache, modelKey: modelKey,
            tokenizerKey: pipeline.tokenizerKey, allowEncoding: !options.cachedOnly)
        // A mitigation's variant is its design's prompts under a fitted transform; another
        // wording would need the fix fitted again (its pairs are made of the phrases), so the
        // variants are left out here rather than scored without their transform
        // (docs/report-files.md, robustness.csv).
        let variants = Set(
            config.mitigations.flatMap { m in config.designs.map { m.variantName(of: $0.name) } })
        let designs = config.designs.filter { !variants.contains($0.name) }
        let rows = own.filter { !variants.contains($0.design) }
        let outcome = try measure(
            spec, designs: designs, table: table, images: images, own: rows, settings: settings, embedTexts: texts.embed,
            logitScale: pipeline.model.logitScale, logitBias: pipeline.model.logitBias, score: options.shard == nil,
            threads: options.threads)
        return (outcome, Date().timeIntervalSince(started))
    }
}
