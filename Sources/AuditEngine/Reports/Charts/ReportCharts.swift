import Foundation

/// Decides which charts a report has and draws them: for each design, each accuracy or harm
/// metric and each attribute or intersection a forest plot of the rates and a chart of the
/// ratios to the reference group; for each variant, the deltas against its base; and first, one
/// overview of every flagged difference (the picture of report.md's "Disparities that matter").
public enum ReportCharts {
    public static let folder = "charts"

    public static func all(_ whole: AuditReport) -> [ChartFile] {
        // The mitigations' variants are drawn as one chart of their own, not a delta chart each.
        let data = whole.withoutMitigationVariants
        var files: [ChartFile] = []
        var used = Set<String>()
        func add(_ kind: ChartFile.Kind, _ design: String?, _ metric: String?, _ attribute: Slice, _ plot: DotWhiskerPlot?) {
            guard let plot else { return }
            let stem = ChartStyle.uniqueStem(
                kind == .overview
                    ? "overview-flagged-differences" : ChartStyle.slug("\(design ?? "")-\(kind.rawValue)-\(metric ?? "")-\(attribute)"),
                used: &used)
            files.append(
                ChartFile(
                    kind: kind, design: design, metric: metric, attribute: attribute,
                    path: "\(folder)/\(stem).svg", title: plot.title, svg: plot.render()))
        }
        add(.overview, nil, nil, .all, OverviewChart.make(data))
        for design in data.designs {
            for metric in design.headlineMetrics {
                for attribute in data.slices {
                    add(
                        .rate, design.name, metric.csvName, attribute,
                        ForestPlot.make(data, design: design.name, metric: metric, attribute: attribute))
                    add(
                        .ratio, design.name, metric.csvName, attribute,
                        DisparityChart.make(data, design: design.name, metric: metric, attribute: attribute))
                }
            }
        }
        for design in data.designs where design.base != nil {
            for metric in design.headlineMetrics {
                for attribute in data.slices {
                    add(
                        .delta, design.name, metric.csvName, attribute,
                        DeltaChart.make(data, design: design.name, metric: metric, attribute: attribute))
                }
            }
        }
        if !whole.mitigations.isEmpty, let chart = whole.mitigationReport.chart() { files.append(chart) }
        return files
    }

    /// A group as charts print it: intersections as `Black × Female`.
    /// A disparity's point: flagged and worse (or with no better side), flagged and better, or neutral.
    static func role(_ d: DisparityRow) -> DotWhiskerPlot.Role {
        guard d.isFlagged else { return .neutral }
        return d.fairesWorse == false ? .better : .flagged
    }

    /// `  ▲ worse, significant (Holm)` / `  ▼ better, four-fifths only` for a flagged
    /// disparity's note (the words carry what the colour does, and the rule that flagged it).
    static func directionNote(_ d: DisparityRow) -> String {
        guard d.isFlagged, d.fairesWorse != nil else { return "" }
        return "  " + Findings.flagWords(d)
    }

    static func groupLabel(_ group: String) -> String {
        group.replacingOccurrences(of: Slice.separator, with: " × ")
    }
}
