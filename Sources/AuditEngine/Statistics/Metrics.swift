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

/// The groups of one attribute (or intersection, or the whole set), each with the indices of
/// its records.
struct SliceFamily {
    var attribute: String
    var isIntersection: Bool
    var groups: [(group: String, indices: [Int])]
}

/// Partitions records into the whole set, each attribute's groups and each intersection's
/// groups. Intersections naming an attribute not in `settings.attributes` are skipped.
func sliceFamilies(_ records: [OutcomeRecord], settings: MetricSettings) -> [SliceFamily] {
    var families = [SliceFamily(attribute: "*", isIntersection: false, groups: [("*", Array(records.indices))])]
    func family(name: String, columns: [Int], isIntersection: Bool) -> SliceFamily {
        var members: [[String]: [Int]] = [:]
        for (index, record) in records.enumerated() {
            let key = columns.map { $0 < record.groups.count ? record.groups[$0] : "" }
            members[key, default: []].append(index)
        }
        let ordered = members.keys.sorted(by: compareGroupTuples)
        return SliceFamily(attribute: name, isIntersection: isIntersection,
                           groups: ordered.map { ($0.joined(separator: "|"), members[$0]!) })
    }
    for (column, attribute) in settings.attributes.enumerated() {
        families.append(family(name: attribute, columns: [column], isIntersection: false))
    }
    for intersection in settings.intersections where !intersection.isEmpty {
        let columns = intersection.compactMap { settings.attributes.firstIndex(of: $0) }
        guard columns.count == intersection.count else { continue }
        families.append(family(name: intersection.joined(separator: "|"), columns: columns, isIntersection: true))
    }
    return families
}

/// The reference group of a family: the configured one when it is present in the data,
/// otherwise the largest group (ties: the first in group order).
func referenceGroup(of family: SliceFamily, settings: MetricSettings) -> String? {
    if let configured = settings.referenceGroups[family.attribute],
       family.groups.contains(where: { $0.group == configured }) {
        return configured
    }
    var best: (group: String, size: Int)?
    for (group, indices) in family.groups where indices.count > (best?.size ?? -1) {
        best = (group, indices.count)
    }
    return best?.group
}

/// The name of the combined harm metric `harm_rate:any` (any harm category predicted).
public let anyHarmCategory = "any"

/// A metric as an indicator over records; `nil` excludes the record (accuracy without truth).
struct MetricDefinition {
    var name: String
    var indicator: @Sendable (OutcomeRecord) -> Bool?
}

/// The design's metrics in report order: accuracy, harm rates, prediction rates.
func metricDefinitions(hasTarget: Bool, harmCategories: [String], classes: [String]) -> [MetricDefinition] {
    var definitions: [MetricDefinition] = []
    if hasTarget {
        definitions.append(MetricDefinition(name: "accuracy") { record in record.truth.map { $0 == record.predicted } })
    }
    for category in harmCategories {
        definitions.append(MetricDefinition(name: "harm_rate:\(category)") { $0.harmCategory == category })
    }
    // With several categories, also the rate of any harm: the CLIP paper's Table 7 reports the
    // share of faces labelled crime-related OR non-human. The config reserves the name `any`.
    if harmCategories.count > 1 {
        definitions.append(MetricDefinition(name: "harm_rate:\(anyHarmCategory)") { $0.harmCategory != nil })
    }
    for cls in classes {
        definitions.append(MetricDefinition(name: "prediction_rate:\(cls)") { $0.predicted == cls })
    }
    return definitions
}

/// Counts of an indicator over some records.
private func tally(_ indicators: [Bool?], _ indices: [Int]) -> (n: Int, count: Int) {
    var n = 0, count = 0
    for index in indices {
        guard let value = indicators[index] else { continue }
        n += 1
        if value { count += 1 }
    }
    return (n, count)
}

/// Computes every metric, disparity, variant comparison and confusion table of an audit.
///
/// - Metrics: for each design, `accuracy` (designs with a target; records without a truth are
///   left out of its denominator), `harm_rate:<category>` and `prediction_rate:<class>`, over the
///   whole set (`*`/`*`), each group of each attribute and each intersection group, with a 95%
///   Wilson interval. Slices with no records are absent; small ones are flagged, not dropped.
/// - Disparities: each group against its family's reference group (see
///   ``MetricSettings/referenceGroups``): pooled two-proportion z-test, Holm-adjusted within
///   design × metric × attribute, Newcombe hybrid score interval for the difference.
/// - Comparisons: each variant against its base on the images (by `imageKey`) present in both,
///   for the metrics both designs have: Newcombe paired interval, exact McNemar test.
/// - Confusions: for designs with a target, over the whole set and each group of each attribute.
///
/// Output order: designs as given, then metrics in definition order, then slices (whole set,
/// attributes in order, intersections in order; groups by ``compareGroupValues(_:_:)``).
public func computeAuditMetrics(_ designs: [DesignOutcomes], settings: MetricSettings) -> AuditMetrics {
    var result = AuditMetrics(metrics: [], disparities: [], comparisons: [], confusions: [])
    for design in designs {
        let families = sliceFamilies(design.records, settings: settings)
        let definitions = metricDefinitions(hasTarget: design.hasTarget, harmCategories: design.harmCategories,
                                            classes: design.classes)
        for definition in definitions {
            let indicators = design.records.map(definition.indicator)
            for family in families {
                for (group, indices) in family.groups {
                    let (n, count) = tally(indicators, indices)
                    guard n > 0, let ci = wilsonInterval(successes: count, trials: n) else { continue }
                    result.metrics.append(MetricRow(
                        design: design.design, metric: definition.name, attribute: family.attribute, group: group,
                        n: n, count: count, value: Double(count) / Double(n), ciLow: ci.lower, ciHigh: ci.upper,
                        belowMinimumN: n < settings.minGroupSize))
                }
                guard family.attribute != "*" else { continue }
                result.disparities += disparities(design: design.design, metric: definition.name, family: family,
                                                  indicators: indicators, settings: settings)
            }
        }
        if design.hasTarget {
            for family in families where !family.isIntersection {
                for (group, indices) in family.groups {
                    result.confusions.append(confusionTable(design: design, attribute: family.attribute, group: group,
                                                            records: indices.map { design.records[$0] }))
                }
            }
        }
    }
    for variant in designs {
        guard let baseName = variant.base, let base = designs.first(where: { $0.design == baseName }) else { continue }
        result.comparisons += comparisons(variant: variant, base: base, settings: settings)
    }
    return result
}

private func disparities(design: String, metric: String, family: SliceFamily, indicators: [Bool?],
                         settings: MetricSettings) -> [DisparityRow] {
    guard let reference = referenceGroup(of: family, settings: settings),
          let referenceIndices = family.groups.first(where: { $0.group == reference })?.indices else { return [] }
    let (rn, rc) = tally(indicators, referenceIndices)
    guard rn > 0 else { return [] }
    let referenceValue = Double(rc) / Double(rn)
    var rows: [DisparityRow] = []
    for (group, indices) in family.groups where group != reference {
        let (n, count) = tally(indicators, indices)
        guard n > 0 else { continue }
        let value = Double(count) / Double(n)
        let test = pooledTwoProportionZTest(successes1: count, trials1: n, successes2: rc, trials2: rn)
        let interval = newcombeUnpairedDifferenceInterval(successes1: count, trials1: n, successes2: rc, trials2: rn)!
        let ratio: Double? = referenceValue == 0 ? nil : value / referenceValue
        let violation: Bool
        if let ratio { violation = ratio < 0.8 || ratio > 1.25 } else { violation = value > 0 }
        rows.append(DisparityRow(
            design: design, metric: metric, attribute: family.attribute, group: group, reference: reference,
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

private func comparisons(variant: DesignOutcomes, base: DesignOutcomes, settings: MetricSettings) -> [ComparisonRow] {
    var baseByKey: [String: OutcomeRecord] = [:]
    for record in base.records where baseByKey[record.imageKey] == nil {
        baseByKey[record.imageKey] = record
    }
    var variantRecords: [OutcomeRecord] = []
    var baseRecords: [OutcomeRecord] = []
    var seen = Set<String>()
    for record in variant.records {
        guard let match = baseByKey[record.imageKey], seen.insert(record.imageKey).inserted else { continue }
        variantRecords.append(record)
        baseRecords.append(match)
    }
    let families = sliceFamilies(variantRecords, settings: settings)
    let definitions = metricDefinitions(
        hasTarget: variant.hasTarget && base.hasTarget,
        harmCategories: variant.harmCategories.filter(base.harmCategories.contains),
        classes: variant.classes.filter(base.classes.contains))
    var rows: [ComparisonRow] = []
    for definition in definitions {
        let variantIndicators = variantRecords.map(definition.indicator)
        let baseIndicators = baseRecords.map(definition.indicator)
        for family in families {
            for (group, indices) in family.groups {
                var both = 0, variantOnly = 0, baseOnly = 0, neither = 0
                for index in indices {
                    guard let v = variantIndicators[index], let b = baseIndicators[index] else { continue }
                    switch (v, b) {
                    case (true, true): both += 1
                    case (true, false): variantOnly += 1
                    case (false, true): baseOnly += 1
                    case (false, false): neither += 1
                    }
                }
                let n = both + variantOnly + baseOnly + neither
                guard n > 0, let interval = newcombePairedDifferenceInterval(
                    bothPositive: both, firstOnly: variantOnly, secondOnly: baseOnly, neither: neither) else { continue }
                let value = Double(both + variantOnly) / Double(n)
                let baseValue = Double(both + baseOnly) / Double(n)
                rows.append(ComparisonRow(
                    design: variant.design, base: base.design, metric: definition.name, attribute: family.attribute,
                    group: group, n: n, baseValue: baseValue, value: value, delta: Double(variantOnly - baseOnly) / Double(n),
                    ciLow: interval.lower, ciHigh: interval.upper,
                    pValue: exactMcNemarPValue(b: baseOnly, c: variantOnly),
                    baseOnly: baseOnly, variantOnly: variantOnly, belowMinimumN: n < settings.minGroupSize))
            }
        }
    }
    return rows
}

private func confusionTable(design: DesignOutcomes, attribute: String, group: String,
                            records: [OutcomeRecord]) -> ConfusionTable {
    let labelled = records.filter { $0.truth != nil }
    var extra = Set<String>()
    for record in labelled {
        for label in [record.truth!, record.predicted] where !design.classes.contains(label) {
            extra.insert(label)
        }
    }
    let labels = design.classes + extra.sorted()
    let position = Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    var counts = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
    for record in labelled {
        counts[position[record.truth!]!][position[record.predicted]!] += 1
    }
    let recall: [Double?] = counts.enumerated().map { row, cells in
        let total = cells.reduce(0, +)
        return total == 0 ? nil : Double(cells[row]) / Double(total)
    }
    return ConfusionTable(design: design.design, attribute: attribute, group: group, labels: labels,
                          counts: counts, recall: recall, n: labelled.count)
}
