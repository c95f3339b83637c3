import Foundation
import Testing

@testable import AuditEngine

/// When a disparity counts as a flag, which way it points, and which group is the reference.
@Suite("Flags and references")
struct FlagTests {
    /// A harm design over `race` (and `gender`): per group, images and how many are harmed.
    static func harm(_ groups: [(race: String, gender: String, n: Int, harmed: Int)], settings: MetricSettings) -> AuditMetrics {
        var records: [OutcomeRecord] = []
        for g in groups {
            for i in 0..<g.n {
                let harmed = i < g.harmed
                records.append(
                    OutcomeRecord(
                        imageKey: "\(g.race)-\(g.gender)-\(i)", groups: [g.race, g.gender],
                        predicted: harmed ? "gorilla" : "person", harmCategory: harmed ? "non-human" : nil))
            }
        }
        return computeAuditMetrics(
            [
                DesignOutcomes(
                    design: "d", classes: ["person", "gorilla"], harmCategories: ["non-human"],
                    hasTarget: false, records: records)
            ], settings: settings)
    }

    static func row(_ m: AuditMetrics, _ attribute: String, _ group: String) throws -> DisparityRow {
        try #require(m.disparities.first { $0.metric == .harmRate("non-human") && $0.attribute.csvText == attribute && $0.group == group })
    }

    @Test func aOneImageDifferenceAgainstZeroIsNotAFourFifthsFlag() throws {
        // 1 of 90 against 0 of 90: outside the band "by ∞", but 1.1 pp.
        let settings = MetricSettings(attributes: ["race", "gender"], referenceGroups: ["race": "White"], minGroupSize: 30)
        let m = Self.harm([("White", "Male", 90, 0), ("Black", "Male", 90, 1)], settings: settings)
        let d = try Self.row(m, "race", "Black")
        #expect(d.ratio == nil)
        #expect(!d.fourFifthsViolation)
        #expect(!d.isFlagged)
    }

    @Test func aLargeDifferenceOnSizedGroupsIsAFourFifthsFlag() throws {
        // 9 of 90 (10%) against 4 of 90 (4.4%): ratio 2.25, +5.6 pp, not significant.
        let settings = MetricSettings(attributes: ["race", "gender"], referenceGroups: ["race": "White"], minGroupSize: 30)
        let m = Self.harm([("White", "Male", 90, 4), ("Black", "Male", 90, 9)], settings: settings)
        let d = try Self.row(m, "race", "Black")
        #expect(!d.significant)
        #expect(d.fourFifthsViolation && d.isFlagged)
        #expect(d.fairesWorse == true)
        // The same difference with min_difference raised above it is no flag.
        var strict = settings
        strict.minDifference = 0.06
        #expect(
            try !Self.row(Self.harm([("White", "Male", 90, 4), ("Black", "Male", 90, 9)], settings: strict), "race", "Black")
                .fourFifthsViolation)
        // Nor with a group below min_group_size.
        let small = Self.harm([("White", "Male", 90, 4), ("Black", "Male", 20, 4)], settings: settings)
        #expect(try !Self.row(small, "race", "Black").fourFifthsViolation)
    }

    @Test func directionFollowsTheMetric() {
        func row(_ metric: Metric, _ difference: Double) -> DisparityRow {
            DisparityRow(
                design: "d", metric: metric, attribute: Slice(csvText: "race"), group: "g", reference: "r", n: 50, count: 0, referenceN: 50,
                referenceCount: 0, value: 0.5 + difference, referenceValue: 0.5, difference: difference, ratio: nil, pValue: 0.01,
                pAdjusted: 0.01, significant: true, differenceCILow: 0, differenceCIHigh: 0, fourFifthsViolation: false,
                belowMinimumN: false)
        }
        #expect(row(.harmRate("non-human"), 0.1).fairesWorse == true)
        #expect(row(.harmRate("non-human"), -0.1).fairesWorse == false)
        #expect(row(.accuracy, -0.1).fairesWorse == true)
        #expect(row(.accuracy, 0.1).fairesWorse == false)
        #expect(row(.predictionRate("man"), 0.1).fairesWorse == nil)
    }

    @Test func intersectionReferenceIsBuiltFromTheAttributesReferences() throws {
        // Indian|Male is the largest cell, but the attributes' references are White and Male.
        let groups: [(race: String, gender: String, n: Int, harmed: Int)] = [
            ("White", "Male", 30, 3), ("White", "Female", 30, 3), ("Indian", "Male", 60, 6), ("Indian", "Female", 10, 1)
        ]
        let settings = MetricSettings(
            attributes: ["race", "gender"], intersections: [["race", "gender"]],
            referenceGroups: ["race": "White", "gender": "Male"])
        #expect(try Self.row(Self.harm(groups, settings: settings), "race|gender", "Indian|Male").reference == "White|Male")
        // An intersection key overrides it.
        var overridden = settings
        overridden.referenceGroups["race|gender"] = "Indian|Female"
        #expect(try Self.row(Self.harm(groups, settings: overridden), "race|gender", "Indian|Male").reference == "Indian|Female")
        // Without configured references, each attribute's largest group: Indian and Male.
        let defaults = MetricSettings(attributes: ["race", "gender"], intersections: [["race", "gender"]])
        #expect(try Self.row(Self.harm(groups, settings: defaults), "race|gender", "White|Male").reference == "Indian|Male")
    }

    @Test func readBackFlagsMatchTheRunsFlags() throws {
        // disparities.csv has no four_fifths column; `card` and `diff` recompute the flag with
        // the run's min_difference and must get the run's answer.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flags-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var run = ReportFixture.run()
        run.config.minDifference = 0.3
        run.metrics = computeAuditMetrics(
            run.table,
            settings: MetricSettings(
                attributes: run.config.attributes, intersections: run.config.intersections, referenceGroups: run.config.referenceGroups,
                alpha: run.config.alpha, minGroupSize: run.config.minGroupSize, minDifference: 0.3))
        try ReportWriter.write(run, to: dir)
        let folder = try ReportFolder.read(dir)
        #expect(folder.data.minDifference == 0.3)
        #expect(folder.data.disparities.map(\.fourFifthsViolation) == run.metrics.disparities.map(\.fourFifthsViolation))
        #expect(run.metrics.disparities.contains { $0.ratio.map { $0 < 0.8 || $0 > 1.25 } == true && !$0.fourFifthsViolation })
    }
}
