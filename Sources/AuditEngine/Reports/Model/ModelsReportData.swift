import Foundation

/// What the top report of a several-model audit (`models:`) is made from: each model's own
/// report data, in the audit file's order (the first is the base), and every model compared with
/// the base on the same images. Built from the runs as they are written, or read back from the
/// top folder (`models.csv` and each `<label>/` folder) for `card`.
public struct ModelsReportData: Sendable {
    /// One model of the audit.
    public struct Model: Sendable {
        /// The model's label (`models[].label`), also its folder's name under the top folder.
        public var label: String
        /// The model's own report data, as its folder holds it.
        public var data: AuditReport

        public init(label: String, data: AuditReport) {
            self.label = label
            self.data = data
        }
    }

    /// The audit's name.
    public var name: String
    /// The models in the audit file's order; the first is the base.
    public var models: [Model]
    /// Every model after the first against the first, in `models.csv` order.
    public var comparisons: [ModelComparisonRow]

    public init(name: String, models: [Model], comparisons: [ModelComparisonRow]) {
        self.name = name
        self.models = models
        self.comparisons = comparisons
    }
}
