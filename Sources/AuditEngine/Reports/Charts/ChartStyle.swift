import Foundation

/// Colours, sizes and text measures shared by the charts.
///
/// Colours are from the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), which
/// stays distinguishable under the common colour-vision deficiencies; meaning never rests on
/// colour alone (flagged groups are also bold and marked, small groups are hollow and dashed).
public enum ChartStyle {
    /// Okabe–Ito.
    public static let black = "#000000"
    public static let orange = "#E69F00"
    public static let skyBlue = "#56B4E9"
    public static let bluishGreen = "#009E73"
    public static let yellow = "#F0E442"
    public static let blue = "#0072B2"
    public static let vermillion = "#D55E00"
    public static let reddishPurple = "#CC79A7"

    /// Groups that stand apart (significant or outside the four-fifths band).
    public static let flagged = vermillion
    /// Groups that stand apart and fare better than their reference (lower harm, higher accuracy).
    public static let better = bluishGreen
    /// Groups that do not.
    public static let neutral = blue
    /// The reference group and the overall line.
    public static let reference = black
    /// Gridlines and axes.
    public static let grid = "#D9D9D9"
    public static let axis = "#595959"
    /// The four-fifths band.
    public static let band = "#009E73"

    /// Row height of a group, in px.
    public static let rowHeight = 24.0
    /// Font size of labels.
    public static let fontSize = 12.0

    /// An over-estimate of a label's width in px at `size` (DejaVu Sans averages about 0.6 em per
    /// character; wide letters push some labels towards 0.7), so labels never overlap the plot.
    public static func textWidth(_ s: String, size: Double = fontSize) -> Double {
        var em = 0.0
        for ch in s {
            switch ch {
            case "i", "l", "j", "|", "!", ".", ",", ":", ";", "'", "I", "(", ")", "[", "]", " ", "-", "t", "f", "r": em += 0.38
            case "m", "w", "M", "W", "%", "@": em += 0.95
            default: em += ch.isUppercase ? 0.72 : 0.62
            }
        }
        return em * size
    }

    /// `stem`, or `stem-2`, `stem-3`… when `used` has it already (two names that slug alike must
    /// not overwrite each other's chart); the name returned is added to `used`.
    static func uniqueStem(_ stem: String, used: inout Set<String>) -> String {
        var unique = stem
        var i = 2
        while used.contains(unique) {
            unique = "\(stem)-\(i)"
            i += 1
        }
        used.insert(unique)
        return unique
    }

    /// A file-name-safe slug: lowercase ASCII letters and digits, other runs become `-`.
    public static func slug(_ s: String) -> String {
        var out = ""
        var dash = false
        for scalar in s.lowercased().unicodeScalars {
            if scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar)) {
                out.unicodeScalars.append(scalar)
                dash = false
            } else if !dash && !out.isEmpty {
                out += "-"
                dash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "x" : out
    }

    /// A percentage for labels: `61.5%`.
    static func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }

    /// Percentage points, signed: `+12.3 pp`.
    static func points(_ x: Double) -> String { String(format: "%+.1f pp", x * 100) }

    /// `race|gender` → `race × gender`.
    public static func attributeTitle(_ attribute: Slice) -> String {
        attribute.isIntersection ? attribute.attributes.joined(separator: " × ") : attribute.csvText
    }
}

extension SVGDocument {
    /// A confidence-interval whisker from `x0` to `x1` at height `y`; dashed for a group below
    /// `min_group_size` (every chart marks small groups the same way).
    mutating func whisker(from x0: Double, to x1: Double, y: Double, colour: String, dashed: Bool) {
        if dashed {
            element(
                "line",
                [
                    "class": "whisker", "x1": .n(x0), "y1": .n(y), "x2": .n(x1), "y2": .n(y), "stroke": .s(colour),
                    "stroke-width": 2, "stroke-dasharray": "4 3"
                ])
        } else {
            element(
                "line",
                ["class": "whisker", "x1": .n(x0), "y1": .n(y), "x2": .n(x1), "y2": .n(y), "stroke": .s(colour), "stroke-width": 2])
        }
    }

    /// The legend's key for small groups at height `y`: a dashed line through a hollow marker.
    mutating func smallGroupLegendKey(y: Double, colour: String) {
        element(
            "line",
            ["x1": 6, "y1": .n(y), "x2": 26, "y2": .n(y), "stroke": .s(colour), "stroke-width": 2, "stroke-dasharray": "4 3"])
        element("circle", ["cx": 16, "cy": .n(y), "r": 5, "fill": "#FFFFFF", "stroke": .s(colour), "stroke-width": 2])
    }
}
