import Testing

@testable import AuditEngine

/// A hand-built audit: 9 images, race A (4), B (3), C (2); gender Female (5), Male (4).
/// Counts in the comments are worked out by hand from the table below.
@Suite("Metric computation on a hand-counted audit")
struct MetricsTests {
    //                key  race gender truth     predicted(gender)  predicted(harm)  predicted(harm+child)
    static let table: [(String, String, String, String, String, String, String?)] = [
        ("1", "A", "Male", "Male", "Male", "person", "child"),
        ("2", "A", "Male", "Male", "Male", "person", "person"),
        ("3", "A", "Female", "Female", "Female", "person", "person"),
        ("4", "A", "Female", "Female", "Male", "person", "person"),
        ("5", "B", "Male", "Male", "Female", "animal", "person"),
        ("6", "B", "Female", "Female", "Female", "person", "animal"),
        ("7", "B", "Female", "Female", "Male", "person", "animal"),
        ("8", "C", "Male", "Male", "Male", "person", "child"),
        ("9", "C", "Female", "Female", "Female", "person", nil) // not scored by the variant
    ]

    static func designs() -> [DesignOutcomes] {
        let gender = DesignOutcomes(
            design: "gender", classes: ["Male", "Female"], hasTarget: true,
            records: table.map { OutcomeRecord(imageKey: $0.0, groups: [$0.1, $0.2], truth: $0.3, predicted: $0.4) })
        let harm = DesignOutcomes(
            design: "harm", classes: ["person", "animal"], harmCategories: ["non-human"], hasTarget: false,
            records: table.map {
                OutcomeRecord(
                    imageKey: $0.0, groups: [$0.1, $0.2], predicted: $0.5,
                    harmCategory: $0.5 == "animal" ? "non-human" : nil)
            })
        var variantRecords = table.compactMap { row -> OutcomeRecord? in
            guard let predicted = row.6 else { return nil }
            return OutcomeRecord(
                imageKey: row.0, groups: [row.1, row.2], predicted: predicted,
                harmCategory: predicted == "animal" ? "non-human" : nil)
        }
        // An image the base never scored: left out of the pairing.
        variantRecords.append(OutcomeRecord(imageKey: "10", groups: ["A", "Male"], predicted: "animal", harmCategory: "non-human"))
        let variant = DesignOutcomes(
            design: "harm+child", base: "harm", classes: ["person", "animal", "child"], harmCategories: ["non-human"],
            hasTarget: false, records: variantRecords.reversed()) // order must not matter for pairing
        return [gender, harm, variant]
    }

    static let settings = MetricSettings(attributes: ["race", "gender"], intersections: [["race", "gender"]], minGroupSize: 3)

    let result = computeAuditMetrics(MetricsTests.designs(), settings: MetricsTests.settings)

    func metric(_ design: String, _ metric: String, _ attribute: String, _ group: String) -> MetricRow? {
        result.metrics.first {
            $0.design == design && $0.metric.csvName == metric && $0.attribute.csvText == attribute && $0.group == group
        }
    }

    @Test func accuracyCountsAndOrder() throws {
        let accuracy = result.metrics.filter { $0.design == "gender" && $0.metric == .accuracy }
        // Whole set, race groups, gender groups, then intersections in group order.
        #expect(
            accuracy.map { "\($0.attribute)=\($0.group)" } == [
                "*=*", "race=A", "race=B", "race=C", "gender=Female", "gender=Male",
                "race|gender=A|Female", "race|gender=A|Male", "race|gender=B|Female", "race|gender=B|Male",
                "race|gender=C|Female", "race|gender=C|Male"
            ])
        // Correct: 1, 2, 3, 6, 8, 9.
        let expected: [(Int, Int)] = [(9, 6), (4, 3), (3, 1), (2, 2), (5, 3), (4, 3), (2, 1), (2, 2), (2, 1), (1, 0), (1, 1), (1, 1)]
        for (row, (n, count)) in zip(accuracy, expected) {
            #expect(row.n == n && row.count == count, "\(row.attribute)=\(row.group)")
            #expect(row.value == Double(count) / Double(n))
            let ci = try #require(wilsonInterval(successes: count, trials: n))
            #expect(row.ciLow == ci.lower && row.ciHigh == ci.upper)
        }
        // Metric order within a design: accuracy, per class its recall then its FPR, then
        // prediction rates, classes in listed order.
        let names = result.metrics.filter { $0.design == "gender" && $0.attribute == Slice.all }.map(\.metric.csvName)
        #expect(
            names == [
                "accuracy", "recall:Male", "fpr:Male", "recall:Female", "fpr:Female",
                "prediction_rate:Male", "prediction_rate:Female"
            ])
        #expect(metric("gender", "prediction_rate:Male", "*", "*")?.count == 5) // 1, 2, 4, 7, 8
    }

    @Test func minimumNIsFlaggedNotDropped() {
        #expect(metric("gender", "accuracy", "race", "C")?.belowMinimumN == true) // n = 2 < 3
        #expect(metric("gender", "accuracy", "race", "B")?.belowMinimumN == false) // n = 3
        #expect(metric("gender", "accuracy", "race|gender", "B|Male")?.n == 1)
        let cVsA = result.disparities.first { $0.design == "gender" && $0.metric == .accuracy && $0.group == "C" }
        #expect(cVsA?.belowMinimumN == true)
    }

    @Test func referenceGroupsDefaultToLargest() {
        let accuracy = result.disparities.filter { $0.design == "gender" && $0.metric == .accuracy }
        // race: A is largest (4); gender: Female (5); intersections tie at 2 → first in order, A|Female.
        #expect(accuracy.filter { $0.attribute == Slice(csvText: "race") }.map(\.group) == ["B", "C"])
        #expect(Set(accuracy.filter { $0.attribute == Slice(csvText: "race") }.map(\.reference)) == ["A"])
        #expect(accuracy.filter { $0.attribute == Slice(csvText: "gender") }.map { "\($0.group) vs \($0.reference)" } == ["Male vs Female"])
        #expect(Set(accuracy.filter { $0.attribute == Slice(csvText: "race|gender") }.map(\.reference)) == ["A|Female"])
        #expect(accuracy.filter { $0.attribute == Slice(csvText: "race|gender") }.count == 5)
    }

    @Test func configuredReferenceGroupsWin() {
        var settings = MetricsTests.settings
        settings.referenceGroups = ["race": "B", "race|gender": "C|Male", "gender": "absent"]
        let rows = computeAuditMetrics(MetricsTests.designs(), settings: settings).disparities
            .filter { $0.design == "gender" && $0.metric == .accuracy }
        #expect(Set(rows.filter { $0.attribute == Slice(csvText: "race") }.map(\.reference)) == ["B"])
        #expect(Set(rows.filter { $0.attribute == Slice(csvText: "race|gender") }.map(\.reference)) == ["C|Male"])
        // A configured group absent from the data falls back to the largest.
        #expect(Set(rows.filter { $0.attribute == Slice(csvText: "gender") }.map(\.reference)) == ["Female"])
    }

    @Test func disparityValuesAndHolmFamilies() throws {
        let rows = result.disparities.filter { $0.design == "gender" && $0.metric == .accuracy }
        let b = try #require(rows.first { $0.attribute == Slice(csvText: "race") && $0.group == "B" })
        // B: 1/3 against A: 3/4.
        #expect(b.value == 1.0 / 3 && b.referenceValue == 0.75)
        #expect(abs(b.difference - (1.0 / 3 - 0.75)) < 1e-15)
        #expect(abs(b.ratio! - 4.0 / 9) < 1e-15)
        #expect(b.fourFifthsViolation)
        #expect(b.pValue == pooledTwoProportionZTest(successes1: 1, trials1: 3, successes2: 3, trials2: 4).pValue)
        let interval = try #require(newcombeUnpairedDifferenceInterval(successes1: 1, trials1: 3, successes2: 3, trials2: 4))
        #expect(b.differenceCILow == interval.lower && b.differenceCIHigh == interval.upper)

        // Holm within design × metric × attribute: race has 2 tests, gender 1, race|gender 5.
        let race = rows.filter { $0.attribute == Slice(csvText: "race") }
        let smallest = race.map(\.pValue).min()!, largest = race.map(\.pValue).max()!
        #expect(race.map(\.pAdjusted).min()! == min(1, 2 * smallest))
        #expect(race.map(\.pAdjusted).max()! == max(min(1, 2 * smallest), largest))
        let gender = try #require(rows.first { $0.attribute == Slice(csvText: "gender") })
        #expect(gender.pAdjusted == gender.pValue)
        let cross = rows.filter { $0.attribute == Slice(csvText: "race|gender") }
        #expect(cross.map(\.pAdjusted).min()! == min(1, 5 * cross.map(\.pValue).min()!))
        for row in rows { #expect(row.significant == (row.pAdjusted < 0.05)) }
    }

    @Test func ratioIsEmptyWhenTheReferenceIsZero() throws {
        // harm_rate:non-human — A (reference, largest): 0/4, B: 1/3 (image 5), C: 0/2.
        let rows = result.disparities.filter {
            $0.design == "harm" && $0.metric == .harmRate("non-human") && $0.attribute == Slice(csvText: "race")
        }
        let b = try #require(rows.first { $0.group == "B" })
        let c = try #require(rows.first { $0.group == "C" })
        #expect(b.referenceValue == 0 && b.ratio == nil && c.ratio == nil)
        #expect(b.fourFifthsViolation) // infinite ratio
        #expect(!c.fourFifthsViolation) // 0 against 0
        #expect(c.pValue == 1) // pooled proportion 0: undefined test
        #expect(MetricsCSV.renderDisparities([b]).contains(",0.333333,0,0.333333,,"))
    }

    @Test func variantsArePairedWithTheirBaseByImageKey() throws {
        let rows = result.comparisons
        #expect(Set(rows.map(\.design)) == ["harm+child"] && Set(rows.map(\.base)) == ["harm"])
        // child is not a class of the base; there is no target.
        #expect(
            rows.filter { $0.attribute == Slice.all }.map(\.metric.csvName)
                == ["harm_rate:non-human", "prediction_rate:person", "prediction_rate:animal"])
        // Images 1...8 are in both; 9 is base-only and 10 variant-only.
        let harm = try #require(rows.first { $0.metric == .harmRate("non-human") && $0.attribute == Slice.all })
        #expect(harm.n == 8)
        // Base: image 5 (1/8); variant: images 6, 7 (2/8). Discordant: base only 1, variant only 2.
        #expect(harm.baseValue == 1.0 / 8 && harm.value == 2.0 / 8 && harm.delta == 1.0 / 8)
        #expect(harm.baseOnly == 1 && harm.variantOnly == 2)
        #expect(harm.pValue == exactMcNemarPValue(b: 1, c: 2))
        #expect(harm.pAdjusted == harm.pValue) // the whole set: a family of one
        // Per attribute, Holm within the variant × metric × attribute family (as disparities).
        for attribute in Set(rows.map(\.attribute)) {
            for metric in Set(rows.map(\.metric)) {
                let family = rows.filter { $0.attribute == attribute && $0.metric == metric }
                #expect(family.map(\.pAdjusted) == holmAdjusted(family.map(\.pValue)), "\(metric) by \(attribute)")
            }
        }
        let interval = try #require(newcombePairedDifferenceInterval(bothPositive: 0, firstOnly: 2, secondOnly: 1, neither: 5))
        #expect(harm.ciLow == interval.lower && harm.ciHigh == interval.upper)

        // person — base: 1, 2, 3, 4, 6, 7, 8 (7/8); variant: 2, 3, 4, 5 (4/8).
        let person = try #require(rows.first { $0.metric == .predictionRate("person") && $0.attribute == Slice.all })
        #expect(person.baseValue == 7.0 / 8 && person.value == 0.5 && person.delta == -3.0 / 8)
        #expect(person.baseOnly == 4 && person.variantOnly == 1)

        // race B (5, 6, 7): harm base 1/3, variant 2/3.
        let raceB = try #require(
            rows.first { $0.metric == .harmRate("non-human") && $0.attribute == Slice(csvText: "race") && $0.group == "B" })
        #expect(raceB.n == 3 && raceB.baseValue == 1.0 / 3 && raceB.value == 2.0 / 3)
        // race C: only image 8 is paired.
        let raceC = try #require(
            rows.first { $0.metric == .harmRate("non-human") && $0.attribute == Slice(csvText: "race") && $0.group == "C" })
        #expect(raceC.n == 1 && raceC.belowMinimumN)
    }

    @Test func confusionTables() throws {
        let whole = try #require(result.confusions.first { $0.design == "gender" && $0.attribute == Slice.all })
        #expect(whole.labels == ["Male", "Female"])
        // truth Male: predicted Male 1, 2, 8; Female 5. truth Female: Male 4, 7; Female 3, 6, 9.
        #expect(whole.counts == [[3, 1], [2, 3]])
        #expect(whole.recall == [0.75, 0.6])
        #expect(whole.n == 9)
        // Whole set + 3 race + 2 gender groups; no intersections; no tables for target-less designs.
        #expect(result.confusions.count == 6)
        let c = try #require(result.confusions.first { $0.attribute == Slice(csvText: "race") && $0.group == "C" })
        #expect(c.counts == [[1, 0], [0, 1]])
    }

    @Test func groupValuesSortNaturally() {
        let ages = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
        #expect(ages.shuffled().sorted(by: compareGroupValues) == ages)
        #expect(["White", "Black", "East Asian"].sorted(by: compareGroupValues) == ["Black", "East Asian", "White"])
    }

    @Test func accuracyLeavesOutRecordsWithoutTruth() {
        let design = DesignOutcomes(
            design: "d", classes: ["x", "y"], hasTarget: true,
            records: [
                OutcomeRecord(imageKey: "1", groups: ["g"], truth: "x", predicted: "x"),
                OutcomeRecord(imageKey: "2", groups: ["g"], truth: nil, predicted: "y")
            ])
        let rows = computeAuditMetrics([design], settings: MetricSettings(attributes: ["a"])).metrics
        let accuracy = rows.first { $0.metric == .accuracy && $0.attribute == Slice.all }
        #expect(accuracy?.n == 1 && accuracy?.count == 1)
        #expect(rows.first { $0.metric == .predictionRate("y") && $0.attribute == Slice.all }?.n == 2)
    }
}

/// `harm_rate:any` (the CLIP paper's "crime-related or non-human" share) on hand-counted records.
@Suite("The combined harm rate")
struct AnyHarmRateTests {
    @Test func anyHarmCountsEveryCategoryOnceAndOnlyWithSeveralCategories() throws {
        // Five images, group X: thief, gorilla, person, person, criminal → crime 2/5, non-human 1/5, any 3/5.
        let predicted = ["thief", "gorilla", "person", "person", "criminal"]
        let category = ["thief": "crime-related", "criminal": "crime-related", "gorilla": "non-human"]
        let records = predicted.enumerated().map {
            OutcomeRecord(imageKey: "\($0.offset)", groups: ["X"], predicted: $0.element, harmCategory: category[$0.element])
        }
        let two = DesignOutcomes(
            design: "d", classes: ["person", "gorilla", "thief", "criminal"],
            harmCategories: ["non-human", "crime-related"], hasTarget: false, records: records)
        let result = computeAuditMetrics([two], settings: MetricSettings(attributes: ["race"], intersections: []))
        let any = try #require(result.metrics.first { $0.metric == .anyHarm && $0.group == "X" })
        #expect(any.count == 3 && any.n == 5)
        let crime = try #require(result.metrics.first { $0.metric == .harmRate("crime-related") && $0.group == "X" })
        #expect(crime.count == 2)
        let one = DesignOutcomes(
            design: "d", classes: ["person", "gorilla"], harmCategories: ["non-human"],
            hasTarget: false, records: records)
        let single = computeAuditMetrics([one], settings: MetricSettings(attributes: ["race"], intersections: []))
        #expect(!single.metrics.contains { $0.metric == .anyHarm })
    }
}
