import Foundation

extension ReportFolder {
    /// The text columns of the measurement CSVs: written as text cells, restored when read.
    static let measurementTextColumns: Set<String> = [
        "query", "attribute", "group", "max_group", "min_group", "test", "group_x", "group_y", "target_a", "target_b",
        "design", "metric", "reference", "mitigation"
    ]

    /// `retrieval.csv`, `retrieval_groups.csv`, `association.csv` and `robustness.csv` into
    /// `report`, each when the folder has it (a run writes them only for an audit that asks for them). Numbers come back
    /// with the CSVs' six significant digits; an empty cell is a value the run could not give
    /// (nil, or not a number where the row always has one).
    static func readMeasurements(_ url: URL, into report: inout AuditReport) throws {
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) }
        func rows(_ name: String, _ header: [String]) throws -> [CheckedRow] {
            let file = url.appendingPathComponent(name).path
            return try table(url, name, header, textColumns: measurementTextColumns)
                .map { CheckedRow(file: file, line: $0.line, fields: $0.fields) }
        }
        if exists("retrieval.csv") {
            // With mitigations (run.json says so) the file has the `mitigation` column: its empty
            // rows are the unmitigated ones, the others each mitigation's, in run.json's order.
            let mitigated = !report.mitigations.isEmpty
            let header = MeasurementsCSV.retrievalHeader + (mitigated ? ["mitigation"] : [])
            var byMitigation: [String: [RetrievalRow]] = [:]
            report.retrieval = try rows("retrieval.csv", header).compactMap { row in
                guard let desired = DesiredDistribution(rawValue: row.fields["desired"]!) else {
                    throw row.fail("desired is \"\(row.fields["desired"]!)\", expected dataset or uniform")
                }
                let parsed = RetrievalRow(
                    query: row.fields["query"]! == MeasurementsCSV.meanQuery ? nil : row.fields["query"]!,
                    attribute: Slice(csvText: row.fields["attribute"]!), k: try row.integer("k", atLeast: 1),
                    desired: desired, maxSkew: try row.real("max_skew"), minSkew: try row.real("min_skew"), ndkl: try row.real("ndkl"),
                    maxGroup: row.text("max_group"), minGroup: row.text("min_group"),
                    nullMaxSkew: try row.optionalNumber("null_max_skew"), pValue: try row.optionalNumber("p_value", in: 0...1))
                guard let mitigation = mitigated ? row.text("mitigation") : nil else { return parsed }
                guard report.mitigations.contains(where: { $0.name == mitigation }) else {
                    throw row.fail("mitigation \"\(mitigation)\" is not one of run.json's mitigations")
                }
                byMitigation[mitigation, default: []].append(parsed)
                return nil
            }
            report.mitigatedRetrieval = report.mitigations.compactMap { m in
                byMitigation[m.name].map { AuditReport.MitigatedRetrieval(mitigation: m.name, rows: $0) }
            }
        }
        if exists("retrieval_groups.csv") {
            report.retrievalGroups = try rows("retrieval_groups.csv", MeasurementsCSV.retrievalGroupsHeader).map { row in
                RetrievalGroupRow(
                    query: row.fields["query"]!, attribute: Slice(csvText: row.fields["attribute"]!), group: row.fields["group"]!,
                    k: try row.integer("k", atLeast: 1), count: try row.integer("count", atLeast: 0),
                    share: try row.number("share", in: 0...1), desiredShare: try row.number("desired_share", in: 0...1),
                    skew: try row.real("skew"))
            }
        }
        if exists("association.csv") {
            report.associations = try rows("association.csv", MeasurementsCSV.associationHeader).map { row in
                let nX = try row.integer("n_x", atLeast: 0), nY = try row.integer("n_y", atLeast: 0)
                let permutations = try row.integer("permutations", atLeast: 0)
                return AuditReport.Association(
                    name: row.fields["test"]!, attribute: Slice(csvText: row.fields["attribute"]!), groupX: row.fields["group_x"]!,
                    groupY: row.fields["group_y"]!, targetA: row.fields["target_a"]!, targetB: row.fields["target_b"]!,
                    result: AssociationResult(
                        nX: nX, nY: nY, effectSize: try row.real("effect_size"), ciLow: try row.real("ci_low"),
                        ciHigh: try row.real("ci_high"), pValue: try row.number("p_value", in: 0...1), permutations: permutations,
                        // The test is exact exactly when it counted every re-partition (see AssociationTest).
                        exact: permutations == partitions(nX, nY)))
            }
        }
        if exists("robustness.csv") {
            report.robustness = try rows("robustness.csv", RobustnessCSV.header).map { row in
                let specifications = try row.integer("specifications", atLeast: 1)
                func count(_ column: String) throws -> Int {
                    let value = try row.integer(column, atLeast: 0)
                    guard value <= specifications else {
                        throw row.fail("\(column) is \(value), more than the \(specifications) specifications")
                    }
                    return value
                }
                func flag(_ column: String) throws -> Bool {
                    let text = row.fields[column]!
                    guard text == "true" || text == "false" else { throw row.fail("\(column) is \"\(text)\", expected true or false") }
                    return text == "true"
                }
                return RobustnessRow(
                    design: row.fields["design"]!, metric: try row.metric(), attribute: Slice(csvText: row.fields["attribute"]!),
                    group: row.fields["group"]!, reference: row.fields["reference"]!, difference: try row.number("difference", in: -1...1),
                    flagged: try flag("flagged"), specifications: specifications, flaggedIn: try count("flagged_in"),
                    sameDirectionIn: try count("same_direction_in"), differenceMin: try row.number("difference_min", in: -1...1),
                    differenceMedian: try row.number("difference_median", in: -1...1),
                    differenceMax: try row.number("difference_max", in: -1...1))
            }
        }
    }

    /// C(x + y, x), the re-partitions of two groups of sizes x and y; nil past Int's range.
    static func partitions(_ x: Int, _ y: Int) -> Int? {
        var result = 1
        let k = min(x, y), n = x + y
        guard k > 0 else { return 1 }
        for i in 1...k {
            // result × (n − k + i) / i stays whole at every step.
            let (product, overflow) = result.multipliedReportingOverflow(by: n - k + i)
            if overflow { return nil }
            result = product / i
        }
        return result
    }
}

extension CheckedRow {
    /// A text cell; empty is nil.
    func text(_ column: String) -> String? {
        let value = fields[column]!
        return value.isEmpty ? nil : value
    }

    /// A number that may be absent (an empty cell).
    func optionalNumber(
        _ column: String, in range: ClosedRange<Double> = -.greatestFiniteMagnitude...(.greatestFiniteMagnitude)
    )
        throws -> Double?
    {
        fields[column]!.isEmpty ? nil : try number(column, in: range)
    }

    /// A number the run always computes, written empty when it was not finite: NaN then.
    func real(_ column: String) throws -> Double {
        try optionalNumber(column) ?? .nan
    }
}
