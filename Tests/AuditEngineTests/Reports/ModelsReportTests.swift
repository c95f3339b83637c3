import Foundation
import Testing

@testable import AuditEngine
@testable import CLIPEngine

/// Two models audited on the same images, in memory: the fixture's run as model `a`, and a model
/// `b` that labels far fewer Black faces crime-related and misreads fewer Black women. The
/// comparisons are computed with the variant arithmetic (each of `b`'s designs as a variant of
/// `a`'s same design), which is what models.csv holds.
enum TwoModels {
    static let labels = ["a", "b"]

    /// `b`'s outcomes: the fixture's, with no Black face labelled crime-related and half the
    /// misread Black women corrected.
    static func outcomesB() -> [DesignOutcomes] {
        ReportFixture.outcomes().map { design in
            var design = design
            design.records = design.records.enumerated().map { i, record in
                var record = record
                let black = record.groups[0] == "Black"
                if design.design != "gender", black, record.harmCategory == "crime-related" {
                    record.predicted = record.groups[1] == "Male" ? "man" : "woman"
                    record.harmCategory = nil
                }
                if design.design == "gender", black, record.truth != record.predicted, i % 2 == 1 {
                    record.predicted = record.truth!
                }
                return record
            }
            return design
        }
    }

    static func run(_ outcomes: [DesignOutcomes], model: String) -> AuditRun {
        var run = ReportFixture.run()
        let settings = MetricSettings(
            attributes: ["race", "gender", "age"], intersections: [["race", "gender"]],
            referenceGroups: ["race": "White", "gender": "Male"], alpha: 0.05, minGroupSize: 8)
        let table = PredictionTable(attributes: settings.attributes, outcomes: outcomes)
        run.model = ResolvedModel(id: model, directory: URL(fileURLWithPath: "/models/\(model)"), revision: nil, files: [:])
        run.table = table
        run.metrics = computeAuditMetrics(table, settings: settings)
        return run
    }

    static func runs() -> [AuditRun] {
        [run(ReportFixture.outcomes(), model: "openai/clip-vit-base-patch32"), run(outcomesB(), model: "openai/clip-vit-base-patch16")]
    }

    /// `b` against `a` per design × metric × group: `b`'s designs as variants of `a`'s.
    static func comparisons() -> [ModelComparisonRow] {
        let settings = MetricSettings(
            attributes: ["race", "gender", "age"], intersections: [["race", "gender"]],
            referenceGroups: ["race": "White", "gender": "Male"], alpha: 0.05, minGroupSize: 8)
        let a = ReportFixture.outcomes()
        let b = outcomesB().map { design -> DesignOutcomes in
            var design = design
            design.base = design.design
            design.design += "\u{1E}b"
            return design
        }
        let metrics = computeAuditMetrics(a + b, settings: settings)
        return metrics.comparisons.filter { $0.design.hasSuffix("\u{1E}b") }.map {
            ModelComparisonRow(
                design: $0.base, metric: $0.metric, attribute: $0.attribute, group: $0.group, model: "b", baseModel: "a",
                n: $0.n, baseValue: $0.baseValue, value: $0.value, delta: $0.delta, ciLow: $0.ciLow, ciHigh: $0.ciHigh,
                pValue: $0.pValue, pAdjusted: $0.pAdjusted, baseOnly: $0.baseOnly, modelOnly: $0.variantOnly,
                belowMinimumN: $0.belowMinimumN)
        }
    }

    static func data() -> ModelsReportData {
        ModelsReportData(
            name: "two models", models: zip(labels, runs()).map { .init(label: $0, data: AuditReport(run: $1)) },
            comparisons: comparisons())
    }

    /// Writes a top folder as the runner lays it out: each model's folder, models.csv, run.json
    /// and the top report.
    static func write(to top: URL) throws {
        try FileManager.default.createDirectory(at: top, withIntermediateDirectories: true)
        for (label, run) in zip(labels, runs()) {
            try ReportWriter.write(run, to: top.appendingPathComponent(label))
        }
        try MetricsCSV.renderModels(comparisons()).write(to: top.appendingPathComponent("models.csv"), atomically: true, encoding: .utf8)
        try """
        {"name": "two models", "models": [{"label": "a", "model": "openai/clip-vit-base-patch32"}, {"label": "b", "model": "openai/clip-vit-base-patch16"}]}
        """.write(to: top.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        for file in ModelsReport.files(data()) {
            let url = top.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try file.contents.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("models-report-\(UUID().uuidString)")
    }
}

/// The top report of a several-model audit: what it leads with, its tables, links and charts.
@Suite("Several-model top report")
struct ModelsReportTests {
    static func file(_ name: String) throws -> String {
        try #require(ModelsReport.files(TwoModels.data()).first { $0.path == name }?.contents)
    }

    @Test func theComparisonFixtureHasSignificantDifferences() {
        // The tests below read findings about significant differences: the fixture must have some.
        #expect(TwoModels.comparisons().contains { $0.pAdjusted < 0.05 && $0.metric == .harmRate("crime-related") && $0.group == "Black" })
    }

    @Test func markdownLeadsWithTheFindings() throws {
        let md = try Self.file("report.md")
        let lines = md.components(separatedBy: "\n")
        #expect(lines[0] == "# Model comparison: two models")
        // Nothing but the one-sentence introduction comes before the findings.
        let findings = try #require(lines.firstIndex(of: "## Findings"))
        #expect(findings <= 4)
        let firstTable = try #require(lines.firstIndex { $0.hasPrefix("| group |") })
        #expect(findings < firstTable)
        let bullets = lines[(findings + 2)...].prefix { $0.hasPrefix("- ") }
        // Which model has the lowest and highest crime-related rate, and the widest gap.
        let crime = try #require(bullets.first { $0.hasPrefix("- `denigration` **crime-related rate**") })
        #expect(crime.contains("lowest `b`") && crime.contains("highest `a`"))
        #expect(crime.contains("widest gap to the reference: `a` (**Black** (race) +"))
        let accuracy = try #require(bullets.first { $0.hasPrefix("- `gender` accuracy") })
        #expect(accuracy.contains("highest `b`") && accuracy.contains("lowest `a`"))
        // The significant group differences, with the difference and its interval in pp.
        let difference = try #require(bullets.first { $0.contains("`b` vs `a`, `denigration` crime-related rate, **Black** (race)") })
        #expect(difference.range(of: #"-\d+\.\d pp \[-\d+\.\d pp, -\d+\.\d pp\], n = 16, Holm p"#, options: .regularExpression) != nil)
        #expect(difference.hasSuffix(Findings.better))
    }

    @Test func eachTableHasAColumnPerModel() throws {
        let md = try Self.file("report.md")
        let lines = md.components(separatedBy: "\n")
        let heading = try #require(lines.firstIndex(of: "## `denigration`: crime-related rate"))
        #expect(lines[heading + 2] == "| group | n | `a` (95% CI) | `b` (95% CI) |")
        let rows = lines[(heading + 4)...].prefix { $0.hasPrefix("|") }
        #expect(rows.first?.hasPrefix("| all images | 60 | ") == true)
        let black = try #require(rows.first { $0.hasPrefix("| race: Black | 16 |") })
        // a: flagged worse against White; b: its Δ against a with the interval, significant.
        #expect(black.contains(Findings.worse))
        #expect(black.range(of: #"; Δ -\d+\.\d pp \[-\d+\.\d pp, -\d+\.\d pp\] \*"#, options: .regularExpression) != nil)
        #expect(rows.contains { $0.hasPrefix("| race: White (reference) |") })
        #expect(rows.last?.hasPrefix("| flagged groups | | Black ▲ worse") == true)
        // Every row has the group, n and one cell per model.
        for row in rows { #expect(MarkdownHTML.cells(row).count == 4, "\(row)") }
        #expect(lines.contains("## `gender`: accuracy"))
        #expect(lines.contains("## `denigration`: non-human rate"))
    }

    @Test func linksToEachModelsOwnReport() throws {
        let md = try Self.file("report.md")
        #expect(md.contains("[a/report.md](a/report.md)") && md.contains("[b/report.md](b/report.md)"))
        let html = try Self.file("report.html")
        #expect(html.contains("<a href=\"a/report.html\">a/report.html</a>"))
        #expect(html.contains("<a href=\"b/report.html\">b/report.html</a>"))
        #expect(!html.contains("report.md]("))
    }

    @Test func aLabelThatCannotNameAFolderIsNotLinked() throws {
        var data = TwoModels.data()
        data.models[1].label = "../x"
        let md = try #require(ModelsReport.files(data).first { $0.path == "report.md" }?.contents)
        #expect(!md.contains("](../x/report.md)"))
        #expect(md.contains("`../x/report.md`"))
    }

    @Test func oneWellFormedChartPerDesignMetricAndSliceWithTheModelsSideBySide() throws {
        let files = ModelsReport.files(TwoModels.data())
        let charts = files.filter { $0.path.hasPrefix("charts/") }
        // gender: accuracy; denigration and its variant: non-human, crime-related, any — each over
        // race, gender, age and race|gender.
        #expect(charts.count == (1 + 3 + 3) * 4)
        #expect(Set(charts.map(\.path)).count == charts.count)
        var colourOf: [String: Set<String>] = [:]
        for chart in charts {
            let probe = SVGProbe.parse(chart.contents)
            #expect(probe.error == nil, "\(chart.path) is not well-formed XML")
            #expect(probe.all("g", class: "model").count % 2 == 0)
            for label in TwoModels.labels {
                // The model's points carry its colour; the same in every chart.
                let pattern = #"<g class="model" data-model=""# + label + #"">\s*<line class="whisker"[^>]*stroke="(#[0-9A-F]{6})""#
                let regex = try Regex(pattern)
                for match in chart.contents.matches(of: regex) {
                    colourOf[label, default: []].insert(String(match.output[1].substring ?? ""))
                }
            }
        }
        #expect(colourOf["a"]?.count == 1 && colourOf["b"]?.count == 1)
        #expect(colourOf["a"] != colourOf["b"])
        let race = try #require(charts.first { $0.path == "charts/denigration-models-harm-rate-crime-related-race.svg" })
        #expect(race.contents.contains("White (reference)"))
        #expect(race.contents.contains("data-group=\"all images\""))
        // Every chart shares the 0–100% axis.
        #expect(charts.allSatisfy { $0.contents.contains(">0%</text>") && $0.contents.contains(">100%</text>") })
        // The Markdown embeds the attributes' charts; the HTML inlines them.
        let md = try #require(files.first { $0.path == "report.md" }?.contents)
        #expect(md.contains("](charts/denigration-models-harm-rate-crime-related-race.svg)"))
        let html = try #require(files.first { $0.path == "report.html" }?.contents)
        #expect(html.contains("data-chart=\"charts/denigration-models-harm-rate-crime-related-race.svg\""))
    }

    @Test func htmlFoldsTheDetails() throws {
        let html = try Self.file("report.html")
        #expect(html.contains("<h2 id=\"findings\">Findings</h2>"))
        #expect(html.contains("<details class=\"fold\">\n<summary>Intersections, every model</summary>"))
        #expect(html.contains("<summary>Every difference from the base model</summary>"))
        // The findings come before any table in the page too.
        let findings = try #require(html.range(of: "id=\"findings\""))
        let table = try #require(html.range(of: "<table>"))
        #expect(findings.lowerBound < table.lowerBound)
    }

    @Test func userTextIsEscaped() throws {
        var data = TwoModels.data()
        data.name = "<script>x</script> *bold*"
        // A design and a group name with a table's bar and markup in them.
        let design = "den|<i>x</i>", group = "Bl|ack<b>"
        func rename(_ d: String) -> String { d == "denigration" ? design : d }
        func renameGroup(_ g: String) -> String { g == "Black" ? group : g }
        for i in data.models.indices {
            var m = data.models[i].data
            m.designs = m.designs.map {
                var d = $0; d.name = rename(d.name); d.base = d.base.map(rename); return d
            }
            m.metrics = m.metrics.map {
                var r = $0; r.design = rename(r.design); r.group = renameGroup(r.group); return r
            }
            m.disparities = m.disparities.map {
                var r = $0; r.design = rename(r.design); r.group = renameGroup(r.group); return r
            }
            data.models[i].data = m
        }
        data.comparisons = data.comparisons.map {
            var r = $0; r.design = rename(r.design); r.group = renameGroup(r.group); return r
        }
        let files = ModelsReport.files(data)
        let html = try #require(files.first { $0.path == "report.html" }?.contents)
        #expect(!html.contains("<script>x") && !html.contains("<i>x") && !html.contains("ack<b>"))
        let md = try #require(files.first { $0.path == "report.md" }?.contents)
        #expect(md.hasPrefix("# Model comparison: &lt;script&gt;x&lt;/script&gt; \\*bold\\*"))
        // Tables keep their columns: the bar in a name is escaped.
        let lines = md.components(separatedBy: "\n")
        let heading = try #require(lines.firstIndex { $0.hasPrefix("## den") && $0.hasSuffix(": crime-related rate") })
        #expect(!lines[heading].contains("<i>"))
        for row in lines[(heading + 2)...].prefix(while: { $0.hasPrefix("|") }) {
            #expect(MarkdownHTML.cells(row).count == 4, "\(row)")
        }
        let black = try #require(lines[heading...].first { $0.hasPrefix("| race: Bl") })
        #expect(MarkdownHTML.cells(black).first.map(MarkdownHTML.plain) == "race: Bl × ack<b>", "\(black)")
        for chart in files where chart.path.hasPrefix("charts/") {
            #expect(SVGProbe.parse(chart.contents).error == nil, "\(chart.path)")
        }
    }

    @Test func retrievalAndAssociationFindingsOfEveryModel() throws {
        var data = TwoModels.data()
        data.models[0].data.findings = [.sentence("Retrieval over 3 queries: skewed.")]
        let md = try #require(ModelsReport.files(data).first { $0.path == "report.md" }?.contents)
        #expect(
            md.contains(
                "## Retrieval skew and association tests, every model\n\n**`a`** ([a/report.md](a/report.md))\n\n- Retrieval over 3 queries: skewed.\n\n**`b`** ([b/report.md](b/report.md))\n\n- Not measured.\n"
            ))
        #expect(!(try #require(ModelsReport.files(TwoModels.data()).first { $0.path == "report.md" }?.contents)).contains("Retrieval skew"))
    }
}

/// Reading a top folder back, and `card` on it.
@Suite("Several-model top folder")
struct ModelsFolderTests {
    @Test func roundTripGivesBackTheModelsAndComparisons() throws {
        let top = TwoModels.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: top) }
        try TwoModels.write(to: top)
        let read = try ModelsFolder.read(top)
        let original = TwoModels.data()
        #expect(read.name == "two models")
        #expect(read.models.map(\.label) == ["a", "b"])
        #expect(read.models.map(\.data.modelID) == original.models.map(\.data.modelID))
        #expect(read.comparisons.count == original.comparisons.count)
        for (r, o) in zip(read.comparisons, original.comparisons) {
            #expect((r.design, r.metric, r.attribute, r.group) == (o.design, o.metric, o.attribute, o.group))
            #expect((r.model, r.baseModel, r.n) == (o.model, o.baseModel, o.n))
            #expect(abs(r.delta - o.delta) < 1e-5 && abs(r.pAdjusted - o.pAdjusted) < 1e-5)
            // The discordant pairs, which models.csv does not hold, are counted back from predictions.csv.
            #expect((r.baseOnly, r.modelOnly) == (o.baseOnly, o.modelOnly), "\(r.design) \(r.metric) \(r.attribute) \(r.group)")
        }
        // The report from the folder reads as the one from the run.
        let fromFolder = ModelsReport.files(read).first { $0.path == "report.md" }?.contents
        let fromRun = ModelsReport.files(original).first { $0.path == "report.md" }?.contents
        #expect(fromFolder == fromRun)
    }

    /// One written folder that each damage starts from as a copy (writing one takes a while).
    static let template: Result<URL, any Error> = Result {
        let top = TwoModels.temporaryFolder()
        try TwoModels.write(to: top)
        return top
    }

    /// Copies the folder, lets `damage` change the copy, and returns the one-line error of reading it.
    func error(_ damage: (URL) throws -> Void) throws -> String {
        let top = TwoModels.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: top) }
        try FileManager.default.copyItem(at: try Self.template.get(), to: top)
        try damage(top)
        do {
            _ = try ModelsFolder.read(top)
        } catch {
            let text = "\(error)"
            #expect(!text.contains("\n"))
            return text
        }
        Issue.record("the damaged folder was read")
        return ""
    }

    static func replace(_ file: URL, _ old: String, _ new: String) throws {
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains(old))
        try text.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
    }

    @Test func damagedFoldersGiveOneLineNamingTheFile() throws {
        let header = try error { top in
            try Self.replace(top.appendingPathComponent("models.csv"), "base_model", "basemodel")
        }
        #expect(header.contains("models.csv") && header.contains("unexpected header"))

        let label = try error { top in
            try Self.replace(top.appendingPathComponent("run.json"), "\"label\": \"b\"", "\"label\": \"../b\"")
        }
        #expect(label.contains("run.json") && label.contains("is not a model label"))

        let missing = try error { top in try FileManager.default.removeItem(at: top.appendingPathComponent("b")) }
        #expect(missing.contains("/b") && missing.contains("missing"))

        let unknown = try error { top in
            try Self.replace(top.appendingPathComponent("models.csv"), ",b,a,", ",c,a,")
        }
        #expect(unknown.contains("models.csv: line 2") && unknown.contains("model \"c\""))

        // A value that is not the model's own rate for the group (delta edited along with it).
        let value = try error { top in
            let file = top.appendingPathComponent("models.csv")
            var lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            var fields = lines[1].components(separatedBy: ",")
            let (base, v) = (Double(fields[7])!, Double(fields[8])!)
            let edited = min(1, v + 0.25) == v ? v - 0.25 : min(1, v + 0.25)
            fields[8] = CSVNumber.format(edited)
            fields[9] = CSVNumber.format(edited - base)
            (fields[10], fields[11]) = ("-1", "1")
            lines[1] = fields.joined(separator: ",")
            try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(value.contains("models.csv: line 2: value") && value.contains("b/metrics.csv"))

        // A group neither model's metrics.csv has.
        let group = try error { top in
            try Self.replace(top.appendingPathComponent("models.csv"), "gender,accuracy,race,Black,", "gender,accuracy,race,Purple,")
        }
        #expect(group.contains("models.csv: line") && group.contains("no row in a/metrics.csv for gender, accuracy, race, Purple"))

        // A size that is not the group's.
        let size = try error { top in
            try Self.replace(
                top.appendingPathComponent("models.csv"), "gender,accuracy,race,Black,b,a,16,", "gender,accuracy,race,Black,b,a,15,")
        }
        #expect(size.contains("n 15 does not match a/metrics.csv's n 16"))

        let noModels = try error { top in
            try "{\"name\": \"x\"}".write(to: top.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        }
        #expect(noModels.contains("run.json") && noModels.contains("models: missing"))
    }

    @Test func cardOnATopFolderWritesASectionPerModelAndTheComparison() throws {
        let top = TwoModels.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: top) }
        try TwoModels.write(to: top)
        #expect(ModelsFolder.isTopFolder(top))
        #expect(!ModelsFolder.isTopFolder(top.appendingPathComponent("a")))
        let written = try ModelCardExport.write(try ModelsFolder.read(top), to: top.appendingPathComponent("card"))
        #expect(
            written.map(\.lastPathComponent) == [
                "fairness.md", "model-index-a.yaml", "model-card-a.json", "model-index-b.yaml", "model-card-b.json"
            ])
        let fairness = try String(contentsOf: top.appendingPathComponent("card/fairness.md"), encoding: .utf8)
        let lines = fairness.components(separatedBy: "\n")
        let comparison = try #require(lines.firstIndex(of: "### Model comparison"))
        let a = try #require(lines.firstIndex(of: "### `a`: `openai/clip-vit-base-patch32`"))
        let b = try #require(lines.firstIndex(of: "### `b`: `openai/clip-vit-base-patch16`"))
        #expect(comparison < a && a < b)
        // The comparison table: a column per model.
        #expect(lines.contains { $0.hasPrefix("| design | metric | `a` (95% CI) | `b` (95% CI) |") })
        // Each model's own section, one level down, with its own tables.
        #expect(lines[a...].contains("#### Findings"))
        #expect(lines[b...].contains("#### Accuracy by group"))
        #expect(!lines.dropFirst().contains("## Bias and Fairness"))
        // One model-index per model, each that model's alone (a card's metadata is one model's),
        // the same as `card` writes in that model's own folder.
        let models = try ModelsFolder.read(top).models
        for (label, name) in [("a", "openai/clip-vit-base-patch32"), ("b", "openai/clip-vit-base-patch16")] {
            let model = try #require(models.first { $0.label == label })
            let index = try String(contentsOf: top.appendingPathComponent("card/model-index-\(label).yaml"), encoding: .utf8)
            #expect(index.hasPrefix("model-index:\n- name: \"\(name)\"\n"), "\(index)")
            #expect(index.components(separatedBy: "\n- name: ").count == 2, "\(label)")
            #expect(index == ModelCardExport.modelIndex(model.data))
        }
        #expect(!FileManager.default.fileExists(atPath: top.appendingPathComponent("card/model-index.yaml").path))
        let json = try Data(contentsOf: top.appendingPathComponent("card/model-card-b.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect((object["model_details"] as? [String: Any])?["name"] as? String == "openai/clip-vit-base-patch16")
    }
}
