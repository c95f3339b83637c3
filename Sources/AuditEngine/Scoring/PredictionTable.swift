import Foundation

/// Every design's predictions over the usable rows of a run, held compactly: the rows' lines,
/// paths and interned labels (``UsableRows``), and per design and row a label index and the
/// confidence, scored as each image's embedding arrives. `predictions.csv`, the metrics and the
/// report are all made from it; a ``Prediction`` exists only while one is read.
public struct PredictionTable: Sendable {
    /// The rows (scored or not: the designs say which were scored).
    public internal(set) var rows: UsableRows
    /// One column set per design, in the audit file's order.
    public internal(set) var designs: [DesignPredictions]

    /// A table over `rows` for `designs`, with nothing scored yet.
    /// - Throws: `AuditError` for a design with more classes than a label index holds.
    public init(rows: UsableRows, designs: [DesignSpec]) throws {
        if let design = designs.first(where: { $0.classes.count >= Int(DesignPredictions.notScored) }) {
            throw AuditError("design \"\(design.name)\" has \(design.classes.count) classes; at most 65,534 are supported")
        }
        self.rows = rows
        self.designs = designs.map { spec in
            let categories = spec.harmCategories.map(\.name)
            let classHarm = spec.classNames.map { name in spec.harmCategory(ofClass: name).flatMap { categories.firstIndex(of: $0) } ?? -1 }
            return DesignPredictions(
                name: spec.name, base: spec.base, classes: spec.classNames, harmCategories: categories,
                hasTarget: spec.target != nil, labels: spec.classNames, labelHarm: classHarm,
                harmLabels: categories, truthColumn: spec.target.flatMap { rows.targets.firstIndex(of: $0) },
                rows: rows)
        }
    }

    /// Records that `row` was scored as class `classIndex` of design `design` with `confidence`.
    mutating func record(design: Int, row: Int, classIndex: Int, confidence: Double) {
        designs[design].record(row: row, label: classIndex, confidence: confidence)
    }

    /// Every prediction, design by design, each in row order: what `predictions.csv` lists.
    public var predictions: Predictions { Predictions(table: self) }

    /// The predictions as ``Prediction`` values, made one at a time as they are read.
    public struct Predictions: Collection, Sendable {
        let table: PredictionTable

        /// A design and a row.
        public struct Index: Comparable, Sendable {
            var design: Int
            var row: Int
            public static func < (a: Index, b: Index) -> Bool { (a.design, a.row) < (b.design, b.row) }
        }

        public var startIndex: Index { scored(from: Index(design: 0, row: 0)) }
        public var endIndex: Index { Index(design: table.designs.count, row: 0) }
        public var count: Int { table.designs.reduce(0) { $0 + $1.scoredCount } }

        public func index(after i: Index) -> Index { scored(from: Index(design: i.design, row: i.row + 1)) }

        /// The first scored prediction at or after `i`.
        private func scored(from i: Index) -> Index {
            var i = i
            while i.design < table.designs.count {
                let design = table.designs[i.design]
                while i.row < table.rows.count {
                    if design.isScored(i.row) { return i }
                    i.row += 1
                }
                i = Index(design: i.design + 1, row: 0)
            }
            return endIndex
        }

        public subscript(i: Index) -> Prediction {
            let design = table.designs[i.design], rows = table.rows
            let label = design.label(row: i.row)
            return Prediction(
                design: design.name, line: rows.line(i.row), file: rows.file(i.row),
                attributes: rows.attributes.indices.map { rows.value(row: i.row, column: $0) ?? "" },
                truth: design.truth(row: i.row, in: rows).map { design.labels[$0] },
                predicted: design.labels[label], confidence: design.confidence[i.row],
                harmCategory: design.harm(ofLabel: label))
        }
    }
}

/// One design's predictions over the rows of a ``PredictionTable``: per row a label index
/// (two bytes) and the confidence exactly as scored (the `Double` that `predictions.csv` prints).
public struct DesignPredictions: Sendable {
    public let name: String
    /// The design a variant extends.
    public let base: String?
    /// The classes, in the design's order.
    public let classes: [String]
    /// The harm categories, in the design's order.
    public let harmCategories: [String]
    /// Whether the design has a target (and so an accuracy).
    public let hasTarget: Bool
    /// The classes, then any other value a row has as its truth or prediction (only tables built
    /// from ``DesignOutcomes`` can have one; a run's target values are classes).
    public let labels: [String]
    /// Per label: its index in `harmLabels`, or -1 when predicting it is no harm.
    let labelHarm: [Int]
    /// The harm categories, then any other that a ``DesignOutcomes`` record named.
    let harmLabels: [String]
    /// The target column (an index into the rows' `targets`) holding the true class.
    let truthColumn: Int?
    /// Per id of a value in the truth column: its label.
    let truthLabels: [Int32]
    /// Per row: the predicted label, or `notScored`.
    private(set) var predicted: [UInt16]
    /// Per row: the predicted class's probability.
    private(set) var confidence: [Double]
    /// Rows scored.
    public private(set) var scoredCount = 0

    static let notScored = UInt16.max

    init(
        name: String, base: String?, classes: [String], harmCategories: [String], hasTarget: Bool,
        labels: [String], labelHarm: [Int], harmLabels: [String], truthColumn: Int?, rows: UsableRows
    ) {
        precondition(Array(labels.prefix(classes.count)) == classes && labelHarm.count == labels.count)
        self.name = name
        self.base = base
        self.classes = classes
        self.harmCategories = harmCategories
        self.hasTarget = hasTarget
        self.labelHarm = labelHarm
        self.harmLabels = harmLabels
        self.truthColumn = truthColumn
        var labels = labels, truthLabels: [Int32] = []
        if let truthColumn {
            // A truth that is no label (only in tables built in memory) becomes one, so that
            // "truth == prediction" is a comparison of two label indices.
            for value in rows.values(column: rows.attributes.count + truthColumn) {
                if let known = labels.firstIndex(of: value) {
                    truthLabels.append(Int32(known))
                } else {
                    truthLabels.append(Int32(labels.count))
                    labels.append(value)
                }
            }
        }
        precondition(labels.count < Int(Self.notScored), "design \(name): more than 65,534 classes")
        self.labels = labels
        self.truthLabels = truthLabels
        predicted = Array(repeating: Self.notScored, count: rows.count)
        confidence = Array(repeating: 0, count: rows.count)
    }

    mutating func record(row: Int, label: Int, confidence: Double) {
        if predicted[row] == Self.notScored { scoredCount += 1 }
        predicted[row] = UInt16(label)
        self.confidence[row] = confidence
    }

    func isScored(_ row: Int) -> Bool { predicted[row] != Self.notScored }

    /// The predicted label of a scored row.
    func label(row: Int) -> Int { Int(predicted[row]) }

    /// The true label of `row`, when the design has a target and the row a value.
    func truth(row: Int, in rows: UsableRows) -> Int? {
        guard let truthColumn else { return nil }
        let id = rows.id(row: row, column: rows.attributes.count + truthColumn)
        return id == UsableRows.noValue ? nil : Int(truthLabels[Int(id)])
    }

    /// The harm category of predicting `label`, if any.
    func harm(ofLabel label: Int) -> String? {
        labelHarm[label] < 0 ? nil : harmLabels[labelHarm[label]]
    }
}

extension PredictionTable {
    /// A table from outcomes built in memory (tests, tools): one row per distinct `imageKey`, in
    /// order of first appearance, with the groups of its first record (a group missing from a
    /// short `groups` is empty), `imageKey` as its file and no manifest line (0). A design's
    /// later records for a key are left out, as the comparisons always paired the first; a
    /// label's harm category is the one its first record gives it.
    public init(attributes: [String], outcomes: [DesignOutcomes]) {
        let withTruth = outcomes.indices.filter { outcomes[$0].records.contains { $0.truth != nil } }
        var rows = UsableRows(
            imageRoot: URL(fileURLWithPath: "/"), attributes: attributes,
            targets: withTruth.map { outcomes[$0].design })
        let byKey = outcomes.map { design in
            Dictionary(design.records.map { ($0.imageKey, $0) }, uniquingKeysWith: { first, _ in first })
        }
        var rowOfKey: [String: Int] = [:]
        for design in outcomes {
            for record in design.records where rowOfKey[record.imageKey] == nil {
                rowOfKey[record.imageKey] = rows.count
                let groups = attributes.indices.map { $0 < record.groups.count ? record.groups[$0] : "" }
                rows.append(
                    line: 0, file: record.imageKey,
                    values: groups + withTruth.map { byKey[$0][record.imageKey]?.truth })
            }
        }
        self.rows = rows
        designs = []
        for (index, design) in outcomes.enumerated() {
            var labels = design.classes, harmLabels = design.harmCategories
            var labelHarm: [Int?] = Array(repeating: nil, count: labels.count)
            for record in design.records {
                let label: Int
                if let known = labels.firstIndex(of: record.predicted) {
                    label = known
                } else {
                    label = labels.count
                    labels.append(record.predicted)
                    labelHarm.append(nil)
                }
                guard labelHarm[label] == nil else { continue }
                if let category = record.harmCategory, !harmLabels.contains(category) { harmLabels.append(category) }
                labelHarm[label] = record.harmCategory.flatMap { harmLabels.firstIndex(of: $0) } ?? -1
            }
            var columns = DesignPredictions(
                name: design.design, base: design.base, classes: design.classes, harmCategories: design.harmCategories,
                hasTarget: design.hasTarget, labels: labels, labelHarm: labelHarm.map { $0 ?? -1 }, harmLabels: harmLabels,
                truthColumn: withTruth.firstIndex(of: index), rows: rows)
            for (key, record) in byKey[index] {
                columns.record(row: rowOfKey[key]!, label: labels.firstIndex(of: record.predicted)!, confidence: record.confidence)
            }
            designs.append(columns)
        }
    }
}
