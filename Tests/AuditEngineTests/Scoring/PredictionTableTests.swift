import CLIPEngine
import Foundation
import Testing

@testable import AuditEngine

/// The compact tables a run holds instead of strings per row: interning,
/// packed paths, usable rows made on access, and a prediction table that writes the same
/// `predictions.csv` lines as the predictions it stands for.
@Suite("Compact prediction table")
struct PredictionTableTests {
    @Test func poolInternsEachValueOnceInOrderOfFirstAppearance() {
        var pool = StringPool()
        let ids = ["White", "Black", "White", "", "Black", "Ünicode ☃"].map { pool.intern($0) }
        #expect(ids == [0, 1, 0, 2, 1, 3])
        #expect(pool.values == ["White", "Black", "", "Ünicode ☃"])
        #expect(pool[3] == "Ünicode ☃" && pool.id(of: "Black") == 1 && pool.id(of: "Asian") == nil)
    }

    @Test func packedStringsGiveBackWhatWasAppended() {
        let values = ["img/0001.png", "", "a, \"quoted\"\nname.jpg", "Ünicode/☃.png", String(repeating: "x", count: 70_000)]
        var packed = PackedStrings()
        for value in values { packed.append(value) }
        #expect(Array(packed) == values)
        #expect(packed.count == values.count)
    }

    static let root = URL(fileURLWithPath: "/data/images")

    /// Three rows over attributes race, gender and the target column gender.
    static func rows() -> UsableRows {
        var rows = UsableRows(imageRoot: root, attributes: ["race", "gender"], targets: ["gender"])
        for (line, file, race, gender) in [
            (2, "a/1.jpg", "White", "Male"), (3, "a/./2.jpg", "Black", "Female"),
            (5, "b/3,\"x\".jpg", "White", "Female")
        ] {
            rows.append(
                UsableRow(
                    line: line, file: file, imageURL: RowChecker.imageURL(root: root, path: file),
                    attributes: ["race": race, "gender": gender], targets: ["gender": gender]))
        }
        return rows
    }

    @Test func usableRowsAreMadeBackFromTheirIDs() {
        let rows = Self.rows()
        #expect(rows.count == 3)
        #expect(rows.map(\.line) == [2, 3, 5])
        #expect(rows[1].file == "a/./2.jpg" && rows[1].imageURL.path == "/data/images/a/2.jpg")
        #expect(rows[2].attributes == ["race": "White", "gender": "Female"] && rows[2].targets == ["gender": "Female"])
        // Interned: the race column holds two values for three rows.
        #expect(rows.values(column: 0) == ["White", "Black"])
        let copy = UsableRow(
            line: 9, file: "c.jpg", imageURL: Self.root, attributes: ["race": "Black", "gender": "Female"],
            targets: ["gender": "Female"])
        #expect(rows.hasSameValues(copy, as: 1) && !rows.hasSameValues(copy, as: 2))
        let unseen = UsableRow(
            line: 9, file: "c.jpg", imageURL: Self.root, attributes: ["race": "Asian", "gender": "Female"],
            targets: ["gender": "Female"])
        #expect(!rows.hasSameValues(unseen, as: 1) && rows.values(column: 0) == ["White", "Black"])
        // Grouping by race × gender, in order of first appearance.
        let grouping = rows.grouping(columns: [0, 1])
        #expect(
            grouping.groups.map { rows.values(of: $0, columns: [0, 1]) } == [["White", "Male"], ["Black", "Female"], ["White", "Female"]])
        #expect(grouping.groupOfRow == [0, 1, 2] && grouping.sizes == [1, 1, 1])
        #expect(rows.grouping(columns: [0]) { $0 != 1 }.groupOfRow == [0, -1, 0])
    }

    /// Designs of a run over `rows`: gender with a target, and a harm design with a variant.
    static let designs: [DesignSpec] = {
        let spec = { (name: String) in ClassSpec(name: name, phrases: [name]) }
        let harms = [HarmCategory(name: "non-human", classes: ["gorilla"]), HarmCategory(name: "crime, \"related\"", classes: ["thief"])]
        return [
            DesignSpec(name: "gender", target: "gender", templates: ["{}"], classes: [spec("Male"), spec("Female")]),
            DesignSpec(name: "harm", templates: ["{}"], classes: ["person", "gorilla", "thief"].map(spec), harmCategories: harms),
            DesignSpec(
                name: "harm+child", templates: ["{}"], classes: ["person", "gorilla", "thief", "child"].map(spec),
                harmCategories: harms, base: "harm")
        ]
    }()

    @Test func aRunsTableListsOnlyScoredRowsWithTheirExactConfidence() throws {
        var table = try PredictionTable(rows: Self.rows(), designs: Self.designs)
        #expect(table.predictions.isEmpty && table.predictions.count == 0)
        // Rows 0 and 2 scored (row 1's image failed), in the order the batches arrive.
        let confidence = 0.1 + 0.2 // 0.30000000000000004: kept as the Double it is
        table.record(design: 0, row: 0, classIndex: 1, confidence: confidence)
        table.record(design: 1, row: 0, classIndex: 2, confidence: 0.5)
        table.record(design: 2, row: 0, classIndex: 3, confidence: 0.25)
        table.record(design: 0, row: 2, classIndex: 1, confidence: 0.75)
        table.record(design: 1, row: 2, classIndex: 1, confidence: 1)
        table.record(design: 2, row: 2, classIndex: 1, confidence: 1e-7)
        let predictions = Array(table.predictions)
        #expect(table.predictions.count == 6 && predictions.count == 6)
        #expect(
            predictions.map { "\($0.design) \($0.line) \($0.file) \($0.predicted)" } == [
                "gender 2 a/1.jpg Female", "gender 5 b/3,\"x\".jpg Female",
                "harm 2 a/1.jpg thief", "harm 5 b/3,\"x\".jpg gorilla",
                "harm+child 2 a/1.jpg child", "harm+child 5 b/3,\"x\".jpg gorilla"
            ])
        #expect(predictions[0].confidence == confidence && predictions[0].truth == "Male" && predictions[0].attributes == ["White", "Male"])
        #expect(predictions[2].truth == nil && predictions[2].harmCategory == "crime, \"related\"")
        #expect(predictions[3].harmCategory == "non-human" && predictions[4].harmCategory == nil)
    }

    @Test func aDesignWithMoreClassesThanALabelIndexHoldsIsAnError() {
        let classes = (0..<65_535).map { ClassSpec(name: "c\($0)", phrases: ["c\($0)"]) }
        let design = DesignSpec(name: "huge", templates: ["{}"], classes: classes)
        #expect(throws: AuditError.self) { try PredictionTable(rows: Self.rows(), designs: [design]) }
        #expect(
            (try? PredictionTable(
                rows: Self.rows(),
                designs: [
                    DesignSpec(
                        name: "ok", templates: ["{}"],
                        classes: Array(classes.prefix(65_534)))
                ])) != nil)
    }

    @Test func aDesignThatScoredNoRowKeepsItsEmptyWholeSetConfusionTable() throws {
        // As before the table: the whole set is a slice even over no rows.
        let table = try PredictionTable(rows: Self.rows(), designs: Self.designs)
        let metrics = computeAuditMetrics(table, settings: MetricSettings(attributes: ["race", "gender"]))
        #expect(metrics.metrics.isEmpty && metrics.disparities.isEmpty && metrics.comparisons.isEmpty)
        #expect(metrics.confusions.map { "\($0.design) \($0.attribute) \($0.group) \($0.n)" } == ["gender * * 0"])
        #expect(metrics.confusions[0].labels == ["Male", "Female"] && metrics.confusions[0].recall == [nil, nil])
    }

    @Test func predictionsCSVFromTheTableHasTheLinesOfThePredictions() throws {
        // Outcomes built in memory, with values that need quoting and a truth that is no class.
        let groups = [["White", "Male"], ["Black, \"B\"", "Female"], ["Ünicode ☃", "Female"]]
        let files = ["img/1.jpg", "img/2,\"two\".jpg", "img/three\nlines.png"]
        let gender = DesignOutcomes(
            design: "gender", classes: ["Male", "Female"], hasTarget: true,
            records: [
                OutcomeRecord(imageKey: files[0], groups: groups[0], truth: "Male", predicted: "Male", confidence: 0.9),
                OutcomeRecord(imageKey: files[1], groups: groups[1], truth: "Female", predicted: "Male", confidence: 0.1 + 0.2),
                OutcomeRecord(imageKey: files[2], groups: groups[2], truth: "Other", predicted: "Female", confidence: 1e-7)
            ])
        let harm = DesignOutcomes(
            design: "harm", classes: ["person", "gorilla"], harmCategories: ["non-human"], hasTarget: false,
            records: [
                OutcomeRecord(imageKey: files[2], groups: groups[2], predicted: "gorilla", harmCategory: "non-human", confidence: 0.5),
                OutcomeRecord(imageKey: files[0], groups: groups[0], predicted: "person", confidence: 2.0 / 3)
            ])
        let table = PredictionTable(attributes: ["race", "gender"], outcomes: [gender, harm])
        // What predictions.csv must hold: the records' fields, design by design, rows in order of
        // first appearance.
        var expected = CSVWriter()
        expected.writeRow(["design", "file", "race", "gender", "truth", "predicted", "confidence", "harm_category"])
        for (design, records) in [("gender", gender.records), ("harm", [harm.records[1], harm.records[0]])] {
            for r in records {
                expected.writeRow(
                    [design, r.imageKey] + r.groups + [
                        r.truth ?? "", r.predicted, CSVNumber.format(r.confidence),
                        r.harmCategory ?? ""
                    ])
            }
        }
        var run = ReportFixture.run()
        run.config.attributes = ["race", "gender"]
        run.table = table
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = dir.url.appendingPathComponent("predictions.csv")
        try AtomicFile.write(to: url) { try ReportWriter.writePredictionsCSV(run, to: &$0) }
        #expect(try String(contentsOf: url, encoding: .utf8) == expected.text)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["predictions.csv"])
    }
}
