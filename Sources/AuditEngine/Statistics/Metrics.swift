/// Orders group values deterministically and in the natural order of FairFace-style labels.
///
/// Values that start with a number (`0-2`, `3-9`, `10-19`) come first, by that number
/// ascending; values without a leading number (`more than 70`, `Female`) follow. Ties are
/// broken by plain string order, so the order is total and stable across runs.
public func compareGroupValues(_ lhs: String, _ rhs: String) -> Bool {
    switch (leadingNumber(lhs), leadingNumber(rhs)) {
    case let (l?, r?) where l != r: return l < r
    case (.some, nil): return true
    case (nil, .some): return false
    default: return lhs < rhs
    }
}

/// The integer a string starts with (`"10-19"` → 10), or `nil`.
private func leadingNumber(_ s: String) -> Int? {
    let digits = s.unicodeScalars.prefix { $0.properties.numericType == .decimal && $0.isASCII }
    guard !digits.isEmpty else { return nil }
    return Int(String(String.UnicodeScalarView(digits)))
}

/// Orders intersection groups component by component with ``compareGroupValues(_:_:)``.
private func compareGroupTuples(_ lhs: [String], _ rhs: [String]) -> Bool {
    for (l, r) in zip(lhs, rhs) where l != r {
        return compareGroupValues(l, r)
    }
    return lhs.count < rhs.count
}

/// A slice family to report over: the whole set (no columns), an attribute, or an intersection,
/// with its attribute columns.
struct SliceSpec {
    var slice: Slice
    var columns: [Int]
}

/// The whole set, each attribute and each intersection, in report order. Intersections naming an
/// attribute not in `settings.attributes` are skipped.
func sliceSpecs(_ settings: MetricSettings) -> [SliceSpec] {
    var specs = [SliceSpec(slice: .all, columns: [])]
    for (column, attribute) in settings.attributes.enumerated() {
        specs.append(SliceSpec(slice: .attribute(attribute), columns: [column]))
    }
    for intersection in settings.intersections where !intersection.isEmpty {
        let columns = intersection.compactMap { settings.attributes.firstIndex(of: $0) }
        guard columns.count == intersection.count else { continue }
        specs.append(SliceSpec(slice: Slice(attributes: intersection), columns: columns))
    }
    return specs
}

/// The groups of one slice family over some rows, in ``compareGroupValues(_:_:)`` order.
struct SliceFamily {
    var slice: Slice
    /// Group names: `*`, `White`, or `White|Male` for an intersection.
    var groups: [String]
    /// Rows per group.
    var sizes: [Int]
    /// Per row of the table: its group, or -1 when the row is not in the set.
    var groupOfRow: [Int32]

    /// The family of `spec` over the rows that `include` accepts.
    init(_ spec: SliceSpec, rows: UsableRows, including include: (Int) -> Bool) {
        slice = spec.slice
        var grouping = rows.grouping(columns: spec.columns, including: include)
        let values = grouping.groups.map { rows.values(of: $0, columns: spec.columns) }
        let order = values.indices.sorted { compareGroupTuples(values[$0], values[$1]) }
        var rank = [Int32](repeating: 0, count: order.count)
        for (position, group) in order.enumerated() { rank[group] = Int32(position) }
        for row in grouping.groupOfRow.indices where grouping.groupOfRow[row] >= 0 {
            grouping.groupOfRow[row] = rank[Int(grouping.groupOfRow[row])]
        }
        groupOfRow = grouping.groupOfRow
        groups = order.map { spec.slice.groupText(values[$0]) }
        sizes = order.map { grouping.sizes[$0] }
        if slice == .all && groups.isEmpty {
            // The whole set is a group even over no rows (its confusion table is then empty).
            groups = [slice.groupText([])]
            sizes = [0]
        }
    }
}

/// The reference group of a family: the configured one when it is present in the data; for
/// an intersection without one, its attributes' references joined (`attributeReferences`, so
/// `race: White, gender: Male` makes `White|Male`) when that cell has images; otherwise the
/// largest group (ties: the first in group order).
func referenceGroup(of family: SliceFamily, settings: MetricSettings, attributeReferences: [String: String] = [:]) -> Int? {
    if let configured = settings.referenceGroups[family.slice.csvText], let index = family.groups.firstIndex(of: configured) {
        return index
    }
    if family.slice.isIntersection {
        let parts = family.slice.attributes.map { attributeReferences[$0] }
        if parts.allSatisfy({ $0 != nil }), let index = family.groups.firstIndex(of: family.slice.groupText(parts.map { $0! })) {
            return index
        }
    }
    var best: Int?
    for (index, size) in family.sizes.enumerated() where size > (best.map { family.sizes[$0] } ?? -1) {
        best = index
    }
    return best
}

/// The name of the combined harm metric `harm_rate:any` (any harm category predicted).
public let anyHarmCategory = Metric.anyHarmCategory

/// The design's metrics in report order: accuracy; with a target, per class in listed order
/// `recall:<class>` then `fpr:<class>` (each class's pair together, so equalized odds reads off
/// adjacent rows); harm rates; prediction rates.
func metricDefinitions(hasTarget: Bool, harmCategories: [String], classes: [String]) -> [Metric] {
    var definitions: [Metric] = []
    if hasTarget {
        definitions.append(.accuracy)
        for cls in classes {
            definitions += [.recall(cls), .falsePositiveRate(cls)]
        }
    }
    definitions += harmCategories.map(Metric.harmRate)
    // With several categories, also the rate of any harm: the CLIP paper's Table 7 reports the
    // share of faces labelled crime-related OR non-human. The config reserves the name `any`.
    if harmCategories.count > 1 {
        definitions.append(.anyHarm)
    }
    definitions += classes.map(Metric.predictionRate)
    return definitions
}

/// A design's indicators, resolved to its label indices, evaluated row by row.
struct DesignIndicators {
    enum Resolved {
        case accuracy
        /// A class's label index (classes come first among the labels, so it always has one).
        case recall(Int)
        case falsePositiveRate(Int)
        /// An index into the design's harm labels (-2: a category it never predicts).
        case harm(Int)
        case anyHarm
        /// A label index (-1: a class it does not have).
        case predicted(Int)
    }

    let design: DesignPredictions
    let rows: UsableRows
    let indicators: [Resolved]

    init(_ design: DesignPredictions, rows: UsableRows, definitions: [Metric]) {
        self.design = design
        self.rows = rows
        indicators = definitions.map { metric in
            switch metric {
            case .accuracy: return .accuracy
            case .recall(let cls): return .recall(design.labels.firstIndex(of: cls) ?? -1)
            case .falsePositiveRate(let cls): return .falsePositiveRate(design.labels.firstIndex(of: cls) ?? -1)
            case .harmRate(let category): return .harm(design.harmLabels.firstIndex(of: category) ?? -2)
            case .anyHarm: return .anyHarm
            case .predictionRate(let cls): return .predicted(design.labels.firstIndex(of: cls) ?? -1)
            }
        }
    }

    /// Each indicator's value for a scored row.
    func values(row: Int) -> [Bool?] {
        let label = design.label(row: row)
        let truth = design.truth(row: row, in: rows)
        return indicators.map { indicator in
            switch indicator {
            case .accuracy: return truth.map { $0 == label }
            case .recall(let cls): return truth.flatMap { $0 == cls ? label == cls : nil }
            case .falsePositiveRate(let cls): return truth.flatMap { $0 != cls ? label == cls : nil }
            case .harm(let category): return design.labelHarm[label] == category
            case .anyHarm: return design.labelHarm[label] >= 0
            case .predicted(let predicted): return label == predicted
            }
        }
    }
}

/// Counts of an indicator over a group.
private struct Tally {
    var n = 0
    var count = 0

    mutating func add(_ value: Bool?) {
        guard let value else { return }
        n += 1
        if value { count += 1 }
    }
}

/// Computes every metric, disparity, variant comparison and confusion table of an audit from its
/// prediction table, counting row by row (nothing per row is kept beyond one slice's groups).
///
/// - Metrics: for each design, `accuracy` (designs with a target; rows without a truth are
///   left out of its denominator), `recall:<class>` and `fpr:<class>` (designs with a target:
///   the rows whose truth is the class, resp. whose truth is another value, predicted as the
///   class; a group with no such row has no row), `harm_rate:<category>` and `prediction_rate:<class>`, over the
///   whole set (`*`/`*`), each group of each attribute and each intersection group, with a 95%
///   Wilson interval, over the rows the design scored. Slices with no rows are absent; small
///   ones are flagged, not dropped.
/// - Disparities: each group against its family's reference group (see
///   ``MetricSettings/referenceGroups``): pooled two-proportion z-test, Holm-adjusted within
///   design × metric × attribute, Newcombe hybrid score interval for the difference.
/// - Comparisons: each variant against its base on the rows both scored, for the metrics both
///   designs have: Newcombe paired interval, exact McNemar test.
/// - Confusions: for designs with a target, over the whole set and each group of each attribute.
///
/// Output order: designs as given, then metrics in definition order, then slices (whole set,
/// attributes in order, intersections in order; groups by ``compareGroupValues(_:_:)``).
public func computeAuditMetrics(_ table: PredictionTable, settings: MetricSettings) -> AuditMetrics {
    precondition(table.rows.attributes == settings.attributes, "the table's attributes are not the settings' attributes")
    var result = AuditMetrics(metrics: [], disparities: [], comparisons: [], confusions: [])
    let specs = sliceSpecs(settings)
    for design in table.designs {
        let definitions = metricDefinitions(
            hasTarget: design.hasTarget, harmCategories: design.harmCategories,
            classes: design.classes)
        let indicators = DesignIndicators(design, rows: table.rows, definitions: definitions)
        // Per slice family: its groups and, per definition and group, the counts.
        var families: [(family: SliceFamily, tallies: [[Tally]], confusions: [[[Int]]])] = []
        for spec in specs {
            var family = SliceFamily(spec, rows: table.rows, including: design.isScored)
            var tallies = [[Tally]](repeating: Array(repeating: Tally(), count: family.groups.count), count: definitions.count)
            let labels = design.labels.count
            let withConfusions = design.hasTarget && !family.slice.isIntersection
            var confusions = [[[Int]]](
                repeating: Array(repeating: Array(repeating: 0, count: labels), count: labels),
                count: withConfusions ? family.groups.count : 0)
            for (row, group) in family.groupOfRow.enumerated() where group >= 0 {
                for (definition, value) in indicators.values(row: row).enumerated() {
                    tallies[definition][Int(group)].add(value)
                }
                if withConfusions, let truth = design.truth(row: row, in: table.rows) {
                    confusions[Int(group)][truth][design.label(row: row)] += 1
                }
            }
            family.groupOfRow = []
            families.append((family, tallies, confusions))
        }
        // Each attribute's reference, which its intersections' references are built from.
        var attributeReferences: [String: String] = [:]
        for (family, _, _) in families {
            guard case .attribute(let attribute) = family.slice else { continue }
            if let index = referenceGroup(of: family, settings: settings) { attributeReferences[attribute] = family.groups[index] }
        }
        for (index, definition) in definitions.enumerated() {
            for (family, tallies, _) in families {
                for (group, tally) in zip(family.groups, tallies[index]) {
                    guard tally.n > 0, let ci = wilsonInterval(successes: tally.count, trials: tally.n) else { continue }
                    result.metrics.append(
                        MetricRow(
                            design: design.name, metric: definition, attribute: family.slice, group: group,
                            n: tally.n, count: tally.count, value: Double(tally.count) / Double(tally.n), ciLow: ci.lower,
                            ciHigh: ci.upper, belowMinimumN: tally.n < settings.minGroupSize))
                }
                guard family.slice != .all else { continue }
                result.disparities += disparities(
                    design: design.name, metric: definition, family: family,
                    tallies: tallies[index], settings: settings,
                    attributeReferences: attributeReferences)
            }
        }
        for (family, _, confusions) in families {
            for (group, counts) in zip(family.groups, confusions) {
                result.confusions.append(confusionTable(design: design, attribute: family.slice, group: group, counts: counts))
            }
        }
    }
    for variant in table.designs {
        guard let baseName = variant.base, let base = table.designs.first(where: { $0.name == baseName }) else { continue }
        result.comparisons += ComparisonRow.adjustingHolm(
            comparisons(variant: variant, base: base, rows: table.rows, specs: specs, settings: settings))
    }
    return result
}

/// The metrics of outcomes built in memory (see ``PredictionTable/init(attributes:outcomes:)``).
public func computeAuditMetrics(_ designs: [DesignOutcomes], settings: MetricSettings) -> AuditMetrics {
    computeAuditMetrics(PredictionTable(attributes: settings.attributes, outcomes: designs), settings: settings)
}

private func disparities(
    design: String, metric: Metric, family: SliceFamily, tallies: [Tally],
    settings: MetricSettings, attributeReferences: [String: String]
) -> [DisparityRow] {
    guard let reference = referenceGroup(of: family, settings: settings, attributeReferences: attributeReferences) else { return [] }
    let (rn, rc) = (tallies[reference].n, tallies[reference].count)
    guard rn > 0 else { return [] }
    let referenceValue = Double(rc) / Double(rn)
    var rows: [DisparityRow] = []
    for (index, group) in family.groups.enumerated() where index != reference {
        let (n, count) = (tallies[index].n, tallies[index].count)
        guard n > 0 else { continue }
        let value = Double(count) / Double(n)
        let test = pooledTwoProportionZTest(successes1: count, trials1: n, successes2: rc, trials2: rn)
        let interval = newcombeUnpairedDifferenceInterval(successes1: count, trials1: n, successes2: rc, trials2: rn)!
        let ratio: Double? = referenceValue == 0 ? nil : value / referenceValue
        let violation = DisparityRow.fourFifths(
            value: value, referenceValue: referenceValue, n: n, referenceN: rn,
            minGroupSize: settings.minGroupSize, minDifference: settings.minDifference)
        rows.append(
            DisparityRow(
                design: design, metric: metric, attribute: family.slice, group: group, reference: family.groups[reference],
                n: n, count: count, referenceN: rn, referenceCount: rc, value: value, referenceValue: referenceValue,
                difference: value - referenceValue, ratio: ratio, pValue: test.pValue, pAdjusted: test.pValue,
                significant: false, differenceCILow: interval.lower, differenceCIHigh: interval.upper,
                fourFifthsViolation: violation,
                belowMinimumN: n < settings.minGroupSize || rn < settings.minGroupSize))
    }
    let adjusted = holmAdjusted(rows.map(\.pValue))
    for index in rows.indices {
        rows[index].pAdjusted = adjusted[index]
        rows[index].significant = adjusted[index] < settings.alpha
    }
    return rows
}

/// Paired counts of an indicator over the same images under a compared condition (a variant
/// design, run B of `diff`, a model) and its base (the base design, run A, the base model), and
/// the statistics docs/report-files.md fixes for every paired difference: Newcombe's method 10 interval and
/// the exact McNemar test on the images whose indicator changed. The one place they are made.
struct PairedTally {
    var both = 0, variantOnly = 0, baseOnly = 0, neither = 0

    mutating func add(_ variant: Bool?, _ base: Bool?) {
        guard let variant, let base else { return }
        switch (variant, base) {
        case (true, true): both += 1
        case (true, false): variantOnly += 1
        case (false, true): baseOnly += 1
        case (false, false): neither += 1
        }
    }

    /// Images counted (the indicator defined under both).
    var n: Int { both + variantOnly + baseOnly + neither }
    /// The compared condition's rate.
    var value: Double { Double(both + variantOnly) / Double(n) }
    /// The base's rate.
    var baseValue: Double { Double(both + baseOnly) / Double(n) }
    /// value − baseValue, from the discordant counts.
    var delta: Double { Double(variantOnly - baseOnly) / Double(n) }
    /// Newcombe's paired interval of `delta`; nil over no images.
    var interval: ConfidenceInterval? {
        newcombePairedDifferenceInterval(bothPositive: both, firstOnly: variantOnly, secondOnly: baseOnly, neither: neither)
    }
    /// The exact McNemar p on the discordant images.
    var pValue: Double { exactMcNemarPValue(b: baseOnly, c: variantOnly) }
}

/// `variant` against `base` on the rows both scored, paired (also a model against the base
/// model: ``modelComparisons(runs:labels:settings:)``).
func comparisons(
    variant: DesignPredictions, base: DesignPredictions, rows: UsableRows, specs: [SliceSpec],
    settings: MetricSettings
) -> [ComparisonRow] {
    let definitions = metricDefinitions(
        hasTarget: variant.hasTarget && base.hasTarget,
        harmCategories: variant.harmCategories.filter(base.harmCategories.contains),
        classes: variant.classes.filter(base.classes.contains))
    let variantIndicators = DesignIndicators(variant, rows: rows, definitions: definitions)
    let baseIndicators = DesignIndicators(base, rows: rows, definitions: definitions)
    var families: [(family: SliceFamily, tallies: [[PairedTally]])] = []
    for spec in specs {
        var family = SliceFamily(spec, rows: rows) { variant.isScored($0) && base.isScored($0) }
        var tallies = [[PairedTally]](
            repeating: Array(repeating: PairedTally(), count: family.groups.count),
            count: definitions.count)
        for (row, group) in family.groupOfRow.enumerated() where group >= 0 {
            for (definition, (v, b)) in zip(variantIndicators.values(row: row), baseIndicators.values(row: row)).enumerated() {
                tallies[definition][Int(group)].add(v, b)
            }
        }
        family.groupOfRow = []
        families.append((family, tallies))
    }
    var result: [ComparisonRow] = []
    for (index, definition) in definitions.enumerated() {
        for (family, tallies) in families {
            for (group, t) in zip(family.groups, tallies[index]) {
                guard t.n > 0, let interval = t.interval else { continue }
                result.append(
                    ComparisonRow(
                        design: variant.name, base: base.name, metric: definition, attribute: family.slice,
                        group: group, n: t.n, baseValue: t.baseValue, value: t.value, delta: t.delta,
                        ciLow: interval.lower, ciHigh: interval.upper, pValue: t.pValue,
                        baseOnly: t.baseOnly, variantOnly: t.variantOnly, belowMinimumN: t.n < settings.minGroupSize))
            }
        }
    }
    return result
}

/// A confusion table from counts[truth][predicted] over the design's labels: its rows and
/// columns are the classes, then the other labels that occur in it, sorted.
private func confusionTable(design: DesignPredictions, attribute: Slice, group: String, counts all: [[Int]]) -> ConfusionTable {
    let classes = design.classes.count
    let extra = (classes..<design.labels.count).filter { label in
        all[label].contains { $0 > 0 } || all.contains { $0[label] > 0 }
    }
    let order = Array(0..<classes) + extra.sorted { design.labels[$0] < design.labels[$1] }
    let counts = order.map { truth in order.map { all[truth][$0] } }
    let recall: [Double?] = counts.enumerated().map { row, cells in
        let total = cells.reduce(0, +)
        return total == 0 ? nil : Double(cells[row]) / Double(total)
    }
    return ConfusionTable(
        design: design.name, attribute: attribute, group: group, labels: order.map { design.labels[$0] },
        counts: counts, recall: recall, n: counts.joined().reduce(0, +))
}
