import Foundation
import Testing

@testable import AuditEngine

@Suite("Report folders read back, card and diff")
struct ReportFolderTests {
    static func writtenFolder(minGroupSize: Int = 8) throws -> (URL, AuditRun) {
        let run = ReportFixture.run(minGroupSize: minGroupSize)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-report-\(UUID().uuidString)")
        try ReportWriter.write(run, to: dir)
        return (dir, run)
    }

    @Test func csvReaderInvertsTheWriter() throws {
        let rows = [["a", "b,c", "d\"e", ""], ["line\nbreak", " spaced ", "White|Male", "more than 70"], [""]]
        var writer = CSVWriter()
        for r in rows { writer.writeRow(r) }
        #expect(try SimpleCSV.parse(writer.text) == rows)
        #expect(try SimpleCSV.parse("a,b\r\nc,d\r\n") == [["a", "b"], ["c", "d"]])
        #expect(throws: SimpleCSV.Failure.self) { try SimpleCSV.parse("a,\"open\n") }
    }

    @Test func writerAddsChartsAndHTMLAndKeepsTheSpecFiles() throws {
        let (dir, run) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in [
            "predictions.csv", "metrics.csv", "disparities.csv", "comparison.csv", "report.md", "details.md", "run.json", "report.html"
        ] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
        let charts = ReportCharts.all(AuditReport(run: run))
        let svgs = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("charts").path).filter {
            $0.hasSuffix(".svg")
        }
        #expect(svgs.count == charts.count)
        // Every chart is embedded in report.md or details.md, and inline in report.html, which loads nothing.
        let markdown =
            try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
            + String(contentsOf: dir.appendingPathComponent("details.md"), encoding: .utf8)
        for chart in charts { #expect(markdown.contains("](\(chart.path))")) }
        let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.components(separatedBy: "<svg ").count - 1 == charts.count)
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("@import") && !html.contains("url("))
        #expect(
            html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").range(of: "https?://", options: .regularExpression) == nil
        )
        #expect(html.contains("<h2 id=\"findings\">Findings</h2>") && html.contains("<script>") && html.contains("aria-sort"))
        // The findings name the groups that fare worst.
        let findings = try #require(
            html.range(of: "<h2 id=\"findings\">").flatMap { start in
                html.range(of: "<h2 id=\"setup\">").map { String(html[start.lowerBound..<$0.lowerBound]) }
            })
        #expect(findings.contains("<strong>Black</strong> faces (race) were labelled crime-related"))
        // Stale charts of an earlier run (the ledger says it wrote them) go, a user's SVG stays;
        // a rerun gives identical bytes.
        let stale = dir.appendingPathComponent("charts/old-design-rate-accuracy-race.svg")
        try "<svg/>".write(to: stale, atomically: true, encoding: .utf8)
        let ledger = dir.appendingPathComponent(OutputFolder.ledgerName("report"))
        try (String(contentsOf: ledger, encoding: .utf8) + "charts/old-design-rate-accuracy-race.svg\n")
            .write(to: ledger, atomically: true, encoding: .utf8)
        let users = dir.appendingPathComponent("charts/logo.svg")
        try "<svg/>".write(to: users, atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: dir.appendingPathComponent("charts/gender-rate-accuracy-race.svg"))
        try ReportWriter.write(run, to: dir)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: users.path))
        #expect(!(try String(contentsOf: ledger, encoding: .utf8)).contains("old-design"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("charts/gender-rate-accuracy-race.svg")) == before)
        #expect(try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8) == html)
    }

    @Test func cardFromTheFolderMatchesCardFromTheRun() throws {
        let (dir, run) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        #expect(folder.data.designs == AuditReport(run: run).designs)
        #expect((try folder.allPredictionLines()).count == run.predictions.count)
        let fromFolder = ModelCardExport.render(folder.data), fromRun = ModelCardExport.render(AuditReport(run: run))
        // zip stops at the shorter side: the same exports, and some, on both sides.
        #expect(fromFolder.map(\.name) == fromRun.map(\.name) && !fromRun.isEmpty)
        for (a, b) in zip(fromFolder, fromRun) {
            let (la, lb) = (a.text.components(separatedBy: "\n"), b.text.components(separatedBy: "\n"))
            let first = zip(la, lb).first { $0 != $1 }
            #expect(a.text == b.text, "\(a.name): \(first.map { "\($0.0)\n  vs run: \($0.1)" } ?? "lengths differ")")
        }
        // The toolkit JSON parses and has one metric per design × metric × slice, with intervals.
        let json = try JSONSerialization.jsonObject(with: Data(fromFolder[2].text.utf8)) as! [String: Any]
        let metrics = (json["quantitative_analysis"] as! [String: Any])["performance_metrics"] as! [[String: Any]]
        #expect(metrics.count == run.metrics.metrics.filter { $0.metric.isHeadline }.count)
        let white = try #require(metrics.first { $0["slice"] as? String == "gender/race_White" })
        #expect(white["type"] as? String == "accuracy")
        let ci = try #require(white["confidence_interval"] as? [String: Double])
        let value = try #require(white["value"] as? Double)
        #expect(ci["lower_bound"]! <= value && value <= ci["upper_bound"]!)
        // model-index: one result per design, metrics named by their group.
        let yaml = fromFolder[1].text
        #expect(yaml.components(separatedBy: "  - task:\n").count - 1 == run.config.designs.count)
        #expect(
            yaml.contains("      name: \"accuracy (race: Black)\"\n      args:\n        attribute: \"race\"\n        group: \"Black\"\n"))
    }

    @Test func diffOfARunWithItselfIsPairedAndZero() throws {
        let (dir, _) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try ReportFolder.read(dir)
        let rows = try RunDiff.compare(folder, folder)
        #expect(rows.count == folder.data.metrics.count)
        #expect(rows.allSatisfy { $0.test == .paired && $0.delta == 0 && $0.pValue == 1 && !$0.significant })
    }

    @Test func diffPairsMatchingImagesAndFallsBackToUnpaired() throws {
        let (dirA, runA) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dirA) }
        // Run B: the same images, but every Black woman now correctly classified, and one image
        // fewer in the White group (so White's slice is unpaired).
        var runB = runA
        var outcomes = ReportFixture.outcomes()
        for i in outcomes.indices {
            outcomes[i].records = outcomes[i].records.compactMap { r in
                var r = r
                if outcomes[i].design == "gender" && r.groups[0] == "Black" && r.groups[1] == "Female" { r.predicted = "Female" }
                return r.imageKey == "img/017.jpg" ? nil : r
            }
        }
        let settings = MetricSettings(
            attributes: ["race", "gender", "age"], intersections: [["race", "gender"]],
            referenceGroups: ["race": "White", "gender": "Male"], minGroupSize: 8)
        runB.table = PredictionTable(attributes: settings.attributes, outcomes: outcomes)
        runB.metrics = computeAuditMetrics(runB.table, settings: settings)
        let dirB = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dirB) }
        try ReportWriter.write(runB, to: dirB)
        let a = try ReportFolder.read(dirA), b = try ReportFolder.read(dirB)
        let rows = try RunDiff.compare(a, b)
        let blackWomen = try #require(
            rows.first { $0.design == "gender" && $0.metric == .accuracy && $0.attribute == "race|gender" && $0.group == "Black|Female" })
        #expect(blackWomen.test == .paired)
        let aCount = runA.metrics.metrics.first {
            $0.design == "gender" && $0.metric == .accuracy && $0.attribute == "race|gender" && $0.group == "Black|Female"
        }!
        #expect(blackWomen.nA == 8 && blackWomen.valueB == 1)
        let changed = aCount.n - aCount.count
        #expect(abs(blackWomen.pValue - exactMcNemarPValue(b: 0, c: changed)) < 1e-12)
        let ci = newcombePairedDifferenceInterval(bothPositive: aCount.count, firstOnly: changed, secondOnly: 0, neither: 0)!
        #expect(abs(blackWomen.ciLow - ci.lower) < 1e-12 && abs(blackWomen.ciHigh - ci.upper) < 1e-12)
        let white = try #require(
            rows.first { $0.design == "gender" && $0.metric == .accuracy && $0.attribute == "race" && $0.group == "White" })
        #expect(white.test == .unpaired && white.nA == 16 && white.nB == 15)
        let z = pooledTwoProportionZTest(
            successes1: Int((white.valueB * 15).rounded()), trials1: 15,
            successes2: Int((white.valueA * 16).rounded()), trials2: 16)
        #expect(abs(white.pValue - z.pValue) < 1e-9)
        // Writing: csv, md, html and charts.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-diff-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try RunDiff.write(rows, a: a, b: b, to: out)
        let csv = try SimpleCSV.parse(String(contentsOf: out.appendingPathComponent("diff.csv"), encoding: .utf8))
        #expect(csv.first == RunDiff.header && csv.count == rows.count + 1)
        let html = try String(contentsOf: out.appendingPathComponent("diff.html"), encoding: .utf8)
        let svgs = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("charts").path)
        #expect(!svgs.isEmpty && html.components(separatedBy: "<svg ").count - 1 == svgs.count)
    }

    @Test func notAReportFolderIsAOneLineError() {
        #expect(throws: AuditError.self) { try ReportFolder.read(URL(fileURLWithPath: "/nonexistent/report")) }
    }

    // MARK: Damaged report folders: one line naming the file (and line), never a crash or a wrong number

    /// Sets `column` of data row `row` (row 1 is line 2) of a CSV in the folder; returns that line.
    @discardableResult
    static func corrupt(_ dir: URL, _ name: String, row: Int, _ changes: [String: String]) throws -> Int {
        let file = dir.appendingPathComponent(name)
        var records = try SimpleCSV.parse(String(contentsOf: file, encoding: .utf8))
        for (column, value) in changes { records[row][try #require(records[0].firstIndex(of: column))] = value }
        var writer = CSVWriter()
        for r in records { writer.writeRow(r.map(CSVCell.verbatim)) } // the damage exactly as given
        try writer.text.write(to: file, atomically: true, encoding: .utf8)
        return row + 1
    }

    /// The message `ReportFolder.read` fails with, or nil when it reads the folder.
    static func failure(_ dir: URL) -> String? {
        do { _ = try ReportFolder.read(dir); return nil } catch { return "\(error)" }
    }

    /// A fresh folder with one change made to it; the read's error message (nil if none).
    static func failure(after change: (URL) throws -> Void) throws -> (message: String?, dir: URL) {
        let (dir, _) = try writtenFolder()
        try change(dir)
        return (failure(dir), dir)
    }

    static func expectFailure(
        _ change: (URL) throws -> Void, _ expected: (URL) -> String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (message, dir) = try failure(after: change)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(message == expected(dir), sourceLocation: sourceLocation)
        #expect(message?.contains("\n") == false, sourceLocation: sourceLocation)
    }

    @Test func metricsCountAboveNIsALineErrorNotACrash() throws {
        // Was a precondition failure in wilsonInterval (SIGILL) from card and diff.
        try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 4, ["n": "5", "count": "9"]) }) {
            "\($0.path)/metrics.csv: line 5: count 9 exceeds n 5"
        }
        try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 2, ["count": "-1"]) }) {
            "\($0.path)/metrics.csv: line 3: count is -1, expected at least 0"
        }
    }

    /// A repeated metrics.csv row silently replaced the first in the counts disparities use.
    @Test func repeatedMetricsRowIsALineError() throws {
        var fields: [String] = []
        try Self.expectFailure({ dir in
            let file = dir.appendingPathComponent("metrics.csv")
            var records = try SimpleCSV.parse(String(contentsOf: file, encoding: .utf8))
            fields = Array(records[1][0..<4])
            records.append(records[1])
            var writer = CSVWriter()
            for r in records where r != [""] { writer.writeRow(r.map(CSVCell.verbatim)) }
            try writer.text.write(to: file, atomically: true, encoding: .utf8)
        }) { dir in
            let count = (try? SimpleCSV.parse(String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)).count) ?? 0
            return "\(dir.path)/metrics.csv: line \(count): repeats line 2 (\(fields.joined(separator: ", ")))"
        }
    }

    @Test func metricsImpossibleNumbersAreRejected() throws {
        let metrics = { (dir: URL) in "\(dir.path)/metrics.csv" }
        // Row 1 of the fixture: accuracy of the whole set (count/n read from the file).
        let (dir, _) = try Self.writtenFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try SimpleCSV.parse(String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8))[1]
        let (n, count) = (first[4], first[5])
        for bad in ["nan", "inf", "-inf"] {
            try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 1, ["value": bad]) }) {
                "\(metrics($0)): line 2: value is \(bad), expected a finite number"
            }
        }
        try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 1, ["value": "0.99"]) }) {
            "\(metrics($0)): line 2: value 0.99 does not match count/n = \(count)/\(n) = \(CSVNumber.format(Double(Int(count)!) / Double(Int(n)!)))"
        }
        for bad in ["-3", "0"] {
            try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 1, ["n": bad]) }) {
                "\(metrics($0)): line 2: n is \(bad), expected at least 1"
            }
        }
        try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 1, ["n": "13.5"]) }) {
            "\(metrics($0)): line 2: n \"13.5\" is not a whole number"
        }
        try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 1, ["ci_high": "nan"]) }) {
            "\(metrics($0)): line 2: ci_high is nan, expected a finite number"
        }
        try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 1, ["ci_low": "1.5"]) }) {
            "\(metrics($0)): line 2: ci_low 1.5 lies outside [0, 1]"
        }
        try Self.expectFailure({ try Self.corrupt($0, "metrics.csv", row: 1, ["ci_low": "0.999", "ci_high": "1"]) }) {
            "\(metrics($0)): line 2: value \(first[6]) lies outside its interval [0.999, 1]"
        }
    }

    @Test func valueCheckAcceptsEveryRoundedProportion() {
        // The CSV keeps six significant digits: count/n written and read back must pass, and a
        // change in the sixth digit must not.
        for n in 1...300 {
            for count in 0...n {
                let exact = Double(count) / Double(n)
                #expect(CheckedRow.agrees(Double(CSVNumber.format(exact))!, exact), "\(count)/\(n)")
            }
        }
        #expect(!CheckedRow.agrees(0.615395, 8.0 / 13))
    }

    @Test func disparitiesImpossibleNumbersAreRejected() throws {
        let file = { (dir: URL) in "\(dir.path)/disparities.csv" }
        for (column, bad, problem) in [
            ("p_value", "1.5", "p_value 1.5 lies outside [0, 1]"),
            ("p_value", "-0.1", "p_value -0.1 lies outside [0, 1]"),
            ("p_adjusted", "nan", "p_adjusted is nan, expected a finite number"),
            ("p_adjusted", "", "p_adjusted is empty"),
            ("significant", "yes", "significant is \"yes\", expected true or false")
        ] {
            try Self.expectFailure({ try Self.corrupt($0, "disparities.csv", row: 1, [column: bad]) }) {
                "\(file($0)): line 2: \(problem)"
            }
        }
        try Self.expectFailure({ try Self.corrupt($0, "disparities.csv", row: 1, ["p_value": "1", "p_adjusted": "0.5"]) }) {
            "\(file($0)): line 2: p_adjusted 0.5 is below p_value 1"
        }
        // The four-fifths flag comes from ratio: a ratio that does not follow from the counts is an error.
        let (message, dir) = try Self.failure { try Self.corrupt($0, "disparities.csv", row: 1, ["ratio": "7"]) }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(message?.hasPrefix("\(file(dir)): line 2: ratio 7 does not match value / reference_value = ") == true)
        let (unmatched, dir2) = try Self.failure { try Self.corrupt($0, "disparities.csv", row: 1, ["group": "Martian"]) }
        defer { try? FileManager.default.removeItem(at: dir2) }
        #expect(unmatched?.hasPrefix("\(file(dir2)): line 2: no matching rows in metrics.csv for group \"Martian\"") == true)
    }

    @Test func comparisonImpossibleNumbersAreRejected() throws {
        let file = { (dir: URL) in "\(dir.path)/comparison.csv" }
        for (change, problem) in [
            (["n": "0"], "n is 0, expected at least 1"),
            (["n": "-2"], "n is -2, expected at least 1"),
            (["value": "1.2"], "value 1.2 lies outside [0, 1]"),
            (["base_value": "nan"], "base_value is nan, expected a finite number"),
            (["p_value": "-0.1"], "p_value -0.1 lies outside [0, 1]"),
            (["p_value": "inf"], "p_value is inf, expected a finite number")
        ] {
            try Self.expectFailure({ try Self.corrupt($0, "comparison.csv", row: 1, change) }) {
                "\(file($0)): line 2: \(problem)"
            }
        }
        let (message, dir) = try Self.failure {
            try Self.corrupt($0, "comparison.csv", row: 1, ["value": "1", "base_value": "0", "delta": "0.5"])
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(message == "\(file(dir)): line 2: delta 0.5 does not match value − base_value = 1")
    }

    @Test func runJSONThatIsNotTheRunsObjectIsBlamedOnRunJSON() throws {
        // Used to be reported as predictions.csv's "unexpected header".
        let expected = "expected an object with \"settings\": {\"alpha\", \"min_group_size\", \"attributes\", \"intersections\"}"
        for (text, found) in [
            ("[]", "found an array"), ("3", "found a bare value"), ("{}", "found no \"settings\""),
            ("{\"settings\": []}", "found \"settings\" that is not an object")
        ] {
            try Self.expectFailure({ try text.write(to: $0.appendingPathComponent("run.json"), atomically: true, encoding: .utf8) }) {
                "\($0.path)/run.json: \(expected), \(found)"
            }
        }
        let settings =
            #"{"settings": {"alpha": 0.05, "min_group_size": 8, "attributes": ["race", "gender", "age"], "intersections": ["race|gender"]}}"#
        // Only settings are needed; a settings value of the wrong type is named.
        let (ok, dir) = try Self.failure {
            try settings.write(to: $0.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(ok == nil)
        try Self.expectFailure({
            try settings.replacingOccurrences(of: "0.05", with: "\"0.05\"")
                .write(to: $0.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        }) {
            "\($0.path)/run.json: settings.alpha: not a number between 0 and 1 (exclusive) (\(expected))"
        }
    }

    @Test func unreadableRunJSONSaysWhy() throws {
        let run = { (dir: URL) in dir.appendingPathComponent("run.json") }
        try Self.expectFailure({ try Data().write(to: run($0)) }) { "\($0.path)/run.json: not valid JSON (the file is empty)" }
        try Self.expectFailure({ try Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]).write(to: run($0)) }) {
            "\($0.path)/run.json: not valid JSON (not UTF-8 text)"
        }
        try Self.expectFailure({
            try FileManager.default.removeItem(at: run($0));
            try FileManager.default.createDirectory(at: run($0), withIntermediateDirectories: false)
        }) {
            "\($0.path)/run.json: is a directory, expected a file"
        }
        // A FIFO would block the read forever; the CSVs get the same checks.
        try Self.expectFailure({
            try FileManager.default.removeItem(at: run($0)); #expect(mkfifo(run($0).path, 0o600) == 0)
        }) {
            "\($0.path)/run.json: is a FIFO, expected a regular file"
        }
        try Self.expectFailure({
            let csv = $0.appendingPathComponent("metrics.csv"); try FileManager.default.removeItem(at: csv);
            #expect(mkfifo(csv.path, 0o600) == 0)
        }) {
            "\($0.path)/metrics.csv: is a FIFO, expected a regular file"
        }
        try Self.expectFailure({
            let csv = $0.appendingPathComponent("comparison.csv"); try FileManager.default.removeItem(at: csv);
            try FileManager.default.createDirectory(at: csv, withIntermediateDirectories: false)
        }) {
            "\($0.path)/comparison.csv: is a directory, expected a file"
        }
        try Self.expectFailure({ try Data([0x64, 0xFF, 0x0A]).write(to: $0.appendingPathComponent("disparities.csv")) }) {
            "\($0.path)/disparities.csv: not UTF-8 text"
        }
        try Self.expectFailure({ try FileManager.default.removeItem(at: $0.appendingPathComponent("predictions.csv")) }) {
            "\($0.path)/predictions.csv: cannot read: No such file or directory"
        }
        // Truncated: the parser's reason, on one line.
        let (message, dir) = try Self.failure {
            let data = try Data(contentsOf: run($0))
            try data.prefix(data.count / 2).write(to: run($0))
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try #require(message)
        #expect(text.hasPrefix("\(dir.path)/run.json: not valid JSON (") && !text.contains("\n"))
        #expect(!text.contains("could not be completed") && !text.contains("predictions.csv"))
    }
}
