import Foundation
import Testing

@testable import AuditEngine

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Parses an SVG with Foundation's XMLParser and collects its elements.
final class SVGProbe: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text: String }
    var elements: [Element] = []
    var stack: [Int] = []
    var error: Error?

    static func parse(_ svg: String) -> SVGProbe {
        let probe = SVGProbe()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = probe
        if !parser.parse() { probe.error = parser.parserError ?? NSError(domain: "xml", code: 1) }
        return probe
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append(Element(name: name, attributes: attributes, text: ""))
        stack.append(elements.count - 1)
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let top = stack.last { elements[top].text += string }
    }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

    func all(_ name: String, class cls: String? = nil) -> [Element] {
        elements.filter {
            $0.name == name && (cls == nil || ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(cls!)))
        }
    }
    var texts: [String] { elements.filter { $0.name == "text" }.map(\.text) }
}

@Suite("SVG charts")
struct ChartTests {
    static let data = AuditReport(run: ReportFixture.run())
    static let charts = ReportCharts.all(data)

    @Test func everyChartIsWellFormedXML() {
        #expect(Self.charts.count > 20)
        for chart in Self.charts {
            let probe = SVGProbe.parse(chart.svg)
            #expect(probe.error == nil, "\(chart.path): \(String(describing: probe.error))")
            #expect(probe.elements.first?.name == "svg", "\(chart.path)")
            #expect(probe.elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        }
    }

    @Test func forestPlotHasOneWhiskerPerGroupAndTheOverallLine() throws {
        let chart = try #require(
            Self.charts.first { $0.kind == .rate && $0.design == "gender" && $0.metric == "accuracy" && $0.attribute == "race" })
        let rows = Self.data.rows(design: "gender", metric: .accuracy, attribute: "race")
        let probe = SVGProbe.parse(chart.svg)
        #expect(rows.count == 7)
        #expect(probe.all("line", class: "whisker").count == rows.count)
        #expect(probe.all("g", class: "group").map { $0.attributes["data-group"] } == rows.map(\.group))
        #expect(probe.all("line", class: "refline").count == 1) // the overall rate
        #expect(probe.texts.contains { $0.hasPrefix("all images ") })
        // Small groups: dashed whisker, hollow point, "†" on the label and a legend line.
        let small = rows.filter(\.belowMinimumN)
        #expect(!small.isEmpty)
        #expect(probe.all("line", class: "whisker").filter { $0.attributes["stroke-dasharray"] != nil }.count == small.count)
        for row in small { #expect(probe.all("text", class: "label").contains { $0.text == "\(row.group) †" }) }
        #expect(probe.all("text", class: "legend-text").contains { $0.text.hasPrefix("† fewer than 8 images") })
        // FairFace's long names are whole, and Black women's low accuracy is flagged.
        #expect(probe.all("text", class: "label").contains { $0.text.hasPrefix("Latino_Hispanic") })
        #expect(probe.all("g", class: "flagged").map { $0.attributes["data-group"] } == ["Black"])
        #expect(probe.all("g", class: "reference").map { $0.attributes["data-group"] } == ["White"])
    }

    @Test func agesStayInAgeOrder() throws {
        let chart = try #require(Self.charts.first { $0.kind == .rate && $0.design == "gender" && $0.attribute == "age" })
        let groups = SVGProbe.parse(chart.svg).all("g", class: "group").compactMap { $0.attributes["data-group"] }
        #expect(groups == ReportFixture.ages)
    }

    @Test func ratioChartShadesTheFourFifthsBand() throws {
        let chart = try #require(
            Self.charts.first {
                $0.kind == .ratio && $0.design == "denigration" && $0.metric == "harm_rate:crime-related" && $0.attribute == "race"
            })
        let probe = SVGProbe.parse(chart.svg)
        let band = probe.all("rect", class: "band")
        #expect(band.count == 1)
        #expect(Double(band[0].attributes["width"] ?? "0")! > 0)
        #expect(probe.texts.contains("four-fifths band (0.8–1.25)"))
        #expect(probe.all("g", class: "flagged").contains { $0.attributes["data-group"] == "Black" })
    }

    @Test func deltaChartHasTheWholeSetAndEveryGroup() throws {
        let chart = try #require(
            Self.charts.first { $0.kind == .delta && $0.metric == "harm_rate:crime-related" && $0.attribute == "gender" })
        let probe = SVGProbe.parse(chart.svg)
        #expect(probe.all("g", class: "group").compactMap { $0.attributes["data-group"] } == ["all images", "Female", "Male"])
        #expect(probe.all("line", class: "whisker").count == 3)
    }

    @Test func fileNamesAreStableSlugsAndUnique() {
        let paths = Self.charts.map(\.path)
        #expect(Set(paths).count == paths.count)
        #expect(paths.contains("charts/gender-rate-accuracy-race-gender.svg"))
        #expect(paths.contains("charts/denigration-child-delta-harm-rate-crime-related-race.svg"))
        #expect(paths.first == "charts/overview-flagged-differences.svg")
        for path in paths { #expect(path.range(of: "^charts/[a-z0-9-]+\\.svg$", options: .regularExpression) != nil, "\(path)") }
        #expect(ChartStyle.slug("more than 70") == "more-than-70")
        #expect(ChartStyle.slug("Ünïcode only ✓") == "n-code-only")
        #expect(ChartStyle.slug("✓") == "x")
    }

    @Test func renderingIsDeterministic() {
        let again = ReportCharts.all(AuditReport(run: ReportFixture.run()))
        #expect(again == Self.charts)
    }

    @Test func markupInNamesIsEscaped() {
        var data = Self.data
        // The control character XML forbids comes out as U+FFFD, visibly.
        let nasty = "A<b>&\"c\" 'd' ]]>\u{1}"
        data.metrics = data.metrics.map {
            var m = $0; if m.group == "White" { m.group = nasty }; return m
        }
        data.disparities = data.disparities.map {
            var d = $0; if d.reference == "White" { d.reference = nasty }; return d
        }
        let charts = ReportCharts.all(data)
        for chart in charts where chart.attribute == "race" && chart.kind != .delta { // deltas come from comparisons, left as they are
            let probe = SVGProbe.parse(chart.svg)
            #expect(probe.error == nil, "\(chart.path)")
            #expect(probe.all("g", class: "group").contains { $0.attributes["data-group"] == "A<b>&\"c\" 'd' ]]>\u{FFFD}" })
        }
    }
}
