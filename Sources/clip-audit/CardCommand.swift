import ArgumentParser
import AuditEngine
import CLIPEngine
import Foundation

extension ClipAudit {
    /// `clip-audit card REPORT_DIR`: model-card exports from a finished run's report folder.
    struct Card: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write model-card exports from a report folder: a Markdown fairness section, a Hugging Face model-index block and Model Card Toolkit JSON.",
            discussion: "Writes fairness.md, model-index.yaml and model-card.json into --output (default: REPORT_DIR/card).")

        @Argument(help: "A report folder written by `clip-audit run`.")
        var reportDir: String

        @Option(name: .long, help: ArgumentHelp("Where to write the exports (default: REPORT_DIR/card).", valueName: "DIR"))
        var output: String?

        func run() throws {
            try reportingErrors {
                let folder = try ReportFolder.read(URL(fileURLWithPath: reportDir))
                let directory = URL(fileURLWithPath: output ?? (reportDir as NSString).appendingPathComponent("card"))
                for url in try ModelCardExport.write(folder.data, to: directory) { print(url.path) }
                if folder.data.dataset == nil {
                    printError("note: the audit file has no `dataset:` (a Hub dataset id and split); model-index.yaml names the data by the audit's name")
                }
            }
        }
    }
}
