import Foundation
import Testing

@testable import AuditEngine
@testable import CLIPEngine

/// A run whose names and labels are hostile to every output format: HTML that would run or hide
/// content when report.md is rendered, table-breaking bars, Markdown emphasis, spreadsheet
/// formulas, a NUL byte, a line break, a leading quote. Built like ``ReportFixture`` (no model,
/// deterministic), with the hostile text in group values, class and harm-category names, design
/// names (the base of a variant is `a|b`), the audit's name and description, and a skipped row.
enum HostileFixture {
    static let script = "<script>alert(1)</script>"
    static let img = "<img src=x onerror=alert(1)>"
    static let comment = "<!--"
    static let bar = "a|b"
    static let formula = "=HYPERLINK(\"http://x\",\"y\")"
    static let minus = "-1+2"
    static let at = "@SUM(A1)"
    static let nul = "nul\u{0}byte"
    static let newline = "two\nlines"
    static let quote = "'quoted"
    static let markdown = "*bold* _it_ `code` [link](http://x) ~~s~~ \\ &amp;"

    /// The race groups; `White` is the reference.
    static let races = [script, img, comment, bar, formula, minus, at, nul, newline, quote, markdown, "White"]
    /// The gender groups, also the classes of the gender design; `=Male` is the reference.
    static let genders = ["=Male", "<b>Female</b>"]
    static let harmClasses = ["person", img, "@thief"]
    static let harms = [HarmCategory(name: "<!--cat", classes: [img]), HarmCategory(name: "-crime|x", classes: ["@thief"])]
    static let genderDesign = "<script>g</script>"
    static let baseDesign = "a|b"
    static let variantDesign = "=v"
    static let name = "audit <img src=x onerror=alert(1)>"
    static let description = "<!-- hidden\n# heading\n| x | y |\n- item\n1. one\n    indented\n<img src=x onerror=alert(1)>"

    /// Raw markup that must not reach any Markdown, HTML or SVG output.
    static let markup = ["<script", "<img", "<!--", "<b>", "\u{0}"]

    /// How a label reads where the output cannot hold it as is: control characters as U+FFFD;
    /// in Markdown and HTML, also line breaks as spaces.
    static func visible(_ s: String, inLine: Bool = false) -> String {
        let shown = TextSafety.visibleControls(s, keeping: ["\t", "\n", "\r"])
        return inLine ? shown.replacingOccurrences(of: "\n", with: " ") : shown
    }

    /// The run; `races` replaces the race groups (the first is the flagged one, the last the
    /// reference), `modelID` the model's id as `run` records it (a checkpoint folder's path).
    static func run(races: [String] = races, modelID: String = "openai/clip-vit-base-patch16") -> AuditRun {
        var genderRecords: [OutcomeRecord] = []
        var harmRecords: [OutcomeRecord] = []
        var variantRecords: [OutcomeRecord] = []
        for i in 0..<(races.count * 10) {
            let race = races[i % races.count]
            let gender = genders[(i / races.count) % 2]
            let file = String(format: "img/%03d.jpg", i)
            // The script group is mostly misclassified and mostly harmed, so it is flagged
            // everywhere (summary, banner, overview chart, disparity tables).
            let flagged = race == races[0]
            let correct = flagged ? i % 5 == 0 : i % 7 != 3
            let predicted = correct ? gender : genders.first { $0 != gender }!
            let harmClass = flagged ? (i % 2 == 0 ? img : "@thief") : (i % 9 == 0 ? "@thief" : "person")
            let category = harms.first { $0.classes.contains(harmClass) }?.name
            let variantClass = harmClass == "@thief" && i % 4 == 0 ? "person" : harmClass
            let variantCategory = harms.first { $0.classes.contains(variantClass) }?.name
            let groups = [race, gender]
            genderRecords.append(OutcomeRecord(imageKey: file, groups: groups, truth: gender, predicted: predicted, confidence: 0.75))
            harmRecords.append(OutcomeRecord(imageKey: file, groups: groups, predicted: harmClass, harmCategory: category, confidence: 0.5))
            variantRecords.append(
                OutcomeRecord(
                    imageKey: file, groups: groups, predicted: variantClass, harmCategory: variantCategory,
                    confidence: 0.5))
        }
        let outcomes = [
            DesignOutcomes(design: genderDesign, classes: genders, hasTarget: true, records: genderRecords),
            DesignOutcomes(
                design: baseDesign, classes: harmClasses, harmCategories: harms.map(\.name), hasTarget: false,
                records: harmRecords),
            DesignOutcomes(
                design: variantDesign, base: baseDesign, classes: harmClasses, harmCategories: harms.map(\.name),
                hasTarget: false, records: variantRecords)
        ]
        let references = ["race": races.last!, "gender": "=Male"]
        let settings = MetricSettings(
            attributes: ["race", "gender"], intersections: [["race", "gender"]],
            referenceGroups: references, alpha: 0.05, minGroupSize: 4)
        let table = PredictionTable(attributes: settings.attributes, outcomes: outcomes)
        let metrics = computeAuditMetrics(table, settings: settings)
        let spec = { (name: String) in ClassSpec(name: name, phrases: [name]) }
        let designs = [
            DesignSpec(name: genderDesign, target: "gender", templates: ["a <i>photo</i> | of a {}."], classes: genders.map(spec)),
            DesignSpec(name: baseDesign, templates: ["a photo of a {}."], classes: harmClasses.map(spec), harmCategories: harms),
            DesignSpec(
                name: variantDesign, templates: ["a photo of a {}."], classes: harmClasses.map(spec), harmCategories: harms,
                base: baseDesign)
        ]
        let config = AuditConfig(
            name: name, description: description, model: nil,
            manifest: ManifestSettings(
                path: URL(fileURLWithPath: "/data/<b>manifest</b>.csv"), imageRoot: URL(fileURLWithPath: "/data"),
                fileColumn: "file", limit: 0),
            attributes: ["race", "gender"], intersections: [["race", "gender"]], referenceGroups: references, alpha: 0.05,
            minGroupSize: 4, designs: designs, sourceFile: URL(fileURLWithPath: "/audits/hostile.yaml"))
        return AuditRun(
            config: config,
            model: ResolvedModel(
                id: modelID, directory: URL(fileURLWithPath: "/models/clip"), revision: nil, files: [:]),
            modelKey: ModelKey(weightsSHA256: String(repeating: "ab", count: 32), configurationSHA256: String(repeating: "cd", count: 32)),
            auditFileSHA256: String(repeating: "ef", count: 32), manifestRows: races.count * 10 + 1, usableRows: races.count * 10,
            skipped: [SkippedEntry(line: 999, file: img, reason: "image not found: \(formula) | \(script)", kind: .imageNotFound)],
            uniqueImages: races.count * 10, imagesEncoded: races.count * 10, imagesFromCache: 0, promptsEncoded: 7, promptsTotal: 7,
            table: table, metrics: metrics, stageTimings: StageTimings([(.scoreAndMeasure, 0.5)]), cachePath: nil, shard: nil)
    }

    /// Lines of a Markdown table block whose cell count differs from the header's: a `|`
    /// preceded by a backslash (itself not escaped) does not count.
    static func brokenTableLines(_ markdown: String) -> [String] {
        var broken: [String] = []
        var expected: Int?
        for line in markdown.components(separatedBy: "\n") {
            guard line.hasPrefix("|") else { expected = nil; continue }
            var bars = 0
            var escaped = false
            for c in line {
                if escaped { escaped = false; continue }
                if c == "\\" { escaped = true } else if c == "|" { bars += 1 }
            }
            if let expected { if bars != expected { broken.append(line) } } else { expected = bars }
        }
        return broken
    }
}

@Suite("Hostile names and labels in every report format")
struct HostileTextTests {
    static func writtenFolder() throws -> (URL, AuditRun) {
        let run = HostileFixture.run()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-hostile-\(UUID().uuidString)")
        try ReportWriter.write(run, to: dir)
        return (dir, run)
    }

    static func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// An HTML page without the sorting script every page carries.
    static func withoutPageScript(_ html: String) -> String {
        html.replacingOccurrences(of: "<script>\n\(HTMLReport.script)\n</script>", with: "")
    }

    @Test func markdownReportHasNoRawMarkupAndIntactTables() throws {
        let (dir, _) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let markdown = try Self.read(dir.appendingPathComponent("report.md"))
        for raw in HostileFixture.markup { #expect(!markdown.contains(raw), "report.md holds \(raw.debugDescription)") }
        // Every table keeps its column count (the Extends column holds the base `a|b`).
        #expect(HostileFixture.brokenTableLines(markdown) == [])
        #expect(markdown.contains("| a\\|b |\n"))
        // The description's lines stay text: no heading, table, list or code block of its own.
        for line in ["# heading", "| x | y |", "- item", "1. one", "    indented"] {
            #expect(!markdown.contains("\n" + line + "\n"), "\(line)")
        }
        // Emphasis, code, links and strikethrough in a label are escaped, not rendered.
        #expect(markdown.contains(MarkdownEscape.text(HostileFixture.markdown)))
        #expect(!markdown.contains("*bold*") && !markdown.contains("[link](http://x)"))
    }

    @Test func htmlReportShowsTheLabelsAsText() throws {
        let (dir, run) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let html = try Self.read(dir.appendingPathComponent("report.html"))
        // The one script is the page's own sorting script; apart from it, no markup of the labels.
        #expect(html.components(separatedBy: "<script").count == 2)
        for raw in HostileFixture.markup + ["<i>photo"] {
            #expect(!Self.withoutPageScript(html).contains(raw), "report.html holds \(raw.debugDescription)")
        }
        // What report.html shows is the original text: Markdown escapes read back, HTML-escaped.
        for label in HostileFixture.races + HostileFixture.genders + [HostileFixture.genderDesign, HostileFixture.name] {
            let shown = MarkdownHTML.escape(HostileFixture.visible(label, inLine: true))
            #expect(html.contains(shown), "report.html does not show \(label.debugDescription)")
        }
        #expect(html.contains("<td>a|b</td>"))
        #expect(html.contains("<code>a &lt;i&gt;photo&lt;/i&gt; | of a {}.</code>") == false) // not code: escaped text
        #expect(html.contains("a &lt;i&gt;photo&lt;/i&gt; | of a {}."))
        #expect(run.config.designs.count == 3)
    }

    @Test func chartsEscapeTextAndAttributes() throws {
        let (dir, _) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let charts = ReportCharts.all(AuditReport(run: HostileFixture.run()))
        #expect(charts.count > 10)
        var groups = Set<String>()
        for chart in charts {
            let svg = try Self.read(dir.appendingPathComponent(chart.path))
            for raw in HostileFixture.markup { #expect(!svg.contains(raw), "\(chart.path) holds \(raw.debugDescription)") }
            let probe = SVGProbe.parse(svg)
            #expect(probe.error == nil, "\(chart.path)")
            for g in probe.all("g", class: "group") { groups.insert(g.attributes["data-group"] ?? "") }
        }
        // The parsed attributes give the labels back (a NUL as U+FFFD).
        for label in HostileFixture.races { #expect(groups.contains(ReportCharts.groupLabel(HostileFixture.visible(label))), "\(label)") }
    }

    /// The text columns of each CSV the folder holds; every other column is a number column.
    static let csvFiles: [(name: String, text: Set<String>)] = [
        ("metrics.csv", MetricsCSV.textColumns), ("disparities.csv", MetricsCSV.textColumns),
        ("comparison.csv", MetricsCSV.textColumns),
        ("predictions.csv", ["design", "file", "race", "gender", "truth", "predicted", "harm_category"])
    ]

    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "\n"]

    /// Checks one CSV: no text cell starts a formula; number cells are numbers, written as they
    /// are. Returns the records (header first) as read.
    @discardableResult
    static func checkCSV(_ url: URL, text: Set<String>) throws -> [[String]] {
        let raw = try read(url)
        #expect(!raw.contains("\u{0}"), "\(url.lastPathComponent) holds a NUL")
        let records = try SimpleCSV.parse(raw)
        let header = try #require(records.first)
        // A file with no data line would pass every check below.
        #expect(records.count > 1, "\(url.lastPathComponent) has no data lines")
        for record in records.dropFirst() {
            for (column, cell) in zip(header, record) {
                if text.contains(column) {
                    #expect(
                        !(cell.unicodeScalars.first.map(formulaStarts.contains) ?? false),
                        "\(url.lastPathComponent) \(column): \(cell.debugDescription) starts a formula")
                } else {
                    #expect(
                        cell.isEmpty || cell == "true" || cell == "false" || Double(cell) != nil,
                        "\(url.lastPathComponent) \(column): \(cell.debugDescription) is not a number")
                }
            }
        }
        return records
    }

    @Test func csvTextCellsAreNeutralisedAndNumbersAreNot() throws {
        let (dir, _) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in Self.csvFiles { try Self.checkCSV(dir.appendingPathComponent(file.name), text: file.text) }
        let metrics = try SimpleCSV.parse(Self.read(dir.appendingPathComponent("metrics.csv")))
        let groups = Set(metrics.map { $0[3] })
        #expect(groups.contains("'" + HostileFixture.formula))
        #expect(groups.contains("'" + HostileFixture.minus))
        #expect(groups.contains("'" + HostileFixture.at))
        #expect(groups.contains("''quoted"))
        #expect(groups.contains("nul\u{FFFD}byte"))
        #expect(Set(metrics.map { $0[0] }).contains("'=v"))
        // A negative difference stays a negative number.
        let disparities = try SimpleCSV.parse(Self.read(dir.appendingPathComponent("disparities.csv")))
        let difference = try #require(disparities[0].firstIndex(of: "difference"))
        #expect(disparities.dropFirst().contains { $0[difference].hasPrefix("-") && Double($0[difference])! < 0 })
        // The attribute names head predictions.csv's columns as text cells too.
        #expect(
            try SimpleCSV.parse(Self.read(dir.appendingPathComponent("predictions.csv")))[0]
                == ["design", "file", "race", "gender", "truth", "predicted", "confidence", "harm_category"])
    }

    @Test func cardAndDiffReadTheOriginalLabelsBack() throws {
        let (dir, run) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        let written = AuditReport(run: run)
        func keys(_ rows: [MetricRow]) -> Set<[String]> {
            Set(rows.map { [$0.design, $0.metric.csvName, $0.attribute, HostileFixture.visible($0.group)] })
        }
        #expect(keys(folder.data.metrics) == keys(written.metrics))
        #expect(
            Set(folder.data.disparities.map { HostileFixture.visible($0.reference) })
                == Set(written.disparities.map { HostileFixture.visible($0.reference) }))
        // The intersection's reference is built from the attributes' (White and =Male).
        #expect(Set(folder.data.disparities.map(\.reference)).isSuperset(of: ["White", "=Male", "White|=Male"]))
        #expect(folder.data.designs == written.designs)
        #expect(folder.data.designs.last?.base == HostileFixture.baseDesign)
        let predictions = try folder.allPredictionLines()
        #expect(Set(predictions.map { $0.groups["race"]! }) == Set(HostileFixture.races.map { HostileFixture.visible($0) }))
        #expect(Set(predictions.compactMap(\.harmCategory)) == Set(HostileFixture.harms.map(\.name)))
        #expect(Set(predictions.map(\.predicted)).isSuperset(of: HostileFixture.harmClasses))

        // The card from the folder is the card from the run, and holds no raw markup.
        let card = ModelCardExport.render(folder.data)
        #expect(card[0].text == ModelCardExport.markdown(written))
        for raw in HostileFixture.markup { #expect(!card[0].text.contains(raw), "fairness.md holds \(raw.debugDescription)") }
        #expect(HostileFixture.brokenTableLines(card[0].text) == [])
        // model-index.yaml: every scalar a double-quoted string that decodes (as JSON) to the label.
        let yaml = card[1].text
        #expect(!yaml.contains("\u{0}"))
        let groups = try yaml.components(separatedBy: "\n").filter { $0.hasPrefix("        group: ") }.map { line in
            try JSONSerialization.jsonObject(with: Data(line.dropFirst("        group: ".count).utf8), options: [.fragmentsAllowed])
                as! String
        }
        #expect(groups.contains(HostileFixture.formula))
        #expect(groups.contains(HostileFixture.visible(HostileFixture.newline)))
        #expect(!yaml.contains("      split: "))
        // model-card.json parses and holds the labels as they were read.
        let json = try JSONSerialization.jsonObject(with: Data(card[2].text.utf8)) as! [String: Any]
        let metrics = (json["quantitative_analysis"] as! [String: Any])["performance_metrics"] as! [[String: Any]]
        #expect(metrics.contains { $0["slice"] as? String == "\(HostileFixture.genderDesign)/race_\(HostileFixture.script)" })

        // diff of the folder with itself: zero everywhere, and its outputs as safe as the report's.
        let rows = try RunDiff.compare(folder, folder)
        #expect(!rows.isEmpty && rows.allSatisfy { $0.delta == 0 && $0.test == .paired })
        let out = dir.appendingPathComponent("diff")
        try RunDiff.write(rows, a: folder, b: folder, to: out)
        let diffMarkdown = try Self.read(out.appendingPathComponent("diff.md"))
        let diffHTML = try Self.read(out.appendingPathComponent("diff.html"))
        for raw in HostileFixture.markup {
            #expect(!diffMarkdown.contains(raw), "diff.md holds \(raw.debugDescription)")
            #expect(!Self.withoutPageScript(diffHTML).contains(raw), "diff.html holds \(raw.debugDescription)")
        }
        #expect(HostileFixture.brokenTableLines(diffMarkdown) == [])
        try Self.checkCSV(out.appendingPathComponent("diff.csv"), text: ["design", "metric", "attribute", "group", "test"])
    }
}

@Suite("Escaping helpers")
struct EscapingTests {
    static let hostile = [
        HostileFixture.script, HostileFixture.img, HostileFixture.comment, HostileFixture.bar,
        HostileFixture.formula, HostileFixture.markdown, "_x_", "a*b*c", "a__b", "\\|", "x\\", "&lt;",
        "**", "`", "[a]", "~~", "R&D", "<", ">"
    ]

    @Test func markdownLeavesOrdinaryNamesAlone() {
        for name in [
            "Latino_Hispanic", "more than 70", "non-human", "crime-related", "denigration+child", "0-2",
            "harm_rate:crime-related", "East Asian", "Ünïcode_名前", "a photo of a {}."
        ] {
            #expect(MarkdownEscape.text(name) == name)
        }
        #expect(MarkdownEscape.text("_x_") == "\\_x\\_")
        #expect(MarkdownEscape.text("a*b*c") == "a\\*b\\*c")
        #expect(MarkdownEscape.text("<!--") == "&lt;!--")
        #expect(MarkdownEscape.text("a\nb\u{0}") == "a b\u{FFFD}")
        #expect(MarkdownEscape.code("gender") == "`gender`")
        #expect(MarkdownEscape.code("race|gender") == "`race|gender`")
        #expect(MarkdownEscape.code("race|gender", inTable: true) == "`race\\|gender`")
        #expect(MarkdownEscape.code("<b>") == "&lt;b&gt;")
        #expect(MarkdownEscape.code("a`b") == "a\\`b")
    }

    /// report.html reads report.md's escapes back: text in a paragraph or a table cell shows as
    /// the original, HTML-escaped, with no markup of its own.
    @Test func markdownEscapesReadBackInHTML() {
        for text in Self.hostile {
            #expect(MarkdownHTML.inline(MarkdownEscape.text(text)) == MarkdownHTML.escape(text), "\(text.debugDescription)")
            let table = MarkdownHTML.table(["| h | \(MarkdownEscape.text(text)) |", "|---|---|", "| \(MarkdownEscape.text(text)) | x |"])
            #expect(table.contains("<td>\(MarkdownHTML.escape(text))</td><td>x</td>"), "\(text.debugDescription)")
            #expect(
                MarkdownHTML.plain(MarkdownEscape.alt(text))
                    == text.replacingOccurrences(of: "[", with: "(")
                    .replacingOccurrences(of: "]", with: ")"))
        }
        // A description's lines stay paragraph text.
        let paragraph = MarkdownEscape.paragraph("# h\n- item\n12. twelve\n| x |\n    code\n=== \n![i](x.svg)")
        let html = MarkdownHTML.convert(paragraph) { _ in nil }
        #expect(html == "<p># h\n- item\n12. twelve\n| x |\ncode\n=== \n![i](x.svg)</p>\n")
    }

    @Test func csvNeutralisingRoundTrips() {
        for text in [
            "=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "\n=1", "'x", "''", "'", "=", "plain", "", "White|Male", "0-2",
            HostileFixture.formula, "'=1"
        ] {
            #expect(CSVWriter.restore(CSVWriter.neutralise(text)) == text, "\(text.debugDescription)")
            let first = CSVWriter.neutralise(text).unicodeScalars.first
            #expect(first.map { !HostileTextTests.formulaStarts.contains($0) } ?? true, "\(text.debugDescription)")
        }
        #expect(CSVWriter.neutralise("=1+1") == "'=1+1")
        #expect(CSVWriter.neutralise("plain") == "plain")
        #expect(CSVWriter.neutralise("a\u{0}b\u{1B}[31m") == "a\u{FFFD}b\u{FFFD}[31m")
        // The column decides: a number cell is written as it is, a text cell is neutralised.
        #expect(CSVWriter.line([.text("-0.0512"), .number(-0.0512), .number(3), .verbatim("-x")]) == "'-0.0512,-0.0512,3,-x\n")
        #expect(CSVWriter.line(["=a", "b,c"]) == "'=a,\"b,c\"\n")
    }

    @Test func yamlScalarsEscapeWhatYAMLForbids() {
        #expect(ModelCardExport.yaml("plain") == "\"plain\"")
        #expect(ModelCardExport.yaml("a\u{0}b\u{7F}c\u{85}d\u{2028}") == "\"a\\u0000b\\u007Fc\\u0085d\\u2028\"")
        #expect(ModelCardExport.yaml("x\": y\n- z") == "\"x\\\": y\\n- z\"")
    }
}

@Suite("Report folder headers")
struct ReportFolderHeaderTests {
    /// An attribute named like one of predictions.csv's own columns made reading the folder trap
    /// (two fields for one column); it is a one-line error naming the file.
    @Test func attributeNamedLikeAColumnIsAnErrorNotACrash() throws {
        var run = ReportFixture.run()
        run.config.attributes = ["race", "truth", "age"]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-header-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ReportWriter.write(run, to: dir)
        // run.json lists the attributes the folder's predictions.csv was written with.
        let runJSON = dir.appendingPathComponent("run.json")
        let json = try String(contentsOf: runJSON, encoding: .utf8)
        #expect(json.contains("\"truth\""))
        let error = try #require(throws: AuditError.self) { try ReportFolder.read(dir) }
        #expect(
            "\(error)"
                == "\(dir.path)/predictions.csv: the header names the column \"truth\" twice (an attribute named like one of the file's own columns)"
        )
    }
}
