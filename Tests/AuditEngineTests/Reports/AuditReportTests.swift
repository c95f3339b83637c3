import Foundation
import Testing

@testable import AuditEngine

/// The one report value: what `run` writes is what a folder read back renders, byte for byte,
/// and a folder of the layout before `schema_version` still serves `card` and `diff`.
@Suite("AuditReport written and read back")
struct AuditReportTests {
    /// The snapshot run with retrieval and association results whose numbers have more digits
    /// than the CSVs keep, and a test whose effect size is not a number.
    static func runWithMeasurements() -> AuditRun {
        var run = ReportFixture.run()
        run.measurements.retrieval = [
            RetrievalRow(
                query: "*", attribute: "race", k: 3, desired: .dataset, maxSkew: 0.812345678, minSkew: -1.098612289, ndkl: 0.2345678912,
                maxGroup: nil, minGroup: nil, nullMaxSkew: 0.7654321098, pValue: nil),
            RetrievalRow(
                query: "a photo of a good person", attribute: "race", k: 3, desired: .dataset, maxSkew: 1.0986122887,
                minSkew: -1.3862943611, ndkl: 0.3141592654, maxGroup: "Black", minGroup: "White", nullMaxSkew: 0.7654321098,
                pValue: 0.0199600798),
            RetrievalRow(
                query: "a photo of a good person", attribute: "race", k: 3, desired: .uniform, maxSkew: 0.6931471806,
                minSkew: -0.6931471806, ndkl: 0.1234567891, maxGroup: "Black", minGroup: "White", nullMaxSkew: nil, pValue: nil)
        ]
        run.measurements.retrievalGroups = [
            RetrievalGroupRow(
                query: "a photo of a good person", attribute: "race", group: "Black", k: 3, count: 2, share: 2.0 / 3,
                desiredShare: 0.2666666667, skew: 0.9162907319),
            RetrievalGroupRow(
                query: "a photo of a good person", attribute: "race", group: "White", k: 3, count: 0, share: 0, desiredShare: 0.4,
                skew: -0.1823215568)
        ]
        let spec = { (name: String) in
            AssociationSpec(
                name: name, attribute: "gender", groupX: "Male", groupY: "Female", targetA: ("career", ["office"]),
                targetB: ("family", ["home"]), templates: [], permutations: 1000, seed: 1, index: 0)
        }
        run.measurements.associations = [
            (
                spec("gender-career"),
                AssociationResult(
                    nX: 3, nY: 4, effectSize: -0.1523456789, ciLow: -1.2398765432, ciHigh: 0.8812345678, pValue: 0.6074,
                    permutations: 35, exact: true)
            ),
            (
                spec("flat"),
                AssociationResult(nX: 30, nY: 30, effectSize: .nan, ciLow: .nan, ciHigh: .nan, pValue: 1, permutations: 1000, exact: false)
            )
        ]
        return run
    }

    static func temporaryFolder(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-\(name)-\(UUID().uuidString)")
    }

    static func text(_ folder: URL, _ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    /// report.md, details.md, report.html and run.json of `report`, as `ReportWriter` makes them.
    static func rendered(_ report: AuditReport) throws -> [String: String] {
        let charts = ReportCharts.all(report) + MeasurementsReport.charts(report)
        let markdown = MarkdownReport.render(report, charts: charts)
        let details = MarkdownReport.renderDetails(report, charts: charts)
        var files = [
            "report.md": markdown, "details.md": details,
            "report.html": HTMLReport.render(markdown: markdown, details: details, charts: charts, data: report),
            "run.json": try report.runJSON()
        ]
        for chart in charts { files[chart.path] = chart.svg }
        return files
    }

    @Test("report.md, details.md, report.html, the charts and run.json rendered from a folder read back are the bytes run wrote")
    func oneModelFolderRendersTheSameBytes() throws {
        let dir = Self.temporaryFolder("report-model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = Self.runWithMeasurements()
        try ReportWriter.write(run, to: dir)
        let back = try AuditReport.read(folder: dir)
        #expect(back.retrieval.count == 3 && back.associations.count == 2 && back.findings.count == 2)
        #expect(back.confusions == run.metrics.confusions && !back.confusions.isEmpty)
        let files = try Self.rendered(back)
        #expect(files.count > 4 && files.keys.contains("charts/association-effect-sizes.svg"))
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            let written = try Self.text(dir, name)
            #expect(text == written, "\(name) differs when rendered from the folder read back")
            if text != written, let dump = ProcessInfo.processInfo.environment["AUDIT_REPORT_DUMP"] {
                let url = URL(fileURLWithPath: dump).appendingPathComponent(name)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
                try written.write(to: url.appendingPathExtension("written"), atomically: true, encoding: .utf8)
            }
        }
        // Everything but the rows and prediction lines is the value run built.
        var built = AuditReport(run: run)
        #expect(!back.files.isEmpty && built.files.isEmpty)
        built.files = back.files // (what the writer adds: the files it wrote)
        // (A finding with a NaN effect size is never == itself: compared as encoded and worded.)
        #expect(try back.runJSON() == built.runJSON())
        #expect(MeasurementsReport.sentences(back) == MeasurementsReport.sentences(built))
        #expect(back.designs == built.designs && back.skipped == built.skipped && back.counts == built.counts)
        #expect(back.model == built.model && back.manifest == built.manifest && back.notes == built.notes)
    }

    @Test("the several-model top report rendered from the folders read back is the bytes written")
    func severalModelTopReportRendersTheSameBytes() throws {
        let top = Self.temporaryFolder("report-models")
        defer { try? FileManager.default.removeItem(at: top) }
        try TwoModels.write(to: top)
        let back = try ModelsFolder.read(top)
        let files = ModelsReport.files(back)
        #expect(files.contains { $0.path == "report.md" } && files.contains { $0.path == "report.html" })
        for file in files {
            #expect(file.contents == (try Self.text(top, file.path)), "\(file.path) differs when rendered from the folders read back")
        }
        for (label, model) in zip(TwoModels.labels, back.models) {
            #expect(model.label == label)
            let written = try Self.rendered(model.data)
            for name in ["report.md", "details.md", "report.html", "run.json"] {
                #expect(written[name] == (try Self.text(top.appendingPathComponent(label), name)), "\(label)/\(name)")
            }
        }
    }

    @Test("run.json is the report's typed value: a schema version, findings as data, no sentences")
    func runJSONHoldsTypedFindings() throws {
        let report = AuditReport(run: Self.runWithMeasurements())
        let json = try report.runJSON()
        #expect(json.contains("\"schema_version\" : \(AuditReport.schemaVersion)"))
        #expect(json.contains("\"kind\" : \"retrieval\"") && json.contains("\"kind\" : \"associations\""))
        #expect(!json.contains("measurement_findings") && !json.contains("Retrieval over"))
        // A non-finite effect size is kept as a string, not an encoding failure.
        #expect(json.contains("\"effect_size\" : \"nan\""))
        let decoded = try AuditReport.decodeRunJSON(Data(json.utf8), path: "run.json")
        #expect(try decoded.runJSON() == json && decoded.designs.map(\.name) == report.designs.map(\.name))
        #expect(decoded.findings.first == report.findings.first)
        // The sentences are the writers' words for the same values.
        #expect(MeasurementsReport.sentences(decoded) == MeasurementsReport.sentences(report))
        #expect(MeasurementsReport.sentences(report)[1].contains("`flat` — [—, —], p = 1.0000"))
    }

    @Test("a run.json of a newer layout is refused with its version named")
    func newerLayoutIsRefused() throws {
        let json = #"{"schema_version": 99, "settings": {"alpha": 0.05, "min_group_size": 8, "attributes": [], "intersections": []}}"#
        let error = try #require(throws: AuditError.self) { try AuditReport.decodeRunJSON(Data(json.utf8), path: "x/run.json") }
        #expect("\(error)".contains("x/run.json: schema_version 99 is not one this clip-audit reads (up to 2)"))
        let wrong = #"{"schema_version": 2, "settings": {"alpha": 0.05, "min_group_size": 8, "attributes": [], "intersections": []}}"#
        let missing = try #require(throws: AuditError.self) { try AuditReport.decodeRunJSON(Data(wrong.utf8), path: "x/run.json") }
        #expect("\(missing)".contains("x/run.json: ") && "\(missing)".contains(": missing"), "\(missing)")
    }
}

/// A report folder written by clip-audit before run.json had `schema_version` (layout 1:
/// Fixtures/report-folders/layout-1-demo, written by that version's `run` on Audits/demo.yaml)
/// is converted when read: `card` and `diff` work on it.
@Suite("Report folders of layout 1")
struct LegacyReportFolderTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/report-folders/layout-1-demo")

    @Test("the converted report has its settings, designs, variants and findings")
    func convertsTheOldLayout() throws {
        let folder = try ReportFolder.read(Self.folder)
        let report = folder.data
        #expect(report.schemaVersion == 1)
        #expect(report.name == "demo" && report.alpha == 0.05 && report.minGroupSize == 3)
        #expect(report.slices.map(\.csvText) == ["race", "gender", "age", "race|gender"])
        #expect(report.designs.map(\.name) == ["gender", "denigration", "denigration+child"])
        let variant = try #require(report.design(named: "denigration+child"))
        #expect(variant.base == "denigration" && variant.addedClasses == ["child"] && variant.removedClasses.isEmpty)
        #expect(
            report.design(named: "gender")?.hasTarget == true && report.design(named: "gender")?.signature?.classes == ["Male", "Female"])
        #expect(report.counts.manifestRows == 14 && report.counts.rowsScored == 13 && report.skipped.count == 1)
        #expect(report.skippedByReason.map(\.count) == [1])
        // Its findings were sentences: kept as they were written.
        guard case .sentence(let text) = try #require(report.findings.first) else {
            Issue.record("expected a sentence finding")
            return
        }
        #expect(text.hasPrefix("Retrieval over 8 neutral queries: at k = 6"))
        #expect(report.retrieval.count > 0 && report.associations.count == 1)
        #expect(report.associations[0].result.exact == false)
    }

    @Test("card on a layout-1 folder")
    func cardWorks() throws {
        let report = try ReportFolder.read(Self.folder).data
        let files = ModelCardExport.render(report)
        let fairness = try #require(files.first { $0.name.hasSuffix(".md") }?.text)
        #expect(fairness.contains("Retrieval over 8 neutral queries"))
        #expect(fairness.contains("`demo`"))
        #expect(files.count >= 3)
    }

    @Test("diff of a layout-1 folder with itself: every row, no change")
    func diffWorks() throws {
        let a = try ReportFolder.read(Self.folder)
        #expect(RunDiff.designChanges(a, a).isEmpty)
        let rows = try RunDiff.compare(a, a)
        #expect(!rows.isEmpty)
        #expect(rows.allSatisfy { $0.delta == 0 })
    }

    @Test("diff of a layout-1 folder against a layout-2 one that changed a design names the change")
    func diffAcrossLayouts() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-layouts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Self.folder, to: dir)
        // The same folder in layout 2, with one phrase changed in the designs.
        var report = try ReportFolder.read(Self.folder).data
        let index = try #require(report.designs.firstIndex { $0.name == "gender" })
        report.designs[index].classes[0].phrases = ["man"]
        try report.runJSON().write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        let b = try ReportFolder.read(dir)
        #expect(b.data.schemaVersion == AuditReport.schemaVersion)
        let changes = RunDiff.designChanges(try ReportFolder.read(Self.folder), b)
        #expect(changes.map(\.design) == ["gender"] && changes.first?.differences == ["phrases differ for \"Male\""])
    }
}
