import ArgumentParser
import AuditEngine
import Foundation

extension ClipAudit {
    /// `clip-audit diff RUN_A RUN_B`: two report folders compared group by group.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two report folders (two models, dates or manifests) group by group.",
            discussion: """
                Δ = RUN_B − RUN_A for every metric and group both report: paired statistics (Newcombe paired \
                interval, exact McNemar) where both runs scored the same images, unpaired ones (Newcombe \
                interval, pooled z-test) otherwise; Holm-adjusted. Writes diff.csv, diff.md, diff.html and \
                charts/ into --output (default: Reports/diff-<A>-vs-<B>) and prints the significant changes.
                """)

        @Argument(help: "The first report folder (the baseline).")
        var runA: String

        @Argument(help: "The second report folder.")
        var runB: String

        @Option(name: .long, help: ArgumentHelp("Where to write the comparison (default: Reports/diff-<A>-vs-<B>).", valueName: "DIR"))
        var output: String?

        func run() throws {
            try reportingErrors {
                let a = try ReportFolder.read(URL(fileURLWithPath: runA))
                let b = try ReportFolder.read(URL(fileURLWithPath: runB))
                let rows = RunDiff.compare(a, b)
                guard !rows.isEmpty else {
                    throw AuditError(file: runB, "no metric and group in common with \(runA): nothing to compare")
                }
                let name = "diff-\(a.url.lastPathComponent)-vs-\(b.url.lastPathComponent)"
                let directory = URL(fileURLWithPath: output ?? "Reports/\(name)")
                try RunDiff.write(rows, a: a, b: b, to: directory)
                let paired = rows.filter { $0.test == .paired }.count
                let changed = rows.filter { $0.significant && ($0.metric == "accuracy" || $0.metric.hasPrefix("harm_rate:")) }
                print("\(rows.count) metric × group row(s) compared (\(paired) paired, \(rows.count - paired) unpaired); "
                      + "\(changed.count) accuracy or harm rate(s) changed significantly")
                for r in changed.sorted(by: { abs($0.delta) > abs($1.delta) }).prefix(20) {
                    print(String(format: "  %@ %@ %@=%@: %.1f%% -> %.1f%% (%+.1f pp, p=%.4g, %@)", r.design, r.metric, r.attribute, r.group,
                                 r.valueA * 100, r.valueB * 100, r.delta * 100, r.pAdjusted, r.test.rawValue))
                }
                print("written to \(directory.path)")
            }
        }
    }
}
