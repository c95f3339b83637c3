import Foundation

extension AuditReport {
    /// One entry of the audit file's `mitigations:` as the report keeps it (run.json's
    /// `mitigations`): what it is, where it applies and, for CLIP-clip, what its fit chose.
    public struct Mitigation: Sendable, Equatable {
        public var name: String
        /// `projection`, `calibrated_projection` or `clip_clip`.
        public var method: String
        /// The designs it applies to, each scored as the variant `<design>~<name>`.
        public var designs: [String]
        /// CLIP-clip: the dimensions set to 0 (ascending) and the images they were chosen on.
        public var clippedDimensions: [Int]?
        public var fitImages: Int?

        public init(name: String, method: String, designs: [String], clippedDimensions: [Int]? = nil, fitImages: Int? = nil) {
            self.name = name
            self.method = method
            self.designs = designs
            self.clippedDimensions = clippedDimensions
            self.fitImages = fitImages
        }
    }

    /// `retrieval.csv`'s rows measured again with one mitigation applied.
    public struct MitigatedRetrieval: Sendable, Equatable {
        public var mitigation: String
        public var rows: [RetrievalRow]
    }

    /// Whether `design` is a mitigation's variant (`<base>~<mitigation>`), which the report shows
    /// in its own section rather than as a design or an `extends:` variant.
    public func isMitigationVariant(_ design: String) -> Bool {
        guard let base = self.design(named: design)?.base else { return false }
        return mitigations.contains { $0.designs.contains(base) && base + MitigationSpec.separator + $0.name == design }
    }

    /// The report without the mitigations' variants (their designs and rows): what the sections
    /// written for the audit's own designs and `extends:` variants read. The mitigations have a
    /// section of their own (``MitigationReport``), which reads the whole report.
    public var withoutMitigationVariants: AuditReport {
        guard !mitigations.isEmpty else { return self }
        let hidden = Set(designs.map(\.name).filter(isMitigationVariant))
        var out = self
        out.designs.removeAll { hidden.contains($0.name) }
        out.metrics.removeAll { hidden.contains($0.design) }
        out.disparities.removeAll { hidden.contains($0.design) }
        out.comparisons.removeAll { hidden.contains($0.design) }
        out.confusions.removeAll { hidden.contains($0.design) }
        return out
    }

    /// `mitigations.csv`'s rows, from the metric rows.
    public var mitigationRows: [MitigationRow] {
        MitigationRow.rows(mitigations: mitigations.map { ($0.name, $0.designs) }, metrics: metrics)
    }

    /// What report.md, the card and the chart say about the mitigations.
    var mitigationReport: MitigationReport {
        MitigationReport(mitigations: mitigations.map { ($0.name, $0.method, $0.designs) }, metrics: metrics, comparisons: comparisons)
    }
}
