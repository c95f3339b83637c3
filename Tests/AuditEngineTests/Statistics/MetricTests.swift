import Foundation
import Testing

@testable import AuditEngine

/// `Metric`: the CSV names round-trip, anything else is refused, and the meaning of each kind
/// (direction, headline, which prediction lines count) is the one the report and docs/report-files.md give.
@Suite("Metric")
struct MetricTests {
    static let all: [Metric] = [
        .accuracy, .recall("Female"), .falsePositiveRate("Female"), .harmRate("crime-related"),
        .anyHarm, .predictionRate("white man, adult"), .harmRate("a:b"), .predictionRate("x|y")
    ]

    @Test func csvNamesRoundTrip() {
        for metric in Self.all {
            #expect(Metric(csvName: metric.csvName) == metric, "\(metric.csvName)")
        }
        #expect(Metric.accuracy.csvName == "accuracy")
        #expect(Metric.recall("Male").csvName == "recall:Male")
        #expect(Metric.falsePositiveRate("Male").csvName == "fpr:Male")
        #expect(Metric.anyHarm.csvName == "harm_rate:any")
        #expect(Metric(csvName: "harm_rate:any") == .anyHarm)
        #expect(Metric.predictionRate("gorilla").csvName == "prediction_rate:gorilla")
    }

    @Test(arguments: ["", "Accuracy", "harm_rate:", "harm_rate", "prediction_rate:", "recall:", "fpr:", "harm-rate:x", "crime"])
    func otherNamesAreRefused(_ name: String) {
        #expect(Metric(csvName: name) == nil)
    }

    @Test func directionAndHeadline() {
        #expect(Metric.harmRate("x").higherIsWorse == true && Metric.anyHarm.higherIsWorse == true)
        #expect(Metric.falsePositiveRate("x").higherIsWorse == true)
        #expect(Metric.accuracy.higherIsWorse == false && Metric.recall("x").higherIsWorse == false)
        #expect(Metric.predictionRate("x").higherIsWorse == nil)
        #expect(Self.all.filter(\.isHeadline) == [.accuracy, .harmRate("crime-related"), .anyHarm, .harmRate("a:b")])
        #expect(Metric.harmRate("crime-related").title == "crime-related harm rate")
        #expect(Metric.predictionRate("gorilla").title == "rate predicted gorilla")
    }

    @Test func indicatorCountsTheLinesTheContractSays() {
        // (truth, predicted, harm category of the prediction)
        let lines: [(String?, String, String?)] = [
            ("Male", "Male", nil), ("Male", "Female", nil), ("Female", "Female", nil),
            ("Female", "gorilla", "non-human"), (nil, "Male", nil)
        ]
        func values(_ metric: Metric) -> [Bool?] { lines.map { metric.indicator(truth: $0.0, predicted: $0.1, harmCategory: $0.2) } }
        #expect(values(.accuracy) == [true, false, true, false, nil])
        #expect(values(.recall("Female")) == [nil, nil, true, false, nil])
        #expect(values(.falsePositiveRate("Female")) == [false, true, nil, nil, nil])
        #expect(values(.harmRate("non-human")) == [false, false, false, true, false])
        #expect(values(.anyHarm) == [false, false, false, true, false])
        #expect(values(.predictionRate("Male")) == [true, false, false, false, true])
    }
}

/// `published[].metric` is parsed where it is read: a name no metric has, or a metric the design
/// does not report, is a file:line error instead of a comparison silently left out.
@Suite("Audit file: published metrics")
struct PublishedMetricConfigTests {
    static let audit = """
        name: t
        manifest:
          path: m.csv
        attributes: [race, gender]
        designs:
          - name: gender
            target: gender
            classes: {Male: [man], Female: [woman]}
          - name: denigration
            classes: {person: [person], gorilla: [gorilla], thief: [thief]}
            harm_categories:
              non-human: [gorilla]
              crime-related: [thief]
            published:
              - source: paper
                metric: METRIC
                attribute: race
                values: {Black: 0.1}

        """

    func load(metric: String) throws -> AuditConfig {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        return try AuditConfig.load(contentsOf: try dir.write("audit.yaml", Self.audit.replacingOccurrences(of: "METRIC", with: metric)))
    }

    func failure(metric: String) throws -> String {
        let error = try #require(throws: AuditFileError.self) { try load(metric: metric) }
        #expect(!error.description.contains("\n"))
        return error.description
    }

    @Test func metricsTheDesignReportsAreRead() throws {
        for (name, metric) in [
            ("harm_rate:crime-related", Metric.harmRate("crime-related")), ("harm_rate:any", .anyHarm),
            ("prediction_rate:gorilla", .predictionRate("gorilla"))
        ] {
            let design = try #require(try load(metric: name).designs.first { $0.name == "denigration" })
            #expect(design.published.first?.metric == metric)
        }
    }

    @Test func aMistypedCategoryIsALineErrorWithASuggestion() throws {
        let message = try failure(metric: "harm_rate:crime_related")
        #expect(message.contains("audit.yaml:16"), "\(message)")
        #expect(message.contains("designs[1].published[0].metric"), "\(message)")
        #expect(
            message.contains("design \"denigration\" has no metric \"harm_rate:crime_related\"; did you mean \"harm_rate:crime-related\"?"),
            "\(message)")
    }

    @Test func aMetricOfAnotherKindOfDesignIsALineError() throws {
        // accuracy needs a target, which this design does not have.
        let message = try failure(metric: "accuracy")
        #expect(message.contains("audit.yaml:16") && message.contains("has no metric \"accuracy\""), "\(message)")
    }

    @Test func aNameThatIsNoMetricIsALineError() throws {
        let message = try failure(metric: "crime-related")
        #expect(message.contains("audit.yaml:16"), "\(message)")
        #expect(message.contains("\"crime-related\" is not a metric; metrics are accuracy, recall:<class>"), "\(message)")
    }
}
