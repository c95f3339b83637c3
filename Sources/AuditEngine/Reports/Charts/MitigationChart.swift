import Foundation

/// What each mitigation buys and costs: one point per mitigation, its accuracy change (x) against
/// the change in the gap it is judged by (y), both in percentage points. A point is on the
/// Pareto front when no other narrows the gap as much or more while costing as little or less
/// accuracy, and does one of them strictly better; the front is drawn filled and joined, the
/// others hollow. Down is a narrower gap, right is higher accuracy.
enum MitigationChart {
    struct Point: Equatable {
        var label: String
        /// Change of the gap (after − before), a proportion.
        var gapChange: Double
        /// Change of accuracy (after − before), a proportion.
        var accuracyChange: Double
    }

    /// The indices of the points on the Pareto front (smaller gap change, larger accuracy change).
    static func front(_ points: [Point]) -> [Int] {
        points.indices.filter { i in
            !points.indices.contains { j in
                j != i && points[j].gapChange <= points[i].gapChange && points[j].accuracyChange >= points[i].accuracyChange
                    && (points[j].gapChange < points[i].gapChange || points[j].accuracyChange > points[i].accuracyChange)
            }
        }
    }

    static func render(_ points: [Point], title: String, subtitle: String) -> String {
        let width = 640.0, height = 420.0
        let left = 70.0, right = 190.0, top = 64.0, bottom = 56.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func limit(_ values: [Double]) -> Double {
            let reach = values.map(abs).max() ?? 0
            return [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0].first { $0 >= reach * 1.05 } ?? 1.0
        }
        let xLimit = limit(points.map(\.accuracyChange)), yLimit = limit(points.map(\.gapChange))
        func x(_ v: Double) -> Double { left + (v + xLimit) / (2 * xLimit) * plotWidth }
        func y(_ v: Double) -> Double { top + (yLimit - v) / (2 * yLimit) * plotHeight }
        let onFront = Set(front(points))
        var svg = SVGDocument(width: width, height: height)
        svg.text("text", ["x": .n(left), "y": 22, "font-size": 14, "font-weight": "bold"], title)
        svg.text("text", ["x": .n(left), "y": 40, "fill": .s(ChartStyle.axis)], subtitle)
        svg.group(["stroke": .s(ChartStyle.grid)]) { g in
            for step in stride(from: -4, through: 4, by: 1) {
                let fx = Double(step) / 4
                g.element("line", ["x1": .n(x(fx * xLimit)), "y1": .n(top), "x2": .n(x(fx * xLimit)), "y2": .n(top + plotHeight)])
                g.element("line", ["x1": .n(left), "y1": .n(y(fx * yLimit)), "x2": .n(left + plotWidth), "y2": .n(y(fx * yLimit))])
            }
        }
        svg.group(["stroke": .s(ChartStyle.axis), "stroke-width": 1.5]) { g in
            g.element("line", ["x1": .n(x(0)), "y1": .n(top), "x2": .n(x(0)), "y2": .n(top + plotHeight)])
            g.element("line", ["x1": .n(left), "y1": .n(y(0)), "x2": .n(left + plotWidth), "y2": .n(y(0))])
        }
        svg.group(["fill": .s(ChartStyle.axis), "font-size": 11]) { g in
            for step in stride(from: -4, through: 4, by: 2) {
                let fx = Double(step) / 4
                g.text(
                    "text", ["x": .n(x(fx * xLimit)), "y": .n(top + plotHeight + 16), "text-anchor": "middle"],
                    ChartStyle.points(fx * xLimit))
                g.text("text", ["x": .n(left - 6), "y": .n(y(fx * yLimit) + 4), "text-anchor": "end"], ChartStyle.points(fx * yLimit))
            }
            g.text(
                "text", ["x": .n(left + plotWidth / 2), "y": .n(height - 14), "text-anchor": "middle"],
                "change in accuracy (percentage points; right: higher)")
            g.text(
                "text",
                [
                    "x": 16, "y": .n(top + plotHeight / 2), "text-anchor": "middle",
                    "transform": .s("rotate(-90 16 \(SVGValue.n(top + plotHeight / 2).text))")
                ],
                "change in the gap (pp; down: narrower)")
        }
        let front = onFront.sorted { points[$0].accuracyChange < points[$1].accuracyChange }
        if front.count > 1 {
            let path = front.map { "\(SVGValue.n(x(points[$0].accuracyChange)).text),\(SVGValue.n(y(points[$0].gapChange)).text)" }
            svg.element(
                "polyline",
                ["points": .s(path.joined(separator: " ")), "fill": "none", "stroke": .s(ChartStyle.better), "stroke-dasharray": "4 3"])
        }
        for (i, p) in points.enumerated() {
            let marked = onFront.contains(i)
            let note =
                "\(p.label): gap \(ChartStyle.points(p.gapChange)), accuracy \(ChartStyle.points(p.accuracyChange))\(marked ? " (Pareto front)" : "")"
            svg.text(
                "circle",
                [
                    "cx": .n(x(p.accuracyChange)), "cy": .n(y(p.gapChange)), "r": 6,
                    "fill": .s(marked ? ChartStyle.better : "white"), "stroke": .s(marked ? ChartStyle.better : ChartStyle.neutral),
                    "stroke-width": 2
                ], "", title: note)
            svg.text("text", ["x": .n(x(p.accuracyChange) + 9), "y": .n(y(p.gapChange) - 7), "font-size": 11], p.label)
        }
        // The legend and every point in words, beside the plot.
        svg.group(["font-size": 11]) { g in
            let lx = left + plotWidth + 16
            g.element("circle", ["cx": .n(lx + 5), "cy": .n(top + 6), "r": 5, "fill": .s(ChartStyle.better)])
            g.text("text", ["x": .n(lx + 16), "y": .n(top + 10)], "Pareto front")
            g.element(
                "circle",
                ["cx": .n(lx + 5), "cy": .n(top + 24), "r": 5, "fill": "white", "stroke": .s(ChartStyle.neutral), "stroke-width": 2])
            g.text("text", ["x": .n(lx + 16), "y": .n(top + 28)], "dominated")
            for (i, p) in points.enumerated() {
                g.text(
                    "text", ["x": .n(lx), "y": .n(top + 54 + Double(i) * 30)],
                    "\(p.label)\(onFront.contains(i) ? " ●" : "")")
                g.text(
                    "text", ["x": .n(lx), "y": .n(top + 68 + Double(i) * 30), "fill": .s(ChartStyle.axis)],
                    "gap \(ChartStyle.points(p.gapChange)), acc. \(ChartStyle.points(p.accuracyChange))")
            }
        }
        let description = points.enumerated().map { i, p in
            "\(p.label): gap \(ChartStyle.points(p.gapChange)), accuracy \(ChartStyle.points(p.accuracyChange))\(onFront.contains(i) ? ", on the Pareto front" : "")"
        }.joined(separator: "; ")
        return svg.render(title: title, description: description)
    }
}
