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
                charts/ into --output (default: Reports/diff-<A>-vs-<B>) and prints the significant changes. \
                A design both runs name but define differently (classes, phrases, templates, target or harm \
                categories, as run.json records them) is not compared: its change would measure the change \
                of design. --compare-changed-designs compares it anyway, marked ⚠.
                """)

        @Argument(help: "The first report folder (the baseline).")
        var runA: String

        @Argument(help: "The second report folder.")
        var runB: String

        @Option(name: .long, help: ArgumentHelp("Where to write the comparison (default: Reports/diff-<A>-vs-<B>).", valueName: "DIR"))
        var output: String?

        @Flag(name: .long, help: "Also compare designs whose definition differs between the runs (marked ⚠).")
        var compareChangedDesigns = false

        func run() throws {
            try reportingErrors {
                let a = try ReportFolder.read(URL(fileURLWithPath: runA))
                let b = try ReportFolder.read(URL(fileURLWithPath: runB))
                let changes = RunDiff.designChanges(a, b)
                let rows = try RunDiff.compare(a, b, includeChangedDesigns: compareChangedDesigns)
                for change in changes {
                    printError(
                        "warning: design \"\(change.design)\" differs between the runs: \(change.differences.joined(separator: "; ")); "
                            + (compareChangedDesigns
                                ? "compared anyway, marked ⚠" : "not compared (--compare-changed-designs compares it, marked ⚠)"))
                }
                guard !rows.isEmpty else {
                    let why =
                        changes.isEmpty
                        ? "no metric and group in common with \(runA)"
                        : "every design in common with \(runA) differs from it (see the warnings; --compare-changed-designs compares them anyway)"
                    throw AuditError(file: runB, "\(why): nothing to compare")
                }
                let name = "diff-\(a.url.lastPathComponent)-vs-\(b.url.lastPathComponent)"
                let directory = URL(fileURLWithPath: output ?? "Reports/\(name)")
                try RunDiff.write(rows, a: a, b: b, to: directory)
                let paired = rows.filter { $0.test == .paired }.count
                let changed = rows.filter { $0.significant && $0.metric.isHeadline }
                print(
                    "\(RunDiff.title(a, b)): \(rows.count) metric × group row(s) compared (\(paired) paired, \(rows.count - paired) unpaired); "
                        + "\(changed.count) accuracy or harm rate(s) changed significantly")
                for r in changed.sorted(by: { abs($0.delta) > abs($1.delta) }).prefix(20) {
                    print(
                        String(
                            format: "  %@%@ %@ %@=%@: %.1f%% -> %.1f%% (%+.1f pp, p=%.4g, %@)", r.design, r.designChanged ? " ⚠" : "",
                            r.metric.csvName, r.attribute.csvText, r.group,
                            r.valueA * 100, r.valueB * 100, r.delta * 100, r.pAdjusted, r.test.rawValue))
                }
                print("written to \(directory.path)")
            }
        }
    }
}
