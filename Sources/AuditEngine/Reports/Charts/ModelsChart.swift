import Foundation

/// One rate (accuracy or a harm rate) over one attribute with every model of a several-model
/// audit side by side: per group a band of one row per model, each a point with its 95% Wilson
/// interval. Every such chart has the same 0–100% axis and gives a model the same colour and
/// marker in every chart (its place in `models:`), so charts read against each other; the marker
/// shape and the row's note name the model too, so colour is never the only carrier. The
/// reference group of the model's disparities is marked in its label.
enum ModelsChart {
    /// Colour of the model at `index` (Okabe–Ito, most distinct first; vermillion last, as the
    /// single-model charts use it for flagged groups).
    static let palette = [
        ChartStyle.blue, ChartStyle.orange, ChartStyle.bluishGreen, ChartStyle.reddishPurple,
        ChartStyle.skyBlue, ChartStyle.black, ChartStyle.vermillion
    ]
    /// Marker of the model at `index`, as a name (the SVG path comes from ``marker(_:_:_:)``).
    static let shapes = ["circle", "square", "triangle", "diamond", "triangle-down", "cross", "star"]

    static func colour(_ index: Int) -> String { palette[index % palette.count] }
    /// Past the palette the shapes still change (index ÷ palette size shifts them).
    static func shape(_ index: Int) -> String { shapes[(index + index / palette.count) % shapes.count] }

    struct Point {
        var value: Double
        var low: Double
        var high: Double
        var n: Int
        var small: Bool
        /// `▲ worse` / `▼ better` when the model's own disparity for the group is flagged.
        var direction: String
        /// Set when the model differs from the base model in this group (Holm p < α): the Δ.
        var differsFromBase: Double?
    }

    struct Group {
        var label: String
        var isReference: Bool
        /// One per model, in model order; nil where the model has no row for the group.
        var points: [Point?]
    }

    /// The chart of `metric` over `attribute` in `design`, or nil when no model has a row there.
    static func make(_ data: ModelsReportData, design: String, metric: Metric, attribute: Slice) -> (title: String, svg: String)? {
        let labels = data.models.map(\.label)
        // nil: the whole set, first.
        var groups: [String?] = [nil]
        for model in data.models {
            for row in model.data.rows(design: design, metric: metric, attribute: attribute) where !groups.contains(row.group) {
                groups.append(row.group)
            }
        }
        guard groups.count > 1 else { return nil }
        let reference = data.models.lazy.compactMap {
            $0.data.disparities(design: design, metric: metric, attribute: attribute).first?.reference
        }.first
        let alpha = data.models.first?.data.alpha ?? 0.05
        let compared = data.comparisons.filter {
            $0.design == design && $0.metric == metric && ($0.attribute == attribute || $0.attribute == .all)
        }
        let chartGroups = groups.map { group -> Group in
            let points = data.models.map { model -> Point? in
                let row =
                    group == nil
                    ? model.data.overall(design: design, metric: metric)
                    : model.data.rows(design: design, metric: metric, attribute: attribute).first { $0.group == group }
                guard let row else { return nil }
                let d = model.data.disparities(design: design, metric: metric, attribute: attribute).first { $0.group == group }
                let difference = compared.first {
                    $0.model == model.label && $0.attribute == (group == nil ? .all : attribute) && $0.group == (group ?? Slice.allText)
                }
                return Point(
                    value: row.value, low: row.ciLow, high: row.ciHigh, n: row.n, small: row.belowMinimumN,
                    direction: d.map(ReportCharts.directionNote)?.trimmingCharacters(in: .whitespaces) ?? "",
                    differsFromBase: difference.flatMap { $0.pAdjusted < alpha ? $0.delta : nil })
            }
            let label = group.map(ReportCharts.groupLabel) ?? "all images"
            return Group(label: label, isReference: group == reference, points: points)
        }
        let title = "\(design): \(metric.title) by \(ChartStyle.attributeTitle(attribute)), every model"
        var subtitle = "Each model's rate with its 95% Wilson interval, same scale and colours in every chart"
        subtitle += reference.map { "; reference: \(ReportCharts.groupLabel($0))" } ?? ""
        let minGroupSize = data.models.first?.data.minGroupSize ?? 0
        return (
            title,
            render(
                title: title, subtitle: subtitle, groups: chartGroups, labels: labels,
                modelIDs: data.models.map(\.data.modelID), axisTitle: metric.title,
                minGroupSize: minGroupSize)
        )
    }

    static func render(
        title: String, subtitle: String, groups: [Group], labels: [String], modelIDs: [String],
        axisTitle: String, minGroupSize: Int
    ) -> String {
        let fs = ChartStyle.fontSize
        let rowHeight = 18.0
        let bandGap = 8.0
        let groupLabels = groups.map {
            $0.label + ($0.isReference ? " (reference)" : "") + ($0.points.contains { $0?.small == true } ? " †" : "")
        }
        let labelWidth = max(110, (groupLabels.map { ChartStyle.textWidth($0) * 1.12 }.max() ?? 0) + 16)
        let notes = groups.map { group in
            group.points.enumerated().map { i, p in p.map { note(labels[i], $0) } ?? "\(labels[i]): not measured" }
        }
        let noteWidth = max(140, (notes.flatMap { $0 }.map { ChartStyle.textWidth($0, size: fs - 1) }.max() ?? 0) + 16)
        let plotWidth = 380.0
        let left = labelWidth, right = left + plotWidth
        let width = (right + noteWidth + 8).rounded(.up)
        let top = 56.0
        let bandHeight = Double(labels.count) * rowHeight
        let plotHeight = Double(groups.count) * (bandHeight + bandGap)
        let axisY = top + plotHeight
        var legend: [(kind: String, index: Int, text: String)] = labels.indices.map {
            ("model", $0, "\(labels[$0])\(modelIDs[$0].isEmpty ? "" : " — \(modelIDs[$0])")\($0 == 0 ? " (base)" : "")")
        }
        legend.append(("whisker", 0, "line: 95% confidence interval"))
        let allPoints = groups.flatMap(\.points).compactMap { $0 }
        if allPoints.contains(where: { !$0.direction.isEmpty }) {
            legend.append(
                (
                    "text", 0,
                    "\(Findings.worse) / \(Findings.better): flagged against the reference in that model's own audit (significant (Holm), or four-fifths only)"
                ))
        }
        if allPoints.contains(where: { $0.differsFromBase != nil }) {
            legend.append(("text", 0, "Δ … *: differs from the base model in this group (paired, Holm p < α)"))
        }
        if allPoints.contains(where: \.small) {
            legend.append(("small", 0, "† fewer than \(minGroupSize) images: hollow marker, dashed interval; read with care"))
        }
        let legendTop = axisY + 44
        let height = legendTop + Double(legend.count) * 17 + 6

        func x(_ v: Double) -> Double { left + min(max(v, 0), 1) * plotWidth }
        func bandTop(_ g: Int) -> Double { top + Double(g) * (bandHeight + bandGap) }

        var svg = SVGDocument(width: width, height: height)
        svg.element("rect", ["x": 0, "y": 0, "width": .n(width), "height": .n(height), "fill": "#FFFFFF"])
        svg.text("text", ["x": 8, "y": 20, "font-size": 15, "font-weight": "bold", "fill": .s(ChartStyle.black)], title)
        svg.text("text", ["x": 8, "y": 38, "font-size": 11, "fill": .s(ChartStyle.axis)], subtitle)
        // A shaded band per group, so a group's rows read as one; the reference group's darker.
        svg.group(["class": "bands"]) { g in
            for (i, group) in groups.enumerated() where i % 2 == 1 || group.isReference {
                g.element(
                    "rect",
                    [
                        "x": 4, "y": .n(bandTop(i) - bandGap / 2), "width": .n(width - 8), "height": .n(bandHeight + bandGap),
                        "fill": group.isReference ? "#E8E8E8" : "#F4F4F4"
                    ])
            }
        }
        svg.group(["class": "axis", "font-size": 10, "fill": .s(ChartStyle.axis)]) { g in
            for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
                let tx = x(tick)
                g.element(
                    "line",
                    [
                        "x1": .n(tx), "y1": .n(top - bandGap / 2), "x2": .n(tx), "y2": .n(axisY), "stroke": .s(ChartStyle.grid),
                        "stroke-width": 1
                    ])
                g.text("text", ["x": .n(tx), "y": .n(axisY + 14), "text-anchor": "middle"], String(format: "%.0f%%", tick * 100))
            }
            g.element(
                "line",
                ["x1": .n(left), "y1": .n(axisY), "x2": .n(right), "y2": .n(axisY), "stroke": .s(ChartStyle.axis), "stroke-width": 1])
            g.text("text", ["x": .n((left + right) / 2), "y": .n(axisY + 30), "text-anchor": "middle", "font-size": 11], axisTitle)
        }
        for (gi, group) in groups.enumerated() {
            let top = bandTop(gi)
            svg.group(["class": .s("group\(group.isReference ? " reference" : "")"), "data-group": .s(group.label)]) { g in
                g.text(
                    "text",
                    [
                        "class": "label", "x": .n(left - 10), "y": .n(top + bandHeight / 2 + 4), "text-anchor": "end",
                        "font-weight": group.isReference || gi == 0 ? "bold" : "normal", "fill": .s(ChartStyle.black)
                    ], groupLabels[gi])
                for (mi, point) in group.points.enumerated() {
                    let cy = top + (Double(mi) + 0.5) * rowHeight
                    let colour = Self.colour(mi)
                    g.group(["class": "model", "data-model": .s(labels[mi])]) { m in
                        if let p = point {
                            let wx0 = x(p.low), wx1 = x(p.high)
                            m.whisker(from: wx0, to: wx1, y: cy, colour: colour, dashed: p.small)
                            m.element(
                                "path",
                                [
                                    "class": "point", "d": .s(marker(shape(mi), x(p.value), cy)),
                                    "fill": p.small ? "#FFFFFF" : .s(colour), "stroke": .s(colour), "stroke-width": 1.5
                                ])
                        }
                        m.text(
                            "text",
                            [
                                "class": "note", "x": .n(right + 10), "y": .n(cy + 4), "font-size": 11,
                                "fill": .s(point?.differsFromBase != nil ? ChartStyle.black : ChartStyle.axis)
                            ], notes[gi][mi])
                    }
                }
            }
        }
        svg.group(["class": "legend", "font-size": 11, "fill": .s(ChartStyle.black)]) { g in
            for (i, item) in legend.enumerated() {
                let ly = legendTop + Double(i) * 17
                switch item.kind {
                case "model":
                    g.element("line", ["x1": 6, "y1": .n(ly), "x2": 26, "y2": .n(ly), "stroke": .s(colour(item.index)), "stroke-width": 2])
                    g.element(
                        "path",
                        [
                            "d": .s(marker(shape(item.index), 16, ly)), "fill": .s(colour(item.index)),
                            "stroke": .s(colour(item.index)), "stroke-width": 1.5
                        ])
                case "whisker":
                    g.element("line", ["x1": 6, "y1": .n(ly), "x2": 26, "y2": .n(ly), "stroke": .s(ChartStyle.axis), "stroke-width": 2])
                case "small":
                    g.smallGroupLegendKey(y: ly, colour: ChartStyle.axis)
                default:
                    break
                }
                g.text("text", ["class": "legend-text", "x": 34, "y": .n(ly + 4)], item.text)
            }
        }
        return svg.render(title: title, description: subtitle)
    }

    /// The text right of a model's row: `label: 41.0% (n = 40), ▲ worse, Δ −25.0 pp *` (SVG
    /// collapses runs of spaces, so the parts are separated by punctuation).
    static func note(_ label: String, _ p: Point) -> String {
        var out = "\(label): \(ChartStyle.percent(p.value)) (n = \(p.n))"
        if !p.direction.isEmpty { out += ", " + p.direction }
        if let delta = p.differsFromBase { out += ", Δ \(ChartStyle.points(delta)) *" }
        return out
    }

    /// A marker of about 10 px centred on (x, y).
    static func marker(_ shape: String, _ x: Double, _ y: Double) -> String {
        let cx = SVGValue.n(x).text, cy = SVGValue.n(y).text
        switch shape {
        case "square": return "M\(SVGValue.n(x - 4.5).text),\(SVGValue.n(y - 4.5).text) h9 v9 h-9 z"
        case "triangle": return "M\(cx),\(SVGValue.n(y - 6).text) l5.5,10 h-11 z"
        case "triangle-down": return "M\(cx),\(SVGValue.n(y + 6).text) l5.5,-10 h-11 z"
        case "diamond": return "M\(cx),\(SVGValue.n(y - 6).text) l6,6 l-6,6 l-6,-6 z"
        case "cross":
            return "M\(SVGValue.n(x - 1.8).text),\(SVGValue.n(y - 5.5).text) h3.6 v3.7 h3.7 v3.6 h-3.7 v3.7 h-3.6 v-3.7 h-3.7 v-3.6 h3.7 z"
        case "star":
            return "M\(cx),\(SVGValue.n(y - 6).text) l1.8,4 l4.2,0.4 l-3.2,2.8 l1,4.2 l-3.8,-2.3 l-3.8,2.3 l1,-4.2 l-3.2,-2.8 l4.2,-0.4 z"
        default: return "M\(SVGValue.n(x - 5).text),\(cy) a5,5 0 1,0 10,0 a5,5 0 1,0 -10,0 z"
        }
    }
}
