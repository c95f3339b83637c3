import Foundation

/// The one layout behind every chart: one row per group, a label on the left, a point with an
/// interval whisker on a horizontal axis, a note on the right, reference lines and an optional
/// shaded band, and a legend underneath. The chart kinds (``ForestPlot``, ``DisparityChart``,
/// ``DeltaChart``) only decide what goes in it.
struct DotWhiskerPlot {
    /// `flagged`: stands apart and fares worse (or has no better side); `better`: stands apart and fares better.
    enum Role: String { case neutral, flagged, better, reference }
    /// Where a value beyond the axis is drawn: an arrow at that edge with its text.
    enum Edge { case left(String), right(String) }

    struct Row {
        var label: String
        var value: Double?
        var low: Double?
        var high: Double?
        var role: Role
        /// Fewer images than the minimum group size: hollow marker, dashed whisker, "†".
        var small: Bool
        /// Text right of the plot: the value, n, p.
        var note: String
        /// Set when the value lies beyond the axis (drawn as an arrow at the edge).
        var edge: Edge? = nil
        /// A line from this x to the point (the ratio chart's lollipop from 1).
        var stemFrom: Double? = nil
        /// Text on the plot in place of a point (e.g. "reference").
        var placeholder: String? = nil
    }

    struct Axis {
        var domain: ClosedRange<Double>
        /// Maps data values to a linear position (identity, or log).
        var transform: (Double) -> Double = { $0 }
        var ticks: [(value: Double, label: String)]
        var title: String
    }

    struct Line {
        var x: Double
        var label: String
        var dashed: Bool
        var colour: String = ChartStyle.reference
    }

    struct Band {
        var low: Double
        var high: Double
        var label: String
    }

    var title: String
    var subtitle: String
    var rows: [Row]
    var axis: Axis
    var lines: [Line] = []
    var band: Band? = nil
    /// Words for the flagged colour in the legend.
    var flaggedMeaning: String
    /// Words for the `better` colour in the legend.
    var betterMeaning: String = "flagged, fares better than the reference"
    var neutralMeaning: String
    var showReferenceInLegend: Bool = false
    var minGroupSize: Int

    func render() -> String {
        let fs = ChartStyle.fontSize
        let labels = rows.map { $0.label + ($0.small ? " †" : "") }
        let labelWidth = max(110, (labels.map { ChartStyle.textWidth($0) * 1.12 }.max() ?? 0) + 16) // bold labels run wider
        let noteWidth = max(120, (rows.map { ChartStyle.textWidth($0.note, size: fs - 1) }.max() ?? 0) + 16)
        let plotWidth = 380.0
        let left = labelWidth
        let right = left + plotWidth
        let width = (right + noteWidth + 8).rounded(.up)
        let top = 56.0 + (lines.isEmpty && band == nil ? 0 : 16)
        let plotHeight = Double(rows.count) * ChartStyle.rowHeight
        let axisY = top + plotHeight
        let legendItems = legend()
        let legendTop = axisY + 44
        let height = legendTop + Double(legendItems.count) * 17 + 6

        let t0 = axis.transform(axis.domain.lowerBound), t1 = axis.transform(axis.domain.upperBound)
        func x(_ v: Double) -> Double {
            let c = min(max(v, axis.domain.lowerBound), axis.domain.upperBound)
            return left + (axis.transform(c) - t0) / (t1 - t0) * plotWidth
        }
        func y(_ i: Int) -> Double { top + (Double(i) + 0.5) * ChartStyle.rowHeight }

        var svg = SVGDocument(width: width, height: height)
        svg.element("rect", ["x": 0, "y": 0, "width": .n(width), "height": .n(height), "fill": "#FFFFFF"])
        svg.text("text", ["x": 8, "y": 20, "font-size": 15, "font-weight": "bold", "fill": .s(ChartStyle.black)], title)
        svg.text("text", ["x": 8, "y": 38, "font-size": 11, "fill": .s(ChartStyle.axis)], subtitle)

        // Zebra rows, so a label is easy to follow to its point.
        svg.group(["class": "rows"]) { g in
            for i in rows.indices where i % 2 == 1 {
                g.element(
                    "rect",
                    [
                        "x": .n(4), "y": .n(top + Double(i) * ChartStyle.rowHeight), "width": .n(width - 8),
                        "height": .n(ChartStyle.rowHeight), "fill": "#F4F4F4"
                    ])
            }
        }
        if let band {
            let bx0 = x(band.low), bx1 = x(band.high)
            svg.element(
                "rect",
                [
                    "class": "band", "x": .n(bx0), "y": .n(top), "width": .n(bx1 - bx0), "height": .n(plotHeight),
                    "fill": .s(ChartStyle.band), "fill-opacity": 0.18
                ])
            svg.text(
                "text",
                [
                    "x": .n((bx0 + bx1) / 2), "y": .n(top - 6), "text-anchor": "middle", "font-size": 10,
                    "fill": "#00664A"
                ], band.label)
        }
        // Grid and axis.
        svg.group(["class": "axis", "font-size": 10, "fill": .s(ChartStyle.axis)]) { g in
            for tick in axis.ticks {
                let tx = x(tick.value)
                g.element(
                    "line", ["x1": .n(tx), "y1": .n(top), "x2": .n(tx), "y2": .n(axisY), "stroke": .s(ChartStyle.grid), "stroke-width": 1])
                g.text("text", ["x": .n(tx), "y": .n(axisY + 14), "text-anchor": "middle"], tick.label)
            }
            g.element(
                "line",
                ["x1": .n(left), "y1": .n(axisY), "x2": .n(right), "y2": .n(axisY), "stroke": .s(ChartStyle.axis), "stroke-width": 1])
            g.text("text", ["x": .n((left + right) / 2), "y": .n(axisY + 30), "text-anchor": "middle", "font-size": 11], axis.title)
        }
        for (i, line) in lines.enumerated() {
            let lx = x(line.x)
            var attrs: KeyValuePairs<String, SVGValue> = [
                "class": "refline", "x1": .n(lx), "y1": .n(top - 2), "x2": .n(lx), "y2": .n(axisY),
                "stroke": .s(line.colour), "stroke-width": 1.5
            ]
            if line.dashed {
                attrs = [
                    "class": "refline", "x1": .n(lx), "y1": .n(top - 2), "x2": .n(lx), "y2": .n(axisY),
                    "stroke": .s(line.colour), "stroke-width": 1.5, "stroke-dasharray": "5 3"
                ]
            }
            svg.element("line", attrs)
            if !line.label.isEmpty {
                let anchor: SVGValue = lx > right - 60 ? "end" : (lx < left + 60 ? "start" : "middle")
                svg.text(
                    "text",
                    [
                        "x": .n(lx), "y": .n(top - 6 - (band == nil ? 0 : Double(i + 1) * 0)), "text-anchor": anchor,
                        "font-size": 10, "fill": .s(line.colour)
                    ], line.label)
            }
        }
        // Groups.
        for (i, row) in rows.enumerated() {
            let cy = y(i)
            let colour = Self.colour(row.role)
            svg.group(["class": .s("group \(row.role.rawValue)\(row.small ? " small" : "")"), "data-group": .s(row.label)]) { g in
                g.text(
                    "text",
                    [
                        "class": "label", "x": .n(left - 10), "y": .n(cy + 4), "text-anchor": "end",
                        "font-weight": row.role == .flagged || row.role == .better ? "bold" : "normal",
                        "fill": row.role == .flagged || row.role == .better ? .s(Self.colour(row.role)) : .s(ChartStyle.black)
                    ], labels[i])
                if let placeholder = row.placeholder {
                    let px = x(row.value ?? axis.domain.lowerBound)
                    g.element("path", ["class": "point", "d": .s(Self.diamond(px, cy)), "fill": .s(ChartStyle.reference)])
                    g.text("text", ["x": .n(px + 9), "y": .n(cy + 4), "font-size": 10, "fill": .s(ChartStyle.axis)], placeholder)
                }
                if let low = row.low, let high = row.high {
                    let wx0 = x(low), wx1 = x(high)
                    g.whisker(from: wx0, to: wx1, y: cy, colour: colour, dashed: row.small)
                    g.element(
                        "line",
                        ["x1": .n(wx0), "y1": .n(cy - 5), "x2": .n(wx0), "y2": .n(cy + 5), "stroke": .s(colour), "stroke-width": 1.5])
                    g.element(
                        "line",
                        ["x1": .n(wx1), "y1": .n(cy - 5), "x2": .n(wx1), "y2": .n(cy + 5), "stroke": .s(colour), "stroke-width": 1.5])
                }
                if let value = row.value, row.placeholder == nil {
                    let px = x(value)
                    if let stem = row.stemFrom {
                        g.element(
                            "line",
                            [
                                "class": "stem", "x1": .n(x(stem)), "y1": .n(cy), "x2": .n(px), "y2": .n(cy), "stroke": .s(colour),
                                "stroke-width": 3, "stroke-opacity": 0.55
                            ])
                    }
                    switch row.edge {
                    case .left(let text)?:
                        g.element(
                            "path",
                            ["class": "point", "d": .s("M\(SVGValue.n(px).text),\(SVGValue.n(cy).text) l9,-6 v12 z"), "fill": .s(colour)])
                        g.text("text", ["x": .n(px + 12), "y": .n(cy + 4), "font-size": 10, "fill": .s(colour)], text)
                    case .right(let text)?:
                        g.element(
                            "path",
                            ["class": "point", "d": .s("M\(SVGValue.n(px).text),\(SVGValue.n(cy).text) l-9,-6 v12 z"), "fill": .s(colour)])
                        g.text("text", ["x": .n(px - 12), "y": .n(cy + 4), "text-anchor": "end", "font-size": 10, "fill": .s(colour)], text)
                    case nil:
                        if row.role == .reference {
                            g.element("path", ["class": "point", "d": .s(Self.diamond(px, cy)), "fill": .s(colour)])
                        } else {
                            g.element(
                                "circle",
                                [
                                    "class": "point", "cx": .n(px), "cy": .n(cy), "r": 5,
                                    "fill": row.small ? "#FFFFFF" : .s(colour), "stroke": .s(colour), "stroke-width": 2
                                ])
                        }
                    }
                }
                g.text(
                    "text",
                    [
                        "class": "note", "x": .n(right + 10), "y": .n(cy + 4), "font-size": 11,
                        "fill": row.role == .flagged || row.role == .better ? .s(Self.colour(row.role)) : .s(ChartStyle.axis)
                    ], row.note)
            }
        }
        // Legend.
        svg.group(["class": "legend", "font-size": 11, "fill": .s(ChartStyle.black)]) { g in
            for (i, item) in legendItems.enumerated() {
                let ly = legendTop + Double(i) * 17
                switch item.symbol {
                case .dot(let role):
                    let c = Self.colour(role)
                    if role == .reference {
                        g.element("path", ["d": .s(Self.diamond(16, ly)), "fill": .s(c)])
                    } else {
                        g.element("circle", ["cx": 16, "cy": .n(ly), "r": 5, "fill": .s(c)])
                    }
                case .small:
                    g.smallGroupLegendKey(y: ly, colour: ChartStyle.neutral)
                case .band:
                    g.element(
                        "rect", ["x": 6, "y": .n(ly - 6), "width": 20, "height": 12, "fill": .s(ChartStyle.band), "fill-opacity": 0.18])
                case .whisker:
                    g.element("line", ["x1": 6, "y1": .n(ly), "x2": 26, "y2": .n(ly), "stroke": .s(ChartStyle.axis), "stroke-width": 2])
                }
                g.text("text", ["class": "legend-text", "x": 34, "y": .n(ly + 4)], item.text)
            }
        }
        return svg.render(title: title, description: subtitle)
    }

    enum LegendSymbol { case dot(Role), small, band, whisker }

    func legend() -> [(symbol: LegendSymbol, text: String)] {
        var items: [(LegendSymbol, String)] = []
        if rows.contains(where: { $0.low != nil }) { items.append((.whisker, "line: 95% confidence interval")) }
        if rows.contains(where: { $0.role == .flagged }) { items.append((.dot(.flagged), flaggedMeaning)) }
        if rows.contains(where: { $0.role == .better }) { items.append((.dot(.better), betterMeaning)) }
        if !neutralMeaning.isEmpty { items.append((.dot(.neutral), neutralMeaning)) }
        if showReferenceInLegend { items.append((.dot(.reference), "reference group")) }
        if let band { items.append((.band, band.label)) }
        if rows.contains(where: \.small) {
            items.append((.small, "† fewer than \(minGroupSize) images: hollow point, dashed interval; read with care"))
        }
        return items.map { (symbol: $0.0, text: $0.1) }
    }

    static func colour(_ role: Role) -> String {
        switch role {
        case .neutral: return ChartStyle.neutral
        case .flagged: return ChartStyle.flagged
        case .better: return ChartStyle.better
        case .reference: return ChartStyle.reference
        }
    }

    static func diamond(_ x: Double, _ y: Double) -> String {
        "M\(SVGValue.n(x).text),\(SVGValue.n(y - 6).text) l6,6 l-6,6 l-6,-6 z"
    }
}
