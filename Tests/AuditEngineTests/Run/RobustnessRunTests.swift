import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// `robustness:` end to end on the fixture checkpoint: robustness.csv against the numpy and
/// transformers computation of Fixtures/Generators/make_robustness_cases.py (its own draws,
/// embeddings, scoring, z-test, Holm and four-fifths rule), and the same file from the same seed.
@Suite(.serialized) struct RobustnessRunTests {
    let fixtures = FixturePaths.packageRoot.appendingPathComponent("Fixtures")

    struct Case: Decodable {
        struct Specification: Decodable, Equatable {
            var templates: [String]?
            var phrases: [String: [String]]
        }
        struct Row: Decodable {
            var design, metric, attribute, group, reference: String
            var difference: Double
            var flagged: Bool
            var specifications: Int
            var flagged_in: Int
            var same_direction_in: Int
            var difference_min, difference_median, difference_max: Double
        }
        var copies: Int
        var manifest_csv: String
        var designs_yaml: String
        var robustness_yaml: String
        var min_group_size: Int
        var specifications: [Specification]
        var rows: [Row]
    }

    func loadCase() throws -> Case {
        try JSONDecoder().decode(
            Case.self, from: Data(contentsOf: fixtures.appendingPathComponent("robustness/robustness_case.json")))
    }

    /// The case's audit in `dir`: its manifest over copies of the fixture images (each copy its
    /// own file, so every row is scored), its designs and `robustness:` (with `seed` replaced
    /// when given).
    func writeAudit(_ testCase: Case, in dir: URL, seed: Int? = nil) throws -> URL {
        let images = fixtures.appendingPathComponent("clip-reference/images")
        for copy in 0..<testCase.copies {
            let folder = dir.appendingPathComponent("copy\(copy)")
            if FileManager.default.fileExists(atPath: folder.path) { continue }
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: images.path) {
                try FileManager.default.copyItem(at: images.appendingPathComponent(name), to: folder.appendingPathComponent(name))
            }
        }
        try testCase.manifest_csv.write(to: dir.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
        var robustness = testCase.robustness_yaml
        if let seed { robustness = robustness.replacingOccurrences(of: "seed: 7", with: "seed: \(seed)") }
        let yaml = """
            name: robustness-case
            model: \(fixtures.appendingPathComponent("clip-reference/tiny-clip").path)
            manifest: {path: manifest.csv}
            attributes: [race, gender]
            intersections: [[race, gender]]
            min_group_size: \(testCase.min_group_size)
            templates: ["a photo of a {}."]

            """ + testCase.designs_yaml + robustness
        let url = dir.appendingPathComponent("audit.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func options(cache: URL) -> RunOptions {
        var options = RunOptions()
        options.cacheURL = cache
        options.threads = 2
        options.batchSize = 8
        return options
    }

    /// Runs the audit and writes its report folder; returns robustness.csv's and disparities.csv's text.
    func runAndWrite(_ audit: URL, cache: URL, to folder: URL) throws -> (robustness: String, disparities: String, run: AuditRun) {
        let run = try AuditRunner.run(auditFile: audit, options: options(cache: cache))
        try ReportWriter.write(run, to: folder)
        return (
            try String(contentsOf: folder.appendingPathComponent("robustness.csv"), encoding: .utf8),
            try String(contentsOf: folder.appendingPathComponent("disparities.csv"), encoding: .utf8), run
        )
    }

    @Test func theDrawsAreTheGeneratorsSplitMixDraws() throws {
        let testCase = try loadCase()
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let config = try AuditConfig.load(contentsOf: try writeAudit(testCase, in: dir.url))
        let drawn = PromptSpecification.draw(try #require(config.robustness))
        #expect(drawn.count == testCase.specifications.count)
        #expect(drawn.map { Case.Specification(templates: $0.templates, phrases: $0.phrases) } == testCase.specifications)
    }

    @Test func robustnessCSVIsTheNumpyComputationRowForRow() throws {
        let testCase = try loadCase()
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let audit = try writeAudit(testCase, in: dir.url)
        let cache = dir.url.appendingPathComponent("cache.sqlite")
        let (text, disparities, run) = try runAndWrite(audit, cache: cache, to: dir.url.appendingPathComponent("report"))
        #expect(run.usableRows == 12 * testCase.copies)
        #expect(run.timings.contains { $0.stage == "robustness" })

        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == RobustnessCSV.header.joined(separator: ","))
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        // One row per disparity row, in its order.
        let disparityKeys = disparities.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(4).joined(separator: ",") }
        #expect(rows.count == testCase.rows.count && rows.count == disparityKeys.count)
        #expect(rows.map { $0.prefix(4).joined(separator: ",") } == disparityKeys)

        var byKey: [String: [String]] = [:]
        for row in rows { byKey[row.prefix(4).joined(separator: ",")] = row }
        // The CSV writes six significant digits; the differences are ratios of counts.
        func close(_ text: String, _ expected: Double) -> Bool {
            guard let value = Double(text) else { return false }
            return abs(value - expected) <= 5e-6 * max(1, abs(expected))
        }
        var checked = 0
        for expected in testCase.rows {
            let key = [expected.design, expected.metric, expected.attribute, expected.group].joined(separator: ",")
            let row = try #require(byKey[key], "no row \(key)")
            #expect(row[4] == expected.reference, "\(key)")
            #expect(close(row[5], expected.difference), "\(key): difference \(row[5]) vs \(expected.difference)")
            #expect(row[6] == String(expected.flagged), "\(key): flagged")
            #expect(Int(row[7]) == expected.specifications, "\(key): specifications")
            #expect(Int(row[8]) == expected.flagged_in, "\(key): flagged_in \(row[8]) vs \(expected.flagged_in)")
            #expect(Int(row[9]) == expected.same_direction_in, "\(key): same_direction_in \(row[9]) vs \(expected.same_direction_in)")
            #expect(close(row[10], expected.difference_min), "\(key): difference_min")
            #expect(close(row[11], expected.difference_median), "\(key): difference_median")
            #expect(close(row[12], expected.difference_max), "\(key): difference_max")
            checked += 1
        }
        #expect(checked == 262)
        // Read back with the folder (card, diff): the same rows.
        let back = try #require(try AuditReport.read(folder: dir.url.appendingPathComponent("report")).robustness)
        #expect(back.count == 262 && back.map(\.key) == run.measurements.robustness?.map(\.key))
        #expect(
            zip(back, run.measurements.robustness ?? []).allSatisfy {
                $0.flaggedIn == $1.flaggedIn && $0.sameDirectionIn == $1.sameDirectionIn
            })
        // The case exercises what it is for: a synonym or template changes predictions, and
        // some rows are flagged in some specifications only.
        #expect(testCase.rows.contains { $0.difference_min != $0.difference_max })
        #expect(testCase.rows.contains { $0.flagged_in > 0 && $0.flagged_in < $0.specifications })
        #expect(testCase.rows.contains { $0.metric == "harm_rate:crime-related" && $0.difference_min != $0.difference_max })
    }

    @Test func theReportSeparatesRobustFromFragileFindingsWithTheirCounts() throws {
        let testCase = try loadCase()
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let folder = dir.url.appendingPathComponent("report")
        let (_, _, run) = try runAndWrite(
            try writeAudit(testCase, in: dir.url), cache: dir.url.appendingPathComponent("cache.sqlite"), to: folder)
        let report = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        let findings = Findings(AuditReport(run: run))
        #expect(findings.specifications == 7 && !findings.ranked.isEmpty)
        // Every ranked finding says in how many of the 7 wordings it holds, as robustness.csv does.
        for finding in findings.ranked {
            let row = try #require(finding.robustness)
            #expect(finding.line.contains("flagged in \(row.flaggedIn) of 7 wordings"))
        }
        let robust = findings.ranked.filter { $0.robustness!.isRobust }, fragile = findings.ranked.filter { !$0.robustness!.isRobust }
        #expect(!robust.isEmpty && !fragile.isEmpty)
        // 90% of 7, rounded up: 7.
        #expect(robust.allSatisfy { $0.robustness!.flaggedIn == 7 && $0.robustness!.sameDirectionIn == 7 })
        let robustAt = try #require(report.range(of: "**Robust findings**")),
            fragileAt = try #require(report.range(of: "**Fragile findings**"))
        for finding in robust {
            let at = try #require(report.range(of: "- " + finding.line))
            #expect(at.lowerBound > robustAt.upperBound && at.lowerBound < fragileAt.lowerBound)
        }
        for finding in fragile {
            let at = try #require(report.range(of: "- " + finding.line))
            #expect(at.lowerBound > fragileAt.upperBound)
        }
    }

    @Test func theSameSeedWritesTheSameFileAndAnotherSeedAnotherDraw() throws {
        let testCase = try loadCase()
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let cache = dir.url.appendingPathComponent("cache.sqlite")
        let audit = try writeAudit(testCase, in: dir.url)
        let first = try runAndWrite(audit, cache: cache, to: dir.url.appendingPathComponent("a"))
        // From the cache this time: the texts are not encoded again, and the file is the same bytes.
        let second = try runAndWrite(audit, cache: cache, to: dir.url.appendingPathComponent("b"))
        #expect(second.run.imagesEncoded == 0)
        #expect(first.robustness == second.robustness)
        let other = try runAndWrite(
            try writeAudit(testCase, in: dir.url, seed: 8), cache: cache, to: dir.url.appendingPathComponent("c"))
        #expect(other.disparities == first.disparities)
        #expect(other.robustness != first.robustness)
    }

    @Test func mitigationVariantsAreLeftOutNotScoredWithoutTheirTransform() throws {
        let testCase = try loadCase()
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let cache = dir.url.appendingPathComponent("cache.sqlite")
        let plain = try runAndWrite(try writeAudit(testCase, in: dir.url), cache: cache, to: dir.url.appendingPathComponent("plain"))
        // The same audit with a projection: its variants are in disparities.csv, not in
        // robustness.csv, whose rows for the designs are the same bytes as without it.
        let audit = try writeAudit(testCase, in: dir.url)
        let yaml = try String(contentsOf: audit, encoding: .utf8)
        try
            (yaml + """

                mitigations:
                  - name: proj
                    method: projection
                    attribute_prompts: ["a photo of a man.", "a photo of a woman."]

                """).write(to: audit, atomically: true, encoding: .utf8)
        let mitigated = try runAndWrite(audit, cache: cache, to: dir.url.appendingPathComponent("mitigated"))
        #expect(mitigated.disparities.contains("~proj,"))
        #expect(!mitigated.robustness.contains("~proj"))
        #expect(mitigated.robustness == plain.robustness)
    }
}
